"""Dataset configs (``configs/data/``) -> documents per split, and the (words, tags) of each sentence."""
from __future__ import annotations

import logging
from pathlib import Path

from ner.data.documents import Document
from ner.data.io import read_documents
from ner.data.labels import ENTITY_TYPES, LabelMap
from ner.data.spans import spans_to_tags
from ner.data.words import split_sentences

log = logging.getLogger(__name__)
SPLITS = ("train", "dev", "test")


def label_map_from_config(data_cfg) -> LabelMap:
    return LabelMap(dict(data_cfg.get("label_map") or {}), unknown=data_cfg.get("unknown_labels", "error"))


def corpus_configs(data_cfg) -> dict:
    """``{name: config}``: the components of a mixed config, or the config itself."""
    if data_cfg.get("components"):
        return {k: v for k, v in data_cfg.components.items() if v is not None}  # `data.components.X=null` drops X
    return {data_cfg.get("name"): data_cfg}


def annotated_types(data_cfg) -> list[str]:
    """Which of our entity types a corpus annotates (the others are unknown, not absent, in its data);
    for a mixed config, the union over its components."""
    if data_cfg.get("components"):
        union = {t for c in corpus_configs(data_cfg).values() for t in annotated_types(c)}
        return [t for t in ENTITY_TYPES if t in union]
    types = list(data_cfg.get("annotates") or ENTITY_TYPES)
    bad = [t for t in types if t not in ENTITY_TYPES]
    if bad:
        raise ValueError(f"data config {data_cfg.get('name')!r}: 'annotates' names unknown types {bad}")
    return types


def load_split(data_cfg, split: str) -> list[Document] | None:
    """Documents of one split, or ``None`` when the config has no such split."""
    path = data_cfg.get(split)
    if not path:
        return None
    if not Path(path).exists():
        raise FileNotFoundError(
            f"data config {data_cfg.get('name')!r}: {split} file {path} does not exist "
            f"(set data.{split}=... or the corpus directory, e.g. data.dir=/path/to/{data_cfg.get('name')})")
    docs = read_documents(path, data_cfg.get("format", "jsonl"), label_map_from_config(data_cfg),
                          **dict(data_cfg.get("options") or {}))
    if data_cfg.get("max_docs"):
        docs = docs[:data_cfg.max_docs]
    types = annotated_types(data_cfg)
    for d in docs:
        d.meta.setdefault("corpus", data_cfg.get("name"))
        d.meta["annotates"] = types
    log.info("%s/%s: %d documents from %s", data_cfg.get("name"), split, len(docs), path)
    return docs


def load_corpora(data_cfg) -> dict[str, dict[str, list[Document]]]:
    """``{corpus: {split: documents}}`` for a single or a mixed config."""
    return {name: load_splits(cfg) for name, cfg in corpus_configs(data_cfg).items()}


def selection_corpus(data_cfg) -> str:
    """The corpus whose dev split selects the model (``select_on`` of a mixed config)."""
    names = list(corpus_configs(data_cfg))
    chosen = data_cfg.get("select_on") or names[0]
    if chosen not in names:
        raise ValueError(f"data.select_on={chosen!r} is not one of the components {names}")
    return chosen


def load_splits(data_cfg) -> dict[str, list[Document]]:
    """train/dev/test documents; a corpus without dev gets the last ``dev_fraction`` of train as dev."""
    splits = {s: load_split(data_cfg, s) for s in SPLITS}
    if splits["train"] is None:
        raise ValueError(f"data config {data_cfg.get('name')!r} has no train file")
    if splits["dev"] is None:
        frac = float(data_cfg.get("dev_fraction", 0.1))
        n_dev = max(1, int(len(splits["train"]) * frac))
        splits["train"], splits["dev"] = splits["train"][:-n_dev], splits["train"][-n_dev:]
        log.info("%s: no dev file; using the last %d training documents as dev", data_cfg.get("name"), n_dev)
    return {k: v for k, v in splits.items() if v is not None}


def sentence_units(doc: Document) -> list[tuple[list[str], list[str]]]:
    """(words, IOB2 tags) per sentence of ``doc``."""
    words = doc.get_words()
    tags = spans_to_tags(doc, words)
    return [([w.text for w in words[a:b]], tags[a:b]) for a, b in split_sentences(doc.text, words)]
