import pytest

from ner.data.corpus.build import out_of_sync
from ner.data.corpus.markup import compile_markup, render_markup
from ner.data.documents import AnnotationError, Span

from conftest import FIXTURES


def test_compile_gives_offsets_into_the_plain_text(tmp_path):
    p = tmp_path / "gilan.txt"
    p.write_text("@doc g-1\nعنوان [[LOC|رشت]]\n\nبه گزارش [[ORG|ایرنا]]، [[MONEY|۵ میلیارد تومان]].\n", encoding="utf-8")
    [doc] = compile_markup(p)
    assert doc.text == "عنوان رشت\n\nبه گزارش ایرنا، ۵ میلیارد تومان."
    assert [doc.span_text(s) for s in doc.spans] == ["رشت", "ایرنا", "۵ میلیارد تومان"]
    assert doc.meta["province"] == "gilan" and doc.meta["line"] == 2
    assert compile_markup_roundtrip(tmp_path, doc)


def compile_markup_roundtrip(tmp_path, doc):
    q = tmp_path / "again.txt"
    q.write_text(render_markup([doc]), encoding="utf-8")
    [back] = compile_markup(q)
    return back.text == doc.text and back.spans == doc.spans


@pytest.mark.parametrize("body,message", [
    ("متن [[LOC|رشت] ادامه", "line 2|:2"),
    ("متن [[LOC| رشت]]", "whitespace at its edge"),
    ("", "no text"),
])
def test_markup_errors_name_file_and_line(tmp_path, body, message):
    p = tmp_path / "x.txt"
    p.write_text(f"@doc x-1\n{body}\n", encoding="utf-8")
    with pytest.raises(AnnotationError) as e:
        compile_markup(p)
    assert "x.txt" in str(e.value)
    assert any(m in str(e.value) for m in message.split("|"))


def test_text_before_first_header_is_an_error(tmp_path):
    p = tmp_path / "x.txt"
    p.write_text("orphan\n@doc a\nمتن\n", encoding="utf-8")
    with pytest.raises(AnnotationError, match="x.txt:1"):
        compile_markup(p)


def test_fixture_jsonl_is_in_sync_with_its_source():
    assert out_of_sync(FIXTURES, FIXTURES, FIXTURES / "splits.yaml") == []


def test_out_of_sync_is_detected(tmp_path):
    import shutil

    for name in ("source.txt", "splits.yaml", "train.jsonl", "dev.jsonl", "test.jsonl"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    src = (tmp_path / "source.txt").read_text(encoding="utf-8")
    (tmp_path / "source.txt").write_text(src.replace("[[LOC|رشت]]", "رشت", 1), encoding="utf-8")
    problems = out_of_sync(tmp_path, tmp_path, tmp_path / "splits.yaml")
    assert len(problems) == 1 and "train.jsonl differs" in problems[0]
    assert Span  # imported for readers of this test: spans are compared whole
