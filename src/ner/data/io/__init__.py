"""Readers and writers: canonical JSONL, CoNLL-style token files, doccano and Label Studio exports."""
from __future__ import annotations

import inspect
from pathlib import Path

from ner.data.documents import Document
from ner.data.io.conll import read_conll, write_conll
from ner.data.io.exports import read_doccano, read_label_studio
from ner.data.io.jsonl import read_jsonl, write_jsonl
from ner.data.labels import LabelMap

READERS = {"jsonl": read_jsonl, "conll": read_conll, "doccano": read_doccano, "label_studio": read_label_studio}

__all__ = ["READERS", "read_conll", "read_doccano", "read_documents", "read_jsonl", "read_label_studio",
           "write_conll", "write_jsonl"]


def read_documents(path: str | Path, format: str = "jsonl", label_map: LabelMap | None = None,
                   **options) -> list[Document]:
    """Read any supported format; ``options`` go to the format's reader (e.g. ``sep`` for CoNLL)."""
    if format not in READERS:
        raise ValueError(f"unknown data format {format!r}; expected one of {', '.join(READERS)}")
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"data file not found: {path}")
    if path.is_dir():
        raise FileNotFoundError(f"data file {path} is a folder; expected a {format} file")
    params = inspect.signature(READERS[format]).parameters
    known = [p for p in params if p not in ("path", "label_map")]
    unknown = sorted(set(options) - set(known))
    if unknown and not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        raise ValueError(f"unknown option(s) {unknown} for data format {format!r} (data.options); it takes "
                         f"{', '.join(known) or 'no options'}")
    return READERS[format](path, label_map=label_map, **options)
