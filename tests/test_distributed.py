"""`torchrun --standalone --nproc_per_node=2 scripts/train.py ...` on CPU (gloo): one run folder written by rank 0,
quiet replicas, and the same model as one process with the same global batch.

Why the 2-process run must match the 1-process one almost exactly: both use the ParsBERT-shaped stand-in (its
vocabulary and weights come from disk, so both start from the same model; the small model's WordPiece
training is not reproducible between processes), no dropout, no length grouping, and a global batch of 2
(1 x 2 processes vs 2 x 1) over a number of training windows divisible by 2, so every optimizer step sees the
same two windows. The loss is normalised by the labelled tokens of the whole step (``TokenLossTrainer``), so
the gradients are equal up to float summation order in the all-reduce (~1e-7 relative). Per-epoch dev losses
must therefore agree to 1e-4 relative, and the predictions of the saved models, hence every number in
metrics.json (P/R/F1 per type and the error counts), are expected to be identical: a tag can only flip on a
near-tie of ~1e-6, which these tiny dev/test splits (23 entities) do not have.
"""
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT, compose

pytestmark = pytest.mark.slow
COMMON = ["experiment=smoke", "model=parsbert", "model.dropout=0.0", "training.group_by_length=false",
          "training.epochs=2", "training.learning_rate=2e-2", "training.early_stopping_patience=100",
          "report.bootstrap_samples=50", "run_name=ddp"]


def _env():
    return dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", PROJECT_ROOT=str(ROOT),
                OMP_NUM_THREADS="1")


def _run(cmd):
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=600)
    assert proc.returncode == 0, f"{cmd[:3]} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    return proc


def _train_windows(standin) -> int:
    from ner.data.labels import bio_tags
    from ner.models.encoders import load_pretrained, normalizer_from_config
    from ner.models.alignment import SubwordAligner
    from ner.training.features import encode_documents
    from ner.training.runs import load_run_data

    cfg = compose("config", COMMON + [f"model.name_or_path={standin}"])
    data = load_run_data(cfg)
    tags = bio_tags(data.types)
    tokenizer, _ = load_pretrained(str(standin), tags)
    aligner = SubwordAligner(tokenizer, normalizer_from_config(cfg.model.normalization), cfg.model.max_length)
    return len(encode_documents(data.splits["train"], aligner, {t: i for i, t in enumerate(tags)}))


def test_two_cpu_processes_train_the_same_model_into_one_run_folder(parsbert_standin, tmp_path):
    assert _train_windows(parsbert_standin) % 2 == 0, "the comparison needs an even number of training windows"
    common = COMMON + [f"model.name_or_path={parsbert_standin}"]
    one = tmp_path / "one"
    _run([sys.executable, str(ROOT / "scripts" / "train.py"), *common, "training.batch_size=2",
          f"hydra.run.dir={one}"])
    runs = tmp_path / "runs"
    two = _run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                str(ROOT / "scripts" / "train.py"), *common, "training.batch_size=1", f"paths.runs_dir={runs}"])

    # One run folder (Hydra's ${now:} differs per process; rank 0's time is shared), its outputs written once.
    folders = [p for p in (runs / "ddp").iterdir()]
    assert len(folders) == 1, folders
    run = folders[0]
    assert (run / "model" / "model.safetensors").is_file() and (run / "metrics.json").is_file()
    assert not (run / "checkpoints").exists() and not list(run.glob(".model.*"))
    summary = json.loads((run / "train_summary.json").read_text())
    assert summary["processes"] == 2
    # Rank 0 reports; replicas log warnings only; evaluation is sharded, not run twice.
    assert two.stdout.count("Example prediction") == 1 and two.stdout.count("Run folder:") == 1
    assert two.stdout.count("features:") == 1 and (run / "train.log").read_text().count("features:") == 1
    evals = [h for h in summary["log_history"] if "eval_loss" in h]
    assert [h["epoch"] for h in evals] == [1.0, 2.0]

    # Same model as one process with the same global batch (see the module docstring for the tolerances).
    ref = json.loads((one / "train_summary.json").read_text())
    ref_evals = [h for h in ref["log_history"] if "eval_loss" in h]
    assert ref["global_step"] == summary["global_step"]
    for a, b in zip(ref_evals, evals):
        assert b["eval_loss"] == pytest.approx(a["eval_loss"], rel=1e-4)
    m1 = json.loads((one / "metrics.json").read_text())
    m2 = json.loads((run / "metrics.json").read_text())
    for split in ("dev", "test"):
        for mode in ("strict", "default"):
            for avg in ("micro", "macro"):
                for k in ("precision", "recall", "f1"):
                    assert m2[split][mode][avg][k] == pytest.approx(m1[split][mode][avg][k], abs=1e-9)
        assert m2[split]["taxonomy"]["overall"] == m1[split]["taxonomy"]["overall"]
