"""``NerPredictor``: text in, entities with character offsets into that very text out.

Words are found in the caller's text (``split_words``), normalised one by one for the model, and the model's
first-subword predictions are mapped back to the words — so offsets never pass through a normalised string
and ``entity.text == text[entity.start:entity.end]`` always holds.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from ner.data.labels import repair_iob2
from ner.data.normalize import Normalizer
from ner.data.spans import tags_to_spans
from ner.data.words import Word, split_sentences, split_words
from ner.models.alignment import SubwordAligner

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
                    **extra) -> None:
    """What the predictor needs besides the HF files: the normalisation and the windowing."""
    cfg = {"normalization": normalizer.to_dict(), "max_length": max_length, "overlap": overlap, **extra}
    Path(model_dir, NER_CONFIG).write_text(json.dumps(cfg, ensure_ascii=False, indent=2), encoding="utf-8")


class NerPredictor:
    """Batched, length-sorted inference under ``torch.inference_mode`` on CUDA when present.

    ``overlap``: subwords shared by consecutive windows when a sentence is longer than ``max_length``.
    """

    def __init__(self, model, tokenizer, normalizer: Normalizer | None = None, max_length: int | None = None,
                 overlap: int = 32, device: str | None = None, batch_size: int = 32):
        import torch

        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.model = model.to(self.device).eval()
        self.tokenizer = tokenizer
        self.normalizer = normalizer or Normalizer()
        max_length = max_length or min(getattr(model.config, "max_position_embeddings", 512), 512)
        self.aligner = SubwordAligner(tokenizer, self.normalizer, max_length)
        self.overlap = min(overlap, self.aligner.budget // 2)
        self.batch_size = batch_size
        self.id2label = {int(k): v for k, v in model.config.id2label.items()}

    @classmethod
    def from_pretrained(cls, model_dir: str | Path, device: str | None = None, **kwargs) -> NerPredictor:
        from transformers import AutoModelForTokenClassification, AutoTokenizer

        from ner.models import hub

        model_dir = str(model_dir)
        cfg_path = Path(model_dir, NER_CONFIG)
        cfg = json.loads(cfg_path.read_text(encoding="utf-8")) if cfg_path.exists() else {}
        tokenizer = hub.from_pretrained(AutoTokenizer, model_dir)
        model = hub.from_pretrained(AutoModelForTokenClassification, model_dir)
        opts = {"normalizer": Normalizer(**cfg.get("normalization", {})), "max_length": cfg.get("max_length"),
                "overlap": cfg.get("overlap", 32)}
        opts.update(kwargs)
        return cls(model, tokenizer, device=device, **opts)

    @property
    def labels(self) -> list[str]:
        return [self.id2label[i] for i in sorted(self.id2label)]

    def __call__(self, text: str) -> list[Entity]:
        return self.predict([text])[0]

    def predict(self, texts: Sequence[str], batch_size: int | None = None) -> list[list[Entity]]:
        if isinstance(texts, str):
            raise TypeError("predict() takes a list of texts; call the predictor directly for one text")
        docs = [(t, split_words(t)) for t in texts]
        results = self.predict_words(docs, batch_size)
        out = []
        for (text, words), (tags, probs) in zip(docs, results):
            ents = []
            for s in tags_to_spans(words, tags):
                idx = [i for i, w in enumerate(words) if s.start <= w.start and w.end <= s.end]
                score = sum(probs[i] for i in idx) / len(idx)
                ents.append(Entity(s.start, s.end, s.label, text[s.start:s.end], round(score, 4)))
            out.append(ents)
        return out

    def predict_words(self, docs: Sequence[tuple[str, Sequence[Word]]], batch_size: int | None = None,
                      progress: bool = False) -> list[tuple[list[str], list[float]]]:
        """Valid IOB2 tags and their probabilities for given words (a corpus's own tokenisation, for evaluation)."""
        import torch

        units = []  # (doc index, first word of the sentence, words)
        for d, (text, words) in enumerate(docs):
            for a, b in split_sentences(text, list(words)):
                units.append((d, a, [w.text for w in words[a:b]]))
        pieces = self.aligner.word_pieces([u[2] for u in units])
        feats = []
        for (d, a, _), p in zip(units, pieces):
            for f in self.aligner.encode(p, overlap=self.overlap):
                feats.append((d, a, f))
        feats.sort(key=lambda x: len(x[2]["input_ids"]))
        tag_ids = [[0] * len(w) for _, w in docs]
        probs = [[0.0] * len(w) for _, w in docs]
        bs = batch_size or self.batch_size
        batches = range(0, len(feats), bs)
        if progress:
            from tqdm.auto import tqdm
            batches = tqdm(batches, desc="predict", unit="batch")
        pad = self.tokenizer.pad_token_id
        with torch.inference_mode():
            for k in batches:
                chunk = feats[k:k + bs]
                width = max(len(f["input_ids"]) for _, _, f in chunk)
                ids = torch.full((len(chunk), width), pad, dtype=torch.long)
                mask = torch.zeros((len(chunk), width), dtype=torch.long)
                for r, (_, _, f) in enumerate(chunk):
                    ids[r, :len(f["input_ids"])] = torch.tensor(f["input_ids"])
                    mask[r, :len(f["input_ids"])] = 1
                logits = self.model(input_ids=ids.to(self.device), attention_mask=mask.to(self.device)).logits
                p, best = torch.softmax(logits.float(), dim=-1).max(dim=-1)
                p, best = p.cpu().tolist(), best.cpu().tolist()
                for r, (d, a, f) in enumerate(chunk):
                    for pos, w in enumerate(f["word_index"]):
                        if w >= 0:
                            tag_ids[d][a + w] = best[r][pos]
                            probs[d][a + w] = p[r][pos]
        return [(repair_iob2([self.id2label[t] for t in ids_]), pr) for ids_, pr in zip(tag_ids, probs)]
