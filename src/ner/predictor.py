"""``NerPredictor``: text in, entities with character offsets into that very text out.

Words are found in the caller's text (``split_words``), normalised one by one for the model, and the model's
first-subword predictions are mapped back to the words — so offsets never pass through a normalised string
and ``entity.text == text[entity.start:entity.end]`` always holds.
"""
from __future__ import annotations

import json
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ner.data.normalize import Normalizer
from ner.data.spans import tags_to_spans
from ner.data.validation import check_text, check_texts
from ner.data.words import Word, split_sentences, split_words
from ner.models.alignment import SubwordAligner
from ner.models.backends import BACKENDS, OnnxBackend, TorchBackend, ensure_onnx, position_limit
from ner.models.decoding import DECODERS, allowed_transitions, decode

NER_CONFIG = "ner_config.json"


@dataclass(frozen=True)
class Entity:
    start: int
    end: int
    label: str
    text: str
    score: float

    def to_dict(self) -> dict:
        return asdict(self)


def save_ner_config(model_dir: str | Path, normalizer: Normalizer, max_length: int, overlap: int,
                    decoding: str = "viterbi", **extra) -> None:
    """What the predictor needs besides the HF files: the normalisation, the windowing and the decoding."""
    _check_decoding(decoding)
    cfg = {"normalization": normalizer.to_dict(), "max_length": max_length, "overlap": overlap,
           "decoding": decoding, **extra}
    Path(model_dir, NER_CONFIG).write_text(json.dumps(cfg, ensure_ascii=False, indent=2), encoding="utf-8")


def _check_decoding(decoding: str) -> str:
    if decoding not in DECODERS:
        raise ValueError(f"decoding must be one of {', '.join(DECODERS)}, not {decoding!r}")
    return decoding


def _log_softmax(x: np.ndarray) -> np.ndarray:
    m = x.max(axis=-1, keepdims=True)
    return x - (m + np.log(np.exp(x - m).sum(axis=-1, keepdims=True)))


