"""Streaming tagger (scripts/predict.py, ner.inference): inputs read one record at a time, resumable outputs
without duplicates or losses after a kill, and the contents of each output format."""
import io
import itertools
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT

from ner.data.documents import AnnotationError
from ner.data.io import read_conll, read_doccano
from ner.data.words import split_sentences, split_words
from ner.inference.inputs import iter_records, plan_splits, read_split
from ner.inference.outputs import OUTPUT_FORMATS, prepare_output, render
from ner.inference.streaming import tag_stream
from ner.predictor import NerPredictor

TEXTS = ["بانک ملی در تهران ۵۳۰ میلیارد تومان داد.", "خوشه صنعتی چای در استان گیلان", "",
         "  شرکت\u200cهای   صنعتی 😀 گیلان.\nاحمدعلی شهیدی در رشت", "ایران"]


@pytest.fixture(scope="module")
def predictor(random_model_dir):
    return NerPredictor.from_pretrained(random_model_dir, device="cpu")


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def records(n=23):
    return [{"id": f"doc-{k}", "text": TEXTS[k % len(TEXTS)] + f" خبر {k}"} for k in range(n)]


# ---------------------------------------------------------------------------------------------------- inputs

def test_text_jsonl_and_csv_inputs_with_ids_and_line_numbers(tmp_path):
    txt = tmp_path / "in.txt"
    txt.write_bytes("\ufeffبانک ملی\r\n\r\nیک\u2028دو\nتهران".encode())
    assert [(r.id, r.text) for r in iter_records(txt)] == [("line-1", "بانک ملی"), ("line-3", "یک\u2028دو"),
                                                           ("line-4", "تهران")]
    jl = write_jsonl(tmp_path / "in.jsonl", [{"id": 7, "text": "الف"}, {"text": "ب"}, {"id": "x", "body": "پ"}])
    with pytest.raises(AnnotationError, match=r"in\.jsonl:3: expected an object with a string 'text'"):
        list(iter_records(jl))
    first_two = itertools.islice(iter_records(jl), 2)  # streamed: the bad third line is not read yet
    assert [(r.id, r.text) for r in first_two] == [("7", "الف"), ("line-2", "ب")]
    csv_path = tmp_path / "in.csv"
    csv_path.write_text('id,text\na1,"یک\nدو"\n,سه\n', encoding="utf-8")
    assert [(r.id, r.text, r.line) for r in iter_records(csv_path)] == [("a1", "یک\nدو", 2), ("line-4", "سه", 4)]
    (tmp_path / "bad.csv").write_text("id,body\n1,x\n", encoding="utf-8")
    with pytest.raises(AnnotationError, match=r"bad\.csv:1: no 'text' column \(columns: id, body\)"):
        list(iter_records(tmp_path / "bad.csv"))
    (tmp_path / "bad.txt").write_bytes(b"ok\nbad \xff\n")
    with pytest.raises(AnnotationError, match=r"bad\.txt:2: invalid UTF-8"):
        list(iter_records(tmp_path / "bad.txt"))
    with pytest.raises(FileNotFoundError, match="input file not found"):
        list(iter_records(tmp_path / "none.txt"))


def test_stdin_is_sniffed_without_losing_a_line():
    stdin = io.BytesIO('\n{"id": "a", "text": "تهران"}\n{"text": "رشت"}\n'.encode())
    assert [(r.id, r.text) for r in iter_records("-", stdin=stdin)] == [("a", "تهران"), ("line-3", "رشت")]
    stdin = io.BytesIO("تهران\nرشت\n".encode())
    assert [r.id for r in iter_records("-", stdin=stdin)] == ["line-1", "line-2"]


@pytest.mark.parametrize("name,content", [("in.txt", "\ufeffالف\n\nب\r\nپ\n\n\nت"),
                                          ("in.jsonl", '{"text": "الف"}\n\n{"id": 5, "text": "ب"}\n{"text": "پ"}\n'),
                                          ("in.csv", 'text,id\n"الف\nب",\nپ,9\n')])
