"""Train the small model for a few steps on the fixtures through the real scripts, then evaluate and predict."""
import json
import os
import subprocess
import sys

import pytest

from conftest import FIXTURES, ROOT, run_script

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    proc = run_script("train.py", "experiment=smoke", f"paths.runs_dir={runs}", "hydra.run.dir=" + str(runs / "r"))
    assert "seqeval STRICT mode" in proc.stdout and "Example prediction" in proc.stdout
    return runs / "r"


def test_run_folder_holds_everything(run_dir):
    model = run_dir / "model"
    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "ner_config.json"):
        assert (model / name).is_file(), name
    config = json.loads((model / "config.json").read_text())
    assert config["id2label"]["1"] == "B-ORG" and len(config["id2label"]) == 11
    resolved = (run_dir / "config.yaml").read_text()
    assert "${" not in resolved and "seed: 42" in resolved
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for split in ("dev", "test"):
        for mode in ("strict", "default"):
            m = metrics[split][mode]
            assert set(m) == {"micro", "macro", "weighted", "per_type"}
            assert set(m["micro"]) == {"precision", "recall", "f1", "support"}
            assert 0.0 <= m["micro"]["f1"] <= 1.0
        assert metrics[split]["strict"]["micro"]["support"] > 0
    report = (run_dir / "report.txt").read_text()
    assert "STRICT" in report and "DEFAULT" in report and "CLUSTER" in report
    assert not (run_dir / "checkpoints").exists()


def test_evaluate_reproduces_the_training_metrics_exactly(run_dir, tmp_path):
    out = tmp_path / "eval"
    run_script("evaluate.py", f"model_path={run_dir / 'model'}", "data=fixtures", "splits=[dev,test]",
               f"hydra.run.dir={out}")
    assert json.loads((out / "metrics.json").read_text()) == json.loads((run_dir / "metrics.json").read_text())


def test_predict_script_writes_jsonl_with_true_offsets(run_dir, tmp_path):
    texts = ["بانك ملي در تهران ۵۳۰ میلیارد تومان داد", "  خوشه\u200cهای   صنعتی 😀 گیلان  "]
    inp = tmp_path / "in.txt"
    inp.write_text("\n".join(texts) + "\n\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    run_script("predict.py", f"model_path={run_dir / 'model'}", f"input={inp}", f"output={out}")
    rows = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [r["text"] for r in rows] == texts and [r["id"] for r in rows] == ["line-1", "line-2"]
    for r in rows:
        for e in r["entities"]:
            assert r["text"][e["start"]:e["end"]] == e["text"] and e["label"] in ("ORG", "PER", "LOC", "MONEY", "CLUSTER")
    stdin_run = run_script("predict.py", f"model_path={run_dir / 'model'}", stdin=texts[0] + "\n")
    assert json.loads(stdin_run.stdout.splitlines()[0])["entities"] == rows[0]["entities"]


def test_saved_model_loads_in_a_plain_transformers_pipeline(run_dir):
    from transformers import pipeline

    tagger = pipeline("token-classification", model=str(run_dir / "model"))
    out = tagger("خوشه صنعتی چای در استان گیلان", ignore_labels=[])
    assert len(out) >= 6 and all(o["entity"] in tagger.model.config.label2id for o in out)


def test_predictor_api_on_the_trained_model(run_dir):
    from ner import Entity, NerPredictor

    p = NerPredictor.from_pretrained(run_dir / "model")
    texts = [(FIXTURES / "source.txt").read_text(encoding="utf-8").replace("[[", "").replace("]]", "")] * 2
    batches = p.predict(texts, batch_size=4)
    assert batches[0] == batches[1]
    assert all(isinstance(e, Entity) and texts[0][e.start:e.end] == e.text for e in batches[0])


def test_bad_data_fails_with_a_clear_message(tmp_path):
    bad = tmp_path / "train.jsonl"
    bad.write_text('{"id": "x", "text": "تهران", "entities": [{"start": 0, "end": 2, "label": "LOC"}]}\n',
                   encoding="utf-8")
    env = dict(os.environ, HF_HUB_OFFLINE="1", PROJECT_ROOT=str(ROOT))
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "train.py"), "experiment=smoke",
                           f"data.train={bad}", f"hydra.run.dir={tmp_path / 'r'}"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 2
    assert "train.jsonl:1 document 'x' [0:2]" in proc.stderr and "Traceback" not in proc.stderr


def test_hub_model_offline_fails_fast_from_the_script(tmp_path):
    env = dict(os.environ, HF_HUB_OFFLINE="1", PROJECT_ROOT=str(ROOT))
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "train.py"), "data=fixtures", "model=parsbert",
                           f"hydra.run.dir={tmp_path / 'r'}"], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2 and "HooshvareLab/bert-fa-base-uncased" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_mixed_marginal_training_scores_each_corpus_on_its_own_types(tmp_path):
    run_script("train.py", "experiment=smoke_mixed", f"hydra.run.dir={tmp_path / 'r'}")
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert metrics["dev"]["types_scored"] == ["ORG", "PER", "LOC", "MONEY", "CLUSTER"]
    assert metrics["fixtures_conll/dev"]["types_scored"] == ["ORG", "PER", "LOC"]
    assert set(metrics["fixtures_conll/dev"]["strict"]["per_type"]) <= {"ORG", "PER", "LOC"}
    assert "loss: marginal" in (tmp_path / "r" / "config.yaml").read_text()
