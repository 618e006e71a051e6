"""Opt-in tracking: `logger=tensorboard` writes event files, `logger=mlflow` an MLflow run (local store in the run
folder, or a given tracking URI) with the losses, dev F1 per epoch, the resolved config and the final metrics."""
import json
import os

import pytest

from conftest import compose

pytestmark = pytest.mark.slow
SKIP = "logger={} needs the tracking extra: pip install -e '.[tracking]'"
OVERRIDES = ["experiment=smoke", "training.logging_steps=1", "report.bootstrap_samples=50"]


def _train(logger_overrides, run_dir):
    from ner.training.finetune import train

    cfg = compose("config", OVERRIDES + logger_overrides)
    return cfg, train(cfg, run_dir)


def test_off_by_default(trained_run):
    run, _ = trained_run
    assert list(compose("config", ["experiment=smoke"]).logger.report_to) == []
    assert not (run / "tensorboard").exists() and not (run / "mlflow").exists()
    assert not (run / "mlflow_run.json").exists()


def test_tensorboard_event_files_hold_curves_config_and_final_metrics(tmp_path):
    pytest.importorskip("tensorboard", reason=SKIP.format("tensorboard"))
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = tmp_path / "run"
    _, out = _train(["logger=tensorboard"], run)
    assert list((run / "tensorboard").glob("events.out.tfevents.*"))
    acc = EventAccumulator(str(run / "tensorboard"))
    acc.Reload()
    scalars = acc.Tags()["scalars"]
    assert len(acc.Scalars("train/loss")) == out["summary"]["global_step"]
    assert [round(e.value, 6) for e in acc.Scalars("eval/f1_strict")] == [
        round(h["eval_f1_strict"], 6) for h in out["summary"]["log_history"] if "eval_f1_strict" in h]
    assert len(acc.Scalars("eval/f1_strict")) == 2  # one per epoch
    final = acc.Scalars("final/dev/strict/micro/f1")[0].value
    assert final == pytest.approx(out["results"]["dev"]["strict"]["micro"]["f1"])
    assert "final/test/default/micro/f1" in scalars
    assert "config/text_summary" in acc.Tags()["tensors"]


def test_mlflow_run_in_the_run_folder(tmp_path):
    mlflow = pytest.importorskip("mlflow", reason=SKIP.format("mlflow"))
    before = os.environ.get("MLFLOW_TRACKING_URI")
    run = tmp_path / "run"
    cfg, out = _train(["logger=mlflow"], run)
    assert os.environ.get("MLFLOW_TRACKING_URI") == before  # not left pointing at this run's store
    saved = json.loads((run / "mlflow_run.json").read_text())
    assert saved["tracking_uri"] == f"sqlite:///{(run / 'mlflow' / 'mlflow.db').resolve()}"
    client = mlflow.MlflowClient(tracking_uri=saved["tracking_uri"])
    r = client.get_run(saved["run_id"])
    assert r.info.status == "FINISHED" and r.info.run_name == "smoke"
    assert float(r.data.params["cfg.training.learning_rate"]) == cfg.training.learning_rate
    assert r.data.params["cfg.data.name"] == "fixtures"
    f1 = client.get_metric_history(saved["run_id"], "eval_f1_strict")
    assert len(f1) == 2 and len(client.get_metric_history(saved["run_id"], "loss")) == out["summary"]["global_step"]
    metrics = json.loads((run / "metrics.json").read_text())
    assert r.data.metrics["final/dev/strict/micro/f1"] == pytest.approx(metrics["dev"]["strict"]["micro"]["f1"])
    assert r.data.metrics["final/test/strict/micro/f1"] == pytest.approx(metrics["test"]["strict"]["micro"]["f1"])
    artifacts = {a.path for a in client.list_artifacts(saved["run_id"])}
    assert {"config.yaml", "metrics.json"} <= artifacts
    assert r.info.artifact_uri.startswith((run / "mlflow" / "artifacts").resolve().as_uri())


def test_mlflow_tracking_uri_puts_runs_in_one_store(tmp_path):
    mlflow = pytest.importorskip("mlflow", reason=SKIP.format("mlflow"))
    uri = f"sqlite:///{tmp_path / 'shared' / 'mlflow.db'}"
    (tmp_path / "shared").mkdir()
    _train(["logger=mlflow", f"logger.tracking_uri={uri}", "logger.experiment_name=ner-test"], tmp_path / "a")
    client = mlflow.MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name("ner-test")
    runs = client.search_runs([exp.experiment_id])
    assert len(runs) == 1 and "final/dev/strict/micro/f1" in runs[0].data.metrics
    assert not (tmp_path / "a" / "mlflow").exists()  # nothing in the run folder but the run id
    assert exp.artifact_location.startswith((tmp_path / "shared").resolve().as_uri())


def test_a_resumed_run_continues_its_mlflow_run(tmp_path, monkeypatch, capfd):
    """A run that fails after training (here: saving the model) leaves a FAILED MLflow run with its parameters and
    dev curve; resuming it reopens that run (no parameter conflict, although the model now comes from the
    checkpoint) and finishes it with the final metrics."""
    mlflow = pytest.importorskip("mlflow", reason=SKIP.format("mlflow"))
    from ner.training import finetune

    run = tmp_path / "run"
    monkeypatch.setattr(finetune, "save_ner_config", lambda *a, **k: (_ for _ in ()).throw(OSError("injected")))
    with pytest.raises(OSError, match="injected"):
        _train(["logger=mlflow"], run)
    monkeypatch.undo()
    saved = json.loads((run / "mlflow_run.json").read_text())
    client = mlflow.MlflowClient(tracking_uri=saved["tracking_uri"])
    assert client.get_run(saved["run_id"]).info.status == "FAILED"
    assert os.environ.get("MLFLOW_MAX_LOG_PARAMS") is None

    capfd.readouterr()
    _train(["logger=mlflow", f"training.resume={run}"], tmp_path / "other")
    # MLflow logs asynchronously: a rejected batch (e.g. a parameter logged again with another value) only shows
    # as an error message, and the batch's data are lost
    assert "Failed to log run data" not in capfd.readouterr().err
    assert json.loads((run / "mlflow_run.json").read_text())["run_id"] == saved["run_id"]
    r = client.get_run(saved["run_id"])
    assert r.info.status == "FINISHED" and "final/dev/strict/micro/f1" in r.data.metrics
    assert len(client.get_metric_history(saved["run_id"], "eval_f1_strict")) == 2
    assert os.environ.get("MLFLOW_MAX_LOG_PARAMS") is None
