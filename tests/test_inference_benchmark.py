"""benchmarks/inference.py: predictor vs transformers pipeline, rehearsed with --tiny on the smoke model."""
import json
import sys

import pytest
from conftest import ROOT, needs_shared

sys.path.insert(0, str(ROOT / "benchmarks"))
import inference  # noqa: E402
import quality  # noqa: E402


@pytest.fixture(scope="module")
def tiny_result(trained_run, tmp_path_factory):
    """One --tiny run on the smoke model and a 2 x 64 ParsBERT-shaped model: (JSON path, result, model dir)."""
    _, out = trained_run
    path = tmp_path_factory.mktemp("bench") / "inference.json"
    # one torch thread: on a shared 2-core machine two threads spin against other jobs and take several times longer
    rc = inference.main(["--model", str(out["model_dir"]), "--parsbert-shaped", "--tiny", "--device", "cpu",
                         "--threads", "1", "--out", str(path)])
    assert rc == 0
    return path, json.loads(path.read_text(encoding="utf-8")), out["model_dir"]


@pytest.mark.slow
def test_tiny_run_times_both_systems_on_both_models(tiny_result):
    _, res, _ = tiny_result
    assert res["texts"]["count"] == inference.TINY_TEXTS
    assert res["texts"]["characters"] > 0 and sum(res["texts"]["sources"].values()) == inference.TINY_TEXTS
    assert res["environment"]["device"] == "cpu" and res["environment"]["torch_threads"] == 1
    assert res["environment"]["torch"] and res["environment"]["transformers"]
    assert [m["kind"] for m in res["models"]] == ["given", "parsbert-shaped"]
    shape = res["models"][1]
    assert (shape["layers"], shape["hidden"]) == (2, 64)
    for model in res["models"]:
        systems = {s["name"]: s for s in model["systems"]}
        assert set(systems) == {"pipeline", "predictor[torch]"}
        for s in systems.values():
            assert len(s["seconds"]) == 1 and s["docs_per_s"] > 0 and s["chars_per_s"] > 0
            per_doc = res["texts"]["characters"] / res["texts"]["count"]
            assert s["chars_per_s"] == pytest.approx(s["docs_per_s"] * per_doc)
            assert 0.0 <= s["test_f1"]["f1"] <= 1.0
        pred, pipe = systems["predictor[torch]"], systems["pipeline"]
        assert pred["ratio_to_pipeline"] == pytest.approx(pred["docs_per_s"] / pipe["docs_per_s"])
        assert pipe["options"]["stride"] == pred["options"]["overlap"]
        # the same windows as the predictor, never past the model's positions
        assert pipe["options"]["model_max_length"] == min(pred["options"]["max_length"], model["position_limit"])
    assert "--tiny" in res["command"]


@pytest.mark.slow
def test_predictor_f1_is_what_ner_evaluation_gives(tiny_result):
    from ner import NerPredictor
    from ner.evaluation.scoring import evaluate_predictor

    _, res, model_dir = tiny_result
    docs, types, _ = inference.eval_documents(tiny=True)
    scores, _ = evaluate_predictor(NerPredictor.from_pretrained(model_dir, device="cpu"), docs, types, progress=False)
    pred = next(s for s in res["models"][0]["systems"] if s["name"] == "predictor[torch]")
    assert res["evaluation"]["documents"] == len(docs) == inference.TINY_EVAL_DOCS
    assert len(inference.eval_documents()[0]) == 55   # the full run scores the whole test split
    assert pred["test_f1"]["f1"] == scores["strict"]["micro"]["f1"]
    assert pred["test_f1"]["support"] == scores["strict"]["micro"]["support"]


@needs_shared("corpora", "peyma", "dev.txt")
def test_texts_are_our_documents_then_peyma_groups():
    texts, info = inference.load_texts(log=lambda *_: None)
    assert info["count"] == len(texts) == inference.NUM_TEXTS and "note" not in info
    assert info["sources"] == {"documents of our dev+test splits": 110, "PEYMA dev texts of 10 sentences": 90}
    assert info["characters"] == sum(map(len, texts))
    assert inference.load_texts(log=lambda *_: None)[0] == texts   # deterministic
    tiny, tiny_info = inference.load_texts(tiny=True, log=lambda *_: None)
    assert len(tiny) == inference.TINY_TEXTS and set(tiny) <= set(texts) and len(tiny_info["sources"]) == 2


def test_without_peyma_the_texts_are_ours_with_a_note(monkeypatch, tmp_path):
    monkeypatch.setenv("NER_SHARED_DIR", str(tmp_path / "absent"))
    notes = []
    texts, info = inference.load_texts(log=notes.append)
    assert len(texts) == 110 and info["sources"] == {"documents of our dev+test splits": 110}
    assert "PEYMA dev" in info["note"] and notes and "absent" in notes[0]


