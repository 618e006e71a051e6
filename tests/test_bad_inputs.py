"""A catalogue of bad and odd inputs (issue 15): readers, the predictor, model folders, configs and the scripts.

Each case ends in correct handling or in a clear error that names the file / line / document / key and what is
wrong: never a deep library trace, never a silent drop. Predictor cases share the session's smoke model.
"""
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ner.data.documents import AnnotationError, Document
from ner.data.io import read_conll, read_doccano, read_documents, read_jsonl, read_label_studio
from ner.data.io.text_inputs import read_inputs
from ner.models import hub
from ner.models.hub import ModelLoadError

ROOT = Path(__file__).resolve().parents[1]
TEXT = "بانک ملی در تهران"  # ORG [0:8], LOC [12:17]
ENTS = [{"start": 0, "end": 8, "label": "ORG"}, {"start": 12, "end": 17, "label": "LOC"}]
BOM = "\ufeff".encode()
# Arabic presentation forms (U+FB50-U+FDFF, U+FE70-U+FEFF), emoji with a skin tone and a ZWJ sequence.
ODD = "ﺑﺎﻧﮏ ﷲ ﷺ ﻻ 😀👍🏽 👨‍👩‍👧 ﭖ ﹰ"


def put(tmp_path, name, content) -> Path:
    p = tmp_path / name
    p.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return p


def jsonl(*docs, ending="\n") -> str:
    return "".join(json.dumps(d, ensure_ascii=False) + ending for d in docs)


def doc(i="a", text=TEXT, entities=ENTS, **extra):
    return {"id": i, "text": text, "entities": entities, **extra}


def error_of(fn, *args, **kwargs) -> str:
    with pytest.raises(AnnotationError) as e:
        fn(*args, **kwargs)
    return str(e.value)


# ---------------------------------------------------------------------------------------------------- JSONL

def test_jsonl_with_utf8_bom_is_read(tmp_path):
    docs = read_jsonl(put(tmp_path, "bom.jsonl", BOM + jsonl(doc()).encode()))
    assert docs[0].id == "a" and docs[0].text == TEXT and len(docs[0].spans) == 2


def test_jsonl_with_crlf_line_ends_is_read(tmp_path):
    docs = read_jsonl(put(tmp_path, "crlf.jsonl", jsonl(doc("a"), doc("b"), ending="\r\n")))
    assert [d.id for d in docs] == ["a", "b"] and "\r" not in docs[1].text


def test_jsonl_with_invalid_utf8_names_file_and_line(tmp_path):
    p = put(tmp_path, "latin.jsonl", jsonl(doc("a")).encode() + b'{"id": "b", "text": "caf\xe9"}\n')
    msg = error_of(read_jsonl, p)
    assert "latin.jsonl:2: invalid UTF-8" in msg and "0xe9" in msg


def test_jsonl_truncated_mid_line_names_the_line(tmp_path):
    content = jsonl(doc("a"), doc("b"))
    msg = error_of(read_jsonl, put(tmp_path, "cut.jsonl", content[:-25]))
    assert "cut.jsonl:2: invalid JSON" in msg


@pytest.mark.parametrize("content", ["", "\n\n  \n", BOM.decode()], ids=["empty", "blank-lines", "bom-only"])
def test_jsonl_without_documents_is_an_error(tmp_path, content):
    assert "no documents" in error_of(read_jsonl, put(tmp_path, "empty.jsonl", content))


def test_jsonl_nul_and_control_characters_in_text_separate_words(tmp_path):
    text = "بانک\u0000ملی\u0007در\u001btehran\u0085!"
    docs = read_jsonl(put(tmp_path, "ctl.jsonl", jsonl(doc(text=text, entities=[{"start": 0, "end": 4,
                                                                                   "label": "ORG"}]))))
    assert [w.text for w in docs[0].get_words()] == ["بانک", "ملی", "در", "tehran", "!"]


def test_jsonl_raw_control_character_inside_a_string_is_invalid_json(tmp_path):
    p = put(tmp_path, "raw.jsonl", b'{"id": "a", "text": "x\x00y"}\n')
    assert "raw.jsonl:1: invalid JSON: Invalid control character" in error_of(read_jsonl, p)


