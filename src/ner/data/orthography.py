"""Web orthography: the same document as real web text writes it, with its spans moved along.

Our corpus writes careful Persian: ZWNJ inside words («شهرک‌های»), Persian ی/ک, Persian digits. Real news sites
write «شهرک های» (a space for the ZWNJ) or «شهرکهای» (nothing), Arabic ي/ك and Latin digits. ``render`` rewrites a
document's text that way, character by character, and maps every span through the same edit, so gold entities
cover exactly the same characters of the new text. Used two ways:

- evaluation views (``VIEWS``): dev/test rendered one way throughout, to measure how much a model loses on web
  orthography (``benchmarks/quality.py``);
- training augmentation (``augment``): each training document rendered with a random mix of the variants,
  so the model sees both spellings (``training.augment``).

A corpus's own tokenisation (CoNLL ``words``) does not survive an edit that adds spaces, so rendered documents
are split again with ``split_words``, as web text would be.
"""
from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

from ner.data.documents import Document, Span
from ner.data.words import ZWNJ

PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"
ARABIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"
TO_ARABIC_LETTERS = {"ی": "ي", "ک": "ك"}
# affixes that web text most often detaches with a space instead of a ZWNJ
_SUFFIXES = ("ها", "های", "هایی", "ای", "ام", "اید", "اند", "تر", "ترین")
_PREFIXES = ("می", "نمی")


def _latin_digit(ch: str) -> str:
    for digits in (PERSIAN_DIGITS, ARABIC_DIGITS):
        k = digits.find(ch)
        if k >= 0:
            return str(k)
    return ch


def _affix_zwnj(text: str, i: int) -> bool:
    """Is the ZWNJ at ``i`` the joint of a detachable prefix (می‌) or suffix (‌های)?"""
    after = text[i + 1:]
    before = text[:i]
    if any(after.startswith(s) and (len(after) == len(s) or not after[len(s)].isalpha()) for s in _SUFFIXES):
        return True
    return any(before.endswith(p) and (len(before) == len(p) or not before[-len(p) - 1].isalpha()) for p in _PREFIXES)


Choice = Callable[[str, int], str]  # (text, index of a character) -> its replacement ("" deletes it)


def render(doc: Document, choose: Choice, suffix: str = "") -> Document:
    """``doc`` with every character ``text[i]`` replaced by ``choose(text, i)``; spans follow the edit."""
    text = doc.text
    pieces, where = [], [0] * (len(text) + 1)  # where[i]: position of old character i in the new text
    n = 0
    for i in range(len(text)):
        where[i] = n
        rep = choose(text, i)
        pieces.append(rep)
        n += len(rep)
    where[len(text)] = n
    new = "".join(pieces)
    spans = []
    for s in doc.spans:
        start, end = where[s.start], where[s.end]
        # a span's last character may have been deleted (a trailing ZWNJ never is inside a span, but be safe)
        if end > start:
            spans.append(Span(start, end, s.label))
    return replace(doc, id=doc.id + suffix, text=new, spans=spans, words=None, meta=dict(doc.meta))


def _zwnj_to(replacement: str, affixes_only: bool = False) -> Choice:
    def choose(text: str, i: int) -> str:
        ch = text[i]
        if ch == ZWNJ and (not affixes_only or _affix_zwnj(text, i)):
            return replacement
        return ch
    return choose


def _arabic_letters(text: str, i: int) -> str:
    return TO_ARABIC_LETTERS.get(text[i], text[i])


def _latin_digits(text: str, i: int) -> str:
    return _latin_digit(text[i])


def _web(text: str, i: int) -> str:
    ch = text[i]
    if ch == ZWNJ:
        return " "
    return _latin_digit(TO_ARABIC_LETTERS.get(ch, ch))


VIEWS: dict[str, Choice] = {
    "zwnj-space": _zwnj_to(" "),                    # شهرک‌های -> شهرک های
    "zwnj-none": _zwnj_to(""),                      # شهرک‌های -> شهرکهای
    "affixes-detached": _zwnj_to(" ", affixes_only=True),
    "arabic-yk": _arabic_letters,                   # ی/ک -> ي/ك
    "latin-digits": _latin_digits,                  # ۵۳۰ -> 530
    "web": _web,                                    # all at once: space for ZWNJ, ي/ك, Latin digits
}


def view(docs: Iterable[Document], name: str) -> list[Document]:
    """Every document rendered in the named web orthography (ids get ``@<name>``)."""
    if name not in VIEWS:
        raise ValueError(f"unknown orthography view {name!r}; expected one of {', '.join(VIEWS)}")
    return [render(d, VIEWS[name], f"@{name}") for d in docs]


def augment(docs: Sequence[Document], probability: float, seed: int = 0) -> list[Document]:
    """Training documents plus, for a ``probability`` share of them, a copy in a random web orthography: each
    ZWNJ independently becomes a space, nothing or stays; ي/ك and Latin digits are switched on per copy."""
    if not 0 <= probability <= 1:
        raise ValueError(f"training.augment must be a probability in [0, 1], not {probability}")
    rng = random.Random(seed)
    out = list(docs)
    for d in docs:
        if rng.random() >= probability:
            continue
        arabic, latin = rng.random() < 0.5, rng.random() < 0.5
        zwnj = [rng.choice((" ", "", ZWNJ)) for _ in range(d.text.count(ZWNJ))]
        state = {"k": 0}

        def choose(text: str, i: int, arabic=arabic, latin=latin, zwnj=zwnj, state=state) -> str:
            ch = text[i]
            if ch == ZWNJ:
                state["k"] += 1
                return zwnj[state["k"] - 1]
            if arabic:
                ch = TO_ARABIC_LETTERS.get(ch, ch)
            return _latin_digit(ch) if latin else ch

        out.append(render(d, choose, "@aug"))
    return out
