"""Error taxonomy, pairing, confusion matrix and the report files on hand-made gold/prediction pairs."""
import json

import pytest

from ner.data.documents import Document, Span
from ner.evaluation.error_analysis import CATEGORIES, ERROR_CATEGORIES, analyse, confusion_markdown, confusion_png
from ner.evaluation.report import write_reports
from ner.evaluation.scoring import gold_tags, score

TYPES = ["ORG", "PER", "LOC", "MONEY", "CLUSTER"]
T1 = "علی رضایی در بانک ملی ایران و شهر تهران کار کرد"
T2 = "خوشه صنعتی چای در استان گیلان ۵۳۰ میلیارد تومان گرفت"
T3 = "محمد کریمی به اصفهان رفت"


def doc(doc_id, text, spans):
    return Document(doc_id, text, [Span(text.index(s), text.index(s) + len(s), label) for s, label in spans])


def every_category_case():
    """Two correct entities plus one of each error category, and a document without errors."""
    gold = [doc("a", T1, [("علی رضایی", "PER"), ("بانک ملی ایران", "ORG"), ("تهران", "LOC")]),
            doc("b", T2, [("خوشه صنعتی چای", "CLUSTER"), ("استان گیلان", "LOC"), ("۵۳۰ میلیارد تومان", "MONEY")]),
            doc("c", T3, [("محمد کریمی", "PER"), ("اصفهان", "LOC")])]
    pred = [doc("a", T1, [("علی رضایی", "PER"),            # correct
                          ("بانک ملی", "ORG"),             # wrong boundary
                          ("شهر تهران", "ORG")]),          # wrong boundary and type
            doc("b", T2, [("خوشه صنعتی چای", "ORG"),       # wrong type
                          ("۵۳۰ میلیارد تومان", "MONEY"),  # correct; استان گیلان is missed
                          ("گرفت", "PER")]),               # spurious
            doc("c", T3, [("محمد کریمی", "PER"), ("اصفهان", "LOC")])]
    return gold, gold_tags(pred)


