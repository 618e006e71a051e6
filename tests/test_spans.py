import pytest

from ner.data.documents import AnnotationError, Document, Span
from ner.data.spans import check_spans, spans_to_tags, tags_to_spans
from ner.data.words import split_words

def doc(text, *spans):
    return Document("d1", text, [Span(*s) for s in spans])


def test_round_trip_spans_tags_spans():
    text = "شرکت شهرک‌های صنعتی استان گیلان ۵۳۰ میلیارد تومان داد."
    d = doc(text, (0, 31, "ORG"), (32, 49, "MONEY"))
    words = split_words(text)
    tags = spans_to_tags(d, words)
    assert tags == ["B-ORG", "I-ORG", "I-ORG", "I-ORG", "I-ORG", "B-MONEY", "I-MONEY", "I-MONEY", "O", "O"]
    assert tags_to_spans(words, tags) == d.spans


def test_adjacent_entities_of_the_same_type_stay_apart():
    text = "چای زیتون"
    words = split_words(text)
    spans = tags_to_spans(words, ["B-CLUSTER", "B-CLUSTER"])
    assert spans == [Span(0, 3, "CLUSTER"), Span(4, 9, "CLUSTER")]
    assert tags_to_spans(words, ["I-LOC", "I-ORG"]) == [Span(0, 3, "LOC"), Span(4, 9, "ORG")]


@pytest.mark.parametrize("span,message", [
    ((0, 3, "LOC"), "word boundaries"),            # cuts «گیلانی»
    ((0, 40, "LOC"), "outside the text"),
    ((0, 6, "CITY"), "unknown label"),
    ((7, 11, "LOC"), "punctuation"),
])
def test_bad_spans_are_reported_with_document_and_offsets(span, message):
    d = doc("گیلانی «رشت»", span)
    errors = check_spans(d)
    assert errors and message in str(errors[0])
    assert "'d1'" in str(errors[0]) and f"[{span[0]}:{span[1]}]" in str(errors[0])


def test_overlap_is_an_error_and_spans_to_tags_raises():
    d = doc("استان گیلان", (0, 11, "LOC"), (6, 11, "LOC"))
    with pytest.raises(AnnotationError, match="overlaps"):
        spans_to_tags(d)


def test_corpus_style_quotes_inside_names_are_allowed_outside_our_guidelines():
    d = doc("شرکت « اپل »", (0, 12, "ORG"))
    assert check_spans(d, punctuation_edges=False) == []
    assert check_spans(d)  # our guidelines: punctuation stays outside


def test_scoring_a_set_without_any_entity_gives_zeros_not_a_crash():
    from ner.evaluation.scoring import score

    s = score([["O", "O"]], [["O", "O"]], ["ORG"])
    assert s["strict"]["micro"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
