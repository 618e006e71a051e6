"""Shared pieces of the readers: building validated documents, collecting errors, atomic writes."""
from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ner.data.documents import AnnotationError, Document, Span
from ner.data.labels import OUTSIDE, LabelMap
from ner.data.spans import check_spans

MAX_REPORTED = 20


class ErrorCollector:
    """Collects ``AnnotationError``s from a whole file and raises them together, so a user fixes all at once."""

    def __init__(self, source: str):
        self.source = source
        self.errors: list[AnnotationError] = []

    def add(self, error: AnnotationError) -> None:
        self.errors.append(error)

    def raise_if_any(self) -> None:
        if not self.errors:
            return
        shown = "\n  ".join(str(e) for e in self.errors[:MAX_REPORTED])
        more = f"\n  ... and {len(self.errors) - MAX_REPORTED} more" if len(self.errors) > MAX_REPORTED else ""
        raise AnnotationError(f"{len(self.errors)} problem(s) in the data:\n  {shown}{more}", source=self.source)


def json_lines(path: str | Path, errors: ErrorCollector) -> Iterator[tuple[int, dict]]:
    """``(line number, object)`` for each non-blank line; bad JSON and non-objects are collected as errors."""
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                errors.add(AnnotationError(f"invalid JSON: {e.msg} (column {e.colno})", source=errors.source,
                                           line=lineno))
                continue
            if not isinstance(obj, dict):
                errors.add(AnnotationError("each line must be a JSON object", source=errors.source, line=lineno))
                continue
            yield lineno, obj


def map_spans(spans: Iterable[tuple[int, int, str]], label_map: LabelMap | None, *, errors: ErrorCollector,
              doc_id: str, line: int | None) -> list[Span]:
    """Apply the label map; a label that maps to ``O`` is dropped on purpose, an unmapped one is an error."""
    label_map = label_map or LabelMap()
    out = []
    for start, end, label in spans:
        try:
            mapped = label_map.map_type(label)
        except KeyError:
            errors.add(AnnotationError(f"unknown label {label!r} (add it to the data config's label_map)",
                                       source=errors.source, line=line, doc_id=doc_id, start=start, end=end))
            continue
        if mapped != OUTSIDE:
            out.append(Span(start, end, mapped))
    return out


def validated(doc: Document, errors: ErrorCollector, line: int | None = None) -> Document:
    for e in check_spans(doc, source=errors.source, punctuation_edges=False):
        e.line = line
        errors.add(e)
    return doc


@contextmanager
def atomic_write(path: str | Path, mode: str = "w") -> Iterator:
    """Write to a temporary file next to ``path`` and rename it into place: never a half-written output."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; outputs are meant to be shared like any other file
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8") as f:
            yield f
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
