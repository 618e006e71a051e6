"""Type checks of the texts handed to the public API (``NerPredictor``), before any library sees them.

Without them, ``bytes`` fail deep inside word splitting (``'int' object has no attribute 'isspace'``) and ``None``
or a nested list inside the tokenizer; the caller gets a ``TypeError`` that names the position and the fix instead.
"""
from __future__ import annotations

from collections.abc import Iterable


def _what(value) -> str:
    return type(value).__name__


def check_text(text, where: str = "text") -> str:
    """``text`` itself if it is a ``str`` (any content: lone surrogates and control characters included)."""
    if isinstance(text, str):
        return text
    hint = "; decode it first, e.g. data.decode('utf-8')" if isinstance(text, (bytes, bytearray, memoryview)) else ""
    raise TypeError(f"{where}: expected str, got {_what(text)}{hint}")


def check_texts(texts, where: str = "texts") -> list[str]:
    """``texts`` as a list after checking that it is a collection of ``str`` (a bare ``str`` is refused: it
    would be tagged character by character)."""
    if isinstance(texts, str):
        raise TypeError(f"{where}: expected a list of str, got a single str; pass [text], or call the predictor "
                        "directly for one text")
    if isinstance(texts, (bytes, bytearray, memoryview)):
        raise TypeError(f"{where}: expected a list of str, got {_what(texts)}; decode it first, e.g. "
                        "[data.decode('utf-8')]")
    if not isinstance(texts, Iterable) or isinstance(texts, dict):
        raise TypeError(f"{where}: expected a list of str, got {_what(texts)}")
    texts = list(texts)
    for i, t in enumerate(texts):
        check_text(t, f"{where}[{i}]")
    return texts
