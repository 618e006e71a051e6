"""Predictor behaviour with a model whose output depends only on each token: the windowing, batching and
offset logic can then be checked exactly."""
from types import SimpleNamespace

import pytest
import torch

from ner.data.labels import bio_tags
from ner.data.normalize import Normalizer
from ner.data.words import split_words
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


# ---------------------------------------------------------------------------------------------- decoding

def test_viterbi_never_emits_a_fragment_that_argmax_would(fixture_tokenizer):
    """argmax per word says B-LOC, I-ORG: repaired, that is a one-word ORG fragment; Viterbi picks a valid path."""
    from ner.models.decoding import is_valid_iob2

    model = LookupModel(fixture_tokenizer, {"تهران": "B-LOC", "ملی": "I-ORG"})
    text = "در تهران ملی"
    make = lambda decoding: NerPredictor(model, fixture_tokenizer, device="cpu", decoding=decoding)  # noqa: E731
    argmax = make("argmax")(text)
    assert [(e.label, e.text) for e in argmax] == [("LOC", "تهران"), ("ORG", "ملی")]
    viterbi = make("viterbi")
    assert viterbi.decoding == NerPredictor(model, fixture_tokenizer, device="cpu").decoding == "viterbi"
    assert [(e.label, e.text) for e in viterbi(text)] == [("LOC", "تهران")]
    [(tags, probs)] = viterbi.predict_words([(text, split_words(text))])
    assert tags == ["O", "B-LOC", "O"] and is_valid_iob2(tags)
    assert probs[2] < 0.1  # the probability of the chosen tag (O), not of the argmax I-ORG
    with pytest.raises(ValueError, match="decoding must be one of viterbi, argmax"):
        make("beam")


def test_decoding_is_per_sentence(fixture_tokenizer):
    """An I-ORG opening a sentence does not continue the entity that closed the previous one."""
    model = LookupModel(fixture_tokenizer, {"بانک": "B-ORG", "ملی": "I-ORG"})
    ents = NerPredictor(model, fixture_tokenizer, device="cpu")("بانک ملی.\nملی بانک")
    assert [(e.text, e.label) for e in ents] == [("بانک ملی", "ORG"), ("بانک", "ORG")]


@pytest.fixture
def tiny_model_dir(random_model_dir, tmp_path):
    import shutil

    shutil.copytree(random_model_dir, tmp_path / "model")
    return tmp_path / "model"


def test_decoding_is_saved_and_read_with_the_model(tiny_model_dir):
    import json

    from ner.predictor import NER_CONFIG, save_ner_config

    cfg_path = tiny_model_dir / NER_CONFIG
    assert json.loads(cfg_path.read_text())["decoding"] == "viterbi"
    assert NerPredictor.from_pretrained(tiny_model_dir, device="cpu").decoding == "viterbi"
    save_ner_config(tiny_model_dir, Normalizer(), 24, 6, decoding="argmax")
    assert NerPredictor.from_pretrained(tiny_model_dir, device="cpu").decoding == "argmax"
    cfg = json.loads(cfg_path.read_text())
    del cfg["decoding"]  # a model saved before constrained decoding existed
    cfg_path.write_text(json.dumps(cfg))
    assert NerPredictor.from_pretrained(tiny_model_dir, device="cpu").decoding == "viterbi"
    with pytest.raises(ValueError, match="decoding must be one of"):
        save_ner_config(tiny_model_dir, Normalizer(), 24, 6, decoding="greedy")


# ---------------------------------------------------------------------------------------------- threads

def test_one_predictor_shared_by_threads_gives_the_sequential_entities(tiny_model_dir):
    from concurrent.futures import ThreadPoolExecutor

    p = NerPredictor.from_pretrained(tiny_model_dir, device="cpu", batch_size=4)
    texts = [" ".join(["بانک ملی در تهران و خوشه صنعتی چای"] * k) + "." for k in range(1, 13)]
    expected = [p.predict(texts[k:] + texts[:k]) for k in range(4)]
    assert sum(len(e) for e in expected[0]) > 20  # a random model tags plenty
    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(3):
            got = list(pool.map(lambda k: p.predict(texts[k:] + texts[:k]), range(4)))
            assert got == expected
