"""Persian-aware word splitting with character offsets.

A word is a maximal run of letters, digits and combining marks. ZWNJ (U+200C) and ZWJ join the parts of
one word (``شهرک‌های`` is one word). Whitespace, other invisible format characters and punctuation separate
words; each punctuation character is a word of its own, except ``. , ٫ ٬ / :`` between two digits, which stay
inside numbers (``۱.۵``, ``۱۶٬۰۰۰``, ``۱۴۰۲/۰۵/۱۰``). A lone surrogate (U+D800-U+DFFF, left by a bad decoder
upstream) separates words and ends a sentence like a line break: it is never part of a word, an entity never spans
across it, and the tokenizer (which cannot encode it) never sees it.
"""
from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

ZWNJ = "\u200c"
ZWJ = "\u200d"
_JOINERS = {ZWNJ, ZWJ}
_NUMBER_INNER = set(".,٫٬/:")

SEP, PUNCT, WORD = 0, 1, 2


class Word(NamedTuple):
    start: int
    end: int
    text: str


def char_class(text: str, i: int) -> int:
    """Classify ``text[i]`` as separator, punctuation or word character, looking at its neighbours."""
    ch = text[i]
    if ch in _JOINERS:
        return WORD
    if ch.isspace():
        return SEP
    cat = unicodedata.category(ch)
    if cat in ("Cf", "Cc", "Cs", "Zs", "Zl", "Zp"):
        return SEP
    if cat[0] in "PS":
        if ch in _NUMBER_INNER and 0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit():
            return WORD
        return PUNCT
    return WORD


def split_words(text: str) -> list[Word]:
    """Split ``text`` into words; offsets index ``text`` itself. Joiners at a word's edge are not part of it."""
    words: list[Word] = []
    i, n = 0, len(text)
    while i < n:
        cls = char_class(text, i)
        if cls == SEP:
            i += 1
            continue
        if cls == PUNCT:
            # A surrogate-free emoji sequence (base + variation selectors / skin tones) stays one token.
            j = i + 1
            while j < n and unicodedata.category(text[j]) in ("Mn", "Sk") and char_class(text, j) != SEP:
                j += 1
            words.append(Word(i, j, text[i:j]))
            i = j
            continue
        j = i
        while j < n and char_class(text, j) == WORD:
            j += 1
        s, e = i, j
        while s < e and text[s] in _JOINERS:
            s += 1
        while e > s and text[e - 1] in _JOINERS:
            e -= 1
        if s < e:
            words.append(Word(s, e, text[s:e]))
        i = j
    return words


def is_punctuation(token: str) -> bool:
    return bool(token) and all(unicodedata.category(c)[0] in "PS" for c in token)


SENTENCE_END = {".", "!", "?", "؟", "…", "!?"}
_BREAK = re.compile("[\n\ud800-\udfff]")  # between two words: a line break or a lone surrogate


def split_sentences(text: str, words: list[Word]) -> list[tuple[int, int]]:
    """Sentence boundaries as ``(first_word, end_word)`` index ranges over ``words``.

    A sentence ends after ``. ! ? ؟ …`` or where a line break (headlines, paragraphs) or a lone surrogate separates
    two words.
    Every word belongs to exactly one sentence, so nothing is lost when a document is cut into sentences.
    """
    out: list[tuple[int, int]] = []
    first = 0
    for i, w in enumerate(words):
        last = i + 1 == len(words)
        if last or w.text in SENTENCE_END or _BREAK.search(text, w.end, words[i + 1].start):
            out.append((first, i + 1))
            first = i + 1
    return out
