"""Importers for annotation-tool exports: doccano JSONL and Label Studio JSON."""
from __future__ import annotations

import json
from pathlib import Path

from ner.data.documents import AnnotationError, Document
from ner.data.io.common import ErrorCollector, json_lines, map_spans, validated
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
                triples = [(e["start_offset"], e["end_offset"], e["label"]) for e in obj["entities"]]
            else:
                triples = [(int(s), int(e), str(lab)) for s, e, lab in obj.get("label", [])]
        except (KeyError, TypeError, ValueError) as e:
            errors.add(AnnotationError(f"malformed entity list ({e!r})", source=source, line=lineno, doc_id=doc_id))
            continue
        spans = map_spans(triples, label_map, errors=errors, doc_id=doc_id, line=lineno)
        docs.append(validated(Document(doc_id, text, spans), errors, lineno))
    errors.raise_if_any()
    return docs


def read_label_studio(path: str | Path, label_map: LabelMap | None = None, text_key: str = "text") -> list[Document]:
    """Label Studio JSON export (a list of tasks). Uses each task's first annotation that was not cancelled;
    ``predictions`` are ignored. A task with no annotation is an error, not a silently empty document."""
    source = str(path)
    errors = ErrorCollector(source)
    try:
        tasks = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise AnnotationError(f"invalid JSON: {e.msg} (line {e.lineno}, column {e.colno})", source=source) from None
    if not isinstance(tasks, list):
        raise AnnotationError("expected a JSON list of tasks (Label Studio 'JSON' export)", source=source)
    docs = []
    for k, task in enumerate(tasks):
        doc_id = str(task.get("id", k))
        text = (task.get("data") or {}).get(text_key)
        if not isinstance(text, str) or not text.strip():
            errors.add(AnnotationError(f"task has no data.{text_key}", source=source, doc_id=doc_id))
            continue
        annotations = [a for a in task.get("annotations") or task.get("completions") or []
                       if not a.get("was_cancelled")]
        if not annotations:
            errors.add(AnnotationError("task has no (non-cancelled) annotation", source=source, doc_id=doc_id))
            continue
        triples = []
        for r in annotations[0].get("result", []):
            if r.get("type") not in ("labels", "hypertextlabels"):
                continue
            v = r.get("value", {})
            labels = v.get("labels") or v.get("hypertextlabels") or []
            if len(labels) != 1 or not isinstance(v.get("start"), int) or not isinstance(v.get("end"), int):
                errors.add(AnnotationError(f"region {r.get('id')!r} needs integer start/end and exactly one label",
                                           source=source, doc_id=doc_id))
                continue
            if "text" in v and text[v["start"]:v["end"]] != v["text"]:
                errors.add(AnnotationError(f"region text {v['text']!r} does not match the task text at its offsets",
                                           source=source, doc_id=doc_id, start=v["start"], end=v["end"]))
                continue
            triples.append((v["start"], v["end"], labels[0]))
        spans = map_spans(triples, label_map, errors=errors, doc_id=doc_id, line=None)
        docs.append(validated(Document(doc_id, text, spans), errors))
    errors.raise_if_any()
    return docs
