"""Predictor behaviour with a model whose output depends only on each token: the windowing, batching and
offset logic can then be checked exactly."""
from types import SimpleNamespace

import pytest
import torch

from ner.data.labels import bio_tags
from ner.data.normalize import Normalizer
from ner.predictor import NerPredictor

TAGS = bio_tags()
ID = {t: i for i, t in enumerate(TAGS)}


class LookupModel(torch.nn.Module):
    """logits[token] = a fixed row per token id: B-ORG for «بانک», I-ORG for «ملی», B-LOC for «تهران»."""

    def __init__(self, tokenizer, rules):
        super().__init__()
        self.config = SimpleNamespace(id2label=dict(enumerate(TAGS)), max_position_embeddings=512)
        table = torch.zeros(len(tokenizer), len(TAGS))
        table[:, ID["O"]] = 1.0
        for word, tag in rules.items():
            first_piece = tokenizer(word, add_special_tokens=False)["input_ids"][0]
            table[first_piece, ID[tag]] = 5.0
        self.table = torch.nn.Parameter(table, requires_grad=False)

    def forward(self, input_ids, attention_mask=None):
        return SimpleNamespace(logits=self.table[input_ids])


@pytest.fixture
def make_predictor(fixture_tokenizer):
    model = LookupModel(fixture_tokenizer, {"بانک": "B-ORG", "ملی": "I-ORG", "تهران": "B-LOC"})

    def make(max_length=512, overlap=4):
        return NerPredictor(model, fixture_tokenizer, Normalizer(), max_length=max_length, overlap=overlap,
                            device="cpu")
    return make


EDGE_CASES = [
    "بانك ملي در تهران",                          # Arabic kaf and yeh
    "  بانک   ملی\u200c در\t\tتهران\u200c  ",      # odd spacing, ZWNJ at word edges
    "۵۳۰ میلیارد 530 بانک ملی 😀👍🏽 تهران!",      # digits and emoji
    "\u200fبانکِ ملّی\u200e در «تهران»؟",          # RLM/LRM marks, diacritics, quotes
    "",
    "بانک",
]


@pytest.mark.parametrize("text", EDGE_CASES)
def test_entity_text_is_a_slice_of_the_input(make_predictor, text):
    ents = make_predictor()(text)
    for e in ents:
        assert e.text == text[e.start:e.end]
        assert 0 < e.score <= 1
    expected = {"ORG": text.count("بان"), "LOC": text.count("تهران")}
    assert {"ORG": sum(e.label == "ORG" for e in ents), "LOC": sum(e.label == "LOC" for e in ents)} == expected


def test_arabic_spelling_gives_the_same_entities_at_original_offsets(make_predictor):
    [e1, e2] = make_predictor()("بانك ملي در تهران")
    assert (e1.label, e1.text, e1.start, e1.end) == ("ORG", "بانك ملي", 0, 8)
    assert (e2.label, e2.text) == ("LOC", "تهران")


@pytest.mark.parametrize("max_length,overlap", [(12, 0), (12, 4), (16, 6), (9, 3)])
def test_sliding_windows_lose_no_entity_at_window_edges(make_predictor, max_length, overlap):
    text = " ".join(["بانک ملی در تهران و"] * 30)  # one long sentence, no sentence break
    full = make_predictor()(text)
    windowed = make_predictor(max_length=max_length, overlap=overlap)(text)
    assert len(full) == 60
    assert [(e.start, e.end, e.label) for e in windowed] == [(e.start, e.end, e.label) for e in full]


def test_batching_and_length_sorting_keep_documents_in_order(make_predictor):
    texts = ["تهران", "بانک ملی " * 20, "", "در تهران بانک ملی"]
    p = make_predictor()
    batched = p.predict(texts, batch_size=2)
    assert batched == [p(t) for t in texts]
    with pytest.raises(TypeError):
        p.predict("تهران")