def test_ray_splits_give_the_records_of_one_pass(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    splits = plan_splits(path, records=2)
    lines = content.count("\n") + (not content.endswith("\n"))
    assert len(splits) == (1 if name.endswith(".csv") else (lines + 1) // 2)
    assert [r for s in splits for r in read_split(s)] == list(iter_records(path))


# ---------------------------------------------------------------------------------------------------- resuming

@pytest.mark.parametrize("fmt", OUTPUT_FORMATS)
def test_a_killed_run_resumes_without_duplicates_or_losses(predictor, tmp_path, fmt):
    inp = write_jsonl(tmp_path / "in.jsonl", records())
    clean, resumed = tmp_path / f"clean.{fmt}", tmp_path / f"resumed.{fmt}"
    stats = tag_stream(predictor.predict, iter_records(inp), clean, fmt, chunk_size=4)
    assert (stats.tagged, stats.skipped) == (23, 0)
    full = clean.read_bytes()
    # a kill in the middle of the ninth record of a chunk write: eight whole records and a torn one remain
    starts = [k for k in range(len(full)) if full.startswith(b"-DOCSTART-" if fmt == "conll" else b"{", k)
              and (k == 0 or full[k - 1:k] == b"\n")]
    cut = starts[8] + (starts[9] - starts[8]) // 2
    resumed.write_bytes(full[:cut])
    stats = tag_stream(predictor.predict, iter_records(inp), resumed, fmt, chunk_size=4)
    assert (stats.tagged, stats.skipped) == (23 - 8, 8)
    assert resumed.read_bytes() == full        # nothing twice, nothing lost, same order
    stats = tag_stream(predictor.predict, iter_records(inp), resumed, fmt, chunk_size=4)
    assert (stats.tagged, stats.skipped) == (0, 23) and resumed.read_bytes() == full
    stats = tag_stream(predictor.predict, iter_records(inp), resumed, fmt, resume=False)
    assert stats.tagged == 23 and resumed.read_bytes() == full


def test_duplicate_ids_and_foreign_outputs_are_refused(predictor, tmp_path):
    inp = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": "تهران"}, {"id": "a", "text": "رشت"}])
    with pytest.raises(AnnotationError, match=r"in\.jsonl:2: duplicate id 'a'"):
        tag_stream(predictor.predict, iter_records(inp), tmp_path / "out.jsonl", source=str(inp))
    other = write_jsonl(tmp_path / "other.jsonl", [{"name": "not ours"}])
    with pytest.raises(AnnotationError, match=r"other\.jsonl:1: not a complete 'entities' record.*resume=false"):
        prepare_output(other, "entities")
    with pytest.raises(AnnotationError, match=r"other\.jsonl:1: expected a -DOCSTART- line"):
        prepare_output(other, "conll")


# ---------------------------------------------------------------------------------------------------- formats

@pytest.fixture(scope="module")
def tagged(predictor, tmp_path_factory):
    """Every format written for the same input: ({format: path}, the predictor's entities per id)."""
    tmp = tmp_path_factory.mktemp("formats")
    rows = [{"id": f"d{k}", "text": t} for k, t in enumerate(TEXTS)]
    inp = write_jsonl(tmp / "in.jsonl", rows)
    paths = {}
    for fmt in OUTPUT_FORMATS:
        paths[fmt] = tmp / f"out.{fmt}.jsonl"
        tag_stream(predictor.predict, iter_records(inp), paths[fmt], fmt, model_version="smoke/1")
    expected = {r["id"]: [e.to_dict() for e in ents] for r, ents in zip(rows, predictor.predict(TEXTS))}
    assert sum(map(len, expected.values())) > 5
    return paths, expected, dict(zip([r["id"] for r in rows], TEXTS))


def test_entities_format(tagged):
    paths, expected, texts = tagged
    rows = [json.loads(line) for line in paths["entities"].read_text(encoding="utf-8").splitlines()]
    assert {r["id"]: r["entities"] for r in rows} == expected
    assert all(r["text"] == texts[r["id"]] for r in rows)
    assert all(r["text"][e["start"]:e["end"]] == e["text"] for r in rows for e in r["entities"])


def test_doccano_output_reads_back_as_training_data(tagged):
    paths, expected, texts = tagged
    docs = read_doccano(paths["doccano"])  # the blank document is left out: nothing to annotate
    assert [d.id for d in docs] == [k for k, t in texts.items() if t.strip()]
    for d in docs:
        assert d.text == texts[d.id]
        assert [(s.start, s.end, s.label) for s in d.spans] == [(e["start"], e["end"], e["label"])
                                                                for e in expected[d.id]]


def test_label_studio_pre_annotations(tagged):
    paths, expected, texts = tagged
    tasks = [json.loads(line) for line in paths["label_studio"].read_text(encoding="utf-8").splitlines()]
    assert json.loads(paths["label_studio"].with_suffix(".json").read_text(encoding="utf-8")) == tasks
    for task in tasks:
        doc_id, text = task["data"]["id"], task["data"]["text"]
        assert text == texts[doc_id]
        [pred] = task["predictions"]
        assert pred["model_version"] == "smoke/1"
        ents = expected[doc_id]
        assert len({r["id"] for r in pred["result"]}) == len(pred["result"]) == len(ents)
        for r, e in zip(pred["result"], ents):
            assert (r["from_name"], r["to_name"], r["type"]) == ("label", "text", "labels")
            assert r["value"] == {"start": e["start"], "end": e["end"], "text": text[e["start"]:e["end"]],
                                  "labels": [e["label"]]}
            assert r["score"] == e["score"]
        if ents:
            assert pred["score"] == pytest.approx(sum(e["score"] for e in ents) / len(ents), abs=1e-4)
        else:
            assert "score" not in pred


def test_conll_output_one_word_per_line_sentences_apart(tagged):
    paths, expected, texts = tagged
    body = paths["conll"].read_text(encoding="utf-8")
    assert body.count("-DOCSTART-") == len(texts)
    sentences = read_conll(paths["conll"])  # a reader of CoNLL skips -DOCSTART- lines; a document per sentence
    want_tokens, want_spans = [], []
    for doc_id, text in texts.items():
        words = split_words(text)
        for a, b in split_sentences(text, words):
            want_tokens.append([w.text for w in words[a:b]])
            want_spans.append([(e["label"], e["text"]) for e in expected[doc_id]
                               if words[a].start <= e["start"] and e["end"] <= words[b - 1].end])
    assert [[w.text for w in d.get_words()] for d in sentences] == want_tokens
    assert [[(s.label, d.text[s.start:s.end]) for s in d.spans] for d in sentences] == want_spans
    assert render("conll", "e", "", []) == '-DOCSTART- {"id": "e", "words": 0}\n\n'


# ---------------------------------------------------------------------------------------------------- the script

def run_predict(*args, stdin=None):
    env = dict(os.environ, HF_HUB_OFFLINE="1", PROJECT_ROOT=str(ROOT))
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "predict.py"), *map(str, args)], input=stdin,
                          capture_output=True, env=env, timeout=300)


