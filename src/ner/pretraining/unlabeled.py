"""Readers for unlabeled Persian news, de-duplication and the held-out slice.

Each reader yields plain-text documents (one string per article). Sources are named in the pretraining
config as ``{kind, path}``; ``kind`` is one of ``ham`` (Hamshahri ``.ham`` files: headline, byline, body with
hard line wraps), ``json_articles`` (a JSON list with title/abstract/paragraphs), ``rss_json`` (a JSON list with
title/summary), ``csv`` (title/text columns, fields with embedded newlines), ``text`` (one document per line)
or ``annotated`` (the raw text of an annotated train file, any format ``ner.data.io`` reads).
"""
from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from ner.data.normalize import Normalizer


def _files(path: str | Path, pattern: str) -> list[Path]:
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.exists():
        raise FileNotFoundError(f"unlabeled corpus path not found: {path}")
    files = sorted(path.rglob(pattern))
    if not files:
        raise FileNotFoundError(f"no {pattern} files under {path}")
    return files


def read_ham(path: str | Path) -> Iterator[str]:
    """Hamshahri: join hard-wrapped lines; blank lines separate paragraphs."""
    for f in _files(path, "*.ham"):
        text = f.read_text(encoding="utf-8", errors="replace")
        paras = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
        doc = "\n".join(p for p in paras if p)
        if doc:
            yield doc


def _load_json_list(f: Path) -> list:
    data = json.loads(f.read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise ValueError(f"{f}: expected a JSON list of articles")
    return data


def read_json_articles(path: str | Path) -> Iterator[str]:
    for f in _files(path, "*.json"):
        for item in _load_json_list(f):
            parts = [item.get("title") or "", item.get("abstract") or "", *(item.get("paragraphs") or [])]
            doc = "\n".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
            if doc:
                yield doc


def read_rss_json(path: str | Path) -> Iterator[str]:
    for f in _files(path, "*.json"):
        for item in _load_json_list(f):
            doc = "\n".join(p.strip() for p in (item.get("title"), item.get("summary")) if isinstance(p, str) and p.strip())
            if doc:
                yield doc


def read_csv_articles(path: str | Path, columns: Iterable[str] = ("title", "text")) -> Iterator[str]:
    for f in _files(path, "*.csv"):
        with open(f, encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                doc = "\n".join(" ".join((row.get(c) or "").split()) for c in columns if (row.get(c) or "").strip())
                if doc:
                    yield doc


def read_text_lines(path: str | Path) -> Iterator[str]:
    for f in _files(path, "*.txt"):
        for line in f.read_text(encoding="utf-8").splitlines():
            if line.strip():
                yield line.strip()


READERS = {"ham": read_ham, "json_articles": read_json_articles, "rss_json": read_rss_json,
           "csv": read_csv_articles, "text": read_text_lines}


def read_annotated(path: str | Path, format: str = "jsonl", **options) -> Iterator[str]:
    """The raw text of an annotated file (labels ignored) — only ever a *train* file, never dev/test."""
    from ner.data.io import read_documents
    from ner.data.labels import LabelMap

    for d in read_documents(path, format, LabelMap({}, unknown="O"), **options):
        yield d.text


READERS["annotated"] = read_annotated


def read_source(source) -> Iterator[str]:
    source = dict(source)
    kind = source.pop("kind")
    source.pop("name", None)
    if kind not in READERS:
        raise ValueError(f"unknown unlabeled source kind {kind!r}; expected one of {', '.join(READERS)}")
    yield from READERS[kind](**source)


def collect_documents(sources, normalizer: Normalizer, min_chars: int = 20) -> tuple[list[str], dict]:
    """Normalised, de-duplicated documents from all sources, and per-source counts."""
    seen: set[str] = set()
    docs: list[str] = []
    counts: dict = {}
    for source in sources:
        name = source.get("name") or source["kind"]
        kept = dup = 0
        for doc in read_source(source):
            doc = normalizer(doc)
            key = hashlib.sha1(re.sub(r"\s+", " ", doc).strip().encode()).hexdigest()
            if len(doc) < min_chars or key in seen:
                dup += 1
                continue
            seen.add(key)
            docs.append(doc)
            kept += 1
        counts[name] = {"documents": kept, "dropped_duplicate_or_short": dup}
    return docs, counts


def held_out_split(docs: list[str], fraction: float) -> tuple[list[str], list[str]]:
    """Deterministic split by a hash of the text, so the held-out slice does not move when sources are added."""
    train, held = [], []
    for d in docs:
        h = int(hashlib.md5(d.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        (held if h < fraction else train).append(d)
    if not held and docs:
        held, train = train[-1:], train[:-1]
    return train, held