def test_jsonl_lone_surrogate_in_text_names_document_and_offset(tmp_path):
    p = put(tmp_path, "sur.jsonl", '{"id": "s1", "text": "بانک \\ud83d ملی", "entities": []}\n')
    msg = error_of(read_jsonl, p)
    assert "sur.jsonl:1 document 's1'" in msg and "lone surrogate U+D83D at offset 5" in msg


def test_writing_a_document_with_a_lone_surrogate_names_it_and_leaves_no_file(tmp_path):
    from ner.data.io import write_conll, write_jsonl

    bad = Document("s2", "بانک \udc00 ملی")
    for write, name in ((write_jsonl, "out.jsonl"), (write_conll, "out.conll")):
        with pytest.raises(AnnotationError, match="document 's2': cannot write the text as UTF-8: lone surrogate U\\+DC00"):
            write([Document("ok", TEXT), bad], tmp_path / name)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("entities, needle", [
    ([{"start": 0, "end": 8, "label": "ORG"}, {"start": 5, "end": 8, "label": "LOC"}], "[5:8]: overlaps span [0:8]"),
    ([{"start": 12, "end": 99, "label": "LOC"}], "[12:99]: span outside the text (length 17)"),
    ([{"start": -1, "end": 4, "label": "ORG"}], "[-1:4]: span outside the text"),
    ([{"start": 8, "end": 0, "label": "ORG"}], "[8:0]: reversed span"),
    ([{"start": 4, "end": 4, "label": "ORG"}], "[4:4]: empty span"),
    ([{"start": 0, "end": 8, "label": "BANK"}], "[0:8]: unknown label 'BANK'"),
    ([{"start": 0, "end": 6, "label": "ORG"}], "does not fall on word boundaries"),
    ([{"start": 0.0, "end": 8, "label": "ORG"}], "start must be an integer, not float"),
    ([{"start": True, "end": 8, "label": "ORG"}], "start must be an integer, not bool"),
    ([{"start": "0", "end": 8, "label": "ORG"}], "start must be an integer, not str"),
    ([{"start": 0, "end": 8, "label": 3}], "label must be a string"),
    ([{"start": 0, "end": 8}], "must be an object with start, end and label"),
    ([[0, 8, "ORG"]], "must be an object with start, end and label"),
    ({"start": 0}, "'entities' must be a list"),
], ids=["overlap", "past-end", "negative", "reversed", "empty", "unknown-label", "off-boundary", "float", "bool",
        "string-offset", "numeric-label", "missing-key", "list-entity", "entities-not-list"])
def test_jsonl_bad_spans_name_document_and_offsets(tmp_path, entities, needle):
    msg = error_of(read_jsonl, put(tmp_path, "spans.jsonl", jsonl(doc("d7", entities=entities))))
    assert "spans.jsonl:1" in msg and "'d7'" in msg and needle in msg


@pytest.mark.parametrize("record, needle", [
    ({"id": "a", "text": None}, "missing or empty 'text'"),
    ({"id": "a", "text": 42}, "missing or empty 'text'"),
    ({"id": "a", "text": ["بانک"]}, "missing or empty 'text'"),
    ({"id": None, "text": TEXT}, "missing or non-string 'id'"),
    ({"id": True, "text": TEXT}, "missing or non-string 'id'"),
    ([TEXT], "each line must be a JSON object"),
], ids=["null-text", "number-text", "list-text", "null-id", "bool-id", "array-line"])
def test_jsonl_wrong_types_name_the_line(tmp_path, record, needle):
    msg = error_of(read_jsonl, put(tmp_path, "types.jsonl", json.dumps(record) + "\n"))
    assert "types.jsonl:1" in msg and needle in msg


def test_jsonl_duplicate_id_names_both_lines(tmp_path):
    msg = error_of(read_jsonl, put(tmp_path, "dup.jsonl", jsonl(doc("x"), doc("y"), doc("x"))))
    assert "dup.jsonl:3 document 'x': duplicate id (first on line 1)" in msg


def test_jsonl_reports_every_problem_at_once_and_caps_the_list(tmp_path):
    bad = [doc(f"d{i}", entities=[{"start": 0, "end": 8, "label": "BANK"}]) for i in range(25)]
    msg = error_of(read_jsonl, put(tmp_path, "many.jsonl", jsonl(*bad)))
    assert "25 problem(s)" in msg and "... and 5 more" in msg


