import json

import pytest

from ner.data.documents import AnnotationError, Document, Span
from ner.data.io import (read_conll, read_doccano, read_documents, read_jsonl, read_label_studio, write_conll,
                         write_jsonl)
from ner.data.io.common import atomic_write
from ner.data.labels import LabelMap


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_jsonl_round_trip_keeps_extra_fields(tmp_path):
    docs = [Document("a", "بانک ملی در تهران", [Span(0, 8, "ORG"), Span(12, 17, "LOC")], {"province": "tehran"})]
    write_jsonl(docs, tmp_path / "x.jsonl")
    back = read_jsonl(tmp_path / "x.jsonl")
    assert back[0].to_json() == docs[0].to_json()
    assert back[0].meta == {"province": "tehran"}


def test_jsonl_reports_every_bad_line_with_its_number(tmp_path):
    lines = [
        json.dumps({"id": "ok", "text": "تهران", "entities": [{"start": 0, "end": 5, "label": "LOC"}]}),
        "{not json",
        json.dumps({"id": "b", "text": "تهران", "entities": [{"start": 0, "end": 3, "label": "LOC"}]}),
        json.dumps({"id": "ok", "text": "تهران"}),
        json.dumps({"id": "c", "text": "  "}),
        json.dumps({"id": "d", "text": "تهران", "entities": [{"start": 0, "end": 5, "label": "CITY"}]}),
    ]
    p = write(tmp_path, "bad.jsonl", "\n".join(lines) + "\n")
    with pytest.raises(AnnotationError) as e:
        read_jsonl(p)
    msg = str(e.value)
    assert "5 problem(s)" in msg
    for needle in ("bad.jsonl:2: invalid JSON", "bad.jsonl:3 document 'b' [0:3]", "word boundaries",
                   "bad.jsonl:4 document 'ok': duplicate id (first on line 1)", "bad.jsonl:5", "unknown label 'CITY'"):
        assert needle in msg


def test_label_map_applies_to_jsonl(tmp_path):
    p = write(tmp_path, "m.jsonl", json.dumps({"id": "a", "text": "علی در تهران", "entities": [
        {"start": 0, "end": 3, "label": "PERSON"}, {"start": 7, "end": 12, "label": "GPE"}]}) + "\n")
    docs = read_jsonl(p, LabelMap({"PERSON": "PER", "GPE": "O"}))
    assert docs[0].spans == [Span(0, 3, "PER")]


@pytest.mark.parametrize("sep,content", [
    ("pipe", "می آورد|O\nبانک|B_ORG\nملی|I_ORG\n||O\n\nتهران|B_LOC\n"),
    ("tab", "می آورد\tO\nبانک\tB-ORG\nملی\tI-ORG\n|\tO\n\nتهران\tB-LOC\n"),
])
def test_conll_separators_tokens_with_spaces_and_underscore_tags(tmp_path, sep, content):
    p = write(tmp_path, f"c_{sep}.txt", content)
    docs = read_conll(p)
    assert [d.text for d in docs] == ["می آورد بانک ملی |", "تهران"]
    assert [w.text for w in docs[0].words] == ["می آورد", "بانک", "ملی", "|"]  # a token is never split
    assert docs[0].spans == [Span(8, 16, "ORG")]
    assert docs[1].spans == [Span(0, 5, "LOC")]


def test_conll_space_separated_with_label_map_and_orphan_repair(tmp_path):
    p = write(tmp_path, "arman.txt", "علی I-pers\nدر O\nمیدان B-fac\nآزادی I-fac\n\n")
    docs = read_conll(p, LabelMap({"pers": "PER", "fac": "O"}))
    assert docs[0].spans == [Span(0, 3, "PER")]
    with pytest.raises(AnnotationError, match=r"arman.txt:1 document 'arman:1'.*unknown label 'fac'"):
        read_conll(p, LabelMap({"pers": "PER"}))


def test_conll_bad_lines(tmp_path):
    p = write(tmp_path, "bad.txt", "بانک\tB-ORG\nبدون-برچسب\nملی\tX-ORG\n")
    with pytest.raises(AnnotationError) as e:
        read_conll(p, sep="tab")
    assert "bad.txt:2" in str(e.value) and "bad.txt:3: not an IOB tag: 'X-ORG'" in str(e.value)


def test_conll_writer_round_trip(tmp_path):
    docs = [Document("a", "بانک ملی در تهران", [Span(0, 8, "ORG"), Span(12, 17, "LOC")])]
    write_conll(docs, tmp_path / "o.tsv")
    back = read_conll(tmp_path / "o.tsv")
    assert back[0].text == docs[0].text and back[0].spans == docs[0].spans


def test_doccano_both_export_shapes(tmp_path):
    old = json.dumps({"id": 7, "text": "بانک ملی", "label": [[0, 8, "ORG"]]})
    new = json.dumps({"id": 8, "text": "بانک ملی", "entities": [{"start_offset": 0, "end_offset": 4, "label": "ORG"}]})
    docs = read_doccano(write(tmp_path, "d.jsonl", old + "\n" + new + "\n"))
    assert docs[0].id == "7" and docs[0].spans == [Span(0, 8, "ORG")]
    assert docs[1].spans == [Span(0, 4, "ORG")]


def test_label_studio_export(tmp_path):
    tasks = [{"id": 1, "data": {"text": "خوشه صنعتی چای در رشت"}, "annotations": [
        {"was_cancelled": True, "result": []},
        {"result": [{"type": "labels", "value": {"start": 0, "end": 14, "text": "خوشه صنعتی چای", "labels": ["CLUSTER"]}},
                    {"type": "labels", "value": {"start": 18, "end": 21, "labels": ["LOC"]}}]}]},
             {"id": 2, "data": {"text": "متن"}, "annotations": []}]
    p = write(tmp_path, "ls.json", json.dumps(tasks, ensure_ascii=False))
    with pytest.raises(AnnotationError, match="document '2'.*no \\(non-cancelled\\) annotation"):
        read_label_studio(p)
    docs = read_label_studio(write(tmp_path, "ls1.json", json.dumps(tasks[:1], ensure_ascii=False)))
    assert docs[0].spans == [Span(0, 14, "CLUSTER"), Span(18, 21, "LOC")]


def test_read_documents_dispatch_and_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.jsonl"):
        read_documents(tmp_path / "nope.jsonl")
    with pytest.raises(ValueError, match="unknown data format"):
        read_documents(tmp_path, format="xml")


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.jsonl"
    with pytest.raises(RuntimeError):
        with atomic_write(target) as f:
            f.write("half")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_makes_an_ordinary_readable_file(tmp_path):
    import os
    import stat

    with atomic_write(tmp_path / "r.html") as f:
        f.write("x")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((tmp_path / "r.html").stat().st_mode) == 0o666 & ~umask
