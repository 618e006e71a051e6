"""The canonical format: one JSON document per line, ``{"id", "text", "entities": [{"start","end","label"}]}``."""
from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from ner.data.documents import AnnotationError, Document
from ner.data.io.common import (ErrorCollector, atomic_write, json_lines, map_spans, offsets, require_documents,
                                require_encodable, shorten, validated)
from ner.data.labels import LabelMap

_RESERVED = {"id", "text", "entities"}


def _entity_triple(ent, *, source, lineno, doc_id) -> tuple[int, int, str]:
    def bad(problem: str) -> AnnotationError:
        return AnnotationError(f"entity {shorten(repr(ent))}{problem}", source=source, line=lineno, doc_id=doc_id)

    if not isinstance(ent, dict) or not {"start", "end", "label"} <= ent.keys():
        raise bad(" must be an object with start, end and label")
    start, end, label = ent["start"], ent["end"], ent["label"]
    try:
        offsets(start, end)
    except ValueError as e:
        raise bad(f": {e}") from None
    if not isinstance(label, str):
        raise bad(": label must be a string")
    return start, end, label


def read_jsonl(path: str | Path, label_map: LabelMap | None = None) -> list[Document]:
    source = str(path)
    errors = ErrorCollector(source)
    docs: list[Document] = []
    seen: dict[str, int] = {}
    for lineno, obj in json_lines(path, errors):
        try:
            doc_id, text = obj.get("id"), obj.get("text")
            if not isinstance(doc_id, (str, int)) or isinstance(doc_id, bool):
                raise AnnotationError("missing or non-string 'id'", source=source, line=lineno)
            doc_id = str(doc_id)
            if not isinstance(text, str) or not text.strip():
                raise AnnotationError("missing or empty 'text'", source=source, line=lineno, doc_id=doc_id)
            if doc_id in seen:
                raise AnnotationError(f"duplicate id (first on line {seen[doc_id]})", source=source,
                                      line=lineno, doc_id=doc_id)
            seen[doc_id] = lineno
            ents = obj.get("entities", [])
            if not isinstance(ents, list):
                raise AnnotationError("'entities' must be a list", source=source, line=lineno, doc_id=doc_id)
            triples = [_entity_triple(e, source=source, lineno=lineno, doc_id=doc_id) for e in ents]
        except AnnotationError as e:
            errors.add(e)
            continue
        spans = map_spans(triples, label_map, errors=errors, doc_id=doc_id, line=lineno)
        meta = {k: v for k, v in obj.items() if k not in _RESERVED}
        docs.append(validated(Document(doc_id, text, spans, meta), errors, lineno))
    errors.raise_if_any()
    return require_documents(docs, source)


def write_jsonl(docs: Iterable[Document], path: str | Path) -> None:
    with atomic_write(path) as f:
        for doc in docs:
            f.write(json.dumps(require_encodable(doc).to_json(), ensure_ascii=False) + "\n")
