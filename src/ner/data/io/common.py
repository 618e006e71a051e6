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


BOM = "\ufeff"


def _utf8_problem(raw: bytes, e: UnicodeDecodeError) -> str:
    return (f"invalid UTF-8 (byte 0x{raw[e.start]:02x} at byte {e.start + 1} of the line): the file is not UTF-8; "
            "re-save it as UTF-8")


def text_lines(path: str | Path, errors: ErrorCollector) -> Iterator[tuple[int, str]]:
    """``(line number, line)`` of a UTF-8 text file, line ends kept. A UTF-8 BOM (many Windows editors write
    one) is dropped; a line that is not valid UTF-8 is collected as an error naming the line, and skipped."""
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                errors.add(AnnotationError(_utf8_problem(raw, e), source=errors.source, line=lineno))
                continue
            if lineno == 1 and line.startswith(BOM):
                line = line[1:]
            yield lineno, line


def read_text(path: str | Path, source: str | None = None) -> str:
    """A whole UTF-8 file as text, without a leading BOM; invalid UTF-8 raises ``AnnotationError`` with the line."""
    return decode_text(Path(path).read_bytes(), source or str(path))


def decode_text(data: bytes, source: str) -> str:
    """``data`` as UTF-8 text without a leading BOM; invalid UTF-8 raises ``AnnotationError`` naming the line."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line_start = data.rfind(b"\n", 0, e.start) + 1
        line_end = data.find(b"\n", e.start)
        raw = data[line_start:line_end if line_end >= 0 else len(data)]
        shifted = UnicodeDecodeError(e.encoding, raw, e.start - line_start, e.end - line_start, e.reason)
        raise AnnotationError(_utf8_problem(raw, shifted), source=source,
                              line=data.count(b"\n", 0, e.start) + 1) from None
    return text[1:] if text.startswith(BOM) else text


def shorten(text: str, limit: int = 80) -> str:
    """Text quoted in an error message: a 1 MB line must not become a 1 MB message."""
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"


def read_yaml(path: str | Path) -> dict:
    """A YAML mapping from a UTF-8 file (empty file: ``{}``); bad YAML raises ``AnnotationError`` naming the line."""
    import yaml

    try:
        value = yaml.safe_load(read_text(path))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise AnnotationError(f"invalid YAML: {problem}", source=str(path),
                              line=mark.line + 1 if mark is not None else None) from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise AnnotationError(f"expected a YAML mapping, not {type(value).__name__}", source=str(path))
    return value


def lone_surrogate(text: str) -> int | None:
    """Offset of the first lone surrogate (U+D800-U+DFFF) in ``text``, or ``None``. Python text can hold one
    (a JSON escape such as ``\\ud83d`` alone, or a bad decoder upstream); it cannot be written as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        return e.start
    return None


def require_encodable(doc: Document) -> Document:
    """A document about to be written as UTF-8: a lone surrogate is named here, not as a codec error mid-file."""
    bad = lone_surrogate(doc.text)
    if bad is not None:
        raise AnnotationError(f"cannot write the text as UTF-8: lone surrogate U+{ord(doc.text[bad]):04X} at offset "
                              f"{bad}", doc_id=doc.id)
    return doc


def require_documents(docs: list[Document], source: str) -> list[Document]:
    """An input file without a single document is an error: an empty split would otherwise train or score
    on nothing without anyone noticing."""
    if not docs:
        raise AnnotationError("no documents: the file is empty or holds only blank lines", source=source)
    return docs


def offsets(start, end) -> tuple[int, int]:
    """``(start, end)`` if both are integers (not booleans, not floats or strings); else ``ValueError``."""
    for name, value in (("start", start), ("end", end)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"{name} must be an integer, not {type(value).__name__} {value!r}")
    return start, end


def json_lines(path: str | Path, errors: ErrorCollector) -> Iterator[tuple[int, dict]]:
    """``(line number, object)`` for each non-blank line; bad UTF-8, bad JSON and non-objects are collected as
    errors."""
    for lineno, line in text_lines(path, errors):
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
            errors.add(AnnotationError(f"unknown label {shorten(repr(label))} (add it to the data config's label_map)",
                                       source=errors.source, line=line, doc_id=doc_id, start=start, end=end))
            continue
        if mapped != OUTSIDE:
            out.append(Span(start, end, mapped))
    return out


def validated(doc: Document, errors: ErrorCollector, line: int | None = None) -> Document:
    bad = lone_surrogate(doc.text)
    if bad is not None:
        errors.add(AnnotationError(
            f"the text holds a lone surrogate U+{ord(doc.text[bad]):04X} at offset {bad} (broken decoding upstream, "
            "e.g. half of an emoji's UTF-16 pair): fix the text; offsets after it are probably wrong too",
            source=errors.source, line=line, doc_id=doc.id))
        return doc
    for e in check_spans(doc, source=errors.source, punctuation_edges=False):
        e.line = line
        errors.add(e)
    return doc


@contextmanager
def atomic_write(path: str | Path, mode: str = "w") -> Iterator:
    """Write to a temporary file next to ``path`` and rename it into place: never a half-written output.

    An exception inside the block removes the temporary file and leaves ``path`` as it was; a killed process
    leaves at most a hidden ``.<name>.*.tmp`` beside it, never a truncated ``path``. The data is flushed to
    disk before the rename, so a crash of the machine cannot leave an empty file under the final name either."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; outputs are meant to be shared like any other file
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
