"""Property tests (hypothesis): invariants that must hold for *any* text, not just the examples we thought of.

- predictor entities are exact slices of the caller's text and never overlap, for any Unicode (Persian letters,
  ZWNJ, Arabic ي/ك, three digit scripts, diacritics, tatweel, presentation forms, emoji, lone surrogates);
- word splitting covers the text exactly; normalisation keeps a monotone, exact map back to the original;
- spans -> IOB2 -> spans round-trips for any valid span set, and IOB2 -> spans -> IOB2 for any valid tag sequence.

The predictor runs a stub model with fixed random logits per subword (many entities, fragments included), so the
whole offset, window and decoding path is exercised in milliseconds per example.
"""
import unicodedata
from types import SimpleNamespace

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ner.data.documents import Document, Span
from ner.data.labels import ENTITY_TYPES, bio_tags, repair_iob2
from ner.data.normalize import ARABIC_TO_PERSIAN_LETTERS, TATWEEL, ZWNJ, Normalizer
from ner.data.spans import spans_to_tags, tags_to_spans
from ner.data.words import SEP, char_class, split_words

TAGS = bio_tags()
WORDS = ["بانک", "ملی", "تهران", "شرکت", "شهرک‌های", "صنعتی", "خوشه", "چای", "گیلان", "میلیارد", "تومان", "بانك",
         "ملي", "۵۳۰", "٥٣٠", "530", "۱۴۰۲/۰۵/۱۰", "ﺑﺎﻧﮏ", "ﷲ", "😀", "👍🏽", "«تهران»", "ـــتهران", "مُحَمَّد"]
SPECIAL = (
    "\u200c\u200d"                          # ZWNJ, ZWJ
    "يكىەۃۀآأإؤئء"                           # Arabic letters and hamza forms
    "۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩0123456789"         # three digit scripts
    "\u064b\u064e\u0650\u0651\u0652\u0670ـ"  # diacritics, superscript alef, tatweel
    "ﭖﭗﮐﻻﷲﷺﹰﹱﺑﺎﻧﮏ\ufeff"                    # presentation forms A and B (U+FB50-U+FDFF, U+FE70-U+FEFF)
    ".،؛؟!«»/:٫٬ \n\t\r\u00a0\u200b\u200e\u200f\u2028\x00\x07"
    "😀👍🏽\U0001f3fd\ufe0f\u20e3"               # emoji, skin tone, variation selector, keycap
    "\ud800\udbff\udc00\udfff"              # lone surrogates
)
chars = st.one_of(st.sampled_from(SPECIAL), st.characters())
texts = st.lists(st.one_of(st.sampled_from(WORDS), st.text(chars, min_size=1, max_size=4)), max_size=30).flatmap(
    lambda parts: st.lists(st.sampled_from([" ", "", "\u200c", "\n", "  ", "\ud800", "، "]), min_size=len(parts),
                           max_size=len(parts)).map(lambda seps: "".join(p + s for p, s in zip(parts, seps))))
HEALTH = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]


class RandomLogitModel(torch.nn.Module):
    """Fixed random logits per subword id: any IOB2 tag, with any confidence, anywhere."""

    def __init__(self, vocab_size: int):
        super().__init__()
        self.config = SimpleNamespace(id2label=dict(enumerate(TAGS)), max_position_embeddings=512)
        gen = torch.Generator().manual_seed(0)
        self.table = torch.nn.Parameter(torch.randn(vocab_size, len(TAGS), generator=gen) * 3, requires_grad=False)

    def forward(self, input_ids, attention_mask=None):
        return SimpleNamespace(logits=self.table[input_ids])


@pytest.fixture(scope="module")
def predictors(fixture_tokenizer):
    from ner.predictor import NerPredictor

    model = RandomLogitModel(len(fixture_tokenizer))
    # a short window forces overlapping windows over most texts; "argmax" keeps repaired fragments in play
    return [NerPredictor(model, fixture_tokenizer, Normalizer(), max_length=12, overlap=4, device="cpu",
                         decoding=decoding) for decoding in ("viterbi", "argmax")]


def test_the_stub_model_tags_plenty(predictors):
    """The properties below mean something only if entities (and would-be fragments) are frequent."""
    text = " ".join(WORDS * 3)
    for predictor in predictors:
        assert len(predictor(text)) > 10


@settings(max_examples=200, deadline=None, suppress_health_check=HEALTH)
@given(text=texts)
def test_predictor_entities_are_exact_non_overlapping_slices(predictors, text):
    for predictor in predictors:
        entities = predictor(text)
        for e in entities:
            assert text[e.start:e.end] == e.text
            assert 0 <= e.start < e.end <= len(text) and e.label in ENTITY_TYPES and 0 < e.score <= 1
            assert not any("\ud800" <= ch <= "\udfff" for ch in e.text)  # a lone surrogate is never in an entity
            assert char_class(text, e.start) != SEP and char_class(text, e.end - 1) != SEP
        assert all(a.end <= b.start for a, b in zip(entities, entities[1:]))


