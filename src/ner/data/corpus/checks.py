"""Corpus-level checks shared by the authoring checker and the validator: hard negatives, near-duplicates."""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from ner.data.documents import Document

# Phrases with «خوشه» that are never a CLUSTER. Matched on a length-preserving folding of the text
# (Arabic ي/ك -> Persian, ZWNJ -> space) so that spelling variants count.
HARD_NEGATIVES: dict[str, re.Pattern] = {
    "generic خوشه‌های صنعتی": re.compile(r"خوشه(?:\s*های)?\s+صنعتی(?!\s*(?:چای|زیتون))"),
    "بمب خوشه‌ای": re.compile(r"بمب(?:\s*های)?\s+خوشه\s*ای"),
    "خوشه انگور": re.compile(r"خوشه(?:\s*های)?\s+انگور"),
    "نمونه‌گیری خوشه‌ای": re.compile(r"نمونه\s*گیری\s+خوشه\s*ای"),
    "خوشه‌بندی": re.compile(r"خوشه\s*بندی"),
    "خوشه پروین": re.compile(r"خوشه\s+پروین"),
}

_FOLD = str.maketrans({"ي": "ی", "ك": "ک", "\u200c": " ", "ى": "ی"})


def fold(text: str) -> str:
    """Same length as ``text``: offsets found in the folded text index the original."""
    return text.translate(_FOLD)


def hard_negatives_in(doc: Document) -> Counter:
    """Count each hard-negative kind in ``doc`` that lies outside every CLUSTER span."""
    folded = fold(doc.text)
    clusters = [s for s in doc.spans if s.label == "CLUSTER"]
    found: Counter = Counter()
    for kind, pattern in HARD_NEGATIVES.items():
        for m in pattern.finditer(folded):
            if not any(s.start < m.end() and m.start() < s.end for s in clusters):
                found[kind] += 1
    return found


def hard_negatives_tagged(doc: Document) -> list[tuple[str, int, int]]:
    """Hard-negative phrases that a CLUSTER span covers completely (always an annotation error)."""
    folded = fold(doc.text)
    bad = []
    for kind, pattern in HARD_NEGATIVES.items():
        if kind.startswith("generic"):
            continue  # «خوشه صنعتی چای» legitimately starts with the generic words
        for m in pattern.finditer(folded):
            if any(s.label == "CLUSTER" and s.start <= m.start() and m.end() <= s.end for s in doc.spans):
                bad.append((kind, m.start(), m.end()))
    return bad


def shingles(text: str, n: int = 5) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", fold(text))
    return {tuple(words[i:i + n]) for i in range(max(0, len(words) - n + 1))}


def near_duplicates(docs_a: Iterable[Document], docs_b: Iterable[Document], threshold: float = 0.3,
                    n: int = 5) -> list[tuple[str, str, float]]:
    """Pairs (id_a, id_b, containment) where one document shares >= ``threshold`` of its word n-grams with the other."""
    sh_b = [(d.id, shingles(d.text, n)) for d in docs_b]
    out = []
    for a in docs_a:
        sa = shingles(a.text, n)
        if not sa:
            continue
        for bid, sb in sh_b:
            if not sb or a.id == bid:
                continue
            inter = len(sa & sb)
            score = inter / min(len(sa), len(sb))
            if score >= threshold:
                out.append((a.id, bid, round(score, 3)))
    return out