class NerPredictor:
    """Batched, length-sorted inference (``torch.inference_mode`` on CUDA when present, or ONNX Runtime).

    ``overlap``: subwords shared by consecutive windows when a sentence is longer than ``max_length``.
    ``decoding``: ``viterbi`` (the best valid IOB2 sequence per sentence) or ``argmax`` (per word, then repaired).
    ``model`` is a token-classification torch model, or a ready backend (``ner.models.backends``): the backends
    only produce logits, all pre- and post-processing is this class's, so every backend tags the same way.
    ``num_threads`` sets torch's intra-op threads (process-wide: ``torch.set_num_threads``) or the ONNX session's;
    ``None`` leaves the library defaults alone.

    Threads: one instance may be shared by several threads (tested). The tokenizer call is serialised by a lock,
    as a precaution: a Hugging Face fast tokenizer wraps a Rust object that fails ("Already borrowed") when one
    call changes its padding/truncation settings while another encodes. The model call is not: torch under
    ``inference_mode`` and ``onnxruntime.InferenceSession.run`` may run concurrently, and nothing else changes
    after construction. Threads share the CPU cores, so for throughput prefer one predictor per process
    (``scripts/predict.py engine=ray``) over many threads.
    """

    def __init__(self, model, tokenizer, normalizer: Normalizer | None = None, max_length: int | None = None,
                 overlap: int = 32, device: str | None = None, batch_size: int = 32, decoding: str = "viterbi",
                 num_threads: int | None = None, quantize: bool = False):
        if isinstance(model, (TorchBackend, OnnxBackend)):
            self.backend = model
        else:
            if num_threads:
                import torch

                torch.set_num_threads(int(num_threads))
            self.backend = TorchBackend(model, device, quantize=quantize)
        self.config = self.backend.config
        self.device = getattr(self.backend, "device", "cpu")
        self.model = getattr(self.backend, "model", None)  # the torch model (None with ONNX Runtime)
        self.tokenizer = tokenizer
        self.normalizer = normalizer or Normalizer()
        max_length = max_length or min(position_limit(self.config), 512)
        self.aligner = SubwordAligner(tokenizer, self.normalizer, max_length)
        self.overlap = min(overlap, self.aligner.budget // 2)
        self.batch_size = batch_size
        self.decoding = _check_decoding(decoding)
        self.id2label = {int(k): v for k, v in self.config.id2label.items()}
        self._start_ok, self._trans_ok = allowed_transitions(self.labels)
        self._tokenizer_lock = threading.Lock()

    @classmethod
    def from_pretrained(cls, model_dir: str | Path, device: str | None = None, backend: str = "torch",
                        quantize: bool = False, num_threads: int | None = None, **kwargs) -> NerPredictor:
        """Load a saved model folder. ``backend="onnx"`` runs ONNX Runtime on the CPU from ``<model>/onnx/``
        (exported on first use); ``quantize=True`` uses dynamic int8 weights (``model.int8.onnx``, or
        ``torch.ao`` dynamic quantisation of the Linear layers with the torch backend, CPU only)."""
        from transformers import AutoConfig, AutoModelForTokenClassification, AutoTokenizer

        from ner.models import hub

        model_dir = str(model_dir)
        cfg_path = Path(model_dir, NER_CONFIG)
        cfg = hub.read_json(cfg_path) if cfg_path.exists() else {}  # a corrupt file is named, not a JSON trace
        if cfg.get("model_type") == "crf":  # a saved CRF (model=crf): same API, no transformer
            if backend != "torch" or quantize:
                raise ValueError(f"{model_dir} is a CRF model: backend={backend!r}/quantize={quantize} apply to "
                                 "transformer models only")
            return CrfPredictor.from_folder(model_dir)
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
        tokenizer = hub.from_pretrained(AutoTokenizer, model_dir)
        opts = {"normalizer": Normalizer(**cfg.get("normalization", {})), "max_length": cfg.get("max_length"),
                "overlap": cfg.get("overlap", 32), "decoding": cfg.get("decoding", "viterbi")}
        opts.update(kwargs)
        if backend == "onnx":
            if device not in (None, "cpu"):
                raise ValueError(f"backend='onnx' runs on the CPU only, not on device={device!r}")
            path = ensure_onnx(model_dir, quantize,
                               load_model=lambda: hub.from_pretrained(AutoModelForTokenClassification, model_dir))
            runner = OnnxBackend(path, num_threads, config=hub.from_pretrained(AutoConfig, model_dir))
            return cls(runner, tokenizer, **opts)
        model = hub.from_pretrained(AutoModelForTokenClassification, model_dir)
        return cls(model, tokenizer, device=device, num_threads=num_threads, quantize=quantize, **opts)

    @property
    def labels(self) -> list[str]:
        return [self.id2label[i] for i in sorted(self.id2label)]

    def __call__(self, text: str) -> list[Entity]:
        return self.predict([check_text(text)])[0]

    def predict(self, texts: Sequence[str], batch_size: int | None = None) -> list[list[Entity]]:
        texts = check_texts(texts)  # a clear TypeError for bytes, None, numbers, nested lists or a bare str
        docs = [(t, split_words(t)) for t in texts]
        results = self.predict_words(docs, batch_size)
        return [entities_from_tags(text, words, tags, probs) for (text, words), (tags, probs) in zip(docs, results)]

    def predict_words(self, docs: Sequence[tuple[str, Sequence[Word]]], batch_size: int | None = None,
                      progress: bool = False) -> list[tuple[list[str], list[float]]]:
        """Valid IOB2 tags and the probability of each chosen tag, per document, for given words (a corpus's own
        tokenisation, for evaluation). Subclasses that tag another way override this and keep its contract."""
        units, offsets, total = [], [], 0  # units: (global index of the sentence's first word, its words)
        for text, words in docs:
            offsets.append(total)
            for a, b in split_sentences(text, list(words)):
                units.append((total + a, [w.text for w in words[a:b]]))
            total += len(words)
        log_probs = self._word_log_probs(units, total, batch_size or self.batch_size, progress)
        tags, chosen = self._decode(log_probs, [(g, g + len(ws)) for g, ws in units])
        probs = np.exp(log_probs[np.arange(total), chosen].astype(np.float64)).tolist()
        return [(tags[o:o + len(words)], probs[o:o + len(words)]) for o, (_, words) in zip(offsets, docs)]

    def _word_log_probs(self, units, total: int, batch_size: int, progress: bool) -> np.ndarray:
        """``(words, labels)`` log-probabilities of every word (its first subword), all documents together.

        With overlapping windows a word's row comes from the window where it sits farthest from an edge
        (``SubwordAligner.encode`` marks it in that window only). Windows are sorted by length, so a batch holds
        windows of similar length and little padding."""
        with self._tokenizer_lock:
            pieces = self.aligner.word_pieces([words for _, words in units])
        feats = []  # (input ids, positions of kept first subwords, global indices of their words)
        for (first, _), p in zip(units, pieces):
            for f in self.aligner.encode(p, overlap=self.overlap):
                wi = np.asarray(f["word_index"])
                pos = np.flatnonzero(wi >= 0)
                feats.append((f["input_ids"], pos, wi[pos] + first))
        feats.sort(key=lambda f: len(f[0]))
        scores = np.zeros((total, len(self.id2label)), dtype=np.float32)
        batches = range(0, len(feats), batch_size)
        if progress:
            from tqdm.auto import tqdm
            batches = tqdm(batches, desc="predict", unit="batch")
        pad = self.tokenizer.pad_token_id
        for k in batches:
            chunk = feats[k:k + batch_size]
            width = len(chunk[-1][0])  # sorted: the last window is the longest
            ids = np.full((len(chunk), width), pad, dtype=np.int64)
            mask = np.zeros((len(chunk), width), dtype=np.int64)
            for r, (f_ids, _, _) in enumerate(chunk):
                ids[r, :len(f_ids)] = f_ids
                mask[r, :len(f_ids)] = 1
            logits = self.backend.logits(ids, mask)
            rows = np.concatenate([np.full(len(pos), r) for r, (_, pos, _) in enumerate(chunk)])
            cols = np.concatenate([pos for _, pos, _ in chunk])
            scores[np.concatenate([g for _, _, g in chunk])] = logits[rows, cols]
        return _log_softmax(scores)

    def _decode(self, log_probs: np.ndarray, spans: list[tuple[int, int]]) -> tuple[list[str], np.ndarray]:
        """Tags and chosen label ids for every word, decoded per sentence ``spans`` (global word ranges).

        A sentence whose per-word argmax is already valid IOB2 keeps it: that is both the Viterbi optimum and
        what argmax-and-repair gives, so ``decode`` only runs where argmax would produce a fragment. With
        ``argmax`` the chosen label stays the argmax one (a repaired ``I-X`` -> ``B-X`` keeps its probability, as
        before constrained decoding existed)."""
        labels = self.labels
        best = log_probs.argmax(axis=1)
        ok = np.ones(len(best), dtype=bool)
        if len(best):
            ok[1:] = self._trans_ok[best[:-1], best[1:]]
            starts = np.array([a for a, b in spans if b > a], dtype=np.int64)
            ok[starts] = self._start_ok[best[starts]]
        bad = np.concatenate([[0], np.cumsum(~ok)])
        tags = [labels[i] for i in best.tolist()]
        label_ids = {t: i for i, t in enumerate(labels)}
        chosen = best if self.decoding == "argmax" else best.copy()
        for a, b in spans:
            if bad[b] > bad[a]:
                tags[a:b] = decode(log_probs[a:b], labels, method=self.decoding)
                if self.decoding != "argmax":
                    chosen[a:b] = [label_ids[t] for t in tags[a:b]]
        return tags, chosen


def entities_from_tags(text: str, words: Sequence[Word], tags: Sequence[str], probs: Sequence[float]) -> list[Entity]:
    """Entities of one document from its word tags; an entity's score is the mean probability of its words'
    tags. Words are sorted and disjoint, so an entity's words are found by bisection (not by a scan)."""
    starts, ends = [w.start for w in words], [w.end for w in words]
    ents = []
    for s in tags_to_spans(words, tags):
        i, j = bisect_left(starts, s.start), bisect_right(ends, s.end)
        score = sum(probs[i:j]) / (j - i)
        ents.append(Entity(s.start, s.end, s.label, text[s.start:s.end], round(score, 4)))
    return ents


class CrfPredictor(NerPredictor):
    """``NerPredictor``'s API on a saved linear-chain CRF (``scripts/train.py model=crf``): word splitting,
    entity assembly and offsets are the shared ones; only the tagging (``predict_words``) differs, so an offline
    user can ship whichever model wins with the same ``Entity`` contract."""

    def __init__(self, tagger, batch_size: int = 32):
        self.tagger = tagger
        self.normalizer = tagger.normalizer
        self.batch_size = batch_size
        self.device, self.model, self.tokenizer = "cpu", None, None
        self.id2label = dict(enumerate(tagger.labels))

    @classmethod
    def from_folder(cls, model_dir: str | Path, **kwargs) -> CrfPredictor:
        from ner.models.crf import CrfTagger

        return cls(CrfTagger.load(model_dir), **kwargs)

    def predict_words(self, docs: Sequence[tuple[str, Sequence[Word]]], batch_size: int | None = None,
                      progress: bool = False) -> list[tuple[list[str], list[float]]]:
        return self.tagger.predict_words_with_scores(docs)
