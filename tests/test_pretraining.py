"""Masked-LM pretraining: readers, masking, packing, and a few steps end to end (tiny corpus)."""
import json
import os
import subprocess
import sys

import pytest
import torch

from conftest import ROOT
from ner.data.normalize import Normalizer
from ner.pretraining.mlm import MaskingCollator, pack_blocks
from ner.pretraining.unlabeled import collect_documents, held_out_split, read_csv_articles, read_ham


def test_readers_for_the_unlabeled_formats(tmp_path):
    ham = tmp_path / "2003" / "HAM2-1.ham"
    ham.parent.mkdir()
    ham.write_text("تيتر خبر\nنويسنده\nسطر اول كه\nادامه دارد\n\nپاراگراف دوم\n", encoding="utf-8")
    assert list(read_ham(tmp_path)) == ["تيتر خبر نويسنده سطر اول كه ادامه دارد\nپاراگراف دوم"]
    csv_file = tmp_path / "n.csv"
    csv_file.write_text(',title,text\n1,"\n  عنوان  \n","\nمتن\nچند خطی "\n2,,\n', encoding="utf-8")
    assert list(read_csv_articles(csv_file)) == ["عنوان\nمتن چند خطی"]
    (tmp_path / "a.json").write_text(json.dumps([{"title": "الف", "abstract": "ب", "paragraphs": ["پ"]}]))
    docs, counts = collect_documents([
        {"name": "ham", "kind": "ham", "path": str(tmp_path / "2003")},
        {"name": "again", "kind": "ham", "path": str(ham)},
        {"name": "fars", "kind": "json_articles", "path": str(tmp_path / "a.json")},
    ], Normalizer(), min_chars=3)
    assert docs[0].startswith("تیتر خبر نویسنده")  # normalised like the NER pipeline
    assert counts["again"] == {"documents": 0, "dropped_duplicate_or_short": 1}  # de-duplicated
    assert counts["fars"]["documents"] == 1
    with pytest.raises(ValueError, match="unknown unlabeled source kind"):
        collect_documents([{"kind": "xml", "path": "x"}], Normalizer())


def test_held_out_split_is_deterministic_and_disjoint():
    docs = [f"سند شماره {i}" for i in range(200)]
    train, held = held_out_split(docs, 0.1)
    assert (train, held) == held_out_split(docs, 0.1)
    assert set(train).isdisjoint(held) and len(train) + len(held) == 200 and 5 < len(held) < 40


def test_packing_and_whole_word_masking(fixture_tokenizer):
    tok = fixture_tokenizer
    blocks = pack_blocks(tok, ["شرکت شهرک‌های صنعتی استان گیلان"] * 20, block_size=16)
    assert all(b[0] == tok.cls_token_id and b[-1] == tok.sep_token_id and len(b) <= 16 for b in blocks)
    coll = MaskingCollator(tok, probability=0.5, whole_word=True, seed=0)
    batch = coll([{"input_ids": b} for b in blocks])
    labels, ids = batch["labels"], torch.nn.utils.rnn.pad_sequence(
        [torch.tensor(b) for b in blocks], batch_first=True, padding_value=tok.pad_token_id)
    assert ((labels == -100) | (labels == ids)).all()              # labels are the original tokens
    special = torch.isin(ids, torch.tensor(tok.all_special_ids))
    assert (labels[special] == -100).all()                        # specials never masked
    cont = coll.is_continuation[ids]
    # whole words: a masked continuation piece implies its word start is masked too
    for r in range(ids.shape[0]):
        for c in range(1, ids.shape[1]):
            if cont[r, c] and labels[r, c] != -100:
                k = c
                while cont[r, k]:
                    k -= 1
                assert labels[r, k] != -100
            if c > 0 and cont[r, c] and labels[r, c - 1] != -100:
                assert labels[r, c] != -100                            # ... and a masked word is masked whole
    frac = (labels != -100).sum() / (~special & (ids != tok.pad_token_id)).sum()
    assert 0.25 < frac < 0.75


