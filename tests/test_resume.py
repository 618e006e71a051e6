"""`training.resume`: a run killed with SIGKILL mid-training continues from its last checkpoint and ends exactly
where an uninterrupted run with the same seed ends; a failure while saving never leaves a half-written model."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT, compose
from ner.training.resume import ResumeError, complete_checkpoints, find_resume

# The ParsBERT-shaped stand-in: its vocabulary comes from disk, so the uninterrupted run and the killed one start
# from the same model (the small model's WordPiece training is not reproducible between processes).
COMMON = ["experiment=smoke", "model=parsbert", "training.epochs=2", "training.learning_rate=2e-2",
          "training.deterministic=true", "report.bootstrap_samples=50", "run_name=resumable"]


def _env():
    return dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", PROJECT_ROOT=str(ROOT))


@pytest.mark.slow
def test_a_killed_run_resumes_to_the_same_metrics(parsbert_standin, tmp_path):
    common = COMMON + [f"model.name_or_path={parsbert_standin}", f"paths.runs_dir={tmp_path / 'runs'}"]
    train = [sys.executable, str(ROOT / "scripts" / "train.py")]

    whole = tmp_path / "uninterrupted"
    done = subprocess.run([*train, *common, f"hydra.run.dir={whole}"], capture_output=True, text=True, env=_env(),
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]

    # Kill a second run with SIGKILL once its first checkpoint (end of epoch 1 of 2) is on disk.
    killed = tmp_path / "runs" / "resumable" / "killed"
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "pausing_train.py"), *common,
                             f"hydra.run.dir={killed}"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, env=_env())
    try:
        deadline = time.time() + 300
        line = ""
        while time.time() < deadline and not line.startswith("CHECKPOINT"):
            line = proc.stdout.readline()
            assert line or proc.poll() is None, "the run ended before writing a checkpoint"
        assert line.startswith("CHECKPOINT"), "no checkpoint within 300 s"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert [c.name for c in complete_checkpoints(killed)] == [f"checkpoint-{line.split()[1]}"]
    assert not (killed / "model").exists() and not (killed / "metrics.json").exists()

    # training.resume=true finds the killed run (the latest unfinished one of this run_name) and finishes it there.
    resumed = subprocess.run([*train, *common, "training.resume=true", f"hydra.run.dir={tmp_path / 'runs' / 'x'}"],
                             capture_output=True, text=True, env=_env(), timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"Run folder: {killed}" in resumed.stdout
    summary = json.loads((killed / "train_summary.json").read_text())
    assert summary["resumed_from"] == f"checkpoints/checkpoint-{line.split()[1]}"
    ref = json.loads((whole / "train_summary.json").read_text())
    losses = [(h["epoch"], h["eval_loss"]) for h in summary["log_history"] if "eval_loss" in h]
    assert losses == [(h["epoch"], h["eval_loss"]) for h in ref["log_history"] if "eval_loss" in h]
    assert summary["global_step"] == ref["global_step"]
    assert json.loads((killed / "metrics.json").read_text()) == json.loads((whole / "metrics.json").read_text())
    assert "resuming" in (killed / "train.log").read_text()
    assert not (killed / "checkpoints").exists()  # removed once the run has finished


def test_resume_names_what_is_missing(tmp_path):
    with pytest.raises(ResumeError, match="no unfinished run of 'r'"):
        find_resume(True, tmp_path, "r")
    with pytest.raises(ResumeError, match="no such run folder"):
        find_resume(str(tmp_path / "nope"), tmp_path, "r")
    run = tmp_path / "r" / "2026-01-01_00-00-00"
    (run / "checkpoints" / "checkpoint-3").mkdir(parents=True)
    (run / "checkpoints" / "checkpoint-3" / "trainer_state.json").write_text("{")  # killed while writing it
    with pytest.raises(ResumeError, match="no complete checkpoint"):
        find_resume(str(run), tmp_path, "r")
    assert find_resume(False, tmp_path, "r") is None and find_resume("false", tmp_path, "r") is None


def test_a_checkpoint_cut_short_is_passed_over(tmp_path):
    run = tmp_path / "r" / "t"
    for step, complete in ((2, True), (4, False)):
        d = run / "checkpoints" / f"checkpoint-{step}"
        d.mkdir(parents=True)
        for f in ("optimizer.pt", "scheduler.pt"):
            (d / f).write_bytes(b"x")
        (d / "trainer_state.json").write_text("{}" if complete else '{"global_st')
    assert find_resume(True, tmp_path, "r").checkpoint.name == "checkpoint-2"


@pytest.mark.slow
def test_a_failure_while_saving_leaves_no_model_and_keeps_the_run_resumable(smoke_cfg, tmp_path, monkeypatch):
    """Fault injection: the last file of the model folder fails to write. The model is written into a temporary
    folder renamed into place only when complete, so no ``model/`` (whole or half) is left, nor metrics or a
    summary, and the checkpoints stay for ``training.resume``."""
    from ner.training import finetune

    def broken(*args, **kwargs):
        raise OSError("disk full (injected)")

    monkeypatch.setattr(finetune, "save_ner_config", broken)
    run = tmp_path / "run"
    with pytest.raises(OSError, match="injected"):
        finetune.train(smoke_cfg, run)
    assert not (run / "model").exists() and not list(run.glob(".model*"))
    assert not (run / "metrics.json").exists() and not (run / "train_summary.json").exists()
    assert complete_checkpoints(run)
    monkeypatch.undo()
    cfg = compose("config", ["experiment=smoke", f"training.resume={run}", "report.bootstrap_samples=50"])
    out = finetune.train(cfg, tmp_path / "other")
    assert out["run_dir"] == run.resolve() and (run / "model" / "ner_config.json").is_file()
    assert (run / "metrics.json").is_file() and not (tmp_path / "other" / "model").exists()
