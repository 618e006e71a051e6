"""benchmarks/long_input.py: the document it builds, the fit it reports, and a one-size rehearsal."""
import json
import sys

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import long_input  # noqa: E402


@pytest.mark.parametrize("mode", ["one-sentence", "news"])
def test_document_is_one_line_of_the_requested_size(mode):
    doc = long_input.build_document(30_000, mode)
    assert 29_000 < len(doc.encode("utf-8")) <= 30_000
    assert "\n" not in doc and doc == doc.strip()
    assert (long_input.SENTENCE_END.search(doc) is None) == (mode == "one-sentence")


def test_fit_separates_fixed_and_per_byte_memory():
    rows = [{"utf8_bytes": b, "growth": 100 + 20 * b} for b in (1_000, 2_000, 4_000)]
    fixed, per_byte = long_input.fit(rows)
    assert fixed == pytest.approx(100) and per_byte == pytest.approx(20)


@pytest.mark.slow
def test_one_size_rehearsal_on_the_smoke_model(trained_run, tmp_path):
    out = tmp_path / "long.json"
    rc = long_input.main(["--model", str(trained_run[1]["model_dir"]), "--sizes-mb", "0.01", "--threads", "1",
                          "--out", str(out)])
    assert rc == 0
    res = json.loads(out.read_text())
    [row] = res["rows"]
    assert row["size_mb"] == 0.01 and 9_000 < row["utf8_bytes"] <= 10_000
    assert row["peak_rss"] >= row["rss_before_tagging"] > 0 and row["seconds"] > 0 and row["entities"] >= 0
