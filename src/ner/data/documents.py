"""The annotated document: text plus character-offset spans (end exclusive)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ner.data.words import Word, split_words


@dataclass(frozen=True, order=True)
class Span:
    start: int
    end: int
    label: str


@dataclass
class Document:
    id: str
    text: str
    spans: list[Span] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    # The corpus's own tokenisation (CoNLL files); ``None`` means "split with ``split_words``".
    words: list[Word] | None = None

    def get_words(self) -> list[Word]:
        return self.words if self.words is not None else split_words(self.text)

    def span_text(self, span: Span) -> str:
        return self.text[span.start:span.end]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "text": self.text,
                               "entities": [{"start": s.start, "end": s.end, "label": s.label} for s in self.spans]}
        out.update(self.meta)
        return out


class AnnotationError(ValueError):
    """A problem in input data, located by file, line and/or document id and offsets."""

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None,
                 doc_id: str | None = None, start: int | None = None, end: int | None = None):
        self.message, self.source, self.line, self.doc_id, self.start, self.end = message, source, line, doc_id, start, end
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = []
        if self.source:
            where.append(self.source + (f":{self.line}" if self.line is not None else ""))
        elif self.line is not None:
            where.append(f"line {self.line}")
        if self.doc_id is not None:
            where.append(f"document {self.doc_id!r}")
        if self.start is not None:
            where.append(f"[{self.start}:{self.end}]")
        return (" ".join(where) + ": " if where else "") + self.message
