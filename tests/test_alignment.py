import pytest

from ner.data.normalize import Normalizer
from ner.models.alignment import IGNORE_INDEX, SubwordAligner, plan_windows


@pytest.mark.parametrize("lengths,budget,overlap", [
    ([1] * 50, 8, 0), ([1] * 50, 8, 3), ([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5] * 4, 10, 4), ([20, 1, 1], 5, 2), ([2], 5, 2),
])
def test_windows_cover_every_word_and_each_is_kept_exactly_once(lengths, budget, overlap):
    wins = plan_windows(lengths, budget, overlap)
    kept = [w for win in wins for w in range(win.keep_first, win.keep_end)]
    assert kept == list(range(len(lengths)))
    for win in wins:
        assert win.first <= win.keep_first <= win.keep_end <= win.end
        assert win.end - win.first == 1 or sum(lengths[win.first:win.end]) <= budget
    if overlap == 0:
        assert all(a.end == b.first for a, b in zip(wins, wins[1:]))
    elif set(lengths) == {1}:
        assert all(a.end - b.first == overlap for a, b in zip(wins, wins[1:]))  # shared context


def test_first_subword_carries_the_label(fixture_tokenizer):
    aligner = SubwordAligner(fixture_tokenizer, Normalizer(), max_length=64)
    words = ["شرکت", "شهرک‌های", "صنعتي", "۵۳۰", "زیتون‌های‌بی‌نظیر"]
    [pieces] = aligner.word_pieces([words])
    assert all(len(p) >= 1 for p in pieces)
    assert any(len(p) > 1 for p in pieces)  # the made-up compound is split into subwords
    [feat] = aligner.encode(pieces, labels=[1, 2, 2, 0, 3])
    assert feat["input_ids"][0] == fixture_tokenizer.cls_token_id and feat["input_ids"][-1] == fixture_tokenizer.sep_token_id
    assert [x for x in feat["labels"] if x != IGNORE_INDEX] == [1, 2, 2, 0, 3]
    firsts = [i for i, w in enumerate(feat["word_index"]) if w >= 0]
    assert [feat["labels"][i] for i in firsts] == [1, 2, 2, 0, 3]
    assert len(feat["input_ids"]) == 2 + sum(len(p) for p in pieces)


def test_normalisation_reaches_the_tokenizer(fixture_tokenizer):
    aligner = SubwordAligner(fixture_tokenizer, Normalizer(), max_length=64)
    arabic, persian = aligner.word_pieces([["شركت", "صنعتي"], ["شرکت", "صنعتی"]])
    assert arabic == persian


def test_long_sentence_is_windowed_without_losing_words(fixture_tokenizer):
    aligner = SubwordAligner(fixture_tokenizer, Normalizer(), max_length=12)
    words = ["شرکت", "ملی", "در", "تهران"] * 10
    [pieces] = aligner.word_pieces([words])
    feats = aligner.encode(pieces, labels=list(range(len(words))), overlap=0)
    assert len(feats) > 1 and all(len(f["input_ids"]) <= 12 for f in feats)
    labelled = [x for f in feats for x in f["labels"] if x != IGNORE_INDEX]
    assert labelled == list(range(len(words)))
