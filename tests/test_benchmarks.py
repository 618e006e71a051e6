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
