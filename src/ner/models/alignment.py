"""Word <-> subword alignment: first-subword labelling and windows over long sentences.

Documents are cut into sentences (``ner.data.words.split_sentences``); a sentence longer than the model's window
is cut into windows of whole words. Training uses non-overlapping windows; prediction uses overlapping ones
and takes each word's prediction from the window in which it sits farthest from an edge, so an entity on a
window edge is still seen with context on both sides. Only the first subword of a word carries its label.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ner.data.normalize import Normalizer

IGNORE_INDEX = -100


@dataclass(frozen=True)
class Window:
    first: int       # first word in the window
    end: int         # one past the last word
    keep_first: int  # words in [keep_first, keep_end) take their prediction from this window
    keep_end: int


def plan_windows(lengths: Sequence[int], budget: int, overlap: int = 0) -> list[Window]:
    """Cover words with subword ``lengths`` by windows of at most ``budget`` subwords.

    Consecutive windows share about ``overlap`` subwords. A single word longer than the budget gets a
    window of its own (its subwords are truncated when encoded; its label sits on the first one).
    """
    if budget < 1:
        raise ValueError("window budget must be at least one subword")
    n = len(lengths)
    spans: list[tuple[int, int]] = []
    start = 0
    while start < n:
        end, total = start, 0
        while end < n and total + lengths[end] <= budget:
            total += lengths[end]
            end += 1
        end = max(end, start + 1)
        spans.append((start, end))
        if end >= n:
            break
        nxt, acc = end, 0
        while overlap and nxt > start + 1 and acc + lengths[nxt - 1] <= overlap:
            nxt -= 1
            acc += lengths[nxt]
        start = nxt
    windows = []
    for k, (a, b) in enumerate(spans):
        keep_a = 0 if k == 0 else (a + spans[k - 1][1]) // 2
        keep_b = n if k == len(spans) - 1 else (spans[k + 1][0] + b) // 2
        windows.append(Window(a, b, keep_a, keep_b))
    return windows


class SubwordAligner:
    """Turns lists of words into model inputs, remembering which position is the first subword of which word.

    ``normalizer`` runs on every word before the tokenizer sees it — the same at training and prediction.
    """

    def __init__(self, tokenizer, normalizer: Normalizer, max_length: int):
        self.tokenizer = tokenizer
        self.normalizer = normalizer
        self.max_length = max_length
        self.budget = max_length - tokenizer.num_special_tokens_to_add(pair=False)
        if self.budget < 2:
            raise ValueError(f"max_length={max_length} leaves no room for words")

    def word_pieces(self, sentences: Sequence[Sequence[str]]) -> list[list[list[int]]]:
        """Subword ids of every word of every sentence (one tokenizer call for all of them)."""
        seen: dict[str, str] = {}  # news repeats its words: normalise each distinct word once per call

        def norm(w: str) -> str:
            if w not in seen:
                seen[w] = self.normalizer(w) or self.tokenizer.unk_token
            return seen[w]

        normed = [[norm(w) for w in sent] for sent in sentences]
        if not normed:
            return []
        unk = self.tokenizer.unk_token_id
        if not getattr(self.tokenizer, "is_fast", True):
            return self._word_pieces_one_by_one(normed, unk)
        enc = self.tokenizer(normed, is_split_into_words=True, add_special_tokens=False)
        out = []
        for b, sent in enumerate(normed):
            pieces: list[list[int]] = [[] for _ in sent]
            for tok_id, w in zip(enc["input_ids"][b], enc.word_ids(b)):
                if w is not None:
                    pieces[w].append(tok_id)
            out.append([p or [unk] for p in pieces])  # a word the tokenizer erased still needs a position
        return out

    def _word_pieces_one_by_one(self, normed: list[list[str]], unk: int) -> list[list[list[int]]]:
        """A Python tokenizer (e.g. transformers 5's ``BertTokenizerLegacy``, which a folder saved with it names)
        has no ``word_ids()``: tokenise each distinct word on its own instead (the same pieces for BERT's
        WordPiece, whose basic tokenizer splits on words first)."""
        distinct = list(dict.fromkeys(w for sent in normed for w in sent))
        ids = self.tokenizer(distinct, add_special_tokens=False)["input_ids"]
        pieces = {w: (p or [unk]) for w, p in zip(distinct, ids)}
        return [[list(pieces[w]) for w in sent] for sent in normed]

    def encode(self, pieces: Sequence[list[int]], labels: Sequence[int] | None = None,
               overlap: int = 0, masks: Sequence[int] | None = None) -> list[dict]:
        """Features for one sentence: ``input_ids``, ``word_index`` (word at each first subword, else -1,
        and -1 outside the window's keep range) and, given word ``labels``, first-subword ``labels``;
        given ``masks`` (allowed-tag bit masks per word, see ``ner.models.losses``), a first-subword ``label_mask``."""
        feats = []
        cls, sep = self.tokenizer.cls_token_id, self.tokenizer.sep_token_id
        for win in plan_windows([min(len(p), self.budget) for p in pieces], self.budget, overlap):
            ids, word_index, lab, msk = [cls], [-1], [IGNORE_INDEX], [0]
            for w in range(win.first, win.end):
                p = pieces[w][:self.budget]
                ids += p
                keep = win.keep_first <= w < win.keep_end
                word_index += [w if keep else -1] + [-1] * (len(p) - 1)
                if labels is not None:
                    lab += [labels[w] if keep else IGNORE_INDEX] + [IGNORE_INDEX] * (len(p) - 1)
                if masks is not None:
                    msk += [masks[w] if keep else 0] + [0] * (len(p) - 1)
            ids.append(sep)
            word_index.append(-1)
            lab.append(IGNORE_INDEX)
            msk.append(0)
            feat = {"input_ids": ids, "word_index": word_index}
            if labels is not None:
                feat["labels"] = lab
            if masks is not None:
                feat["label_mask"] = msk
            feats.append(feat)
        return feats
