"""Dataset configs: label maps, per-corpus scoring, mixed loading; the public corpora when present."""
import pytest

from conftest import compose, needs_shared
from ner.data.datasets import annotated_types, label_map_from_config, load_corpora, load_splits
from ner.evaluation.scoring import score


@pytest.mark.parametrize("name,source,expected", [
    ("peyma", "B_MON", "B-MONEY"), ("peyma", "I_DAT", "O"), ("peyma", "B_PCT", "O"), ("peyma", "I_TIM", "O"),
    ("arman", "B-pers", "B-PER"), ("arman", "I-org", "I-ORG"), ("arman", "B-fac", "O"), ("arman", "B-event", "O"),
    ("arman", "B-pro", "O"), ("parstwiner", "B-PER", "B-PER"), ("parstwiner", "B-POG", "O"),
    ("parstwiner", "I-NAT", "O"), ("parstwiner", "B-EVE", "O"),
])
def test_corpus_label_maps(name, source, expected):
    cfg = compose("config", [f"data={name}"]).data
    assert label_map_from_config(cfg).map_tag(source) == expected


def test_what_each_corpus_annotates():
    assert annotated_types(compose("config", ["data=peyma"]).data) == ["ORG", "PER", "LOC", "MONEY"]
    assert annotated_types(compose("config", ["data=arman"]).data) == ["ORG", "PER", "LOC"]
    assert annotated_types(compose("config", ["data=mixed"]).data) == ["ORG", "PER", "LOC", "MONEY", "CLUSTER"]
    mixed = compose("config", ["data=mixed", "data.components.annotations=null"]).data
    assert annotated_types(mixed) == ["ORG", "PER", "LOC", "MONEY"]


def test_scoring_a_corpus_only_on_the_types_it_annotates():
    gold = [["B-ORG", "O", "O", "B-LOC"]]
    pred = [["B-ORG", "B-CLUSTER", "I-CLUSTER", "B-LOC"]]  # CLUSTER: the corpus cannot say it is wrong
    assert score(gold, pred, ["ORG", "PER", "LOC"])["strict"]["micro"]["precision"] == 1.0
    assert score(gold, pred, ["ORG", "PER", "LOC", "CLUSTER"])["strict"]["micro"]["precision"] == pytest.approx(2 / 3)


def test_mixed_fixture_corpora_load_with_their_own_label_maps():
    corpora = load_corpora(compose("config", ["data=mixed_fixtures"]).data)
    conll = corpora["fixtures_conll"]["train"]
    assert {s.label for d in conll for s in d.spans} == {"ORG", "PER", "LOC"}  # fac -> O, no MONEY
    assert conll[0].meta["annotates"] == ["ORG", "PER", "LOC"]
    assert corpora["fixtures"]["train"][0].meta["annotates"] == ["ORG", "PER", "LOC", "MONEY", "CLUSTER"]


@needs_shared("corpora", "peyma")
def test_peyma_reads_as_documented_in_its_provenance():
    splits = load_splits(compose("config", ["data=peyma"]).data)
    dev = splits["dev"]
    assert len(dev) == 925 and len(splits["train"]) == 8028
    counts = {}
    for d in dev:
        for s in d.spans:
            counts[s.label] = counts.get(s.label, 0) + 1
    assert counts == {"ORG": 653, "LOC": 632, "PER": 370, "MONEY": 49}
    assert any(" " in w.text for d in dev for w in d.words)  # tokens with spaces are kept whole


@needs_shared("corpora", "arman")
def test_arman_fold_is_one_view_and_dev_is_carved_from_train():
    splits = load_splits(compose("config", ["data=arman", "data.fold=1"]).data)
    assert len(splits["train"]) + len(splits["dev"]) == 5121 and len(splits["test"]) == 2560
    counts = {}
    for d in splits["test"]:
        for s in d.spans:
            counts[s.label] = counts.get(s.label, 0) + 1
    assert counts == {"ORG": 1466, "LOC": 1142, "PER": 1110}
