"""The lean pretraining loop: the encoder equals Hugging Face's, packing (no padding, no cross-document leakage),
masking, resume, and the encoder bundle that carries it back from a GPU machine."""
import json

import numpy as np
import pytest
import torch

from conftest import compose
from ner.pretraining import bundle
from ner.pretraining.lean_model import EncoderSizes, MaskedLm, ReplacedTokenDetection, hf_masked_lm
from ner.pretraining.token_store import PackedBatches, TokenStore, write_store

SIZES = EncoderSizes(vocab_size=120, hidden_size=32, num_layers=2, num_heads=4, intermediate_size=64,
                     max_positions=64, pad_token_id=0, dropout=0.0)


@pytest.mark.parametrize("objective", [MaskedLm, ReplacedTokenDetection])
def test_lean_encoder_computes_what_the_hugging_face_model_computes(objective):
    torch.manual_seed(0)
    lean = objective(SIZES).eval()
    hf = hf_masked_lm(lean, SIZES).eval()
    ids = torch.randint(5, 120, (3, 20))
    with torch.no_grad():
        ours = lean.encoder(ids)
        theirs = hf.roberta_prelayernorm(input_ids=ids).last_hidden_state
        assert torch.allclose(ours, theirs, atol=1e-5)
        if objective is MaskedLm:  # the head too (tied to the word embeddings)
            assert torch.allclose(lean.head(ours, lean.encoder.word.weight), hf(input_ids=ids).logits, atol=1e-5)
    # the same weights with a perturbed query projection must disagree: the check above can fail
    with torch.no_grad():
        lean.encoder.blocks[0].qkv.weight.add_(torch.randn_like(lean.encoder.blocks[0].qkv.weight))
        assert not torch.allclose(lean.encoder(ids), theirs, atol=1e-5)


@pytest.fixture
def store(tmp_path, fixture_tokenizer):
    docs = ["خوشه صنعتی چای در استان گیلان", "شرکت شهرک‌های صنعتی استان گیلان ۵۳۰ میلیارد تومان",
            "احمدعلی شهیدی گفت", "خوشه شیلات در گیلان فعال است و صادرات دارد"] * 3
    meta = write_store(fixture_tokenizer, docs, tmp_path / "store")
    return TokenStore(tmp_path / "store"), fixture_tokenizer, meta


def test_store_round_trips_documents_with_separators(store):
    s, tok, meta = store
    assert meta["documents"] == 12 and len(s) == meta["tokens"]
    first = s.tokens[s.doc_starts[0]:s.doc_starts[1]].tolist()
    assert first[-1] == tok.sep_token_id
    assert first[:-1] == tok("خوشه صنعتی چای در استان گیلان", add_special_tokens=False)["input_ids"]
    s.check_tokenizer(tok)


def test_packed_rows_have_no_padding_and_positions_restart_at_documents(store):
    s, tok, _ = store
    data = PackedBatches(s, tok, block_size=16, batch_size=4, device="cpu", seed=1)
    b = data.next()
    ids, pos = b["original_ids"], b["positions"]
    assert ids.shape == (4, 16) and not (ids == tok.pad_token_id).any()
    assert (ids[:, 0] == tok.cls_token_id).all() and (pos[:, 0] == 0).all()
    stream = torch.from_numpy(np.asarray(s.tokens, dtype=np.int64))
    starts = set(s.doc_starts.tolist())
    for row, p in zip(ids, pos):  # each row is consecutive stream tokens; position 1 wherever a document starts
        hits = [i for i in range(len(stream) - 15) if torch.equal(stream[i:i + 15], row[1:])]
        assert hits
        i = hits[0]
        for c in range(1, 16):
            if i + c - 1 in starts:
                assert p[c] == 1
            elif c > 1:
                assert p[c] == p[c - 1] + 1


