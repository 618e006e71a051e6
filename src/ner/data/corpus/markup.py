"""The corpus's authoring format: plain text with inline ``[[LABEL|surface]]`` entities.

A source file holds documents, each introduced by a line ``@doc <id>``; the document text is the lines
that follow (leading and trailing blank lines removed, lines joined with ``\\n``). ``compile_markup`` turns
a file into ``Document`` objects with character offsets; ``render_markup`` is its inverse, so the JSONL and
the source can always be checked against each other.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from ner.data.documents import AnnotationError, Document, Span
from ner.data.io.common import ErrorCollector, text_lines

_ENTITY = re.compile(r"\[\[([^\[\]|]*)\|([^\[\]|]*)\]\]")
_DOC_HEADER = re.compile(r"^@doc\s+(\S+)\s*$")


def parse_line(line: str, *, source: str, lineno: int, doc_id: str) -> tuple[str, list[tuple[int, int, str]]]:
    """Strip the markup from one line: its plain text and the (start, end, label) entities in it."""
    out: list[str] = []
    ents: list[tuple[int, int, str]] = []
    pos, length = 0, 0
    for m in _ENTITY.finditer(line):
        plain = line[pos:m.start()]
        out.append(plain)
        length += len(plain)
        label, surface = m.group(1).strip(), m.group(2)
        if not surface:
            raise AnnotationError(f"empty entity {m.group(0)!r}", source=source, line=lineno, doc_id=doc_id)
        if surface != surface.strip():
            raise AnnotationError(f"entity {m.group(0)!r} has whitespace at its edge", source=source, line=lineno,
                                  doc_id=doc_id)
        ents.append((length, length + len(surface), label))
        out.append(surface)
        length += len(surface)
        pos = m.end()
    out.append(line[pos:])
    text = "".join(out)
    for bad in ("[[", "]]", "|"):
        if bad in text:
            col = text.index(bad)
            raise AnnotationError(f"stray {bad!r} near {text[max(0, col - 15):col + 15]!r} (malformed entity markup)",
                                  source=source, line=lineno, doc_id=doc_id)
    return text, ents


def compile_markup(path: str | Path) -> list[Document]:
    """Read one source file into documents (``meta`` gets ``source`` and ``province`` = the file stem)."""
    path = Path(path)
    source = str(path)
    docs: list[Document] = []
    cur_id: str | None = None
    cur_line = 0
    lines: list[tuple[int, str]] = []

    def flush() -> None:
        if cur_id is None:
            return
        while lines and not lines[0][1].strip():
            lines.pop(0)
        while lines and not lines[-1][1].strip():
            lines.pop()
        if not lines:
            raise AnnotationError("document has no text", source=source, line=cur_line, doc_id=cur_id)
        parts, spans, offset = [], [], 0
        for lineno, raw in lines:
            text, ents = parse_line(raw, source=source, lineno=lineno, doc_id=cur_id)
            spans += [Span(offset + s, offset + e, lab) for s, e, lab in ents]
            parts.append(text)
            offset += len(text) + 1
        docs.append(Document(cur_id, "\n".join(parts), spans, {"province": path.stem, "source": path.name, "line": lines[0][0]}))

    decoding = ErrorCollector(source)
    for lineno, raw in text_lines(path, decoding):
        raw = raw.rstrip("\n").rstrip("\r")
        m = _DOC_HEADER.match(raw)
        if m:
            flush()
            cur_id, cur_line, lines = m.group(1), lineno, []
        elif raw.startswith("@doc"):
            raise AnnotationError("malformed header, expected '@doc <id>'", source=source, line=lineno)
        elif cur_id is None:
            if raw.strip():
                raise AnnotationError("text before the first '@doc <id>' header", source=source, line=lineno)
        else:
            lines.append((lineno, raw))
    decoding.raise_if_any()
    flush()
    return docs


def render_markup(docs: Iterable[Document]) -> str:
    """Inverse of ``compile_markup`` (for spans that do not overlap)."""
    chunks = []
    for doc in docs:
        text, pos, out = doc.text, 0, []
        for s in sorted(doc.spans):
            out.append(text[pos:s.start])
            out.append(f"[[{s.label}|{text[s.start:s.end]}]]")
            pos = s.end
        out.append(text[pos:])
        chunks.append(f"@doc {doc.id}\n" + "".join(out) + "\n")
    return "\n".join(chunks)
