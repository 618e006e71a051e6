"""Validation and consistency audit of the annotated corpus (the split JSONL files).

Errors make the corpus unusable or the numbers untrustworthy (schema, offsets, boundaries, overlaps,
labels, duplicate ids, empty documents, leakage between splits, a hard negative tagged as CLUSTER, a
split missing a hard-negative kind). Audit findings are inconsistencies between places: a surface string
annotated with different labels, or annotated in one place and left bare in another. Each finding is
either fixed in the sources or explained in ``audit_exceptions.yaml`` (and the guidelines).
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ner.data.corpus.checks import HARD_NEGATIVES, fold, hard_negatives_in, hard_negatives_tagged, near_duplicates
from ner.data.documents import AnnotationError, Document
from ner.data.io.common import read_yaml
from ner.data.io.jsonl import read_jsonl
from ner.data.spans import check_spans
from ner.data.words import split_words

SPLITS = ("train", "dev", "test")
_UNJOIN = str.maketrans({"ي": "ی", "ك": "ک", "ى": "ی", "\u200c": None})


@dataclass
class Findings:
    errors: list[str] = field(default_factory=list)
    audit: list[str] = field(default_factory=list)
    explained: int = 0


def load_corpus(root: str | Path) -> tuple[dict[str, list[Document]], list[str]]:
    """Read the split files without stopping at the first problem; schema errors are returned."""
    splits, errors = {}, []
    for split in SPLITS:
        path = Path(root) / f"{split}.jsonl"
        if not path.exists():
            errors.append(f"{path}: missing")
            continue
        try:
            splits[split] = read_jsonl(path)
        except AnnotationError as e:
            errors.append(str(e))
    return splits, errors


def structural_errors(splits: dict[str, list[Document]], near_dup_threshold: float = 0.3) -> list[str]:
    errors = []
    where: dict[str, str] = {}
    texts: dict[str, str] = {}
    for split, docs in splits.items():
        for doc in docs:
            if doc.id in where:
                errors.append(f"{split}: document {doc.id!r} also in {where[doc.id]}")
            where[doc.id] = split
            if not doc.spans and not doc.text.strip():
                errors.append(f"{split}: document {doc.id!r} is empty")
            key = re.sub(r"\s+", " ", fold(doc.text)).strip()
            if key in texts and texts[key] != doc.id:
                errors.append(f"{split}: document {doc.id!r} has the same text as {texts[key]!r}")
            texts[key] = doc.id
            errors += [f"{split}: {e}" for e in check_spans(doc)]
            errors += [f"{split}: document {doc.id!r} [{s}:{e}]: hard negative «{kind}» is inside a CLUSTER span"
                       for kind, s, e in hard_negatives_tagged(doc)]
        present = defaultdict(int)
        for doc in docs:
            for kind, n in hard_negatives_in(doc).items():
                present[kind] += n
        for kind in HARD_NEGATIVES:
            if not present[kind]:
                errors.append(f"{split}: no example of the hard negative «{kind}»")
    names = list(splits)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            for ida, idb, score in near_duplicates(splits[a], splits[b], near_dup_threshold):
                errors.append(f"leakage: {a}/{ida} and {b}/{idb} share {score:.0%} of their 5-word shingles")
    return errors


def _word_key(word: str) -> str:
    return word.translate(_UNJOIN)


def _key(text: str) -> str:
    """Comparison key of a surface string: its words (ZWNJ removed, Arabic letters folded) joined by spaces."""
    return " ".join(_word_key(w.text) for w in split_words(text))


def audit(splits: dict[str, list[Document]], exceptions: dict | None = None) -> tuple[list[str], int]:
    """(a) a surface string with several labels; (b) a string annotated somewhere but bare elsewhere.

    Returns the unexplained findings and the number of findings that ``exceptions`` explains.
    ``exceptions`` = ``{"multi_label": {string: reason}, "unannotated": {string: reason}}``.
    """
    exceptions = exceptions or {}
    # Exception keys are compared without spaces, so «سیب زمینی» in the file covers «سیب‌زمینی» as well.
    loose = lambda k: _key(k).replace(" ", "")  # noqa: E731
    multi_ok = {loose(k) for k in (exceptions.get("multi_label") or {})}
    bare_ok = {loose(k) for k in (exceptions.get("unannotated") or {})}
    labels: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    docs = [d for split in SPLITS for d in splits.get(split, [])]
    for doc in docs:
        for s in doc.spans:
            labels[_key(doc.span_text(s))][s.label].append(doc.id)
    findings, explained, used = [], 0, set()
    for surface, by_label in sorted(labels.items()):
        if len(by_label) > 1:
            if surface.replace(" ", "") in multi_ok:
                used.add(surface.replace(" ", ""))
                explained += 1
                continue
            detail = "; ".join(f"{lab} x{len(ids)} (e.g. {ids[0]})" for lab, ids in sorted(by_label.items()))
            findings.append(f"(a) «{surface}» has several labels: {detail}")
    # (b) bare occurrences of annotated strings, matched word by word (a ZWNJ-joined word stays one word).
    annotated = {k for k in labels}
    by_len = defaultdict(set)
    for k in annotated:
        by_len[len(k.split(" "))].add(k)
    bare: dict[str, list[str]] = defaultdict(list)
    for doc in docs:
        words = split_words(doc.text)
        covered = set()
        for s in doc.spans:
            covered.update(i for i, w in enumerate(words) if s.start <= w.start and w.end <= s.end)
        keys = [_word_key(w.text) for w in words]
        for n, cands in by_len.items():
            for i in range(len(words) - n + 1):
                if any(j in covered for j in range(i, i + n)):
                    continue
                phrase = " ".join(keys[i:i + n])
                if phrase in cands:
                    bare[phrase].append(f"{doc.id}@{words[i].start}")
    for surface, where in sorted(bare.items()):
        if surface.replace(" ", "") in bare_ok:
            used.add(surface.replace(" ", ""))
            explained += 1
            continue
        n_ann = sum(len(v) for v in labels[surface].values())
        findings.append(f"(b) «{surface}» annotated {n_ann}x as {'/'.join(sorted(labels[surface]))} but bare "
                        f"{len(where)}x: {', '.join(where[:4])}{' ...' if len(where) > 4 else ''}")
    for stale in sorted((multi_ok | bare_ok) - used):
        findings.append(f"(c) audit_exceptions.yaml explains «{stale}», which no longer occurs: remove the entry")
    return findings, explained


def validate(root: str | Path, exceptions_path: str | Path | None = None) -> Findings:
    splits, errors = load_corpus(root)
    f = Findings(errors=errors)
    f.errors += structural_errors(splits)
    exceptions = {}
    if exceptions_path and Path(exceptions_path).exists():
        exceptions = read_yaml(exceptions_path)
    f.audit, f.explained = audit(splits, exceptions)
    return f