@settings(max_examples=30, deadline=None, suppress_health_check=HEALTH)
@given(batch=st.lists(texts, min_size=1, max_size=4))
def test_predictor_batches_give_the_same_entities_as_single_calls(predictors, batch):
    predictor = predictors[0]
    assert predictor.predict(batch, batch_size=2) == [predictor(t) for t in batch]


@settings(max_examples=300, deadline=None)
@given(text=texts)
def test_words_cover_the_text_exactly(text):
    words = split_words(text)
    covered = set()
    for w in words:
        assert text[w.start:w.end] == w.text and w.start < w.end
        assert w.text[0] not in "\u200c\u200d" and w.text[-1] not in "\u200c\u200d"
        covered.update(range(w.start, w.end))
    assert all(a.end <= b.start for a, b in zip(words, words[1:]))
    for i, ch in enumerate(text):  # nothing but separators and edge joiners is left out: no silent drop
        assert i in covered or char_class(text, i) == SEP or ch in "\u200c\u200d"


normalizers = st.builds(Normalizer, arabic_letters=st.booleans(), digits=st.sampled_from(["persian", "latin", "keep"]),
                        remove_diacritics=st.booleans(), remove_tatweel=st.booleans(),
                        zwnj=st.sampled_from(["keep", "space", "remove"]), unify_spaces=st.booleans())
DIGITS = ["۰۱۲۳۴۵۶۷۸۹", "٠١٢٣٤٥٦٧٨٩", "0123456789"]
DROPPABLE = {"\u200b", "\u200e", "\u200f", "\ufeff", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066",
             "\u2067", "\u2068", "\u2069", "\u00ad", TATWEEL, ZWNJ}


def allowed_output(original: str, out: str) -> bool:
    if out == original:
        return True
    if ARABIC_TO_PERSIAN_LETTERS.get(original) == out or (original.isspace() and out == " "):
        return True
    if original == ZWNJ and out == " ":
        return True
    if "\ud800" <= original <= "\udfff" and out == "\ufffd":
        return True
    return any(original in a and out in b and a.index(original) == b.index(out) for a in DIGITS for b in DIGITS)


@settings(max_examples=300, deadline=None)
@given(text=texts, normalizer=normalizers)
def test_normalisation_offset_map_is_monotone_and_exact(text, normalizer):
    n = normalizer.normalize(text)
    assert len(n.index) == len(n.text) and n.original_length == len(text)
    assert all(a < b for a, b in zip(n.index, n.index[1:]))  # strictly increasing: no reordering, no duplication
    assert all(0 <= i < len(text) for i in n.index)
    for out, i in zip(n.text, n.index):
        assert allowed_output(text[i], out), (text[i], out)
    for i in set(range(len(text))) - set(n.index):  # what was dropped may be dropped
        ch = text[i]
        assert ch in DROPPABLE or unicodedata.category(ch) == "Mn", repr(ch)
    assert not any("\ud800" <= ch <= "\udfff" for ch in n.text)  # the tokenizer can encode every output
    n.text.encode("utf-8")
    for s in range(len(n.text)):
        a, b = n.to_original(s, len(n.text))
        assert 0 <= a < b <= len(text)


@st.composite
def documents_with_valid_spans(draw):
    words = draw(st.lists(st.sampled_from(WORDS + ["،", "."]), min_size=1, max_size=25))
    text = draw(st.sampled_from([" ", "  ", "\n"])).join(words)
    parsed = split_words(text)
    cuts = sorted(draw(st.sets(st.integers(0, len(parsed)), max_size=2 * len(parsed))))
    spans = []
    for a, b in zip(cuts[::2], cuts[1::2]):  # disjoint word ranges [a, b)
        if draw(st.booleans()):
            spans.append(Span(parsed[a].start, parsed[b - 1].end, draw(st.sampled_from(ENTITY_TYPES))))
    return Document("p", text, spans), parsed


@settings(max_examples=300, deadline=None)
@given(case=documents_with_valid_spans())
def test_spans_to_iob2_to_spans_round_trips(case):
    doc, words = case
    tags = spans_to_tags(doc, words)
    assert tags_to_spans(words, tags) == sorted(doc.spans)
    assert tags == repair_iob2(tags)  # spans always give valid IOB2


@settings(max_examples=300, deadline=None)
@given(raw=st.lists(st.sampled_from(TAGS), min_size=1, max_size=30))
def test_valid_iob2_to_spans_to_iob2_round_trips(raw):
    tags = repair_iob2(raw)
    text = " ".join(["بانک"] * len(tags))
    words = split_words(text)
    spans = tags_to_spans(words, tags)
    assert spans_to_tags(Document("p", text, spans), words) == tags
