"""A linear-chain CRF baseline (sklearn-crfsuite) on the same words, normalisation and splits as the BERT models.

Features: the normalised word, its affixes (2-4 characters), shape (digits, Latin, punctuation, ZWNJ), and the
same for the two neighbours on each side. It is the bar a transformer must clear to be worth its cost.
"""
from __future__ import annotations

from collections.abc import Sequence

from ner.data.datasets import sentence_units
from ner.data.documents import Document
from ner.data.labels import repair_iob2
from ner.data.normalize import Normalizer
from ner.data.words import is_punctuation, split_sentences


def _shape(w: str) -> str:
    if any(c.isdigit() for c in w):
        return "num"
    if is_punctuation(w):
        return "punct"
    if any("a" <= c.lower() <= "z" for c in w):
        return "latin"
    return "zwnj" if "\u200c" in w else "word"


def word_features(words: Sequence[str], i: int) -> dict:
    feats = {"bias": 1.0}
    for off in (-2, -1, 0, 1, 2):
        j = i + off
        if not 0 <= j < len(words):
            feats[f"{off}:pad"] = 1.0
            continue
        w = words[j]
        feats[f"{off}:w"] = w
        feats[f"{off}:shape"] = _shape(w)
        if off in (-1, 0, 1):
            for k in (2, 3, 4):
                feats[f"{off}:suf{k}"] = w[-k:]
                feats[f"{off}:pre{k}"] = w[:k]
    feats["0:len"] = min(len(words[i]), 12)
    return feats


class CrfTagger:
    """Word-level IOB2 tagger. ``c1``/``c2``: L1/L2 regularisation; ``max_iterations`` of L-BFGS."""

    def __init__(self, normalizer: Normalizer | None = None, c1: float = 0.05, c2: float = 0.05,
                 max_iterations: int = 150):
        import sklearn_crfsuite

        self.normalizer = normalizer or Normalizer()
        self.model = sklearn_crfsuite.CRF(algorithm="lbfgs", c1=c1, c2=c2, max_iterations=max_iterations,
                                          all_possible_transitions=True)

    def _x(self, words: Sequence[str]) -> list[dict]:
        normed = [self.normalizer(w) or w for w in words]
        return [word_features(normed, i) for i in range(len(normed))]

    def fit(self, docs: Sequence[Document]) -> CrfTagger:
        units = [u for d in docs for u in sentence_units(d)]
        self.model.fit([self._x(w) for w, _ in units], [t for _, t in units])
        return self

    def predict_words(self, docs: Sequence[tuple[str, Sequence]]) -> list[list[str]]:
        """Same contract as ``NerPredictor.predict_words`` (tags only): valid IOB2 per document."""
        out = []
        for text, words in docs:
            tags: list[str] = []
            for a, b in split_sentences(text, list(words)):
                tags += self.model.predict_single(self._x([w.text for w in words[a:b]]))
            out.append(repair_iob2(tags))
        return out
