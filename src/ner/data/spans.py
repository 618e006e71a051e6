"""Span <-> word-level IOB2 conversion and span validation.

Spans are checked, never silently dropped: a span off word boundaries, overlapping another, outside the text
or with an unknown label raises ``AnnotationError`` naming the document and offsets (or is collected by
``check_spans`` for reports).
"""
from __future__ import annotations

from collections.abc import Sequence

from ner.data.documents import AnnotationError, Document, Span
from ner.data.labels import ENTITY_TYPES, OUTSIDE, split_tag
from ner.data.words import Word, is_punctuation


def check_spans(doc: Document, words: Sequence[Word] | None = None,
                entity_types: Sequence[str] = ENTITY_TYPES, source: str | None = None,
                punctuation_edges: bool = True) -> list[AnnotationError]:
    """All problems with ``doc.spans``: bounds, labels, overlaps, word boundaries and, where our guidelines
    apply (``punctuation_edges``), punctuation at a span's edge. Other corpora put quotes inside names."""
    words = doc.get_words() if words is None else words
    starts = {w.start: w for w in words}
    ends = {w.end: w for w in words}
    errors: list[AnnotationError] = []

    def err(msg: str, s: Span) -> None:
        errors.append(AnnotationError(msg, source=source, doc_id=doc.id, start=s.start, end=s.end))

    prev: Span | None = None
    for s in sorted(doc.spans):
        if s.start > s.end:
            err("reversed span: start is after end", s)
            continue
        if s.start == s.end:
            err("empty span: start equals end", s)
            continue
        if s.start < 0 or s.end > len(doc.text):
            err(f"span outside the text (length {len(doc.text)})", s)
            continue
        if s.label not in entity_types:
            err(f"unknown label {s.label!r} (expected one of {', '.join(entity_types)})", s)
        if prev is not None and s.start < prev.end:
            err(f"overlaps span [{prev.start}:{prev.end}] {prev.label} {doc.text[prev.start:prev.end]!r}", s)
        surface = doc.text[s.start:s.end]
        if s.start not in starts or s.end not in ends:
            err(f"span {surface!r} does not fall on word boundaries", s)
        elif punctuation_edges and (is_punctuation(starts[s.start].text) or is_punctuation(ends[s.end].text)):
            err(f"span {surface!r} starts or ends with punctuation", s)
        prev = s if prev is None or s.end > prev.end else prev
    return errors


def spans_to_tags(doc: Document, words: Sequence[Word] | None = None,
                  entity_types: Sequence[str] = ENTITY_TYPES, source: str | None = None) -> list[str]:
    """Word-level IOB2 tags for ``doc``; raises on the first invalid span."""
    words = doc.get_words() if words is None else words
    errors = check_spans(doc, words, entity_types, source, punctuation_edges=False)
    if errors:
        raise errors[0]
    index_of_start = {w.start: i for i, w in enumerate(words)}
    index_of_end = {w.end: i for i, w in enumerate(words)}
    tags = [OUTSIDE] * len(words)
    for s in doc.spans:
        first, last = index_of_start[s.start], index_of_end[s.end]
        tags[first] = f"B-{s.label}"
        for k in range(first + 1, last + 1):
            tags[k] = f"I-{s.label}"
    return tags


def tags_to_spans(words: Sequence[Word], tags: Sequence[str]) -> list[Span]:
    """Spans from word-level IOB2 tags (strict: an ``I-X`` after a different type starts a new span)."""
    if len(words) != len(tags):
        raise ValueError(f"{len(words)} words but {len(tags)} tags")
    spans: list[Span] = []
    cur_type, cur_start, cur_end = None, 0, 0
    for w, tag in zip(words, tags):
        prefix, typ = split_tag(tag)
        if cur_type is not None and (prefix != "I" or typ != cur_type):
            spans.append(Span(cur_start, cur_end, cur_type))
            cur_type = None
        if prefix == "B" or (prefix == "I" and cur_type is None):
            cur_type, cur_start = typ, w.start
        if cur_type is not None:
            cur_end = w.end
    if cur_type is not None:
        spans.append(Span(cur_start, cur_end, cur_type))
    return spans
