"""From ``scripts/predict.py``'s config to the options of ``NerPredictor.from_pretrained`` and of ``render``
(shared by both engines, so that they tag and write alike)."""
from __future__ import annotations

from pathlib import Path


def model_version(model_path: str | Path) -> str:
    """A run's name for a run's ``model/`` folder (``runs/<name>/<time>/model`` -> ``<name>/<time>``)."""
    p = Path(model_path).resolve()
    return f"{p.parent.parent.name}/{p.parent.name}" if p.name == "model" else p.name


def predictor_options(cfg: dict, num_threads=None) -> dict:
    opts = {"batch_size": cfg.get("batch_size", 32), "backend": cfg.get("backend", "torch"),
            "quantize": bool(cfg.get("quantize", False))}
    threads = num_threads if num_threads is not None else cfg.get("num_threads")
    if threads:
        opts["num_threads"] = int(threads)
    if cfg.get("device"):
        opts["device"] = cfg["device"]
    return opts


def render_options(cfg: dict) -> dict:
    ls = cfg.get("label_studio") or {}
    return {"model_version": ls.get("model_version") or model_version(cfg["model_path"]),
            "from_name": ls.get("from_name", "label"), "to_name": ls.get("to_name", "text")}