def test_masking_differs_between_dataloader_workers(fixture_tokenizer):
    block = pack_blocks(fixture_tokenizer, ["شرکت شهرک‌های صنعتی استان گیلان و خوشه صنعتی چای"] * 4, 32)[0]
    coll = MaskingCollator(fixture_tokenizer, probability=0.5, seed=0)
    loader = torch.utils.data.DataLoader([{"input_ids": block}] * 4, batch_size=1, num_workers=2, collate_fn=coll)
    torch.manual_seed(0)
    masks = [b["labels"] != -100 for b in loader]  # batches alternate between the two workers
    assert not torch.equal(masks[0], masks[1])
    torch.manual_seed(0)                           # the loader's seed fixes the workers' streams: reproducible
    assert all(torch.equal(a, b) for a, b in zip(masks, [b["labels"] != -100 for b in loader]))


def test_budget_plan_anneals_to_zero_when_the_time_runs_out(monkeypatch):
    from ner.pretraining import mlm

    clock = [1000.0]
    monkeypatch.setattr(mlm.time, "time", lambda: clock[0])
    plan = mlm.BudgetPlan(minutes=1, max_steps=10_000, warmup=0.1, measure_after=10)
    assert plan.total == 10_000                        # no rate measured yet: the upper bound
    for step in range(1, 12):                          # 0.5 s per step after the first
        plan.update(step)
        clock[0] += 0.5
    assert plan.total == 11 + int((1060 - clock[0] + 0.5) / 0.5)  # steps that fit in the remaining time
    assert plan.lr_factor(0) == 0 and plan.lr_factor(plan.total) == 0
    warm = int(0.1 * plan.total)
    assert plan.lr_factor(warm) == pytest.approx(1.0)
    assert plan.lr_factor(warm // 2) == pytest.approx(0.5, abs=0.05)
    assert 0 < plan.lr_factor(plan.total - 5) < 0.1


@pytest.mark.parametrize("arch", ["bert", "prenorm"])
def test_both_encoder_architectures_train_and_load_for_ner(arch, fixture_tokenizer, tmp_path):
    from transformers import AutoModelForMaskedLM

    from ner.models.encoders import encoder_config, load_pretrained
    from ner.pretraining.mlm import masked_only_loss

    tok = fixture_tokenizer
    cfg = encoder_config(arch, len(tok), 32, 1, 2, 64, 64, tok.pad_token_id)
    mlm = AutoModelForMaskedLM.from_config(cfg)
    blocks = pack_blocks(tok, ["شرکت شهرک‌های صنعتی استان گیلان"] * 10, block_size=16)
    batch = MaskingCollator(tok, probability=0.3, seed=1)([{"input_ids": b} for b in blocks])
    loss = masked_only_loss(mlm, batch)
    loss.backward()
    assert torch.isfinite(loss) and mlm.get_input_embeddings().weight.grad.abs().sum() > 0
    mlm.save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    _, ner = load_pretrained(str(tmp_path), ["O", "B-PER", "I-PER"])
    enc = {k: v for k, v in ner.named_parameters() if not k.startswith("classifier")}
    ref = dict(mlm.named_parameters())
    assert enc and all(torch.equal(v, ref[k]) for k, v in enc.items())  # every encoder weight came across
    with pytest.raises(ValueError, match="architecture"):
        encoder_config("gpt", 10, 8, 1, 1, 8, 8, 0)


@pytest.mark.slow
def test_pretrain_resume_and_fine_tune_from_the_encoder(tmp_path):
    env = dict(os.environ, HF_HUB_OFFLINE="1", PROJECT_ROOT=str(ROOT))
    enc = tmp_path / "enc"

    def pretrain(steps):
        p = subprocess.run([sys.executable, str(ROOT / "scripts" / "pretrain.py"), "pretrain=tiny",
                            f"output_dir={enc}", f"pretrain.training.max_steps={steps}"],
                           capture_output=True, text=True, env=env, timeout=300)
        assert p.returncode == 0, p.stderr[-3000:]
        return json.loads((enc / "card.json").read_text())

    card = pretrain(4)
    assert card["steps"] == 4 and card["held_out_perplexity"] > 1 and (enc / "model.safetensors").exists()
    card = pretrain(6)  # resumes from checkpoint-4
    assert card["steps"] == 6 and card["tokens_seen"] == 6 * 4 * 32
    assert "Held-out masked-LM loss" in (enc / "README.md").read_text()
    # fine-tune as benchmarks/pretraining.py does: fixed epochs, the last model kept, no dev evaluation
    p = subprocess.run([sys.executable, str(ROOT / "scripts" / "train.py"), "experiment=smoke", "model=small_pretrained",
                        f"model.name_or_path={enc}", "model.max_length=32", "model.overlap=8",
                        "training.select_best=false", "training.eval_strategy=no",
                        f"hydra.run.dir={tmp_path / 'ner'}"], capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    config = json.loads((tmp_path / "ner" / "model" / "config.json").read_text())
    assert config["hidden_size"] == 32 and config["model_type"] == "roberta-prelayernorm"  # tiny inherits prenorm
    metrics = json.loads((tmp_path / "ner" / "metrics.json").read_text())
    assert {"dev", "test"} <= set(metrics)


def test_ppmi_svd_vectors_put_interchangeable_tokens_together():
    import numpy as np

    from ner.pretraining.static_vectors import cooccurrence, ppmi_svd

    rng = np.random.default_rng(0)
    # tokens 0/1 always occur next to 10, tokens 2/3 next to 20: 0~1 and 2~3 share contexts
    blocks = [[int(rng.choice([0, 1])), 10, int(rng.choice([0, 1])), 11, int(rng.choice([2, 3])), 20,
               int(rng.choice([2, 3])), 21] for _ in range(300)]
    vecs = ppmi_svd(cooccurrence(blocks, 30, window=1), dim=4)
    cos = lambda a, b: float(vecs[a] @ vecs[b] / (np.linalg.norm(vecs[a]) * np.linalg.norm(vecs[b]) + 1e-9))  # noqa
    assert cos(0, 1) > 0.9 and cos(2, 3) > 0.9 and cos(0, 2) < 0.5
    assert vecs.shape == (30, 4) and not vecs[25].any()  # unseen token: zero vector


def test_zero_steps_build_a_static_vector_encoder_that_fine_tuning_loads(tmp_path):
    """pretrain=static_vectors (max_steps 0): vocabulary and PPMI-SVD embeddings only, no masked-LM step."""
    from transformers import AutoModelForMaskedLM

    from conftest import compose
    from ner.models.encoders import load_pretrained
    from ner.pretraining.mlm import pretrain

    os.environ.setdefault("PROJECT_ROOT", str(ROOT))
    cfg = compose("pretrain", ["pretrain=tiny", "pretrain.training.max_steps=0", "pretrain.init_embeddings=ppmi_svd",
                               f"output_dir={tmp_path}"])
    card = pretrain(cfg, tmp_path)
    assert card["steps"] == 0 and card["tokens_seen"] == 0 and card["embedding_init"] == "ppmi_svd"
    assert 0 < card["embedding_rows_initialised"] <= card["model"]["vocab_size"]
    assert not list((tmp_path / "checkpoints").glob("checkpoint-*"))  # nothing trained, nothing to resume
    emb = AutoModelForMaskedLM.from_pretrained(tmp_path).get_input_embeddings().weight.detach()
    assert abs(float(emb.std()) - 0.02) < 0.01  # rescaled to BERT's initialisation scale
    plain = compose("pretrain", ["pretrain=tiny", "pretrain.training.max_steps=0", f"output_dir={tmp_path / 'plain'}"])
    assert pretrain(plain, tmp_path / "plain")["embedding_init"] == "random"
    random_emb = AutoModelForMaskedLM.from_pretrained(tmp_path / "plain").get_input_embeddings().weight.detach()
    changed = (emb != random_emb).any(dim=1)  # same seed: only the initialised rows differ from random init
    assert int(changed.sum()) == card["embedding_rows_initialised"]
    _, tagger = load_pretrained(str(tmp_path), ["O", "B-ORG", "I-ORG"])
    assert torch.equal(tagger.get_input_embeddings().weight.detach(), emb)  # fine-tuning starts from them
