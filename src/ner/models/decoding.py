"""From per-word tag scores to a tag sequence that is always valid IOB2.

Argmax per word can produce fragments: ``I-ORG`` after ``O`` or after ``B-LOC``. Repairing them afterwards
(``repair_iob2``) turns each fragment into an entity of its own, which is how «خوشه» and «صنعتی» end up as two
CLUSTERs. ``viterbi_iob2`` instead finds the best-scoring sequence among the valid ones: an ``I-X`` may only
follow ``B-X`` or ``I-X``, and a sequence never starts with ``I-X``. Training-time evaluation, ``scripts/evaluate.py``
and ``NerPredictor`` decode the same way.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ner.data.labels import OUTSIDE, split_tag

DECODERS = ("viterbi", "argmax")


def allowed_transitions(labels: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """``(start, trans)``: which tag may open a sequence, and which tag may follow which (boolean)."""
    parsed = [split_tag(t) for t in labels]
    n = len(labels)
    start = np.array([p != "I" for p, _ in parsed])
    trans = np.ones((n, n), dtype=bool)
    for j, (pj, tj) in enumerate(parsed):
        if pj == "I":
            for i, (pi, ti) in enumerate(parsed):
                trans[i, j] = pi in ("B", "I") and ti == tj
    return start, trans


def viterbi_iob2(log_probs: np.ndarray, labels: Sequence[str]) -> list[str]:
    """Best valid IOB2 sequence for ``log_probs`` (words x labels, log-probabilities or any additive scores)."""
    scores = np.asarray(log_probs, dtype=np.float64)
    if scores.ndim != 2 or scores.shape[1] != len(labels):
        raise ValueError(f"expected a (words, {len(labels)}) score matrix, got shape {scores.shape}")
    if len(scores) == 0:
        return []
    start, trans = allowed_transitions(labels)
    penalty = np.where(trans, 0.0, -np.inf)
    best = np.where(start, scores[0], -np.inf)
    back = np.zeros(scores.shape, dtype=np.int64)
    for t in range(1, len(scores)):
        cand = best[:, None] + penalty  # previous tag x current tag
        back[t] = cand.argmax(axis=0)
        best = cand.max(axis=0) + scores[t]
    path = [int(best.argmax())]
    for t in range(len(scores) - 1, 0, -1):
        path.append(int(back[t, path[-1]]))
    return [labels[i] for i in reversed(path)]


def decode(log_probs: np.ndarray, labels: Sequence[str], method: str = "viterbi") -> list[str]:
    """``viterbi`` (valid by construction) or ``argmax`` followed by ``repair_iob2`` (the earlier behaviour)."""
    from ner.data.labels import repair_iob2

    if method == "viterbi":
        return viterbi_iob2(log_probs, labels)
    if method == "argmax":
        return repair_iob2([labels[i] for i in np.asarray(log_probs).argmax(axis=1)])
    raise ValueError(f"decoding must be one of {DECODERS}, not {method!r}")


def is_valid_iob2(tags: Sequence[str]) -> bool:
    prev = OUTSIDE
    for tag in tags:
        p, t = split_tag(tag)
        if p == "I" and split_tag(prev)[1] != t:
            return False
        prev = tag
    return True
