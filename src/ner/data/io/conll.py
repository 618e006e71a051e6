"""CoNLL-style token files: one ``token<sep>tag`` per line, blank line between sentences.

The separator is a tab, ``|`` or a space (``sep="auto"`` picks it from the first line). The tag is split
off at the *last* separator, so a token may contain spaces (PEYMA) or the separator itself (``||O``).
Tags may use ``B-X`` or ``B_X``; an orphan ``I-X`` is repaired to ``B-X`` and counted in the log.
With tabs, a line must have exactly two columns: a third column (POS, chunk tags) is an error, not part of the token.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from ner.data.documents import AnnotationError, Document
from ner.data.io.common import (ErrorCollector, atomic_write, map_spans, require_documents, require_encodable, shorten,
                                text_lines, validated)
from ner.data.labels import LabelMap, repair_iob2, split_tag
from ner.data.spans import spans_to_tags, tags_to_spans
from ner.data.words import Word

log = logging.getLogger(__name__)
SEPARATORS = {"tab": "\t", "pipe": "|", "space": " "}


def _detect_sep(path: Path) -> str:
    errors = ErrorCollector(str(path))
    seen_text = False
    for _, line in text_lines(path, errors):
        line = line.rstrip("\r\n")
        if line.strip() and not line.startswith("-DOCSTART-"):
            seen_text = True
            for sep in ("\t", "|", " "):
                if sep in line.strip():
                    return sep
    errors.raise_if_any()
    if not seen_text:
        raise AnnotationError("no documents: the file is empty or holds only blank lines", source=str(path))
    raise AnnotationError("cannot detect the separator: no 'token<sep>tag' line found", source=str(path))


def read_conll(path: str | Path, label_map: LabelMap | None = None, sep: str = "auto",
               max_docs: int | None = None) -> list[Document]:
    path = Path(path)
    source = str(path)
    sep = _detect_sep(path) if sep == "auto" else SEPARATORS.get(sep, sep)
    errors = ErrorCollector(source)
    docs: list[Document] = []
    tokens: list[tuple[str, str]] = []
    first_line = 0
    repaired = 0

    def flush() -> None:
        nonlocal repaired
        if not tokens:
            return
        doc_id = f"{path.stem}:{len(docs) + 1}"
        words, pos, parts = [], 0, []
        for tok, _ in tokens:
            words.append(Word(pos, pos + len(tok), tok))
            parts.append(tok)
            pos += len(tok) + 1
        raw_tags = [t for _, t in tokens]
        tags = repair_iob2(raw_tags)
        repaired += sum(a != b for a, b in zip(raw_tags, tags) if a.startswith("I"))
        triples = [(s.start, s.end, s.label) for s in tags_to_spans(words, tags)]
        spans = map_spans(triples, label_map, errors=errors, doc_id=doc_id, line=first_line)
        docs.append(validated(Document(doc_id, " ".join(parts), spans, {"line": first_line}, words), errors,
                              first_line))
        tokens.clear()

    for lineno, line in text_lines(path, errors):
        line = line.rstrip("\r\n")
        if not line.strip():
            flush()
            if max_docs is not None and len(docs) >= max_docs:
                break
            continue
        if line.startswith("-DOCSTART-"):
            continue
        if sep not in line:
            errors.add(AnnotationError(f"no {sep!r} separator between token and tag: {shorten(line)!r}",
                                       source=source, line=lineno))
            continue
        if sep == "\t" and line.count("\t") > 1:
            errors.add(AnnotationError(f"{line.count(chr(9)) + 1} tab-separated columns, expected 2 (token, tag): "
                                       f"{shorten(line)!r}", source=source, line=lineno))
            continue
        tok, tag = line.rsplit(sep, 1)
        tag = tag.strip()
        try:
            prefix, typ = split_tag(tag)
        except ValueError:
            errors.add(AnnotationError(f"not an IOB tag: {shorten(tag)!r}", source=source, line=lineno))
            continue
        if not tok.strip():
            errors.add(AnnotationError("empty token", source=source, line=lineno))
            continue
        if not tokens:
            first_line = lineno
        tokens.append((tok.strip(), "O" if typ is None else f"{prefix}-{typ}"))
    flush()
    errors.raise_if_any()
    require_documents(docs, source)
    if repaired:
        log.warning("%s: repaired %d orphan I- tag(s) to B-", source, repaired)
    return docs


def write_conll(docs: Iterable[Document], path: str | Path, sep: str = "\t") -> None:
    """One word per line with its IOB2 tag; documents separated by a blank line."""
    with atomic_write(path) as f:
        for doc in docs:
            words = require_encodable(doc).get_words()
            for w, t in zip(words, spans_to_tags(doc, words)):
                f.write(f"{w.text}{sep}{t}\n")
            f.write("\n")
