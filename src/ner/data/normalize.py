"""Persian text normalisation that keeps a map back to the original string.

The same ``Normalizer`` (its settings are saved with every model) runs at training and at prediction.
Every output character remembers the index of the input character it came from, so offsets found in
normalised text can always be mapped back to the text the caller passed in.
"""
from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass

ARABIC_TO_PERSIAN_LETTERS = {"ي": "ی", "ى": "ی", "ك": "ک", "ە": "ه", "ۃ": "ه"}
PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"
ARABIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"
LATIN_DIGITS = "0123456789"
TATWEEL = "\u0640"
ZWNJ = "\u200c"
# Invisible characters that carry no meaning for NER: zero-width space, LRM/RLM, BOM, bidi embeddings.
_INVISIBLE = {"\u200b", "\u200e", "\u200f", "\ufeff", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066",
              "\u2067", "\u2068", "\u2069", "\u00ad"}


REPLACEMENT = "\ufffd"


def _is_surrogate(ch: str) -> bool:
    return "\ud800" <= ch <= "\udfff"


def _is_diacritic(ch: str) -> bool:
    # Arabic harakat, tanwin, shadda, sukun, superscript alef and other combining marks on Arabic letters.
    return unicodedata.category(ch) == "Mn" and ("\u064b" <= ch <= "\u065f" or ch == "\u0670" or "\u06d6" <= ch <= "\u06ed")


@dataclass(frozen=True)
class NormalizedText:
    """``text`` is the normalised string; ``index[i]`` is the offset in the original of ``text[i]``."""

    text: str
    index: tuple[int, ...]
    original_length: int

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a span ``[start, end)`` of the normalised text to the original text."""
        if start >= end:
            raise ValueError(f"empty span [{start}:{end}]")
        return self.index[start], self.index[end - 1] + 1


@dataclass(frozen=True)
class Normalizer:
    """Settings of the normalisation; ``digits`` is ``"persian"``, ``"latin"`` or ``"keep"``.

    ``zwnj`` is ``"keep"`` (tidy it: no doubled ZWNJ, none next to a space), ``"space"`` (replace it by a
    space, as in PEYMA) or ``"remove"``.
    """

    arabic_letters: bool = True
    digits: str = "persian"
    remove_diacritics: bool = True
    remove_tatweel: bool = True
    zwnj: str = "keep"
    unify_spaces: bool = True

    def __post_init__(self):
        if self.digits not in ("persian", "latin", "keep"):
            raise ValueError(f"digits must be 'persian', 'latin' or 'keep', not {self.digits!r}")
        if self.zwnj not in ("keep", "space", "remove"):
            raise ValueError(f"zwnj must be 'keep', 'space' or 'remove', not {self.zwnj!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    def _digit_table(self) -> dict[str, str]:
        if self.digits == "keep":
            return {}
        target = PERSIAN_DIGITS if self.digits == "persian" else LATIN_DIGITS
        table = {}
        for source in (PERSIAN_DIGITS, ARABIC_DIGITS, LATIN_DIGITS):
            table.update({s: t for s, t in zip(source, target) if s != t})
        return table

    def normalize(self, text: str) -> NormalizedText:
        digits = self._digit_table()
        out: list[str] = []
        index: list[int] = []
        for i, ch in enumerate(text):
            if ch in _INVISIBLE:
                continue
            if self.remove_tatweel and ch == TATWEEL:
                continue
            if self.remove_diacritics and _is_diacritic(ch):
                continue
            if ch == ZWNJ:
                if self.zwnj == "remove":
                    continue
                if self.zwnj == "space":
                    ch = " "
                elif (out and out[-1] in (ZWNJ, " ")) or (i + 1 < len(text) and text[i + 1].isspace()) or not out:
                    continue  # doubled, or next to a space: carries nothing
            elif self.unify_spaces and ch != "\n" and ch.isspace():
                ch = " "
            elif self.arabic_letters and ch in ARABIC_TO_PERSIAN_LETTERS:
                ch = ARABIC_TO_PERSIAN_LETTERS[ch]
            elif ch in digits:
                ch = digits[ch]
            elif _is_surrogate(ch):
                ch = REPLACEMENT  # a lone surrogate cannot reach the (Rust) tokenizer; the caller's text keeps it
            out.append(ch)
            index.append(i)
        return NormalizedText("".join(out), tuple(index), len(text))

    def __call__(self, text: str) -> str:
        return self.normalize(text).text
