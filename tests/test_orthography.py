"""Web-orthography views and augmentation: the text changes, the entities keep covering the same characters."""
import pytest

from ner.data.documents import Document, Span
from ner.data.orthography import VIEWS, augment, render, view
from ner.data.words import ZWNJ

TEXT = f"شرکت شهرک{ZWNJ}های صنعتی استان گیلان {'۵۳۰'} میلیارد تومان وام داد و کارگران می{ZWNJ}گویند"
DOC = Document("d1", TEXT, [Span(0, 19, "ORG"), Span(20, 31, "LOC"), Span(32, 49, "MONEY")])


def test_views_move_every_span_with_the_text():
    assert DOC.span_text(DOC.spans[0]) == f"شرکت شهرک{ZWNJ}های صنعتی"
    expected = {
        "zwnj-space": ["شرکت شهرک های صنعتی", "استان گیلان", "۵۳۰ میلیارد تومان"],
        "zwnj-none": ["شرکت شهرکهای صنعتی", "استان گیلان", "۵۳۰ میلیارد تومان"],
        "arabic-yk": [f"شركت شهرك{ZWNJ}هاي صنعتي", "استان گيلان", "۵۳۰ ميليارد تومان"],
        "latin-digits": [f"شرکت شهرک{ZWNJ}های صنعتی", "استان گیلان", "530 میلیارد تومان"],
        "web": ["شركت شهرك هاي صنعتي", "استان گيلان", "530 ميليارد تومان"],
    }
    for name, spans in expected.items():
        (doc,) = view([DOC], name)
        assert [doc.span_text(s) for s in doc.spans] == spans, name
        assert [s.label for s in doc.spans] == ["ORG", "LOC", "MONEY"] and doc.id == f"d1@{name}"
    assert DOC.text == TEXT  # the original is untouched


def test_affixes_detached_only_splits_affix_joints():
    (doc,) = view([Document("d", f"شهرک{ZWNJ}های خانه{ZWNJ}دار می{ZWNJ}گویند")], "affixes-detached")
    assert doc.text == f"شهرک های خانه{ZWNJ}دار می گویند"


def test_words_are_split_again_after_an_edit():
    from ner.data.words import split_words

    conll = Document("c", TEXT, DOC.spans, words=split_words(TEXT))
    (doc,) = view([conll], "zwnj-space")
    assert doc.words is None and len(doc.get_words()) == len(split_words(TEXT)) + 2


def test_augment_adds_copies_reproducibly_and_keeps_offsets_exact():
    docs = [Document(f"d{i}", TEXT, DOC.spans) for i in range(40)]
    out = augment(docs, 0.5, seed=3)
    copies = [d for d in out if d.id.endswith("@aug")]
    assert out[:40] == docs and 5 < len(copies) < 35
    assert [d.text for d in augment(docs, 0.5, seed=3)] == [d.text for d in out]
    assert {d.text for d in copies} - {TEXT}  # some copies really differ
    for d in copies:
        for s, orig in zip(d.spans, DOC.spans):
            want = DOC.span_text(orig).replace(ZWNJ, "")
            got = d.span_text(s).replace(ZWNJ, "").replace(" ", "")
            table = str.maketrans("يك0123456789", "یک۰۱۲۳۴۵۶۷۸۹")
            assert got.translate(table) == want.replace(" ", ""), (d.text, s)
    assert augment(docs, 0.0) == docs
    with pytest.raises(ValueError, match="probability"):
        augment(docs, 1.5)


def test_unknown_view_is_refused():
    with pytest.raises(ValueError, match="unknown orthography view"):
        view([DOC], "leet")
    assert set(VIEWS) >= {"zwnj-space", "zwnj-none", "web"}
    assert render(DOC, lambda t, i: t[i]) == DOC  # the identity edit changes nothing