def test_predict_script_streams_csv_to_doccano_and_resumes(random_model_dir, predictor, tmp_path):
    inp = tmp_path / "news.csv"
    inp.write_text("id,text\n" + "".join(f"n{k},{TEXTS[k % 2]}\n" for k in range(7)), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    proc = run_predict(f"model_path={random_model_dir}", f"input={inp}", f"output={out}", "format=doccano",
                       "chunk_size=3")
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"tagged 7 documents" in proc.stderr and b"doc/s" in proc.stderr  # the progress bar is on stderr
    full = out.read_bytes()
    out.write_bytes(full[:full.index(b'{"id": "n4"') + 9])  # killed while writing n4
    proc = run_predict(f"model_path={random_model_dir}", f"input={inp}", f"output={out}", "format=doccano",
                       "progress=false")
    assert b"tagged 3 documents" in proc.stderr and b"already there: 4" in proc.stderr
    assert out.read_bytes() == full
    assert [[[e.start, e.end, e.label] for e in ents] for ents in predictor.predict([TEXTS[k % 2] for k in range(7)])] \
        == [json.loads(line)["label"] for line in full.decode().splitlines()]


def test_bad_options_are_refused_before_any_work(random_model_dir, tmp_path):
    from omegaconf import OmegaConf

    from conftest import compose
    from ner.inference.job import run_job

    (tmp_path / "in.txt").write_text("تهران\n", encoding="utf-8")
    base = [f"model_path={random_model_dir}", f"input={tmp_path / 'in.txt'}"]
    for args, needle in [(["format=brat"], "format must be one of entities, label_studio, doccano, conll"),
                         (["engine=spark"], "engine must be one of local, ray"),
                         (["chunk_size=0"], "chunk_size must be a positive integer"),
                         ([f"output={tmp_path / 'in.txt'}"], "is the input file"),
                         (["backend=onnx", "device=cuda"], "CPU only")]:
        cfg = OmegaConf.to_container(compose("predict", base + args), resolve=True)
        with pytest.raises(ValueError, match=needle):
            run_job(cfg)
    assert (tmp_path / "in.txt").read_text(encoding="utf-8") == "تهران\n"
    proc = run_predict(*base, "format=brat")
    err = proc.stderr.decode()
    assert proc.returncode == 2 and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("error: format must be one of")