def test_jsonl_one_megabyte_single_line_document(tmp_path):
    text = (TEXT + " ") * (1_000_000 // len((TEXT + " ").encode()))
    last = len(text) - 6  # the last «تهران»
    p = put(tmp_path, "big.jsonl", jsonl(doc(text=text, entities=[{"start": last, "end": last + 5, "label": "LOC"}])))
    assert p.stat().st_size > 1_000_000
    docs = read_jsonl(p)
    assert docs[0].span_text(docs[0].spans[0]) == "تهران"


def test_jsonl_3000_character_word_and_an_entity_on_it(tmp_path):
    word = "ب" * 3000
    docs = read_jsonl(put(tmp_path, "long.jsonl", jsonl(doc(text=f"در {word} است", entities=[
        {"start": 3, "end": 3003, "label": "LOC"}]))))
    assert docs[0].span_text(docs[0].spans[0]) == word


def test_jsonl_emoji_and_presentation_forms(tmp_path):
    text = f"{ODD} ﺑﺎﻧﮏ ملی"
    start = text.index("ﺑﺎﻧﮏ ملی")
    docs = read_jsonl(put(tmp_path, "odd.jsonl", jsonl(doc(text=text, entities=[
        {"start": start, "end": start + 8, "label": "ORG"}]))))
    assert docs[0].span_text(docs[0].spans[0]) == "ﺑﺎﻧﮏ ملی"


def test_jsonl_huge_bad_line_gives_a_short_message(tmp_path):
    ent = {"start": 0, "end": 8, "label": "X" * 100_000}
    msg = error_of(read_jsonl, put(tmp_path, "huge.jsonl", jsonl(doc(entities=[ent]))))
    assert len(msg) < 2_000


# ---------------------------------------------------------------------------------------------------- CoNLL

CONLL_ROWS = [("بانک", "B-ORG"), ("ملی", "I-ORG"), ("در", "O"), ("تهران", "B-LOC")]


def conll(sep: str, ending: str = "\n", rows=CONLL_ROWS) -> str:
    body = ending.join(f"{t}{sep}{g}" for t, g in rows)
    return body + ending + ending + body + ending


@pytest.mark.parametrize("sep, name", [("\t", "tab"), ("|", "pipe"), (" ", "space")])
@pytest.mark.parametrize("variant", ["plain", "bom", "crlf", "bom+crlf"])
def test_conll_every_separator_with_bom_and_crlf(tmp_path, sep, name, variant):
    content = conll(sep, "\r\n" if "crlf" in variant else "\n").encode()
    p = put(tmp_path, f"{name}.txt", (BOM if "bom" in variant else b"") + content)
    for docs in (read_conll(p), read_conll(p, sep=name)):
        assert len(docs) == 2
        assert [(docs[0].span_text(s), s.label) for s in docs[0].spans] == [("بانک ملی", "ORG"), ("تهران", "LOC")]
        assert "\ufeff" not in docs[0].text and "\r" not in docs[0].text


def test_conll_third_tab_column_is_an_error_not_part_of_the_token(tmp_path):
    p = put(tmp_path, "cols.tsv", "بانک\tNN\tB-ORG\nملی\tI-ORG\n")
    assert "cols.tsv:1: 3 tab-separated columns, expected 2" in error_of(read_conll, p, sep="tab")


def test_conll_missing_tag_column_names_the_line(tmp_path):
    p = put(tmp_path, "notag.tsv", "بانک\tB-ORG\nملی\n")
    assert "notag.tsv:2: no '\\t' separator" in error_of(read_conll, p, sep="tab")


def test_conll_truncated_last_line(tmp_path):
    p = put(tmp_path, "cut.txt", conll("\t")[:-4])
    assert "cut.txt:" in error_of(read_conll, p)


def test_conll_orphan_i_tag_is_repaired_and_logged(tmp_path, caplog):
    p = put(tmp_path, "orphan.txt", "در O\nتهران I-LOC\n")
    with caplog.at_level(logging.WARNING):
        docs = read_conll(p)
    assert [(docs[0].span_text(s), s.label) for s in docs[0].spans] == [("تهران", "LOC")]
    assert "repaired 1 orphan I- tag" in caplog.text


@pytest.mark.parametrize("line, needle", [("تهران E-LOC", "not an IOB tag: 'E-LOC'"),
                                          ("تهران B-", "not an IOB tag: 'B-'"),
                                          ("تهران B-CITY", "unknown label 'CITY'")])
def test_conll_bad_tags_name_the_line(tmp_path, line, needle):
    msg = error_of(read_conll, put(tmp_path, "tags.txt", f"در O\n{line}\n"), sep="space")
    assert "tags.txt:" in msg and needle in msg


def test_conll_invalid_utf8_names_the_line(tmp_path):
    p = put(tmp_path, "enc.txt", "در O\n".encode() + b"caf\xe9 O\n")
    assert "enc.txt:2: invalid UTF-8" in error_of(read_conll, p, sep="space")


@pytest.mark.parametrize("sep", ["auto", "tab"])
def test_conll_empty_file(tmp_path, sep):
    assert "no documents" in error_of(read_conll, put(tmp_path, "empty.txt", "\n\n"), sep=sep)


# ---------------------------------------------------------------------------------------------------- doccano

@pytest.mark.parametrize("record, needle", [
    ({"id": 1, "text": TEXT, "label": [["0", 8, "ORG"]]}, "start must be an integer, not str"),
    ({"id": 1, "text": TEXT, "label": [[0.0, 8.9, "ORG"]]}, "start must be an integer, not float"),
    ({"id": 1, "text": TEXT, "label": [[0, 8]]}, "each 'label' item must be [start, end, label]"),
    ({"id": 1, "text": TEXT, "label": [[0, 8, 5]]}, "labels must be strings"),
    ({"id": 1, "text": TEXT, "entities": [{"start_offset": 0, "label": "ORG"}]}, "malformed entity list"),
    ({"id": 1, "text": TEXT, "entities": [{"start_offset": "0", "end_offset": 8, "label": "ORG"}]},
     "start must be an integer"),
    ({"id": 1, "text": None, "label": []}, "missing or empty 'text'"),
], ids=["string-offset", "float-offset", "short-item", "numeric-label", "missing-key", "new-format-string", "no-text"])
def test_doccano_wrong_types_name_line_and_document(tmp_path, record, needle):
    msg = error_of(read_doccano, put(tmp_path, "d.jsonl", json.dumps(record) + "\n"))
    assert "d.jsonl:1 document '1'" in msg and needle in msg


def test_doccano_bom_crlf_is_read(tmp_path):
    line = json.dumps({"id": 1, "text": TEXT, "label": [[0, 8, "ORG"]]}, ensure_ascii=False)
    docs = read_doccano(put(tmp_path, "d.jsonl", BOM + (line + "\r\n").encode()))
    assert docs[0].span_text(docs[0].spans[0]) == "بانک ملی"


def test_doccano_invalid_utf8(tmp_path):
    assert "d.jsonl:1: invalid UTF-8" in error_of(read_doccano, put(tmp_path, "d.jsonl", b'{"text": "\xff"}\n'))


# ---------------------------------------------------------------------------------------------------- Label Studio

def ls_task(i=1, start=0, end=8, label="ORG", **value):
    region = {"id": "r1", "type": "labels", "value": {"start": start, "end": end, "labels": [label], **value}}
    return {"id": i, "data": {"text": TEXT}, "annotations": [{"result": [region]}]}


def test_label_studio_bom_is_read(tmp_path):
    docs = read_label_studio(put(tmp_path, "ls.json", BOM + json.dumps([ls_task()]).encode()))
    assert docs[0].span_text(docs[0].spans[0]) == "بانک ملی"


def test_label_studio_truncated_file_names_the_line(tmp_path):
    content = json.dumps([ls_task(1), ls_task(2)], indent=1)
    msg = error_of(read_label_studio, put(tmp_path, "ls.json", content[:len(content) // 2]))
    assert "ls.json:" in msg and "invalid JSON" in msg


@pytest.mark.parametrize("tasks, needle", [
    (["not a task"], "task 0 is a str, not an object"),
    ([ls_task(7, start="0")], "document '7': region 'r1' needs integer start/end"),
    ([ls_task(7, label=None)], "document '7': region 'r1' needs integer start/end and exactly one label"),
    ([ls_task(7, text="بانک")], "document '7' [0:8]: region text 'بانک' does not match"),
    ([{"id": 7, "data": {"text": TEXT}, "annotations": "x"}], "'annotations' must be a list of objects"),
    ([{"id": 7, "data": "x"}], "task has no data.text"),
    ({"tasks": []}, "expected a JSON list of tasks"),
    ([], "no documents"),
], ids=["not-object", "string-start", "no-label", "text-mismatch", "annotations-string", "data-string",
        "not-a-list", "empty-list"])
def test_label_studio_wrong_types_name_the_task(tmp_path, tasks, needle):
    assert needle in error_of(read_label_studio, put(tmp_path, "ls.json", json.dumps(tasks, ensure_ascii=False)))


def test_label_studio_invalid_utf8_and_empty_file(tmp_path):
    assert "ls.json:2: invalid UTF-8" in error_of(read_label_studio, put(tmp_path, "ls.json", b"[\n\xff]"))
    assert "no documents" in error_of(read_label_studio, put(tmp_path, "e.json", b""))


# ---------------------------------------------------------------------------------------------------- predict.py input

def test_text_inputs_bom_crlf_and_unicode_line_separators(tmp_path):
    p = put(tmp_path, "in.txt", BOM + "بانک ملی\r\nیک\u2028دو\r\n\r\nتهران".encode())
    assert read_inputs(p) == [("line-1", "بانک ملی"), ("line-2", "یک\u2028دو"), ("line-4", "تهران")]


def test_text_inputs_invalid_utf8_and_bad_jsonl_name_the_line(tmp_path):
    with pytest.raises(AnnotationError, match=r"in\.txt:2: invalid UTF-8"):
        read_inputs(put(tmp_path, "in.txt", b"ok\nbad \xff\n"))
    with pytest.raises(ValueError, match=r"in\.jsonl:2: expected an object with a string 'text'"):
        read_inputs(put(tmp_path, "in.jsonl", '{"text": "a"}\n{"text": null}\n'))


# ---------------------------------------------------------------------------------------------------- configs

def test_unknown_reader_option_names_the_key(tmp_path):
    p = put(tmp_path, "x.jsonl", jsonl(doc()))
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['seperator'\] for data format 'jsonl'"):
        read_documents(p, "jsonl", seperator="tab")
    with pytest.raises(ValueError, match="it takes sep, max_docs"):
        read_documents(p, "conll", seperator="tab")


def test_unknown_format_and_missing_or_folder_data_path(tmp_path):
    with pytest.raises(ValueError, match="unknown data format 'xml'"):
        read_documents(tmp_path, "xml")
    with pytest.raises(FileNotFoundError, match="data file not found"):
        read_documents(tmp_path / "nope.jsonl")
    with pytest.raises(FileNotFoundError, match="is a folder"):
        read_documents(tmp_path)


def test_data_config_with_missing_split_file_names_split_and_key(smoke_cfg):
    from ner.data.datasets import load_splits

    smoke_cfg.data.dev = "/no/such/dev.jsonl"
    with pytest.raises(FileNotFoundError, match=r"dev file /no/such/dev.jsonl does not exist \(set data.dev="):
        load_splits(smoke_cfg.data)


@pytest.mark.parametrize("content, needle", [
    ("default: train\ntrain:\n  provinces: [gilan, tehran\n", "splits.yaml:4: invalid YAML"),
    ("- train\n- dev\n", "expected a YAML mapping, not list"),
    (b"default: \xe9\n", "splits.yaml:1: invalid UTF-8"),
], ids=["truncated", "not-a-mapping", "latin-1"])
def test_corpus_split_spec_bad_yaml_names_file_and_line(tmp_path, content, needle):
    from ner.data.corpus.build import load_split_spec

    assert needle in error_of(load_split_spec, put(tmp_path, "splits.yaml", content))


def test_corpus_split_spec_empty_or_bom_yaml_gives_the_defaults(tmp_path):
    from ner.data.corpus.build import load_split_spec

    assert load_split_spec(put(tmp_path, "a.yaml", "")) == load_split_spec(put(tmp_path, "b.yaml", BOM + b"\n"))


def test_label_map_to_an_unknown_type_names_it():
    from ner.data.labels import LabelMap

    with pytest.raises(ValueError, match="label map sends 'pers' to 'PERSON'"):
        LabelMap({"pers": "PERSON"})


def test_report_option_that_does_not_exist_names_it():
    from omegaconf import OmegaConf

    from ner.evaluation.report import ReportOptions

    with pytest.raises(ValueError, match=r"unknown report option\(s\) \['all_docs'\]"):
        ReportOptions.from_config(OmegaConf.create({"report": {"all_docs": True}}))


# ---------------------------------------------------------------------------------------------------- predictor

@pytest.fixture(scope="module")
def predictor(trained_run):
    from ner.predictor import NerPredictor

    return NerPredictor.from_pretrained(trained_run[1]["model_dir"], device="cpu")


def assert_exact(text, entities):
    for e in entities:
        assert text[e.start:e.end] == e.text and e.text.strip() == e.text and e.text
    assert all(a.end <= b.start for a, b in zip(entities, entities[1:]))


@pytest.mark.parametrize("value, needle", [
    (b"\xd8\xa8\xd8\xa7\xd9\x86\xda\xa9", "text: expected str, got bytes; decode it first"),
    (bytearray(b"x"), "text: expected str, got bytearray; decode it first"),
    (None, "text: expected str, got NoneType"),
    (42, "text: expected str, got int"),
    (["بانک"], "text: expected str, got list"),
])
def test_predictor_call_refuses_non_text(predictor, value, needle):
    with pytest.raises(TypeError, match=needle):
        predictor(value)


@pytest.mark.parametrize("value, needle", [
    ("بانک ملی", "got a single str; pass \\[text\\]"),
    (b"abc", "expected a list of str, got bytes; decode it first"),
    (None, "expected a list of str, got NoneType"),
    (3.5, "expected a list of str, got float"),
    (["ok", b"bytes"], r"texts\[1\]: expected str, got bytes; decode it first"),
    (["ok", ["nested"]], r"texts\[1\]: expected str, got list"),
    (["ok", None], r"texts\[1\]: expected str, got NoneType"),
    ({"a": "b"}, "expected a list of str, got dict"),
])
def test_predictor_predict_refuses_non_text(predictor, value, needle):
    with pytest.raises(TypeError, match=needle):
        predictor.predict(value)


def test_predictor_takes_any_iterable_of_str(predictor):
    texts = ["بانک ملی در تهران", "خوشه صنعتی چای"]
    assert predictor.predict(t for t in texts) == predictor.predict(texts)


@pytest.mark.parametrize("text", [
    "بانک ملی در تهران\ud800 خوشه صنعتی چای",
    "\udfff",
    "بانک\ud83dملی \udc00\udc00 تهران",
], ids=["after-word", "alone", "inside-words"])
def test_predictor_tags_text_with_lone_surrogates(predictor, text):
    entities = predictor(text)
    assert_exact(text, entities)
    assert not any("\ud800" <= ch <= "\udfff" for e in entities for ch in e.text)
    # a lone surrogate separates words and sentences exactly like a line break
    clean = predictor("".join("\n" if "\ud800" <= ch <= "\udfff" else ch for ch in text))
    assert [(e.start, e.end, e.label) for e in entities] == [(e.start, e.end, e.label) for e in clean]


@pytest.mark.parametrize("text", [
    "", " ", "\n\n", "\u200c\u200c", "\x00", "بانک\x00ملی\x07در\x1bتهران\x7f", "a\rb\r\nc\u2028d\u2029e\x85f",
    ODD, f"مدیرعامل {ODD} شرکت شهرک‌های صنعتی", "ـــ\u064b\u0670ـ", "۱۲۳ ١٢٣ 123",
    "\ufeffبانک ملی\ufeff", "\U0010ffff\U000e0001\ue000",
], ids=["empty", "space", "newlines", "zwnj-only", "nul", "controls", "line-separators", "emoji-presentation",
        "mixed", "tatweel-diacritics", "digits", "bom-inside", "private-use"])
def test_predictor_odd_characters_keep_offsets_exact(predictor, text):
    assert_exact(text, predictor(text))


def test_predictor_3000_character_word(predictor):
    text = f"شرکت {'ب' * 3000} در تهران"
    assert_exact(text, predictor(text))


def test_predictor_long_single_line_document(predictor):
    text = "مدیرعامل شرکت شهرک‌های صنعتی استان گیلان گفت ۵۳۰ میلیارد تومان به خوشه صنعتی چای اختصاص یافت " * 600
    assert len(text.encode()) > 100_000  # the 1 MB case is benchmarks/long_input.py
    entities = predictor(text)
    assert_exact(text, entities)
    # every word, to the last one, gets a prediction (whatever the tiny model's quality: it may tag nothing)
    from ner.data.words import split_words

    words = split_words(text)
    [(tags, probs)] = predictor.predict_words([(text, words)])
    assert len(tags) == len(probs) == len(words) > 6000
    assert all(p > 0 for p in probs)


# ---------------------------------------------------------------------------------------------------- model folders

@pytest.fixture
def model_copy(trained_run, tmp_path):
    target = tmp_path / "model"
    shutil.copytree(trained_run[1]["model_dir"], target)
    return target


def load_error(model_dir) -> str:
    from ner.predictor import NerPredictor

    with pytest.raises(ModelLoadError) as e:
        NerPredictor.from_pretrained(model_dir, device="cpu")
    return str(e.value)


def test_model_folder_without_config_json(model_copy):
    (model_copy / "config.json").unlink()
    assert "has no config.json" in load_error(model_copy)


@pytest.mark.parametrize("keep", [0.5, 0.001], ids=["half", "header-cut"])
def test_model_folder_with_truncated_safetensors(model_copy, keep):
    weights = model_copy / "model.safetensors"
    with open(weights, "r+b") as f:
        f.truncate(max(4, int(weights.stat().st_size * keep)))
    msg = load_error(model_copy)
    assert "model.safetensors is truncated or corrupt" in msg and "re-copy" in msg


def test_model_folder_without_weights(model_copy):
    (model_copy / "model.safetensors").unlink()
    assert "has no model.safetensors" in load_error(model_copy)


@pytest.mark.parametrize("name", ["config.json", "ner_config.json", "tokenizer_config.json"])
def test_model_folder_with_corrupt_json(model_copy, name):
    path = model_copy / name
    path.write_text(path.read_text(encoding="utf-8")[:20], encoding="utf-8")
    msg = load_error(model_copy)
    assert f"{name} is not valid JSON" in msg and "truncated or corrupt" in msg


def test_model_folder_with_only_pickled_weights_is_refused(model_copy):
    (model_copy / "model.safetensors").rename(model_copy / "pytorch_model.bin")
    msg = load_error(model_copy)
    assert "only as pytorch_model.bin" in msg and "unpickling can run code" in msg


def test_model_path_that_is_a_file_or_missing(model_copy):
    assert "is a file" in load_error(model_copy / "config.json")
    assert "does not exist" in load_error(model_copy / "nope")


def test_model_folder_without_training_args_pickle_loads_and_predicts(model_copy, predictor):
    from ner.predictor import NerPredictor

    (model_copy / "training_args.bin").unlink(missing_ok=True)
    reloaded = NerPredictor.from_pretrained(model_copy, device="cpu")
    text = "مدیرعامل شرکت شهرک‌های صنعتی استان گیلان گفت ۵۳۰ میلیارد تومان به خوشه صنعتی چای اختصاص یافت."
    assert reloaded(text) == predictor(text)


def test_training_args_pickle_is_never_read(model_copy, monkeypatch):
    import torch

    from ner.predictor import NerPredictor

    (model_copy / "training_args.bin").write_bytes(b"not a pickle at all")
    opened = []
    real_load = torch.load
    monkeypatch.setattr(torch, "load", lambda f, *a, **k: opened.append(str(f)) or real_load(f, *a, **k))
    NerPredictor.from_pretrained(model_copy, device="cpu")("بانک ملی")
    assert not opened


def recording_loader(name: str):
    """Stands in for a transformers class called ``name``: records what ``hub.from_pretrained`` passes it."""
    calls = []
    return type(name, (), {"calls": calls, "from_pretrained": classmethod(lambda cls, path, **kw: calls.append(kw))})


def test_hub_loads_safetensors_only_and_never_trusts_remote_code(model_copy, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model, tokenizer = recording_loader("AutoModelForTokenClassification"), recording_loader("AutoTokenizer")
    for loader in (model, tokenizer):
        hub.from_pretrained(loader, str(model_copy))
        hub.from_pretrained(loader, "some-org/some-model")
    assert len(model.calls) == len(tokenizer.calls) == 2
    for kwargs in model.calls:
        assert kwargs["use_safetensors"] is True and kwargs["trust_remote_code"] is False
    for kwargs in tokenizer.calls:
        assert "use_safetensors" not in kwargs and kwargs["trust_remote_code"] is False
    with pytest.raises(ModelLoadError, match="trust_remote_code=True is refused"):
        hub.from_pretrained(model, str(model_copy), trust_remote_code=True)
    with pytest.raises(ModelLoadError, match="use_safetensors=False is refused"):
        hub.from_pretrained(model, str(model_copy), use_safetensors=False)


def test_no_module_loads_a_model_around_the_hub_helper():
    """``from_pretrained`` on a model class anywhere in src/ goes through ``ner.models.hub`` (safe defaults)."""
    import re

    offenders = []
    for path in (ROOT / "src" / "ner").rglob("*.py"):
        if path.name == "hub.py":
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if re.search(r"AutoModel\w*\.from_pretrained\(|trust_remote_code\s*=\s*True", line):
                offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not offenders, offenders


# ---------------------------------------------------------------------------------------------------- scripts

def run_script(*args, stdin: bytes | None = None, cwd=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT / "src")}
    env.pop("HYDRA_FULL_ERROR", None)
    return subprocess.run([sys.executable, *map(str, args)], input=stdin, capture_output=True, cwd=cwd or ROOT,
                          env=env, timeout=180)


def assert_clear_failure(proc, *needles):
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode != 0, err
    assert "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err
    return err


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("error:")]


def test_train_script_with_a_missing_data_path(tmp_path):
    proc = run_script("scripts/train.py", "experiment=smoke", f"paths.runs_dir={tmp_path}",
                      "data.train=/no/such/train.jsonl")
    err = assert_clear_failure(proc, "train file /no/such/train.jsonl does not exist")
    assert len(error_lines(err)) == 1


def test_train_script_with_a_config_key_that_does_not_exist(tmp_path):
    proc = run_script("scripts/train.py", "experiment=smoke", f"paths.runs_dir={tmp_path}", "training.lerning_rate=1")
    assert_clear_failure(proc, "Could not override 'training.lerning_rate'", "Key 'lerning_rate' is not in struct")


def test_evaluate_script_with_a_missing_model_folder(tmp_path):
    proc = run_script("scripts/evaluate.py", "model_path=/no/such/model", "data=fixtures",
                      f"paths.runs_dir={tmp_path}")
    err = assert_clear_failure(proc, "model directory '/no/such/model' does not exist")
    assert len(error_lines(err)) == 1
    proc = run_script("scripts/evaluate.py", "model_path=/no/such/model", "splitz=[dev]")
    assert_clear_failure(proc, "Could not override 'splitz'")


def test_predict_script_with_a_missing_input_and_an_unknown_key(tmp_path):
    proc = run_script("scripts/predict.py", "model_path=/x", "input=/no/such/input.txt")
    assert_clear_failure(proc, "error: input file not found: /no/such/input.txt")
    proc = run_script("scripts/predict.py", "model_path=/x", "inputs=news.txt")
    assert_clear_failure(proc, "Could not override 'inputs'")


def test_predict_script_with_invalid_utf8_input(tmp_path):
    bad = put(tmp_path, "news.txt", b"ok\n\xff\xfe bad\n")
    proc = run_script("scripts/predict.py", "model_path=/x", f"input={bad}")
    err = assert_clear_failure(proc, f"{bad}:2: invalid UTF-8")
    assert len(error_lines(err)) == 1


def test_validate_annotations_script_with_a_missing_folder_or_bad_file(tmp_path):
    proc = run_script("scripts/validate_annotations.py", "--root", tmp_path / "nope")
    err = assert_clear_failure(proc, "corpus folder")
    assert len(error_lines(err)) == 1
    assert_clear_failure(run_script("scripts/validate_annotations.py", "--rot", tmp_path), "unrecognized arguments")
    bad_yaml = put(tmp_path, "exceptions.yaml", "multi_label: [a, b\n")
    proc = run_script("scripts/validate_annotations.py", "--root", tmp_path, "--exceptions", bad_yaml)
    assert len(error_lines(assert_clear_failure(proc, "exceptions.yaml:2: invalid YAML"))) == 1
    for split in ("train", "dev", "test"):
        put(tmp_path, f"{split}.jsonl", jsonl(doc(f"{split}-1")))
    put(tmp_path, "dev.jsonl", b'{"id": "x", "text": "\xff"}\n')
    proc = run_script("scripts/validate_annotations.py", "--root", tmp_path)
    out = proc.stdout.decode()
    assert proc.returncode == 1 and "dev.jsonl:1: invalid UTF-8" in out and "Traceback" not in proc.stderr.decode()
