"""Streamed input for tagging: a text file (a document per line), JSONL with a ``text`` field, or CSV with a
``text`` column, read one record at a time (never the whole file).

Every record gets an id: the input's ``id`` field/column when it has one, else ``line-N`` (the line where the
record starts). Resuming relies on those ids, so both engines (single process and Ray) number lines the same way:
lines end at ``\\n`` only (a ``\\r`` before it is dropped; U+2028 and friends stay inside the text), and a BOM at
the start of the file is dropped. Bad input raises an ``AnnotationError`` (a ``ValueError``) naming file and line.
"""
from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ner.data.documents import AnnotationError

INPUT_FORMATS = ("auto", "txt", "jsonl", "csv")
BOM = "\ufeff"
SPLIT_RECORDS = 1_000  # lines per Ray read task: a split becomes one block, the unit one actor tags at a time


@dataclass(frozen=True)
class Record:
    id: str
    text: str
    line: int


def input_format(path: str | Path, fmt: str = "auto") -> str:
    """``txt``, ``jsonl`` or ``csv``: ``fmt`` itself, or from the file name (``.jsonl``/``.ndjson``, ``.csv``)."""
    if fmt not in INPUT_FORMATS:
        raise ValueError(f"input_format must be one of {', '.join(INPUT_FORMATS)}, not {fmt!r}")
    if fmt != "auto":
        return fmt
    suffix = Path(str(path)).suffix.lower()
    return {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}.get(suffix, "txt")


def _decode(raw: bytes, name: str, lineno: int) -> str:
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise AnnotationError(f"invalid UTF-8 (byte 0x{raw[e.start]:02x} at byte {e.start + 1} of the line): the "
                              "file is not UTF-8; re-save it as UTF-8", source=name, line=lineno) from None
    if lineno == 1:
        line = line.removeprefix(BOM)
    return line.removesuffix("\n").removesuffix("\r")


def _record_id(value, name: str, lineno: int) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise AnnotationError(f"the id must be a string or an integer, not {type(value).__name__}",
                              source=name, line=lineno)
    return str(value)


def parse_line(raw: bytes, lineno: int, name: str, fmt: str, text_field: str = "text",
               id_field: str = "id") -> Record | None:
    """One line of a ``txt`` or ``jsonl`` input as a record; ``None`` for a blank line."""
    line = _decode(raw, name, lineno)
    if not line.strip():
        return None
    if fmt == "txt":
        return Record(f"line-{lineno}", line, lineno)
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as e:
        raise AnnotationError(f"invalid JSON ({e.msg}, column {e.colno})", source=name, line=lineno) from None
    if not isinstance(obj, dict) or not isinstance(obj.get(text_field), str):
        raise AnnotationError(f"expected an object with a string {text_field!r}", source=name, line=lineno)
    doc_id = _record_id(obj.get(id_field), name, lineno)
    return Record(doc_id if doc_id is not None else f"line-{lineno}", obj[text_field], lineno)


def _numbered(lines: Iterable[bytes], first: int = 1) -> Iterator[tuple[int, bytes]]:
    return enumerate(lines, start=first)


def _csv_records(path: Path, text_field: str, id_field: str) -> Iterator[Record]:
    name = str(path)
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        try:
            header = next(reader, None)
        except UnicodeDecodeError:
            raise AnnotationError("invalid UTF-8: the file is not UTF-8; re-save it as UTF-8", source=name,
                                  line=1) from None
        if header is None:
            return
        header = [h.removeprefix(BOM) for h in header]
        if text_field not in header:
            raise AnnotationError(f"no {text_field!r} column (columns: {', '.join(header)})", source=name, line=1)
        t, i = header.index(text_field), (header.index(id_field) if id_field in header else None)
        start = reader.line_num + 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError:
                raise AnnotationError("invalid UTF-8: the file is not UTF-8; re-save it as UTF-8", source=name,
                                      line=reader.line_num + 1) from None
            except csv.Error as e:
                raise AnnotationError(f"malformed CSV ({e})", source=name, line=reader.line_num) from None
            if row:  # csv yields [] for a blank line
                if len(row) != len(header):
                    raise AnnotationError(f"{len(row)} fields where the header has {len(header)}", source=name,
                                          line=start)
                doc_id = row[i] if i is not None and row[i] != "" else f"line-{start}"
                yield Record(doc_id, row[t], start)
            start = reader.line_num + 1


