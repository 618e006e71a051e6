"""Opt-in experiment tracking (``logger=tensorboard``, ``logger=mlflow``; ``configs/logger/``).

Losses and dev F1 per evaluation go through the Trainer's own reporting integrations (``report_to``). What the
Trainer does not report is added here: the resolved config (MLflow parameters and an artifact; TensorBoard
text) and the final scores of the saved model (``metrics.json``'s micro/macro/per-type P/R/F1). Only rank 0
tracks anything. Off by default: ``logger=none``.
"""
from __future__ import annotations

import importlib
import json
import logging
import math
import os
from pathlib import Path

log = logging.getLogger(__name__)

BACKENDS = ("tensorboard", "mlflow")
MLFLOW_RUN_FILE = "mlflow_run.json"  # in the run folder: lets a resumed run continue the same MLflow run
INSTALL_HINT = "pip install -e '.[tracking]'"


class TrackingError(RuntimeError):
    pass


def flatten(tree, prefix: str = "") -> dict[str, object]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``; lists stay whole (as their string form in MLflow)."""
    out: dict[str, object] = {}
    if isinstance(tree, dict):
        for k, v in tree.items():
            out.update(flatten(v, f"{prefix}{k}."))
    else:
        out[prefix[:-1]] = tree
    return out


def final_metrics(results: dict) -> dict[str, float]:
    """The final scores as flat metric names:
    ``final/<split>/<strict|default>/<micro|macro|weighted|TYPE>/<precision|recall|f1>``."""
    out = {}
    for split, res in (results or {}).items():
        for mode in ("strict", "default"):
            scores = res.get(mode, {})
            groups = {k: scores[k] for k in ("micro", "macro", "weighted") if k in scores}
            groups.update(scores.get("per_type", {}))
            for group, vals in groups.items():
                for metric in ("precision", "recall", "f1"):
                    v = vals.get(metric)
                    if isinstance(v, (int, float)) and math.isfinite(v):
                        out[f"final/{split}/{mode}/{group}/{metric}"] = float(v)
    return out


class Tracker:
    """The tracking of one run. ``report_to`` goes into ``TrainingArguments``; ``start()`` before training,
    ``attach(trainer)`` once the Trainer exists, ``finish(results)`` after scoring (or ``fail()``)."""

    def __init__(self, cfg, run_dir: Path, main_process: bool = True, resuming: bool = False):
        lcfg = cfg.get("logger") or {}
        self.report_to = [str(b) for b in (lcfg.get("report_to") or [])]
        unknown = [b for b in self.report_to if b not in BACKENDS]
        if unknown:
            raise TrackingError(f"logger.report_to: unknown backend(s) {unknown}; known: {', '.join(BACKENDS)}")
        self.cfg, self.lcfg, self.run_dir = cfg, lcfg, Path(run_dir)
        self.main, self.resuming = main_process, resuming
        self.mlflow = None
        self._max_params_before: str | None | bool = False  # False: MLFLOW_MAX_LOG_PARAMS left alone
        # Read once, now: mlflow.set_tracking_uri() exports MLFLOW_TRACKING_URI, which the config's default
        # (${oc.env:MLFLOW_TRACKING_URI,null}) would otherwise pick up on its next read.
        self.tracking_uri = lcfg.get("tracking_uri") if "mlflow" in self.report_to else None
        self._uri_before = os.environ.get("MLFLOW_TRACKING_URI")
        self.tb_dir = Path(lcfg.get("log_dir") or self.run_dir / "tensorboard")
        for backend in self.report_to:  # fail before training, with the fix, not after an epoch
            try:
                importlib.import_module(backend)  # torch.utils.tensorboard needs the tensorboard package too
            except ImportError as e:
                raise TrackingError(f"logger={backend} needs the {backend} package ({e}); {INSTALL_HINT}") from e

    @property
    def config_yaml(self) -> str:
        from omegaconf import OmegaConf

        return OmegaConf.to_yaml(self.cfg, resolve=True)

    # ------------------------------------------------------------------ MLflow
    def _mlflow_uri(self) -> str:
        if self.tracking_uri:
            return str(self.tracking_uri)
        store = self.run_dir / "mlflow"
        store.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{store.resolve() / 'mlflow.db'}"

    def _start_mlflow(self) -> None:
        import mlflow
        from omegaconf import OmegaConf

        uri = self._mlflow_uri()
        mlflow.set_tracking_uri(uri)
        name = str(self.lcfg.get("experiment_name") or self.cfg.get("run_name") or "ner")
        client = mlflow.MlflowClient()
        exp = client.get_experiment_by_name(name)
        if exp is None:  # artifacts beside a local store (MLflow's default would be ./mlruns in the working dir)
            location = None
            if not self.tracking_uri:
                location = (self.run_dir / "mlflow" / "artifacts").resolve().as_uri()
            elif uri.startswith("sqlite:///"):
                location = (Path(uri[len("sqlite:///"):]).parent / "artifacts").resolve().as_uri()
            exp_id = client.create_experiment(name, artifact_location=location)
        else:
            exp_id = exp.experiment_id
        previous = self.run_dir / MLFLOW_RUN_FILE
        run_id = None
        if self.resuming and previous.is_file():
            saved = json.loads(previous.read_text(encoding="utf-8"))
            run_id = saved.get("run_id") if saved.get("tracking_uri") == uri else None
        run = mlflow.start_run(run_id=run_id, experiment_id=None if run_id else exp_id,
                               run_name=None if run_id else str(self.cfg.get("run_name")))
        self.mlflow = mlflow
        from ner.data.io.common import atomic_write

        with atomic_write(previous) as f:
            json.dump({"tracking_uri": uri, "experiment_id": run.info.experiment_id, "run_id": run.info.run_id}, f)
        if run_id is not None:
            # Parameters are immutable in MLflow and the resumed run has them; the Trainer's callback would log
            # them again (the model's _name_or_path is now the checkpoint: a conflict), so it logs none.
            self._max_params_before = os.environ.get("MLFLOW_MAX_LOG_PARAMS")
            os.environ["MLFLOW_MAX_LOG_PARAMS"] = "0"
        else:
            limit = mlflow.utils.validation.MAX_PARAM_VAL_LENGTH
            params = {f"cfg.{k}": str(v)[:limit] for k, v in
                      flatten(OmegaConf.to_container(self.cfg, resolve=True)).items()}
            items = list(params.items())
            for i in range(0, len(items), 100):
                mlflow.log_params(dict(items[i:i + 100]))
        mlflow.log_text(self.config_yaml, "config.yaml")
        log.info("MLflow: run %s in experiment %r at %s", run.info.run_id, name, uri)

    # ------------------------------------------------------------------ the run
    def start(self) -> None:
        if self.main and "mlflow" in self.report_to:
            self._start_mlflow()

    def attach(self, trainer) -> None:
        """Point the Trainer's TensorBoard callback at the run folder (its default is under ``output_dir``, the
        checkpoints folder, which is deleted at the end of the run)."""
        if "tensorboard" not in self.report_to:
            return
        from transformers.integrations import TensorBoardCallback

        found = [cb for cb in trainer.callback_handler.callbacks if isinstance(cb, TensorBoardCallback)]
        if not found:
            raise TrackingError("logger=tensorboard: the Trainer did not create its TensorBoard callback")
        for cb in found:
            cb.logging_dir = str(self.tb_dir)

    def finish(self, results: dict, extra: dict | None = None) -> None:
        if not self.main:
            return
        metrics = final_metrics(results)
        metrics.update({f"final/{k}": float(v) for k, v in (extra or {}).items()
                        if isinstance(v, (int, float)) and v is not None})
        if "tensorboard" in self.report_to:
            from torch.utils.tensorboard import SummaryWriter

            with SummaryWriter(log_dir=str(self.tb_dir)) as w:
                w.add_text("config", "```yaml\n" + self.config_yaml + "\n```")
                for k, v in metrics.items():
                    w.add_scalar(k, v, 0)
        if self.mlflow is not None:
            self.mlflow.log_metrics(metrics)
            metrics_file = self.run_dir / "metrics.json"
            if metrics_file.is_file():
                self.mlflow.log_artifact(str(metrics_file))
            self._end_mlflow("FINISHED")

    def fail(self) -> None:
        """End an MLflow run as FAILED when training raised (a later resume reopens it)."""
        if self.mlflow is not None:
            self._end_mlflow("FAILED")

    def _end_mlflow(self, status: str) -> None:
        """End the run and put the tracking URI back as it was, so a next run in this process (a sweep's next
        trial, a test) does not log into this run's store."""
        self.mlflow.end_run(status=status)
        self.mlflow.set_tracking_uri(self._uri_before)
        if self._max_params_before is not False:
            if self._max_params_before is None:
                os.environ.pop("MLFLOW_MAX_LOG_PARAMS", None)
            else:
                os.environ["MLFLOW_MAX_LOG_PARAMS"] = self._max_params_before
        self.mlflow = None
