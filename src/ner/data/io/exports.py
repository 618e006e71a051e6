"""Importers for annotation-tool exports: doccano JSONL and Label Studio JSON."""
from __future__ import annotations

import json
from pathlib import Path

from ner.data.documents import AnnotationError, Document
from ner.data.io.common import (ErrorCollector, json_lines, map_spans, offsets, read_text, require_documents, shorten,
                                validated)
from ner.data.labels import LabelMap


def read_doccano(path: str | Path, label_map: LabelMap | None = None, text_key: str = "text") -> list[Document]:
    """doccano sequence-labelling export: ``{"id", "text", "label": [[start, end, "LABEL"], ...]}`` per line
    (older exports), or ``"entities": [{"start_offset", "end_offset", "label"}]`` (doccano >= 1.6)."""
    source = str(path)
    errors = ErrorCollector(source)
    docs = []
    for lineno, obj in json_lines(path, errors):
        doc_id = str(obj.get("id", lineno))
        text = obj.get(text_key)
        if not isinstance(text, str) or not text.strip():
            errors.add(AnnotationError(f"missing or empty {text_key!r}", source=source, line=lineno, doc_id=doc_id))
            continue
        try:
            if "entities" in obj:
                raw = [(e["start_offset"], e["end_offset"], e["label"]) for e in obj["entities"]]
            else:
                raw = [tuple(item) for item in obj.get("label", [])]
                if any(len(item) != 3 for item in raw):
                    raise ValueError("each 'label' item must be [start, end, label]")
            triples = [(*offsets(start, end), label) for start, end, label in raw]
            if not all(isinstance(label, str) for _, _, label in triples):
                raise ValueError("labels must be strings")
        except (KeyError, TypeError, ValueError) as e:
            errors.add(AnnotationError(f"malformed entity list ({shorten(str(e))})", source=source, line=lineno,
                                       doc_id=doc_id))
            continue
        spans = map_spans(triples, label_map, errors=errors, doc_id=doc_id, line=lineno)
        docs.append(validated(Document(doc_id, text, spans), errors, lineno))
    errors.raise_if_any()
    return require_documents(docs, source)


def read_label_studio(path: str | Path, label_map: LabelMap | None = None, text_key: str = "text") -> list[Document]:
    """Label Studio JSON export (a list of tasks). Uses each task's first annotation that was not cancelled;
    ``predictions`` are ignored. A task with no annotation is an error, not a silently empty document."""
    source = str(path)
    errors = ErrorCollector(source)
    content = read_text(path, source)
    if not content.strip():
        raise AnnotationError("no documents: the file is empty", source=source)
    try:
        tasks = json.loads(content)
    except json.JSONDecodeError as e:
        raise AnnotationError(f"invalid JSON: {e.msg} (column {e.colno})", source=source, line=e.lineno) from None
    if not isinstance(tasks, list):
        raise AnnotationError("expected a JSON list of tasks (Label Studio 'JSON' export)", source=source)
    docs = []
    for k, task in enumerate(tasks):
        if not isinstance(task, dict):
            errors.add(AnnotationError(f"task {k} is a {type(task).__name__}, not an object", source=source))
            continue
        doc_id = str(task.get("id", k))
        data = task.get("data")
        text = data.get(text_key) if isinstance(data, dict) else None
        if not isinstance(text, str) or not text.strip():
            errors.add(AnnotationError(f"task has no data.{text_key}", source=source, doc_id=doc_id))
            continue
        annotations = task.get("annotations") or task.get("completions") or []
        if not isinstance(annotations, list) or not all(isinstance(a, dict) for a in annotations):
            errors.add(AnnotationError("'annotations' must be a list of objects", source=source, doc_id=doc_id))
            continue
        annotations = [a for a in annotations if not a.get("was_cancelled")]
        if not annotations:
            errors.add(AnnotationError("task has no (non-cancelled) annotation", source=source, doc_id=doc_id))
            continue
        results = annotations[0].get("result", [])
        if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
            errors.add(AnnotationError("an annotation's 'result' must be a list of objects", source=source,
                                       doc_id=doc_id))
            continue
        triples = []
        for r in results:
            if r.get("type") not in ("labels", "hypertextlabels"):
                continue
            v = r.get("value") if isinstance(r.get("value"), dict) else {}
            labels = v.get("labels") or v.get("hypertextlabels") or []
            try:
                offsets(v.get("start"), v.get("end"))
            except ValueError:
                labels = []
            if not isinstance(labels, list) or len(labels) != 1 or not isinstance(labels[0], str):
                errors.add(AnnotationError(f"region {r.get('id')!r} needs integer start/end and exactly one label",
                                           source=source, doc_id=doc_id))
                continue
            if "text" in v and text[v["start"]:v["end"]] != v["text"]:
                errors.add(AnnotationError(f"region text {shorten(repr(v['text']))} does not match the task text at "
                                           "its offsets",
                                           source=source, doc_id=doc_id, start=v["start"], end=v["end"]))
                continue
            triples.append((v["start"], v["end"], labels[0]))
        spans = map_spans(triples, label_map, errors=errors, doc_id=doc_id, line=None)
        docs.append(validated(Document(doc_id, text, spans), errors))
    errors.raise_if_any()
    return require_documents(docs, source)
