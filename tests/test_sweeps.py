"""`scripts/train.py hparams_search=ner_optuna`: an Optuna sweep over dev strict F1 that survives a failing trial
and leaves the best trial's config where a person finds it."""
import json
import os
import subprocess
import sys

import pytest
import yaml

from conftest import ROOT, compose


def test_the_sweep_config_searches_learning_rate_epochs_warmup_and_dropout():
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra_plugins.hydra_optuna_sweeper._impl import create_params_from_overrides

    with initialize_config_dir(config_dir=str(ROOT / "configs"), version_base="1.3"):
        cfg = hydra_compose("config", ["hparams_search=ner_optuna", "experiment=smoke"], return_hydra_config=True)
    sweeper = cfg.hydra.sweeper
    assert sweeper.direction == "maximize" and cfg.hydra.mode.name == "MULTIRUN"
    assert "optuna" in sweeper._target_ and sweeper.max_failure_rate == 1.0
    space, fixed = create_params_from_overrides([f"{k}={v}" for k, v in sweeper.params.items()])
    assert set(space) == {"training.learning_rate", "training.epochs", "training.warmup_ratio", "model.dropout"}
    assert not fixed and space["training.learning_rate"].low > 0
    for key in space:  # every searched key exists in the composed config
        section, name = key.split(".")
        assert name in cfg[section]


@pytest.mark.slow
def test_a_failing_trial_is_recorded_and_the_best_config_is_written(tmp_path):
    sweep = tmp_path / "sweep"
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", PROJECT_ROOT=str(ROOT))
    # With optuna 2.10.1's TPE (random start-up trials) and seed 3, the first trial draws the bad loss name and the
    # second a good one; the config's own search space (learning rate, warm-up, dropout) is sampled as well.
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "train.py"), "-m", "hparams_search=ner_optuna", "experiment=smoke",
         "hydra.sweeper.n_trials=2", "hydra.sweeper.sampler.seed=3", "training.epochs=2",
         "training.loss=choice(cross_entropy,not_a_loss)", "report.bootstrap_samples=50", f"hydra.sweep.dir={sweep}"],
        capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    trials = [json.loads(line) for line in (sweep / "trials.jsonl").read_text().splitlines()]
    assert [t["trial"] for t in trials] == [0, 1]
    failed = [t for t in trials if t["status"] == "failed"]
    ok = [t for t in trials if t["status"] == "ok"]
    assert len(failed) == 1 and len(ok) == 1, "re-pick hydra.sweeper.sampler.seed: both trials drew the same loss"
    assert "training.loss must be" in failed[0]["error"] and failed[0]["value"] == -1.0
    assert "training.loss=not_a_loss" in failed[0]["overrides"]
    assert 0.0 <= ok[0]["value"] <= 1.0
    assert (sweep / str(failed[0]["trial"]) / "train.log").read_text().count("Traceback") == 1

    metrics = json.loads((sweep / str(ok[0]["trial"]) / "metrics.json").read_text())
    assert ok[0]["value"] == metrics["dev"]["strict"]["micro"]["f1"]  # the objective main() returned
    best_text = (sweep / "best_config.yaml").read_text()
    best = yaml.safe_load(best_text)
    sampled = dict(o.split("=", 1) for o in ok[0]["overrides"])
    assert best["training"]["learning_rate"] == pytest.approx(float(sampled["training.learning_rate"]))
    assert best["training"]["loss"] == "cross_entropy" and best["model"]["dropout"] == float(sampled["model.dropout"])
    assert "# repeat it: python scripts/train.py" in best_text and "hparams_search" not in best_text
    results = yaml.safe_load((sweep / "optimization_results.yaml").read_text())
    assert results["best_value"] == pytest.approx(ok[0]["value"])


def test_trials_file_survives_a_cut_line_and_best_only_improves(tmp_path):
    from ner.training.sweeps import BEST_CONFIG, read_trials, record_trial

    cfg = compose("config", ["experiment=smoke"])
    record_trial(tmp_path, 0, ["training.learning_rate=1e-4"], tmp_path / "0", cfg, 0.5)
    with open(tmp_path / "trials.jsonl", "a") as f:
        f.write('{"trial": 9, "sta')  # a kill in the middle of a line
    record_trial(tmp_path, 1, ["training.learning_rate=2e-4"], tmp_path / "1", cfg, 0.4)
    assert "trial 0" in (tmp_path / BEST_CONFIG).read_text()
    record_trial(tmp_path, 2, ["training.learning_rate=3e-4"], tmp_path / "2", cfg, None, "ValueError: boom")
    record_trial(tmp_path, 3, ["training.learning_rate=4e-4"], tmp_path / "3", cfg, 0.7)
    assert "trial 3" in (tmp_path / BEST_CONFIG).read_text()
    assert [t["status"] for t in read_trials(tmp_path)] == ["ok", "ok", "failed", "ok"]