def _sniff_stdin(stream) -> tuple[str, Iterator[bytes]]:
    """Format of stdin (JSONL when the first non-blank line starts with ``{``) and its lines, none lost."""
    head = []
    for raw in stream:
        head.append(raw)
        if raw.strip():
            break
    first = head[-1].lstrip(b"\xef\xbb\xbf").lstrip() if head else b""
    fmt = "jsonl" if first.startswith(b"{") else "txt"

    def lines():
        yield from head
        yield from stream
    return fmt, lines()


def iter_records(source: str | Path, fmt: str = "auto", text_field: str = "text", id_field: str = "id",
                 stdin=None) -> Iterator[Record]:
    """Records of ``source`` (a path, or ``-`` for standard input), one at a time."""
    if str(source) == "-":
        stream = stdin if stdin is not None else sys.stdin.buffer
        sniffed, lines = _sniff_stdin(stream)
        fmt = sniffed if fmt == "auto" else fmt
        if fmt == "csv":
            raise ValueError("input=- (standard input) takes text or JSONL; give a CSV input as a file")
        for lineno, raw in _numbered(lines):
            rec = parse_line(raw, lineno, "<stdin>", fmt, text_field, id_field)
            if rec is not None:
                yield rec
        return
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"input file not found: {path}" if not path.exists() else
                                f"input {path} is a folder; give a .txt, .jsonl or .csv file")
    fmt = input_format(path, fmt)
    if fmt == "csv":
        yield from _csv_records(path, text_field, id_field)
        return
    with open(path, "rb") as f:
        for lineno, raw in _numbered(f):
            rec = parse_line(raw, lineno, str(path), fmt, text_field, id_field)
            if rec is not None:
                yield rec


# ------------------------------------------------------------------------------------------ splits (Ray engine)

def plan_splits(path: str | Path, fmt: str = "auto", records: int = SPLIT_RECORDS) -> list[dict]:
    """Byte ranges of ``records`` lines each (``offset``, ``first_line``, ``lines``), found in one pass that keeps
    only the boundaries. A CSV record may span lines, so a CSV file is one split."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"input file not found: {path}")
    fmt = input_format(path, fmt)
    if fmt == "csv":
        return [{"path": str(path), "format": fmt, "offset": 0, "first_line": 1, "lines": -1}]
    splits, offset, first, count = [], 0, 1, 0
    pos = 0
    with open(path, "rb") as f:
        for raw in f:
            count += 1
            pos += len(raw)
            if count == records:
                splits.append({"path": str(path), "format": fmt, "offset": offset, "first_line": first,
                               "lines": count})
                offset, first, count = pos, first + count, 0
    if count:
        splits.append({"path": str(path), "format": fmt, "offset": offset, "first_line": first, "lines": count})
    return splits


def read_split(split: dict, text_field: str = "text", id_field: str = "id") -> Iterator[Record]:
    """The records of one split of ``plan_splits`` (the same records, ids and errors as ``iter_records``)."""
    if split["format"] == "csv":
        yield from iter_records(split["path"], "csv", text_field, id_field)
        return
    with open(split["path"], "rb") as f:
        f.seek(split["offset"])
        for k in range(split["lines"]):
            raw = f.readline()
            lineno = split["first_line"] + k
            rec = parse_line(raw, lineno, split["path"], split["format"], text_field, id_field)
            if rec is not None:
                yield rec
