import pytest

from ner.data.labels import LabelMap, bio_tags, repair_iob2, split_tag


def test_bio_tags_order_is_stable():
    assert bio_tags(["ORG", "PER"]) == ["O", "B-ORG", "I-ORG", "B-PER", "I-PER"]
    assert len(bio_tags()) == 11


def test_split_tag_accepts_hyphen_and_underscore():
    assert split_tag("B_MON") == ("B", "MON")
    assert split_tag("I-pers") == ("I", "pers")
    with pytest.raises(ValueError):
        split_tag("X-ORG")


def test_repair_orphan_i():
    assert repair_iob2(["O", "I-PER", "I-PER", "I-LOC", "B-LOC", "I-LOC"]) == [
        "O", "B-PER", "I-PER", "B-LOC", "B-LOC", "I-LOC"]


def test_label_map_maps_drops_and_refuses_unknown():
    peyma = LabelMap({"MON": "MONEY", "DAT": "O"})
    assert peyma.map_tag("B_MON") == "B-MONEY"
    assert peyma.map_tag("I-DAT") == "O"
    assert peyma.map_tag("B-ORG") == "B-ORG"
    with pytest.raises(KeyError):
        peyma.map_tag("B-EVENT")
    assert LabelMap({}, unknown="O").map_tag("B-EVENT") == "O"
    with pytest.raises(ValueError, match="not one of"):
        LabelMap({"pers": "PERSON"})
