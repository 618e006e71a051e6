"""Hyperparameter sweeps (``scripts/train.py hparams_search=ner_optuna``, Hydra's Optuna sweeper).

The objective is dev strict micro F1 of the saved model, returned by ``scripts/train.py``'s ``main()``. Every
trial, finished or failed, is appended to ``<sweep dir>/trials.jsonl``; a failed trial returns
``FAILED_TRIAL_VALUE`` instead of raising, so one bad configuration does not end the sweep. Whenever a trial
beats the ones before it, its resolved config is written to ``<sweep dir>/best_config.yaml`` (with the command
that repeats it in the header), so the best configuration is there even if the sweep is stopped early.
"""
from __future__ import annotations

import fcntl
import json
import math
import shlex
import time
from contextlib import contextmanager
from pathlib import Path

TRIALS = "trials.jsonl"
BEST_CONFIG = "best_config.yaml"
# Below any F1: Optuna ranks the trial last and its sampler steers away from it. (NaN would make Optuna's
# tell() raise inside the Hydra plugin, which then counts the trial against max_failure_rate.)
FAILED_TRIAL_VALUE = -1.0


def objective(results: dict) -> float:
    """Dev strict micro F1 (seqeval strict IOB2) of the run's saved model, through the predictor."""
    return float(results["dev"]["strict"]["micro"]["f1"])


@contextmanager
def _locked(sweep_dir: Path):
    """Trials may run in parallel (a joblib launcher): one writer at a time updates the sweep's files."""
    sweep_dir.mkdir(parents=True, exist_ok=True)
    with open(sweep_dir / ".trials.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def read_trials(sweep_dir: str | Path) -> list[dict]:
    path = Path(sweep_dir) / TRIALS
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:  # a line cut by a kill: the trial is lost, the file stays usable
            continue
    return rows


def record_trial(sweep_dir: str | Path, number: int, overrides: list[str], run_dir: str | Path, cfg,
                 value: float | None, error: str | None = None) -> dict:
    """Append the trial to ``trials.jsonl`` and, when it is the best so far, write ``best_config.yaml``."""
    from omegaconf import OmegaConf

    from ner.data.io.common import atomic_write

    sweep_dir = Path(sweep_dir)
    ok = error is None and value is not None and math.isfinite(value)
    row = {"trial": number, "status": "ok" if ok else "failed", "value": value if ok else FAILED_TRIAL_VALUE,
           "overrides": list(overrides), "run_dir": str(run_dir), "error": error,
           "finished": time.strftime("%Y-%m-%d %H:%M:%S")}
    with _locked(sweep_dir):
        earlier = [t["value"] for t in read_trials(sweep_dir) if t.get("status") == "ok"]
        path = sweep_dir / TRIALS
        cut = path.is_file() and path.stat().st_size and not path.read_bytes().endswith(b"\n")
        with open(path, "a", encoding="utf-8") as f:
            # a line cut by a kill stays alone on its line (and is skipped by read_trials)
            f.write(("\n" if cut else "") + json.dumps(row, ensure_ascii=False) + "\n")
            f.flush()
        if ok and (not earlier or value > max(earlier)):
            repeat = [o for o in overrides if not o.lstrip("+~").startswith(("hparams_search=", "hydra"))]
            header = (f"# Best trial so far of the sweep in {sweep_dir}: trial {number}, dev strict micro F1 "
                      f"{value:.4f}\n# run folder: {run_dir}\n# repeat it: python scripts/train.py "
                      f"{shlex.join(repeat)}\n")
            with atomic_write(sweep_dir / BEST_CONFIG) as f:
                f.write(header + OmegaConf.to_yaml(cfg, resolve=True))
    return row