def test_pipeline_entities_on_gold_spans_give_the_gold_tags():
    from ner.evaluation.scoring import gold_tags

    docs, _, _ = inference.eval_documents()
    gold = gold_tags(docs)
    for doc, tags in zip(docs, gold):
        ents = [{"entity_group": s.label, "start": s.start, "end": s.end} for s in reversed(doc.spans)]
        assert inference.pipeline_tags(ents, doc.get_words()) == tags


def test_pipeline_entities_off_word_boundaries_take_whole_words():
    from ner.data.words import split_words

    text = "شرکت ملی نفت در تهران"
    words = split_words(text)
    ents = [{"entity_group": "ORG", "start": 2, "end": 10},      # from inside the first word into the third
            {"entity_group": "LOC", "start": 10, "end": 15},     # overlaps the ORG: only its free word
            {"entity_group": "LOC", "start": 16, "end": 21}]
    assert inference.pipeline_tags(ents, words) == ["B-ORG", "I-ORG", "I-ORG", "B-LOC", "B-LOC"]


def test_settings():
    assert inference.parse_setting("torch") == {}
    assert inference.parse_setting("torch-bs64") == {"batch_size": 64}
    assert inference.parse_setting("torch-int8") == {"quantize": True}
    assert inference.parse_setting("onnx") == {"backend": "onnx"}
    assert inference.parse_setting("onnx-int8-bs16") == {"backend": "onnx", "quantize": True, "batch_size": 16}
    assert [inference.cpu_only(s) for s in ("torch", "torch-bs8", "torch-int8", "onnx")] == [False, False, True, True]
    for bad in ("tensorrt", "torch-fp16", "torch-bs0", "onnx-int8-int8"):
        with pytest.raises(ValueError):
            inference.parse_setting(bad)
    with pytest.raises(SystemExit):  # refused before any model is loaded
        inference.main(["--model", "no/such/model", "--settings", "torch", "onnx-fp16"])
    with pytest.raises(SystemExit):
        inference.main(["--model", "no/such/model", "--device", "cuda", "--settings", "onnx"])


@pytest.mark.slow
def test_write_doc_rewrites_only_its_section(tiny_result, tmp_path, monkeypatch):
    path, res, _ = tiny_result
    real_doc = ROOT / "docs" / "benchmarks.md"
    real_before = real_doc.read_bytes() if real_doc.exists() else None
    (tmp_path / "docs").mkdir()
    doc = tmp_path / "docs" / "benchmarks.md"
    head = "# Benchmarks\n\nintro\n\n<!-- quality:begin -->\nquality rows\n<!-- quality:end -->\n\n## Inference\n\n"
    tail = "\n\n## Later section\n\nkept as it is\n"
    doc.write_text(head + "<!-- inference:begin -->\nstale numbers\n<!-- inference:end -->" + tail, encoding="utf-8")
    monkeypatch.setattr(quality, "ROOT", tmp_path)

    assert inference.main(["--write-doc", "--from-json", str(path), str(path)]) == 0
    body = doc.read_text(encoding="utf-8")
    assert body.startswith(head) and body.endswith(tail)
    assert "stale numbers" not in body and body.count("<!-- inference:begin -->") == 1
    section = body[body.index("<!-- inference:begin -->"):body.index("<!-- inference:end -->")]
    assert "<!-- written by benchmarks/inference.py -->" in section
    assert f"joined {inference.PEYMA_GROUP} at a time" in section and "{" not in section  # no unformatted field
    rows = [line for line in section.splitlines() if line.startswith("| cpu |")]
    assert len(rows) == 2 * sum(len(m["systems"]) for m in res["models"])   # two JSON files rendered
    model_arg = res["args"]["model"]
    assert "| predictor[torch] |" in rows[1] and f"`python benchmarks/inference.py --model {model_arg} " in rows[1]
    assert "--parsbert-shaped-only" in rows[-1] and "--tiny" in rows[-1]
    assert "strict IOB2 micro F1 and per type" not in section   # quality's own table stays out of this section

    assert inference.main(["--write-doc", "--from-json", str(path), str(path)]) == 0
    assert doc.read_text(encoding="utf-8") == body          # rendering again changes nothing

    doc.write_text("# Benchmarks\n\nno markers here\n", encoding="utf-8")   # markers absent: appended at the end
    inference.main(["--write-doc", "--from-json", str(path)])
    body = doc.read_text(encoding="utf-8")
    assert body.startswith(f"# Benchmarks\n\nno markers here\n\n{inference.DOC_HEADING}\n\n<!-- inference:begin -->")
    assert body.rstrip().endswith("<!-- inference:end -->") and body.count("| cpu |") == len(rows) // 2
    assert (real_doc.read_bytes() if real_doc.exists() else None) == real_before
