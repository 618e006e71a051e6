"""Input for ``scripts/predict.py``: plain text (a document per line) or JSONL with a ``text`` field."""
from __future__ import annotations

import json
from pathlib import Path
from typing import IO

from ner.data.io.common import decode_text, read_text


def read_inputs(source: str | Path | IO[str]) -> list[tuple[str, str]]:
    """``(id, text)`` pairs. Blank lines of a text file are skipped; ids are ``line-N`` unless JSONL gives one."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.exists():
            raise FileNotFoundError(f"input file not found: {path}")
        name, lines = str(path), read_text(path).split("\n")  # not splitlines(): U+2028 etc. are not line ends
        is_jsonl = path.suffix == ".jsonl"
    else:
        raw = source.buffer.read() if hasattr(source, "buffer") else source.read()  # bytes: decode errors get a line
        text = decode_text(raw, "<stdin>") if isinstance(raw, bytes) else raw.removeprefix("\ufeff")
        name, lines = "<stdin>", text.split("\n")
        is_jsonl = bool(lines) and lines[0].lstrip().startswith("{")
    docs = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        line = line.removesuffix("\r")
        if not is_jsonl:
            docs.append((f"line-{n}", line))
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise ValueError(f"{name}:{n}: invalid JSON ({e.msg})") from None
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
            raise ValueError(f"{name}:{n}: expected an object with a string 'text'")
        docs.append((str(obj.get("id", f"line-{n}")), obj["text"]))
    return docs
