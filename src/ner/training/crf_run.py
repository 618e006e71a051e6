"""``scripts/train.py model=crf``: the linear-chain CRF trained, saved and scored like any other model.

The run folder has the same shape as a transformer run (``model/`` with ``ner_config.json``, ``metrics.json``,
reports), and ``NerPredictor.from_pretrained(run/model)`` loads it, so tables compare like with like.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from ner.data.io.common import atomic_write
from ner.models.crf import CrfTagger
from ner.models.encoders import normalizer_from_config
from ner.predictor import save_ner_config
from ner.training.runs import load_run_data, score_run


def train_crf(cfg, run_dir: str | Path) -> dict:
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    started = time.time()
    data = load_run_data(cfg)
    m = cfg.model
    tagger = CrfTagger(normalizer_from_config(m.normalization), c1=m.c1, c2=m.c2, max_iterations=m.max_iterations)
    tagger.fit(data.splits["train"])
    known = {t.split("-", 1)[1] for t in tagger.labels if t != "O"}
    missing = [t for t in data.types if t not in known]
    if missing:  # the CRF only knows tags it saw; say so instead of silently never predicting a type
        raise ValueError(f"the training data of {cfg.data.get('name')!r} has no {', '.join(missing)} entities")
    # the model folder is complete or absent: written under a temporary name, then renamed
    model_dir, tmp = run_dir / "model", run_dir / ".model.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    tagger.save(tmp)
    save_ner_config(tmp, tagger.normalizer, None, 0, model_type="crf", entity_types=data.types,
                    trained_on=cfg.data.get("name"))
    shutil.rmtree(model_dir, ignore_errors=True)
    os.replace(tmp, model_dir)
    train_seconds = round(time.time() - started, 1)
    results = score_run(cfg, run_dir, model_dir, data)
    summary = {"train_seconds": train_seconds, "model": "crf", "c1": m.c1, "c2": m.c2,
               "max_iterations": m.max_iterations, "training_sentences": sum(1 for _ in data.splits["train"])}
    with atomic_write(run_dir / "train_summary.json") as f:
        f.write(json.dumps(summary, indent=2))
    return {"results": results, "summary": summary, "model_dir": model_dir}