def test_every_category_is_counted_per_label():
    gold, pred = every_category_case()
    tax = analyse(gold, pred, TYPES).taxonomy
    assert {c: tax["overall"][c] for c in CATEGORIES} == {
        "correct": 4, "wrong_type": 1, "wrong_boundary": 1, "wrong_boundary_and_type": 1, "missed": 1, "spurious": 1}
    per = tax["per_type"]
    assert per["ORG"]["wrong_boundary"] == 1 and per["ORG"]["predicted"] == 3 and per["ORG"]["gold"] == 1
    assert per["LOC"]["wrong_boundary_and_type"] == 1 and per["LOC"]["missed"] == 1 and per["LOC"]["correct"] == 1
    assert per["CLUSTER"]["wrong_type"] == 1 and per["CLUSTER"]["predicted"] == 0
    assert per["PER"]["correct"] == 2 and per["PER"]["spurious"] == 1  # spurious goes to the predicted label
    assert per["MONEY"] == {**dict.fromkeys(CATEGORIES, 0), "correct": 1, "gold": 1, "predicted": 1,
                            "precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert tax["overall"]["gold"] == 8 and tax["overall"]["predicted"] == 8


def test_correct_count_and_strict_scores_agree_with_seqeval():
    gold, pred = every_category_case()
    tax = analyse(gold, pred, TYPES).taxonomy
    strict = score(gold_tags(gold), pred, TYPES)["strict"]
    assert tax["overall"]["correct"] / tax["overall"]["predicted"] == pytest.approx(strict["micro"]["precision"])
    assert tax["overall"]["correct"] / tax["overall"]["gold"] == pytest.approx(strict["micro"]["recall"])
    assert tax["overall"]["f1"] == pytest.approx(strict["micro"]["f1"]) and strict["micro"]["f1"] == 0.5
    for t, row in strict["per_type"].items():
        assert (tax["per_type"][t]["precision"], tax["per_type"][t]["recall"], tax["per_type"][t]["f1"]) == \
            pytest.approx((row["precision"], row["recall"], row["f1"])), t


def test_taxonomy_matches_the_nervaluate_scenarios():
    gold, pred = every_category_case()
    a = analyse(gold, pred, TYPES)
    ours, nv = a.taxonomy["overall"], a.nervaluate["overall"]
    assert (nv["strict"]["correct"], nv["strict"]["incorrect"], nv["strict"]["missed"], nv["strict"]["spurious"]) == \
        (4, 3, 1, 1)
    assert nv["exact"]["correct"] == ours["correct"] + ours["wrong_type"]
    assert nv["ent_type"]["correct"] == ours["correct"] + ours["wrong_boundary"]
    assert nv["partial"]["partial"] == ours["wrong_boundary"] + ours["wrong_boundary_and_type"]
    assert a.nervaluate["per_type"]["MONEY"]["strict"]["f1"] == 1.0


def test_confusion_matrix_has_missed_and_spurious():
    gold, pred = every_category_case()
    conf = analyse(gold, pred, TYPES).confusion
    assert conf["rows"] == [*TYPES, "spurious"] and conf["columns"] == [*TYPES, "missed"]
    m = {r: dict(zip(conf["columns"], row)) for r, row in zip(conf["rows"], conf["counts"])}
    assert m["ORG"]["ORG"] == 1 and m["PER"]["PER"] == 2 and m["MONEY"]["MONEY"] == 1
    assert m["LOC"]["ORG"] == 1 and m["LOC"]["missed"] == 1 and m["LOC"]["LOC"] == 1
    assert m["CLUSTER"]["ORG"] == 1 and m["spurious"]["PER"] == 1
    assert sum(map(sum, conf["counts"])) == 9  # 4 correct + 5 errors, each once
    md = confusion_markdown(conf)
    assert md.splitlines()[0].startswith("| gold \\ predicted | ORG") and "| spurious | 0 | 1 |" in md
    assert confusion_png(conf).startswith(b"\x89PNG")


def test_one_prediction_over_two_gold_entities():
    """A prediction that swallows two gold entities pairs with the first; the other is missed (as nervaluate)."""
    gold = [doc("x", T1, [("بانک ملی", "ORG"), ("ایران", "LOC")])]
    pred = gold_tags([doc("x", T1, [("بانک ملی ایران", "ORG")])])
    a = analyse(gold, pred, TYPES)
    assert [(m.category, m.gold.label if m.gold else None) for m in a.documents[0].matches] == [
        ("wrong_boundary", "ORG"), ("missed", "LOC")]
    assert a.nervaluate["overall"]["strict"]["incorrect"] == 1 and a.nervaluate["overall"]["strict"]["missed"] == 1


def test_types_outside_the_scored_ones_are_ignored_on_both_sides():
    gold, pred = every_category_case()
    tax = analyse(gold, pred, ["PER"]).taxonomy
    assert list(tax["per_type"]) == ["PER"]
    assert (tax["overall"]["correct"], tax["overall"]["spurious"], tax["overall"]["gold"]) == (2, 1, 2)


def test_error_rows_have_true_offsets_and_context():
    gold, pred = every_category_case()
    rows = analyse(gold, pred, TYPES).error_rows("test", context_chars=10)
    assert [r["id"] for r in rows] == [f"test-{k:04d}" for k in range(1, 6)]
    assert sorted(r["category"] for r in rows) == sorted(ERROR_CATEGORIES)
    texts = {"a": T1, "b": T2}
    for r in rows:
        for s in r["gold"] + r["pred"]:
            assert texts[r["doc_id"]][s["start"]:s["end"]] == s["text"]
            assert s["text"] in r["context"]
        assert texts[r["doc_id"]][r["context_start"]:].startswith(r["context"])
    missed = next(r for r in rows if r["category"] == "missed")
    assert missed["pred"] == [] and missed["gold"][0]["text"] == "استان گیلان" and missed["label"] == "LOC"
    spurious = next(r for r in rows if r["category"] == "spurious")
    assert spurious["gold"] == [] and spurious["label"] == "PER"


def test_mismatched_input_is_rejected():
    gold, pred = every_category_case()
    with pytest.raises(ValueError, match="3 documents but 2"):
        analyse(gold, pred[:2], TYPES)
    with pytest.raises(ValueError, match="document 'a'"):
        analyse(gold, [pred[0][:-1], *pred[1:]], TYPES)


def test_write_reports_adds_the_analysis_and_keeps_the_old_numbers(tmp_path):
    gold, pred = every_category_case()
    results = {"test": score(gold_tags(gold), pred, TYPES)}
    write_reports(tmp_path / "plain", results)
    write_reports(tmp_path / "full", results, {"test": (gold, pred)})
    plain = json.loads((tmp_path / "plain" / "metrics.json").read_text())
    full = json.loads((tmp_path / "full" / "metrics.json").read_text())
    assert {k: full["test"][k] for k in plain["test"]} == plain["test"]
    assert set(full["test"]) - set(plain["test"]) == {"taxonomy", "confusion", "nervaluate", "bootstrap"}
    assert full["test"]["taxonomy"]["overall"]["wrong_type"] == 1
    rows = [json.loads(x) for x in (tmp_path / "full" / "test_errors.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 5
    for name in ("test_confusion.png", "test_confusion.md", "report.html"):
        assert (tmp_path / "full" / name).is_file(), name
    report = (tmp_path / "full" / "report.txt").read_text(encoding="utf-8")
    assert "STRICT" in report and "wrong_boundary_and_type" in report and "95% interval" in report
    assert not (tmp_path / "plain" / "report.html").exists()
