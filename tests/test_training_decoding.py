"""Model selection decodes dev predictions like the predictor (ner.models.decoding), not by argmax per subword."""
import json

import numpy as np
import pytest
from transformers import EvalPrediction

from ner.data.labels import bio_tags
from ner.models.alignment import IGNORE_INDEX
from ner.training.finetune import strict_f1_metric

LABELS = bio_tags(["ORG", "LOC"])  # O, B-ORG, I-ORG, B-LOC, I-LOC
ID2LABEL = dict(enumerate(LABELS))
X = IGNORE_INDEX


def logits(rows):
    """Rows of per-label probabilities -> logits (log-probabilities are logits up to a constant)."""
    return np.log(np.asarray(rows, dtype=np.float64))


def test_an_orphan_inside_tag_is_decoded_into_a_valid_entity():
    # Window: [CLS] w0 w1 w2 [SEP]; gold O B-ORG O. Argmax says I-ORG for w1 (an orphan that strict seqeval drops),
    # with B-ORG a close second: Viterbi picks B-ORG, as the predictor will.
    probs = [[.2] * 5, [.9, .02, .04, .02, .02], [.1, .4, .45, .03, .02], [.9, .02, .04, .02, .02], [.2] * 5]
    labels = np.array([[X, 0, 1, 0, X]])
    pred = EvalPrediction(predictions=logits([probs]), label_ids=labels)
    assert strict_f1_metric(ID2LABEL, "viterbi")(pred)["f1_strict"] == 1.0
    # argmax then repair_iob2 (the predictor's "argmax" decoding) turns the orphan into B-ORG as well
    assert strict_f1_metric(ID2LABEL, "argmax")(pred)["f1_strict"] == 1.0
    # what plain argmax (the earlier metric) scored: the orphan I-ORG is no entity in strict mode
    from seqeval.metrics import f1_score
    from seqeval.scheme import IOB2

    raw = [[LABELS[i] for i in np.asarray(probs)[1:4].argmax(axis=1)]]
    assert f1_score([["O", "B-ORG", "O"]], raw, mode="strict", scheme=IOB2) == 0.0


def test_the_windows_of_one_sentence_are_decoded_together():
    # A sentence of two words cut into two windows: B-ORG | I-ORG. Decoded per window, the second window would
    # have to start a new entity; decoded as one sentence it continues the first.
    w1 = [[.2] * 5, [.05, .8, .05, .05, .05], [.2] * 5]
    w2 = [[.2] * 5, [.05, .4, .45, .05, .05], [.2] * 5]
    labels = np.array([[X, 1, X], [X, 2, X]])
    pred = EvalPrediction(predictions=logits([w1, w2]), label_ids=labels)
    assert strict_f1_metric(ID2LABEL, "viterbi", sentence_ids=[0, 0])(pred)["f1_strict"] == 1.0
    separate = strict_f1_metric(ID2LABEL, "viterbi", sentence_ids=[0, 1])(pred)
    assert separate["f1_strict"] < 1.0


def test_a_bad_decoding_name_is_refused():
    with pytest.raises(ValueError, match="decoding must be one of"):
        strict_f1_metric(ID2LABEL, "beam")


def test_the_run_records_its_decoding_for_the_predictor(trained_run):
    run_dir, out = trained_run
    assert json.loads((run_dir / "model" / "ner_config.json").read_text())["decoding"] == "viterbi"
    assert out["summary"]["decoding"] == "viterbi"
