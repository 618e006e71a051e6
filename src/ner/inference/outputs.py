"""Output formats of the tagger and the resumable output file.

Formats, one record per input document:
  ``entities``      JSONL ``{"id", "text", "entities": [{"start", "end", "label", "text", "score"}]}``
  ``doccano``       JSONL ``{"id", "text", "label": [[start, end, "LABEL"], ...]}``: doccano's sequence-labelling
                    import, and ``ner.data.io.read_doccano`` reads it back, so corrected predictions become data
                    (a document with a blank text has nothing to annotate and is left out)
  ``label_studio``  JSONL of Label Studio tasks with pre-annotations: ``{"data": {"id", "text"}, "predictions":
                    [{"model_version", "score", "result": [{"id", "from_name", "to_name", "type": "labels",
                    "value": {"start", "end", "text", "labels": [LABEL]}, "score"}]}]}``; a finished run also
                    writes the same tasks as one JSON list (``<output>.json``), which the Label Studio UI imports
  ``conll``         per document a ``-DOCSTART- {"id": ..., "words": N}`` line and a blank line, then one
                    ``word<TAB>IOB2-tag`` line per word with a blank line after each sentence (readers of CoNLL,
                    ``ner.data.io.read_conll`` included, skip ``-DOCSTART-`` lines)

Resuming: records are written whole (one ``write`` per chunk, then flush and fsync), so a killed run leaves at most
one torn record at the end. ``prepare_output`` reads the ids of the complete records, cuts a torn tail off, and the
rerun appends only the documents whose ids are missing. Offsets are those of the caller's text.
"""
from __future__ import annotations

import json
import os
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from pathlib import Path

from ner.data.documents import AnnotationError
from ner.data.io.common import atomic_write
from ner.data.words import split_sentences, split_words

OUTPUT_FORMATS = ("entities", "label_studio", "doccano", "conll")
DOCSTART = "-DOCSTART-"


def _check_format(fmt: str) -> str:
    if fmt not in OUTPUT_FORMATS:
        raise ValueError(f"format must be one of {', '.join(OUTPUT_FORMATS)}, not {fmt!r}")
    return fmt


def _json_line(obj: dict) -> str:
    line = json.dumps(obj, ensure_ascii=False)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (e.g. from a JSON escape in the input): keep it escaped
        line = json.dumps(obj, ensure_ascii=True)
    return line + "\n"


def _word_tags(text: str, entities: Sequence[dict]):
    """Words of ``text`` with the IOB2 tags that the entities (whole words, from the predictor) give them."""
    words = split_words(text)
    starts, ends = [w.start for w in words], [w.end for w in words]
    tags = ["O"] * len(words)
    for e in entities:
        i, j = bisect_left(starts, e["start"]), bisect_right(ends, e["end"])
        for k in range(i, j):
            tags[k] = ("B-" if k == i else "I-") + e["label"]
    return words, tags


def render(fmt: str, doc_id: str, text: str, entities: Sequence[dict], *, model_version: str | None = None,
           from_name: str = "label", to_name: str = "text") -> str:
    """One document in ``fmt``, ending with a newline; ``entities`` are ``Entity.to_dict()`` dicts."""
    if fmt == "entities":
        return _json_line({"id": doc_id, "text": text, "entities": list(entities)})
    if fmt == "doccano":
        if not text.strip():  # doccano (and ner.data.io.read_doccano) refuse a document without text
            return ""
        return _json_line({"id": doc_id, "text": text, "label": [[e["start"], e["end"], e["label"]] for e in entities]})
    if fmt == "label_studio":
        result = [{"id": f"e{k}", "from_name": from_name, "to_name": to_name, "type": "labels",
                   "value": {"start": e["start"], "end": e["end"], "text": e["text"], "labels": [e["label"]]},
                   "score": e["score"]} for k, e in enumerate(entities)]
        prediction = {"model_version": model_version or "ner", "result": result}
        if entities:  # Label Studio sorts tasks by this score: the mean of the entities' scores
            prediction["score"] = round(sum(e["score"] for e in entities) / len(entities), 4)
        return _json_line({"data": {"id": doc_id, "text": text}, "predictions": [prediction]})
    if fmt == "conll":
        words, tags = _word_tags(text, entities)
        lines = [f"{DOCSTART} {json.dumps({'id': doc_id, 'words': len(words)}, ensure_ascii=True)}", ""]
        for a, b in split_sentences(text, words):
            lines += [f"{w.text}\t{t}" for w, t in zip(words[a:b], tags[a:b])] + [""]
        block = "\n".join(lines) + "\n"
        # a lone surrogate cannot be written as UTF-8; in a CoNLL word it becomes U+FFFD (ids stay escaped)
        return block.encode("utf-8", "replace").decode("utf-8") if _has_surrogate(block) else block
    raise ValueError(f"format must be one of {', '.join(OUTPUT_FORMATS)}, not {fmt!r}")


