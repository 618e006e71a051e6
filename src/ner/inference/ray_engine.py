"""``scripts/predict.py engine=ray``: the same job on Ray Data, on one machine or a cluster.

The input is cut into splits of lines (``plan_splits``: one pass that keeps only byte offsets) and Ray Data reads
the splits in parallel (``flat_map`` over the split descriptions, with the same parser and ids as the local
engine); ``map_batches`` runs an actor pool whose actors each load ``NerPredictor`` once and render the records;
the driver writes them in input order through the same resumable ``Output``. So the output is byte for byte the
local engine's, and either engine resumes the other's file. On a cluster, every node must be able to read the
model folder and the input at the same paths and have this package installed; only the driver writes.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

from ner.inference.inputs import SPLIT_RECORDS, Record, plan_splits, read_split
from ner.inference.options import predictor_options, render_options
from ner.inference.outputs import Output, label_studio_json, prepare_output, render
from ner.inference.streaming import IdGuard, RunStats, progress_bar


def _split_rows(split: dict, text_field: str, id_field: str, done: frozenset) -> list[dict]:
    """The records of one split; those already in the output travel without their text."""
    return [{"id": r.id, "text": "" if r.id in done else r.text, "line": r.line, "done": r.id in done}
            for r in read_split(split, text_field, id_field)]


class TagBatch:
    """A Ray Data actor: one predictor for its lifetime, rendered records out."""

    def __init__(self, model_path: str, options: dict, fmt: str, render_opts: dict):
        from ner.predictor import NerPredictor

        self.predictor = NerPredictor.from_pretrained(model_path, **options)
        self.fmt, self.render_opts = fmt, render_opts

    def __call__(self, batch: dict) -> dict:
        ids, texts, done = batch["id"], batch["text"], batch["done"]
        todo = [k for k in range(len(ids)) if not done[k]]
        entities = self.predictor.predict([str(texts[k]) for k in todo]) if todo else []
        records = [""] * len(ids)
        for k, ents in zip(todo, entities):
            records[k] = render(self.fmt, str(ids[k]), str(texts[k]), [e.to_dict() for e in ents],
                                **self.render_opts)
        return {"id": ids, "line": batch["line"], "done": done, "record": np.array(records, dtype=object)}


def _init_ray(ray, rcfg: dict) -> bool:
    """Connect to (``address``) or start a Ray instance unless one is running; ``True`` if this call started it."""
    if ray.is_initialized():
        return False
    env = {k: os.environ[k] for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "PROJECT_ROOT") if k in os.environ}
    env["TOKENIZERS_PARALLELISM"] = "false"
    kwargs = {"include_dashboard": False, "runtime_env": {"env_vars": env}, "log_to_driver": False}
    if rcfg.get("address"):
        ray.init(address=rcfg["address"], **kwargs)
    else:
        ray.init(num_cpus=rcfg.get("num_cpus"), **kwargs)
    return True


def run_ray(cfg: dict, stream=None) -> RunStats:
    try:
        import ray
        import ray.data
    except ImportError:
        raise ImportError("engine=ray needs Ray Data: pip install '.[scale]'") from None
    if str(cfg["input"]) == "-":
        raise ValueError("engine=ray reads its input from a file that every worker can read; input=- (stdin) "
                         "works with engine=local")
    model_dir = Path(str(cfg["model_path"]))
    if not any((model_dir / f).is_file() for f in ("config.json", "ner_config.json")):  # else each actor fails
        raise FileNotFoundError(f"model_path {model_dir}: not a saved model folder (no config.json or "
                                "ner_config.json); give a run's model/ folder that every Ray node can read there")
    rcfg = cfg.get("ray") or {}
    workers, cpus = int(rcfg.get("workers", 2)), float(rcfg.get("cpus_per_worker", 1))
    if workers < 1 or cpus <= 0:
        raise ValueError(f"ray.workers must be >= 1 and ray.cpus_per_worker > 0, not {workers} and {cpus}")
    splits = plan_splits(cfg["input"], cfg["input_format"], int(rcfg.get("split_lines", SPLIT_RECORDS)))
    text_field, id_field, source = cfg["text_field"], cfg["id_field"], str(cfg["input"])
    if splits:  # errors at the start of the input: before Ray starts and before the output is touched
        for _ in zip(range(cfg["chunk_size"]), read_split(splits[0], text_field, id_field)):
            pass
    output = cfg.get("output")
    done = frozenset(prepare_output(output, cfg["format"], cfg.get("resume", True)) if output else ())
    guard, stats = IdGuard(set(done)), RunStats()
    started = _init_ray(ray, rcfg)
    bar = progress_bar(cfg.get("progress", True), desc="tag (ray)")
    try:
        ctx = ray.data.DataContext.get_current()
        ctx.execution_options.preserve_order = True  # the output in input order, as the local engine writes it
        ctx.enable_progress_bars = False
        if splits:
            ds = ray.data.from_items(splits, override_num_blocks=len(splits))
            # Reading lines is light: the read tasks reserve no CPU, or actors holding every CPU would starve them
            ds = ds.flat_map(_split_rows, fn_kwargs={"text_field": text_field, "id_field": id_field, "done": done},
                             num_cpus=0)
            ds = ds.map_batches(TagBatch, fn_constructor_kwargs={
                "model_path": str(cfg["model_path"]), "options": predictor_options(cfg, num_threads=max(1, int(cpus))),
                "fmt": cfg["format"], "render_opts": render_options(cfg)},
                batch_size=int(rcfg.get("batch_size", 64)), compute=ray.data.ActorPoolStrategy(size=workers),
                num_cpus=cpus)
            with Output(output, stream if stream is not None else sys.stdout) as out:
                for batch in ds.iter_batches(batch_size=None, batch_format="numpy"):
                    records = []
                    for doc_id, line, was_done, record in zip(batch["id"], batch["line"], batch["done"],
                                                              batch["record"]):
                        if guard.admit(Record(str(doc_id), "", int(line)), source):
                            records.append(record)
                            stats.tagged += 1
                        else:
                            stats.skipped += 1
                    out.write(records)
                    bar.update(len(batch["id"]))
    finally:
        bar.close()
        if started:
            ray.shutdown()
    if output and cfg["format"] == "label_studio":
        stats.written.append(label_studio_json(output))
    return stats
