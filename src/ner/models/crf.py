"""A linear-chain CRF (sklearn-crfsuite) on the same words, normalisation and splits as the BERT models.

Features: the normalised word, its affixes (2-4 characters), shape (digits, Latin, punctuation, ZWNJ), and the
same for the two neighbours on each side. It is the bar a transformer must clear to be worth its cost, and a
model of its own (``model=crf``): saved as crfsuite's binary model file (no pickle) plus ``crf_config.json``.
"""
from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

from ner.data.datasets import sentence_units
from ner.data.documents import Document
from ner.data.labels import repair_iob2
from ner.data.normalize import Normalizer
from ner.data.words import is_punctuation, split_sentences

MODEL_FILE, CONFIG_FILE = "crf.crfsuite", "crf_config.json"
FEATURES_VERSION = 1  # bump when word_features changes: a saved model only works with its own features


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
        self.params = {"c1": c1, "c2": c2, "max_iterations": max_iterations}
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
        """Valid IOB2 tags per document (Viterbi over the CRF's own transitions)."""
        return [tags for tags, _ in self.predict_words_with_scores(docs)]

    def predict_words_with_scores(self, docs: Sequence[tuple[str, Sequence]]) -> list[tuple[list[str], list[float]]]:
        """Tags and each tag's marginal probability, per document (``NerPredictor.predict_words``'s contract)."""
        out = []
        for text, words in docs:
            tags: list[str] = []
            probs: list[float] = []
            for a, b in split_sentences(text, list(words)):
                x = self._x([w.text for w in words[a:b]])
                best = self.model.predict_single(x)
                marginals = self.model.predict_marginals_single(x)
                tags += best
                probs += [m.get(t, 0.0) for m, t in zip(marginals, best)]
            out.append((repair_iob2(tags), probs))
        return out

    @property
    def labels(self) -> list[str]:
        return list(self.model.classes_)

    def save(self, folder: str | Path) -> None:
        """crfsuite's own binary model file and the settings; readable without unpickling anything."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.model.modelfile.name, folder / MODEL_FILE)
        cfg = {**self.params, "features_version": FEATURES_VERSION, "labels": self.labels,
               "normalization": self.normalizer.to_dict()}
        (folder / CONFIG_FILE).write_text(json.dumps(cfg, ensure_ascii=False, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, folder: str | Path) -> CrfTagger:
        import sklearn_crfsuite

        folder = Path(folder)
        for name in (MODEL_FILE, CONFIG_FILE):
            if not (folder / name).exists():
                raise FileNotFoundError(f"{folder} is not a saved CRF model: {name} is missing")
        cfg = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
        if cfg.get("features_version") != FEATURES_VERSION:
            raise ValueError(f"{folder}: CRF saved with features version {cfg.get('features_version')}, this code "
                             f"computes version {FEATURES_VERSION}; retrain it")
        tagger = cls(Normalizer(**cfg.get("normalization", {})), cfg["c1"], cfg["c2"], cfg["max_iterations"])
        tagger.model = sklearn_crfsuite.CRF(model_filename=str(folder / MODEL_FILE))
        return tagger