def _has_surrogate(s: str) -> bool:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


# ------------------------------------------------------------------------------------------------- resuming

def _record_id(fmt: str, obj: dict):
    return obj["data"]["id"] if fmt == "label_studio" else obj["id"]


def _jsonl_scan(f, fmt: str, name: str) -> tuple[set[str], int]:
    done, good = set(), 0
    for lineno, raw in enumerate(f, start=1):
        if not raw.endswith(b"\n"):
            break  # the torn last line of a killed run
        try:
            doc_id = _record_id(fmt, json.loads(raw))
        except (ValueError, KeyError, TypeError):
            raise AnnotationError(f"not a complete {fmt!r} record, so the file cannot be resumed; pass "
                                  "resume=false to overwrite it, or choose another output", source=name,
                                  line=lineno) from None
        done.add(str(doc_id))
        good += len(raw)
    return done, good


def _conll_scan(f, name: str) -> tuple[set[str], int]:
    """Complete ``-DOCSTART-`` blocks: as many word lines as the header says, a blank line after the last one."""
    done, good, pos = set(), 0, 0
    current, need, seen, blank_after = None, 0, 0, False
    for lineno, raw in enumerate(f, start=1):
        pos += len(raw)
        if not raw.endswith(b"\n"):
            break
        line = raw.decode("utf-8").rstrip("\n")
        if line.startswith(DOCSTART):
            if current is not None:
                raise AnnotationError(f"document {current!r} is incomplete before the next {DOCSTART}; the file "
                                      "cannot be resumed (pass resume=false)", source=name, line=lineno)
            try:
                head = json.loads(line[len(DOCSTART):])
                current, need, seen, blank_after = str(head["id"]), int(head["words"]), 0, False
            except (ValueError, KeyError, TypeError):
                raise AnnotationError(f"not a {DOCSTART} line of this tagger; the file cannot be resumed (pass "
                                      "resume=false)", source=name, line=lineno) from None
        elif current is None:
            raise AnnotationError(f"expected a {DOCSTART} line; the file cannot be resumed (pass resume=false)",
                                  source=name, line=lineno)
        elif line == "":
            blank_after = True
        else:
            seen, blank_after = seen + 1, False
        if current is not None and seen == need and blank_after:
            done.add(current)
            good, current = pos, None
    return done, good


def prepare_output(path: str | Path, fmt: str, resume: bool = True) -> set[str]:
    """Ids already in ``path`` (empty for a new file or ``resume=False``, which empties it); a torn last record
    is cut off so that appending continues on a record boundary."""
    _check_format(fmt)
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"output {path} is a folder; give a file name")
    if not resume or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
        return set()
    with open(path, "rb") as f:
        try:
            done, good = _conll_scan(f, str(path)) if fmt == "conll" else _jsonl_scan(f, fmt, str(path))
        except UnicodeDecodeError:
            raise AnnotationError("not UTF-8 text; the file cannot be resumed (pass resume=false)",
                                  source=str(path)) from None
    if good < path.stat().st_size:
        with open(path, "r+b") as f:
            f.truncate(good)
    return done


class Output:
    """Appends rendered records: each ``write`` is one write call, flushed and synced, so a kill between writes
    loses nothing and a kill during one leaves a torn tail that ``prepare_output`` removes."""

    def __init__(self, path: str | Path | None, stream=None):
        self.path = Path(path) if path else None
        self._f = open(self.path, "ab") if self.path else (stream.buffer if hasattr(stream, "buffer") else stream)

    def write(self, records: Sequence[str]) -> None:
        if records:
            self._f.write("".join(records).encode("utf-8"))
            self._f.flush()
            if self.path:
                os.fsync(self._f.fileno())

    def close(self) -> None:
        if self.path:
            self._f.close()

    def __enter__(self) -> Output:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def label_studio_json(jsonl_path: str | Path) -> Path:
    """The tasks of a finished ``label_studio`` JSONL output as one JSON list (what the Label Studio UI imports),
    written atomically next to it, one task at a time."""
    jsonl_path = Path(jsonl_path)
    out = jsonl_path.with_suffix(".json") if jsonl_path.suffix != ".json" else jsonl_path.with_suffix(".tasks.json")
    with atomic_write(out) as w, open(jsonl_path, encoding="utf-8") as r:
        w.write("[")
        for k, line in enumerate(_nonblank(r)):
            w.write(("," if k else "") + "\n" + line.rstrip("\n"))
        w.write("\n]\n")
    return out


def _nonblank(lines) -> Iterator[str]:
    return (line for line in lines if line.strip())
