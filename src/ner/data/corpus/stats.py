"""Corpus statistics: size per split, mentions per label, distinct clusters and provinces, unseen-in-train."""
from __future__ import annotations

import re
from collections import Counter

from ner.data.corpus.checks import fold
from ner.data.documents import Document
from ner.data.labels import ENTITY_TYPES
from ner.data.words import split_sentences, split_words


def _key(text: str) -> str:
    return re.sub(r"\s+", " ", fold(text)).strip()


def surfaces(docs: list[Document], label: str) -> set[str]:
    return {_key(d.span_text(s)) for d in docs for s in d.spans if s.label == label}


def corpus_stats(splits: dict[str, list[Document]]) -> dict:
    rows = {}
    for split, docs in list(splits.items()) + [("all", [d for v in splits.values() for d in v])]:
        n_sent = n_words = 0
        mentions = Counter()
        for d in docs:
            words = split_words(d.text)
            n_words += len(words)
            n_sent += len(split_sentences(d.text, words))
            mentions.update(s.label for s in d.spans)
        rows[split] = {"documents": len(docs), "sentences": n_sent, "words": n_words,
                       **{t: mentions[t] for t in ENTITY_TYPES},
                       "distinct_clusters": len(surfaces(docs, "CLUSTER")),
                       "provinces": len({d.meta.get("province") for d in docs if d.meta.get("province")}),
                       "provinces_with_clusters": len({d.meta.get("province") for d in docs
                                                       if any(s.label == "CLUSTER" for s in d.spans)})}
    train = splits.get("train", [])
    unseen = {}
    for split in ("dev", "test"):
        if split not in splits:
            continue
        docs = splits[split]
        out = {}
        for label in ("CLUSTER", "PER", "ORG"):
            seen = surfaces(train, label)
            forms = surfaces(docs, label)
            new_forms = forms - seen
            mentions = [1 for d in docs for s in d.spans if s.label == label and _key(d.span_text(s)) not in seen]
            out[label] = {"distinct": len(forms), "unseen_distinct": len(new_forms), "unseen_mentions": len(mentions)}
        unseen[split] = out
    return {"splits": rows, "unseen_in_train": unseen}


def stats_markdown(stats: dict) -> str:
    cols = ["documents", "sentences", "words", *ENTITY_TYPES, "distinct_clusters", "provinces",
            "provinces_with_clusters"]
    lines = ["| split | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for split, row in stats["splits"].items():
        lines.append(f"| {split} | " + " | ".join(f"{row[c]:,}" for c in cols) + " |")
    lines += ["", "Surface forms in dev/test never seen in train (distinct forms / mentions):", "",
              "| split | label | distinct forms | unseen forms | unseen mentions |", "|---|---|---|---|---|"]
    for split, by_label in stats["unseen_in_train"].items():
        for label, v in by_label.items():
            lines.append(f"| {split} | {label} | {v['distinct']} | {v['unseen_distinct']} | {v['unseen_mentions']} |")
    return "\n".join(lines) + "\n"
