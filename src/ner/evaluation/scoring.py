"""Scoring predictions with seqeval, in strict IOB2 mode and in seqeval's default mode, always named.

Only the entity types a corpus annotates are scored on it: the other types are mapped to ``O`` in the gold
and the predictions alike (a PEYMA sentence cannot tell us whether a predicted CLUSTER is right).
"""
from __future__ import annotations

from collections.abc import Sequence

from ner.data.documents import Document
from ner.data.labels import OUTSIDE, split_tag
from ner.data.spans import spans_to_tags

MODES = {"strict": {"mode": "strict", "scheme": "IOB2"}, "default": {}}


def restrict_tags(tags: Sequence[str], types: Sequence[str]) -> list[str]:
    """Map tags of types outside ``types`` to ``O``."""
    keep = set(types)
    return [t if split_tag(t)[1] in keep else OUTSIDE for t in tags]


def _seqeval_kwargs(mode: str) -> dict:
    from seqeval.scheme import IOB2

    return {"mode": "strict", "scheme": IOB2} if mode == "strict" else {}


def score(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]], types: Sequence[str]) -> dict:
    """Micro/macro/weighted P/R/F1 and per-type scores in both modes, plus the text reports."""
    from seqeval.metrics import classification_report

    gold = [restrict_tags(g, types) for g in gold]
    pred = [restrict_tags(p, types) for p in pred]
    out: dict = {"types_scored": list(types)}
    if not any(t != OUTSIDE for seq in gold + pred for t in seq):
        # seqeval cannot report on a set with no entity at all; every score is 0 with support 0.
        zero = {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
        for mode in MODES:
            out[mode] = {"micro": dict(zero), "macro": dict(zero), "weighted": dict(zero), "per_type": {},
                         "report": "(no entities in the gold annotation or the predictions)\n"}
        return out
    for mode in MODES:
        rep = classification_report(gold, pred, digits=4, zero_division=0, output_dict=True, **_seqeval_kwargs(mode))
        text = classification_report(gold, pred, digits=4, zero_division=0, **_seqeval_kwargs(mode))
        section = {}
        for key, vals in rep.items():
            name = key.replace(" avg", "")
            section[name] = {"precision": float(vals["precision"]), "recall": float(vals["recall"]),
                             "f1": float(vals["f1-score"]), "support": int(vals["support"])}
        out[mode] = {"micro": section.pop("micro"), "macro": section.pop("macro"),
                     "weighted": section.pop("weighted"), "per_type": section, "report": text}
    return out


def gold_tags(docs: Sequence[Document]) -> list[list[str]]:
    return [spans_to_tags(d) for d in docs]


def evaluate_predictor(predictor, docs: Sequence[Document], types: Sequence[str], progress: bool = True) -> tuple:
    """Scores of ``predictor`` on ``docs`` (word-level, on each document's own words) and the predicted tags."""
    pred = predictor.predict_words([(d.text, d.get_words()) for d in docs], progress=progress)
    pred_tags = [t for t, _ in pred]
    return score(gold_tags(docs), pred_tags, types), pred_tags


def format_report(name: str, scores: dict) -> str:
    lines = [f"== {name} ==", f"types scored: {', '.join(scores['types_scored'])}"]
    for mode, label in (("strict", "seqeval STRICT mode (IOB2 scheme; an entity counts only with exact "
                                    "boundaries and type, starting with B-)"),
                        ("default", "seqeval DEFAULT mode (conlleval-compatible; lenient about I- starts)")):
        lines += ["", f"-- {label} --", scores[mode]["report"]]
    return "\n".join(lines) + "\n"
