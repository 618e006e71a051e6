"""The benchmark scripts' bookkeeping: result tables and the shared results file."""
import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import pretraining  # noqa: E402
import quality  # noqa: E402


def test_table_rows_name_their_seeds_and_average_them():
    results = {
        "crf": {"-": {"scores": {"arman/test": {"micro_f1": 0.7, "ORG": 0.6}}}},
        "scratch 4x256": {
            "1": {"scores": {"arman/test": {"micro_f1": 0.4, "ORG": 0.3}}, "command": "`python b.py --seeds 1 --systems scratch`"},
            "2": {"scores": {"arman/test": {"micro_f1": 0.6, "ORG": 0.5}}, "command": "`python b.py --seeds 2 --systems scratch`"},
        },
    }
    table = quality.table(results, ["arman/test"], "b.py")
    row = next(line for line in table.splitlines() if line.startswith("| scratch"))
    assert "| 1,2 | 0.500 ± 0.141 | 0.400 ± 0.141 |" in row
    assert row.endswith("`python b.py --systems scratch --seeds 1 2` |")   # the seeds in the row, not the first run's
    assert "| crf | - | 0.700 | 0.600 | `python b.py --systems crf` |" in table


def test_results_file_keeps_what_each_writer_added(tmp_path):
    store = tmp_path / "r.json"
    with pretraining.locked_store(store) as r:
        r["a"] = {"1": 1}
    with pretraining.locked_store(store) as r:
        r.setdefault("a", {})["2"] = 2
        r["b"] = {}
    with pretraining.locked_store(store) as r:
        assert r == {"a": {"1": 1, "2": 2}, "b": {}}
    assert not list(tmp_path.glob("*.tmp"))  # written by rename: never half a file


def test_learning_curve_note_lists_points_in_step_order():
    results = {"crf": {"-": {"scores": {"arman/test": {"micro_f1": 0.727}}}},
               "curve": {"enc": {"arman/test": {"2000": {"tokens_seen": 20, "micro_f1": 0.56},
                                                "500": {"tokens_seen": 5, "micro_f1": 0.48}}}}}
    note = pretraining.note(results)
    assert "CRF 0.727" in note
    assert note.index("| 500 | 5 | 0.480 |") < note.index("| 2,000 | 20 | 0.560 |")


def test_real_text_eval_sets_views_and_probe_keep_gold_on_the_same_characters():
    from ner.data.words import ZWNJ

    sets = quality.eval_sets(["ours/test", "ours/test@zwnj-none", "probe/khoosheh"])
    clean, _ = sets["ours/test"]
    flat, _ = sets["ours/test@zwnj-none"]
    assert len(clean) == len(flat) and any(ZWNJ in d.text for d in clean) and not any(ZWNJ in d.text for d in flat)
    for a, b in zip(clean, flat):
        assert [a.span_text(s).replace(ZWNJ, "") for s in a.spans] == [b.span_text(s) for s in b.spans]
    probe, types = sets["probe/khoosheh"]
    assert len(probe) >= 30 and "CLUSTER" in types
    assert all("خوشه" in d.text and all(s.label != "CLUSTER" for s in d.spans) for d in probe)


def test_probe_counts_every_predicted_cluster_as_false():
    sets = quality.eval_sets(["probe/khoosheh"])
    docs, _ = sets["probe/khoosheh"]

    def tag_every_khoosheh(batch):  # a tagger that calls every «خوشه…» word a CLUSTER
        return [["B-CLUSTER" if w.text.startswith("خوشه") else "O" for w in words] for _, words in batch]

    scores = quality.score_tagger(tag_every_khoosheh, ["ORG", "PER", "LOC", "CLUSTER"], sets)["probe/khoosheh"]
    expected = sum(w.text.startswith("خوشه") for d in docs for w in d.get_words())
    assert scores["false_cluster"] == expected > 30 and "CLUSTER" not in scores


def test_scoring_a_finished_run_again_adds_sets_and_keeps_the_others():
    results = {"sys": {"1": {"overrides": [], "scores": {"ours/test": {"micro_f1": 0.8}, "ours/dev": {"micro_f1": 0.7}}}}}
    again = quality.with_earlier_scores(results, "sys", "1", {"overrides": [], "scores": {"ours/dev": {"micro_f1": 0.9}}})
    assert again["scores"] == {"ours/test": {"micro_f1": 0.8}, "ours/dev": {"micro_f1": 0.9}}
    # another budget is another run: nothing carried over
    other = quality.with_earlier_scores(results, "sys", "1", {"overrides": ["training.epochs=1"], "scores": {}})
    assert other["scores"] == {}
