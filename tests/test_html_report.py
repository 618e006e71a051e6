"""report.html: well-formed, self-contained, right to left, escaped, and shows every listed error."""
import json
from html.parser import HTMLParser

import pytest
from test_error_analysis import TYPES, every_category_case

from ner.data.documents import Document, Span
from ner.evaluation.report import ReportOptions, write_reports
from ner.evaluation.scoring import gold_tags, score

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
FORBIDDEN = ("http://", "https://", 'src="/', "<script", "<link", "@import", "url(")


class StrictChecker(HTMLParser):
    """Fails on any end tag that does not close the innermost open element, and on duplicate ids."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.problems, self.ids, self.rtl_blocks, self.text = [], [], set(), 0, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            if attrs["id"] in self.ids:
                self.problems.append(f"duplicate id {attrs['id']}")
            self.ids.add(attrs["id"])
        if attrs.get("dir") == "rtl" and attrs.get("lang") == "fa":
            self.rtl_blocks += 1
        if tag not in VOID:
            self.stack.append((tag, self.getpos()))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1][0] != tag:
            self.problems.append(f"</{tag}> at {self.getpos()} closes {self.stack[-1] if self.stack else 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def check_html(page: str) -> StrictChecker:
    checker = StrictChecker()
    checker.feed(page)
    checker.close()
    assert not checker.problems, checker.problems[:5]
    assert not checker.stack, f"unclosed: {checker.stack[:5]}"
    assert page.startswith("<!DOCTYPE html>") and 'dir="rtl"' in page and 'lang="fa"' in page
    for bad in FORBIDDEN:
        assert bad not in page, bad
    return checker


def check_errors_shown(page: str, checker: StrictChecker, rows: list[dict]) -> None:
    text = "".join(checker.text)
    for r in rows:
        assert f"err-{r['id']}" in checker.ids, r["id"]
        for s in r["gold"] + r["pred"]:
            assert s["text"] in text and f"[{s['start']}:{s['end']}]" in text, (r["id"], s)


def build(tmp_path, docs=None, pred=None, options=None):
    if docs is None:
        docs, pred = every_category_case()
    results = {"test": score(gold_tags(docs), pred, TYPES)}
    write_reports(tmp_path, results, {"test": (docs, pred)}, options)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    rows = [json.loads(x) for x in (tmp_path / "test_errors.jsonl").read_text(encoding="utf-8").splitlines()]
    return page, rows


def test_report_is_well_formed_self_contained_and_lists_every_error(tmp_path):
    page, rows = build(tmp_path)
    checker = check_html(page)
    assert len(rows) == 5
    check_errors_shown(page, checker, rows)
    assert page.count("data:image/png;base64,") == 1
    # Both sides of every shown document are right-to-left Persian blocks, plus each error's context cell.
    assert checker.rtl_blocks >= 2 * 2 + len(rows)
    for cat in ("missed", "spurious", "wrong_type", "wrong_boundary", "wrong_boundary_and_type"):
        assert 'class="ent l' in page and f" {cat}\" title=" in page, cat
    assert "Documents with errors: 2 of 3" in page and 'id="doc-test-2"' not in page


def test_all_documents_option_shows_error_free_documents_too(tmp_path):
    page, _ = build(tmp_path, options=ReportOptions(all_documents=True, bootstrap_samples=50))
    check_html(page)
    assert "All 3 documents" in page and 'id="doc-test-2"' in page and "50 resamples" in page


def test_text_is_escaped(tmp_path):
    text = 'شرکت <script>alert("x")</script> & "نفت" در تهران'
    start = text.index("تهران")
    docs = [Document("d<1>", text, [Span(start, start + 5, "LOC")])]
    pred = [["O"] * (len(docs[0].get_words()) - 1) + ["B-ORG"]]
    page, rows = build(tmp_path, docs, pred)
    checker = check_html(page)
    assert "<script>" not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "d&lt;1&gt;" in page and "&amp;" in page
    check_errors_shown(page, checker, rows)
    assert rows[0]["category"] == "wrong_type"


@pytest.mark.slow
def test_training_run_folder_holds_the_full_report(trained_run):
    run_dir, out = trained_run
    metrics = json.loads((run_dir / "metrics.json").read_text())
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    checker = check_html(page)
    for split in ("dev", "test"):
        rows = [json.loads(x) for x in (run_dir / f"{split}_errors.jsonl").read_text(encoding="utf-8").splitlines()]
        tax = metrics[split]["taxonomy"]["overall"]
        assert len(rows) == sum(tax[c] for c in ("wrong_type", "wrong_boundary", "wrong_boundary_and_type",
                                                  "missed", "spurious"))
        check_errors_shown(page, checker, rows)
        assert (run_dir / f"{split}_confusion.png").read_bytes().startswith(b"\x89PNG")
        assert metrics[split]["bootstrap"]["samples"] == 1000
        precision = tax["correct"] / max(tax["predicted"], 1)
        assert precision == pytest.approx(metrics[split]["strict"]["micro"]["precision"])
        assert metrics[split]["strict"] == {k: v for k, v in out["results"][split]["strict"].items() if k != "report"}