def test_document_attention_stops_leakage_across_packed_documents(store):
    s, tok, _ = store
    torch.manual_seed(0)
    enc = MaskedLm(EncoderSizes(vocab_size=len(tok), hidden_size=32, num_layers=2, num_heads=4, intermediate_size=64,
                                max_positions=64, pad_token_id=tok.pad_token_id, dropout=0.0)).encoder.eval()

    def outputs(document_attention: bool):
        data = PackedBatches(s, tok, block_size=24, batch_size=2, device="cpu", seed=3,
                             document_attention=document_attention)
        b = data.rows(torch.tensor([0, 10]))
        doc = data.doc_of[torch.tensor([0, 10]).unsqueeze(1) + torch.arange(23)]
        row, col = 0, int((doc[0] != doc[0, 0]).nonzero()[0]) + 1  # first column of the row's second document
        changed = b["original_ids"].clone()
        changed[row, 1:col] = tok.mask_token_id  # rewrite the first document
        with torch.no_grad():
            a = enc(b["original_ids"], b["positions"], b.get("mask"))
            c = enc(changed, b["positions"], b.get("mask"))
        return (a[row, col:] - c[row, col:]).abs().max()

    assert outputs(True) < 1e-6          # the second document does not see the first
    assert outputs(False) > 1e-3         # without the mask it does: the test can tell


def test_masking_picks_a_fixed_count_of_real_tokens_per_row(store):
    s, tok, _ = store
    data = PackedBatches(s, tok, block_size=16, batch_size=4, device="cpu", mask_probability=0.25, seed=2)
    b = data.next()
    assert b["mask_index"].shape == (4, round(0.25 * 15))
    specials = torch.tensor(tok.all_special_ids)
    picked = torch.gather(b["original_ids"], 1, b["mask_index"])
    assert torch.equal(picked, b["targets"]) and not torch.isin(picked, specials).any()
    untouched = torch.ones_like(b["original_ids"], dtype=torch.bool).scatter(1, b["mask_index"], False)
    assert torch.equal(b["masked_ids"][untouched], b["original_ids"][untouched])
    assert (b["masked_ids"] == tok.mask_token_id).sum() > 0
    again = PackedBatches(s, tok, block_size=16, batch_size=4, device="cpu", mask_probability=0.25, seed=2).next()
    assert torch.equal(again["masked_ids"], b["masked_ids"])  # reproducible from the seed


def _tiny(tmp_path, *overrides, store=None):
    # runs that are compared share one token store: WordPiece training itself is not deterministic
    extra = [f"pretrain.token_store={store}"] if store else []
    return compose("pretrain", ["pretrain=tiny_lean", f"output_dir={tmp_path}", *extra, *overrides])


@pytest.mark.slow
@pytest.mark.parametrize("objective", ["mlm", "rtd"])
def test_lean_run_writes_a_loadable_encoder_and_card(tmp_path, objective):
    from transformers import AutoModelForTokenClassification

    from ner.pretraining.lean import LeanPretrainer

    card = LeanPretrainer(_tiny(tmp_path, f"pretrain.objective={objective}"), tmp_path).run()
    assert card["steps"] == 8 and card["tokens_seen"] == 8 * 4 * 16 and card["objective_key"] == objective
    assert np.isfinite(card["held_out_loss"])
    assert (tmp_path / "snapshots" / "step-1" / "config.json").exists()
    assert json.loads((tmp_path / "card.json").read_text())["steps"] == 8
    model = AutoModelForTokenClassification.from_pretrained(str(tmp_path), num_labels=3)
    assert model.dtype == torch.float32  # stored in float16, fine-tuned in float32
    saved = LeanPretrainer(_tiny(tmp_path, f"pretrain.objective={objective}"), tmp_path)
    assert saved.load_checkpoint()
    hf_weight = model.roberta_prelayernorm.embeddings.word_embeddings.weight
    assert torch.allclose(hf_weight, saved.model.encoder.word.weight.half().float())  # the encoder arrived


