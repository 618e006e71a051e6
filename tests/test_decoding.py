"""Constrained decoding: never a fragment, and the best valid sequence when argmax is invalid."""
import itertools

import numpy as np
import pytest

from ner.data.labels import bio_tags
from ner.models.decoding import decode, is_valid_iob2, viterbi_iob2

LABELS = bio_tags(["ORG", "LOC"])  # O, B-ORG, I-ORG, B-LOC, I-LOC


def _scores(rows):
    return np.log(np.asarray(rows, dtype=float))


def test_an_orphan_inside_tag_is_not_emitted():
    # argmax: O, I-ORG, I-ORG -> repaired into a new entity; Viterbi weighs the alternatives instead
    p = _scores([[0.9, 0.02, 0.04, 0.02, 0.02], [0.3, 0.05, 0.55, 0.05, 0.05], [0.2, 0.05, 0.65, 0.05, 0.05]])
    tags = viterbi_iob2(p, LABELS)
    assert is_valid_iob2(tags)
    assert tags == ["O", "O", "O"] or tags[1] == "B-ORG"
    assert decode(p, LABELS, "argmax") == ["O", "B-ORG", "I-ORG"]  # the old behaviour, for comparison


def test_inside_of_another_type_is_never_emitted():
    p = _scores([[0.01, 0.9, 0.03, 0.03, 0.03], [0.01, 0.02, 0.02, 0.05, 0.9]])  # B-ORG then I-LOC
    tags = viterbi_iob2(p, LABELS)
    assert is_valid_iob2(tags) and tags[1] != "I-LOC"


def test_viterbi_is_the_best_valid_sequence_by_exhaustive_search():
    rng = np.random.default_rng(0)
    for _ in range(30):
        p = np.log(rng.dirichlet(np.ones(len(LABELS)), size=4))
        best = max((seq for seq in itertools.product(range(len(LABELS)), repeat=4)
                    if is_valid_iob2([LABELS[i] for i in seq])),
                   key=lambda seq: sum(p[t, i] for t, i in enumerate(seq)))
        assert viterbi_iob2(p, LABELS) == [LABELS[i] for i in best]


def test_valid_argmax_is_left_alone_and_bad_input_is_refused():
    p = _scores([[0.1, 0.8, 0.05, 0.03, 0.02], [0.1, 0.05, 0.8, 0.03, 0.02], [0.9, 0.02, 0.04, 0.02, 0.02]])
    assert viterbi_iob2(p, LABELS) == ["B-ORG", "I-ORG", "O"]
    assert viterbi_iob2(np.zeros((0, 5)), LABELS) == []
    with pytest.raises(ValueError, match="score matrix"):
        viterbi_iob2(np.zeros((3, 4)), LABELS)
    with pytest.raises(ValueError, match="decoding must be"):
        decode(p, LABELS, "beam")
