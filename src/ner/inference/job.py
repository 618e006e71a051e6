"""What ``scripts/predict.py`` does with its config: check the options, read the start of the input (so that a bad
file fails before a model is loaded), then run the local loop or the Ray engine."""
from __future__ import annotations

import itertools
from pathlib import Path

from ner.inference.inputs import INPUT_FORMATS, iter_records
from ner.inference.options import predictor_options, render_options
from ner.inference.outputs import OUTPUT_FORMATS
from ner.inference.streaming import RunStats, tag_stream

ENGINES = ("local", "ray")


def _check(cfg: dict) -> None:
    checks = (("format", OUTPUT_FORMATS), ("input_format", INPUT_FORMATS), ("engine", ENGINES))
    for key, allowed in checks:
        if cfg.get(key) not in allowed:
            raise ValueError(f"{key} must be one of {', '.join(allowed)}, not {cfg.get(key)!r}")
    for key in ("chunk_size", "batch_size"):
        if not isinstance(cfg.get(key), int) or cfg[key] < 1:
            raise ValueError(f"{key} must be a positive integer, not {cfg.get(key)!r}")
    if cfg.get("output") and Path(cfg["output"]).resolve() == Path(str(cfg["input"])).resolve():
        raise ValueError(f"output {cfg['output']} is the input file; choose another output")


def run_job(cfg: dict, stdin=None, stdout=None) -> RunStats:
    _check(cfg)
    if cfg["engine"] == "ray":
        from ner.inference.ray_engine import run_ray

        return run_ray(cfg, stream=stdout)
    from ner.predictor import NerPredictor

    records = iter_records(cfg["input"], cfg["input_format"], cfg["text_field"], cfg["id_field"], stdin=stdin)
    head = list(itertools.islice(records, cfg["chunk_size"]))  # input errors at the start: before the model loads
    predictor = NerPredictor.from_pretrained(cfg["model_path"], **predictor_options(cfg))
    source = "<stdin>" if str(cfg["input"]) == "-" else str(cfg["input"])
    return tag_stream(predictor.predict, itertools.chain(head, records), cfg.get("output"), cfg["format"],
                      resume=cfg.get("resume", True), chunk_size=cfg["chunk_size"],
                      progress=cfg.get("progress", True), stream=stdout, source=source, **render_options(cfg))
