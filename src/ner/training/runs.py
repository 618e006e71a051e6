"""What every training run shares, whatever the model: the data it trains and is scored on, and the scoring of
the saved model through the predictor into the run folder (metrics.json, reports)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ner.data.datasets import annotated_types, load_corpora, selection_corpus
from ner.data.documents import Document
from ner.data.orthography import augment
from ner.evaluation.report import ReportOptions, write_reports
from ner.evaluation.scoring import evaluate_predictor


@dataclass
class RunData:
    corpora: dict[str, dict[str, list[Document]]]   # every corpus of the config, all its splits
    select: str                                     # the corpus whose dev split selects the model
    splits: dict[str, list[Document]]               # train = all corpora's train; dev/test of ``select``
    types: list[str]                                # the entity types the run learns


def load_run_data(cfg) -> RunData:
    """Data first: a broken file should fail before any model is built. A mixed config trains on every
    component's train split and selects on one component's dev split (``select_on``)."""
    corpora = load_corpora(cfg.data)
    select = selection_corpus(cfg.data)
    splits = dict(corpora[select])
    splits["train"] = [d for c in corpora.values() for d in c["train"]]
    # Web-orthography copies of a share of the training documents (ZWNJ as space or nothing, ي/ك, Latin digits)
    if cfg.training.get("augment"):
        splits["train"] = augment(splits["train"], float(cfg.training.augment), cfg.seed)
    return RunData(corpora, select, splits, annotated_types(cfg.data))


def score_run(cfg, run_dir: Path, model_dir: Path, data: RunData) -> dict:
    """Final scores from the saved model through the predictor, exactly as scripts/evaluate.py computes them;
    each other corpus of a mixed config is scored on the types it annotates only. Writes the reports."""
    from ner.predictor import NerPredictor

    predictor = NerPredictor.from_pretrained(model_dir)
    results, predictions = {}, {}
    for split in ("dev", "test"):
        if split in data.splits:
            results[split], pred_tags = evaluate_predictor(predictor, data.splits[split], data.types)
            predictions[split] = (data.splits[split], pred_tags)
    for name, other in data.corpora.items():
        for split in ("dev", "test"):
            if name != data.select and split in other:
                scored = [t for t in other[split][0].meta["annotates"] if t in data.types] if other[split] else data.types
                results[f"{name}/{split}"], pred_tags = evaluate_predictor(predictor, other[split], scored)
                predictions[f"{name}/{split}"] = (other[split], pred_tags)
    write_reports(run_dir, results, predictions, ReportOptions.from_config(cfg, strict=False))
    # The model card (model/README.md) for every saved model, from the metrics.json just written (issue 13)
    import json

    from ner.evaluation.model_card import write_model_card

    metrics = json.loads((Path(run_dir) / "metrics.json").read_text(encoding="utf-8"))
    write_model_card(model_dir, metrics, cfg, data.splits)
    return results