@pytest.mark.slow
def test_resumed_run_ends_where_an_uninterrupted_run_ends(tmp_path):
    from ner.pretraining.lean import LeanPretrainer

    store = tmp_path / "store"
    whole = LeanPretrainer(_tiny(tmp_path / "a", store=store), tmp_path / "a")
    whole.run()
    first = LeanPretrainer(_tiny(tmp_path / "b", "pretrain.training.invocation_steps=3", store=store),
                           tmp_path / "b")
    assert first.run()["steps"] == 3
    resumed = LeanPretrainer(_tiny(tmp_path / "b", store=store), tmp_path / "b")
    card = resumed.run()
    assert card["resumed"] and card["steps"] == 8
    for (name, x), (_, y) in zip(whole.model.state_dict().items(), resumed.model.state_dict().items()):
        assert torch.allclose(x, y, atol=1e-6), name
    fresh = LeanPretrainer(_tiny(tmp_path / "c", "pretrain.training.max_steps=5", store=store), tmp_path / "c")
    fresh.run()  # a different run really ends elsewhere
    assert not torch.allclose(fresh.model.encoder.word.weight, whole.model.encoder.word.weight)


@pytest.mark.slow
def test_bundle_round_trips_an_encoder_to_an_identical_state_dict(tmp_path):
    from safetensors.torch import load_file

    from ner.pretraining.lean import LeanPretrainer

    enc = tmp_path / "enc"
    LeanPretrainer(_tiny(enc, "pretrain.max_shard_mb=0.05"), enc).run()
    shards = sorted(enc.glob("*.safetensors"))
    assert len(shards) > 1  # sharded at the configured size
    files = bundle.pack(enc, tmp_path / "out", max_mib=0.05)
    assert len(files) > 2 and all(f.stat().st_size <= 0.05 * 1024 * 1024 for f in files[:-1])
    back = bundle.unpack(tmp_path / "out" / "encoder.manifest.json", tmp_path / "back")
    assert not (back / "checkpoint.pt").exists() and not (back / "snapshots").exists()
    for shard in shards:
        a, b = load_file(shard), load_file(back / shard.name)
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    part = files[1]
    part.write_bytes(part.read_bytes()[:-1])  # a truncated transfer is caught, and nothing is left behind
    with pytest.raises(ValueError, match="checksum"):
        bundle.unpack(tmp_path / "out" / "encoder.manifest.json", tmp_path / "broken")
    assert not (tmp_path / "broken").exists()


def test_the_shipped_encoder_loads_whole_in_float32_and_fits_the_budget():
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    from conftest import ROOT

    folder = ROOT / "models" / "news-rtd-6x512"
    assert sum(f.stat().st_size for f in folder.iterdir()) <= 64 * 1024 * 1024
    model, info = AutoModelForTokenClassification.from_pretrained(str(folder), num_labels=3,
                                                                  output_loading_info=True)
    assert model.dtype == torch.float32
    assert info["missing_keys"] and all(k.startswith("classifier.") for k in info["missing_keys"])
    card = json.loads((folder / "card.json").read_text())
    assert sum(p.numel() for p in model.roberta_prelayernorm.parameters()) == card["model"]["parameters"]
    tok = AutoTokenizer.from_pretrained(str(folder))
    ids = tok("خوشه صنعتی چای در استان گیلان")["input_ids"]
    assert len(tok) == card["model"]["vocab_size"] and tok.unk_token_id not in ids


def test_quick_start_fine_tunes_the_shipped_encoder_within_its_trained_positions():
    from pathlib import Path

    cfg = compose("config", ["experiment=quickstart"])
    folder = Path(cfg.model.name_or_path)
    card = json.loads((folder / "card.json").read_text())
    assert folder.name == "news-rtd-6x512" and cfg.model.source == "pretrained"
    assert cfg.model.max_length <= card["block_size"]  # positions past the pretraining rows were never trained
