"""``report.html``: one self-contained page for reading an evaluation — score tables, error taxonomy, intervals,
confusion matrix and the documents themselves, right to left, gold and predicted entities side by side.

Self-contained means it opens from an e-mail attachment or an air-gapped machine: inline CSS, the plot as a
base64 data URI, no scripts, no external fonts or links. Every piece of corpus or model text goes through
``html.escape``.
"""
from __future__ import annotations

import base64
import html
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ner.data.labels import ENTITY_TYPES
from ner.evaluation.error_analysis import (CATEGORIES, ERROR_CATEGORIES, MISSED, SPURIOUS, Analysis, DocumentAnalysis,
                                           Mention)

PALETTE = {"ORG": "#a5d8ff", "PER": "#fcc2d7", "LOC": "#b2f2bb", "MONEY": "#ffec99", "CLUSTER": "#d0bfff"}
EXTRA_COLOURS = ("#ffd8a8", "#99e9f2", "#eebefa", "#c0eb75", "#ced4da")
CATEGORY_TEXT = {
    "correct": "correct",
    "wrong_type": "wrong type (same boundaries)",
    "wrong_boundary": "wrong boundary (same type)",
    "wrong_boundary_and_type": "wrong boundary and type",
    "missed": "missed (no prediction)",
    "spurious": "spurious (no gold entity)",
}

CSS = """
body{font-family:Tahoma,"DejaVu Sans",Arial,sans-serif;margin:1.5rem auto;max-width:1400px;color:#212529;
line-height:1.45;padding:0 1rem}
h1{font-size:1.5rem}h2{border-bottom:2px solid #dee2e6;padding-bottom:.2rem;margin-top:2.5rem}
h3{margin:1.5rem 0 .5rem}h4{margin:.2rem 0;font-size:.9rem;color:#495057}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.85rem}
th,td{border:1px solid #dee2e6;padding:.2rem .5rem;text-align:right;vertical-align:top}
th{background:#f1f3f5}td.name,th.name{text-align:left}tr.total td{font-weight:bold;background:#f8f9fa}
td.zero{color:#adb5bd}td.diag{background:#e7f5ff}td.err{background:#fff5f5}
.note{color:#495057;font-size:.85rem;max-width:60rem}
.legend span{display:inline-block;margin:.35rem .7rem .35rem 0}
.doc{border:1px solid #dee2e6;border-radius:6px;padding:.5rem .8rem;margin:1rem 0}
.doc h3{margin:.2rem 0 .5rem;font-size:1rem}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:1rem}
.text{white-space:pre-wrap;font-size:1.05rem;line-height:2.1;background:#fcfcfc;border:1px solid #f1f3f5;
padding:.4rem .6rem;border-radius:4px}
mark.ent{background:var(--c);border-radius:3px;padding:.05em .15em;-webkit-box-decoration-break:clone;
box-decoration-break:clone;color:inherit}
mark.ent .lab{font-size:.6rem;font-family:monospace;vertical-align:super;margin:0 .15em;color:#343a40}
mark.missed,mark.spurious{outline:2px dashed #e03131;outline-offset:1px}
mark.spurious{text-decoration:line-through}
mark.wrong_type{outline:2px solid #f76707;outline-offset:1px}
mark.wrong_boundary{outline:2px dotted #1971c2;outline-offset:1px}
mark.wrong_boundary_and_type{outline:2px solid #c92a2a;outline-offset:1px;text-decoration:underline wavy #c92a2a}
table.errors{width:100%}table.errors td.ctx{font-size:.95rem}
tr.cat-missed td.cat,tr.cat-spurious td.cat{color:#e03131}tr.cat-wrong_type td.cat{color:#f76707}
tr.cat-wrong_boundary td.cat{color:#1971c2}tr.cat-wrong_boundary_and_type td.cat{color:#c92a2a}
img.plot{max-width:min(100%,760px);border:1px solid #dee2e6}
pre{background:#f8f9fa;padding:.5rem;font-size:.8rem;overflow-x:auto}
nav a{margin-right:1rem}
"""


@dataclass
class SplitReport:
    """One evaluated set: its seqeval scores, the error analysis, bootstrap intervals, plot and error rows."""

    name: str
    scores: dict
    analysis: Analysis
    intervals: dict | None = None
    confusion_png: bytes | None = None
    errors: list[dict] = field(default_factory=list)


def esc(x) -> str:
    return html.escape(str(x), quote=True)


def _num(x) -> str:
    return f"{x:.4f}" if isinstance(x, float) else esc(x)


def _colours(labels: Sequence[str]) -> dict[str, str]:
    extra = iter(EXTRA_COLOURS * (len(labels) // len(EXTRA_COLOURS) + 1))
    return {lab: PALETTE.get(lab) or next(extra) for lab in labels}


def _table(header: Sequence[str], rows: Sequence[Sequence], total_rows: int = 0) -> str:
    """A table; the first column holds names; the last ``total_rows`` rows are emphasised."""
    out = ["<table><tr>" + "".join(f'<th class="name">{esc(h)}</th>' if i == 0 else f"<th>{esc(h)}</th>"
                                   for i, h in enumerate(header)) + "</tr>"]
    for k, row in enumerate(rows):
        cls = ' class="total"' if k >= len(rows) - total_rows else ""
        cells = [f'<td class="name">{esc(row[0])}</td>'] + [f"<td>{_num(c)}</td>" for c in row[1:]]
        out.append(f"<tr{cls}>" + "".join(cells) + "</tr>")
    return "\n".join(out) + "</table>"


def _interval(iv: dict | None) -> str:
    if not iv or iv.get("low") is None:
        return "n/a"
    return f"[{iv['low']:.4f}, {iv['high']:.4f}]"


def _scores_section(r: SplitReport) -> str:
    strict, default = r.scores["strict"], r.scores["default"]
    ci = r.intervals or {}
    pct = round(100 * ci.get("confidence", 0.95))
    header = ["", "strict P", "strict R", "strict F1", f"strict F1 {pct}% CI", "default P", "default R",
              "default F1", "support"]
    names = list(r.analysis.types) + [t for t in strict["per_type"] if t not in r.analysis.types]
    rows = []
    for name in [*names, "micro", "macro", "weighted"]:
        s = strict["per_type"].get(name) if name in names else strict[name]
        d = default["per_type"].get(name) if name in names else default[name]
        zero = {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
        s, d = s or zero, d or zero
        iv = ci.get("per_type", {}).get(name, {}).get("f1") if name in names else (
            ci.get("micro", {}).get("f1") if name == "micro" else None)
        rows.append([name, s["precision"], s["recall"], s["f1"], _interval(iv) if iv else "",
                     d["precision"], d["recall"], d["f1"], s["support"]])
    out = [_table(header, rows, total_rows=3)]
    if ci:
        micro = ci["micro"]
        out.append(f'<p class="note">{pct}% percentile bootstrap intervals from {ci["samples"]} resamples of the '
                   f'{ci["documents"]} documents (seed {ci["seed"]}). Micro precision '
                   f'{_interval(micro["precision"])}, recall {_interval(micro["recall"])}. seqeval '
                   "<b>strict</b>: IOB2, an entity counts only with exact boundaries and type; <b>default</b>: "
                   "conlleval-compatible.</p>")
    out.append("<details><summary>seqeval text reports</summary><pre>" + esc(strict.get("report", "")) + "\n"
               + esc(default.get("report", "")) + "</pre></details>")
    return "\n".join(out)


def _taxonomy_section(a: Analysis) -> str:
    tax = a.taxonomy
    header = ["label", *CATEGORIES, "gold", "predicted", "precision", "recall", "f1"]
    rows = [[name, *(row[c] for c in header[1:])] for name, row in [*tax["per_type"].items(),
                                                                   ("overall", tax["overall"])]]
    out = [('<p class="note">SemEval-2013 / MUC categories. A row counts entities by their gold label; spurious '
           "ones by their predicted label. Precision, recall and F1 here are strict (correct / predicted, "
           "correct / gold) and equal seqeval strict.</p>"), _table(header, rows, total_rows=1)]
    if a.nervaluate:
        keys = ("correct", "incorrect", "partial", "missed", "spurious", "precision", "recall", "f1")
        nrows = [[s, *(v[k] for k in keys)] for s, v in a.nervaluate["overall"].items()]
        out += [('<p class="note">nervaluate scenarios (overall): <b>strict</b> exact boundaries and type; '
                "<b>exact</b> exact boundaries, any type; <b>partial</b> overlapping boundaries, any type (half "
                "credit); <b>ent_type</b> overlapping boundaries, same type.</p>"),
                _table(["scenario", *keys], nrows)]
    return "\n".join(out)


def _confusion_section(r: SplitReport) -> str:
    conf = r.analysis.confusion
    out = [('<p class="note">Paired entities (rows gold label, columns predicted label); the diagonal holds '
           f"correct and wrong-boundary pairs, <b>{MISSED}</b> gold entities with no prediction, "
           f"<b>{SPURIOUS}</b> predictions with no gold entity.</p>"),
           '<table><tr><th class="name">gold \\ predicted</th>'
           + "".join(f"<th>{esc(c)}</th>" for c in conf["columns"]) + "</tr>"]
    for g, counts in zip(conf["rows"], conf["counts"]):
        cells = []
        for p, n in zip(conf["columns"], counts):
            if g == SPURIOUS and p == MISSED:
                cells.append('<td class="zero">—</td>')
                continue
            cls = "diag" if g == p else ("err" if n else "zero")
            cells.append(f'<td class="{cls}">{n}</td>')
        out.append(f'<tr><td class="name">{esc(g)}</td>' + "".join(cells) + "</tr>")
    out.append("</table>")
    if r.confusion_png:
        data = base64.b64encode(r.confusion_png).decode("ascii")
        out.append(f'<img class="plot" alt="{esc(r.name)} confusion matrix" src="data:image/png;base64,{data}">')
    return "\n".join(out)


def _highlight(text: str, items: Sequence[tuple[Mention, str]], classes: dict[str, str]) -> str:
    """``text`` escaped, with each (mention, category) wrapped in a coloured, category-styled ``<mark>``."""
    out, pos = [], 0
    for m, cat in sorted(items, key=lambda x: (x[0].start, x[0].end)):
        out.append(esc(text[pos:m.start]))
        out.append(f'<mark class="ent {classes[m.label]} {cat}" title="{esc(m.label)} · {esc(CATEGORY_TEXT[cat])}">'
                   f'{esc(text[m.start:m.end])}<span class="lab" dir="ltr">{esc(m.label)}</span></mark>')
        pos = m.end
    out.append(esc(text[pos:]))
    return "".join(out)


def _span_cell(spans: list[dict]) -> str:
    return "<br>".join(f'<span dir="rtl" lang="fa">{esc(s["text"])}</span> <span dir="ltr">[{s["start"]}:{s["end"]}] '
                       f'{esc(s["label"])}</span>' for s in spans) or "—"


def _document(d: DocumentAnalysis, rows: list[dict], split: str, k: int, classes: dict[str, str]) -> str:
    gold = [(m.gold, m.category) for m in d.matches if m.gold is not None]
    pred = [(m.pred, m.category) for m in d.matches if m.pred is not None]
    n = Counter(m.category for m in d.errors)
    summary = ", ".join(f"{v} {c.replace('_', ' ')}" for c, v in sorted(n.items())) or "no errors"
    out = [f'<section class="doc" id="doc-{esc(split)}-{k}"><h3>{esc(d.doc.id)} <small>({esc(summary)})</small></h3>',
           ('<div class="pair"><div><h4>gold</h4>'
           f'<div class="text" dir="rtl" lang="fa">{_highlight(d.doc.text, gold, classes)}</div></div>'
           '<div><h4>predicted</h4>'
           f'<div class="text" dir="rtl" lang="fa">{_highlight(d.doc.text, pred, classes)}</div></div></div>')]
    if rows:
        out.append('<table class="errors"><tr><th class="name">error</th><th class="name">category</th>'
                   '<th>gold</th><th>predicted</th><th>context</th></tr>')
        for r in rows:
            out.append(f'<tr id="err-{esc(r["id"])}" class="cat-{esc(r["category"])}">'
                       f'<td class="name">{esc(r["id"])}</td>'
                       f'<td class="name cat">{esc(CATEGORY_TEXT[r["category"]])}</td>'
                       f'<td>{_span_cell(r["gold"])}</td><td>{_span_cell(r["pred"])}</td>'
                       f'<td class="ctx" dir="rtl" lang="fa">{esc(r["context"])}</td></tr>')
        out.append("</table>")
    out.append("</section>")
    return "\n".join(out)


def _documents_section(r: SplitReport, classes: dict[str, str], all_documents: bool) -> str:
    docs = r.analysis.documents
    n_err = sum(len(d.errors) for d in docs)
    if n_err != len(r.errors):
        raise ValueError(f"{r.name}: {len(r.errors)} error rows for {n_err} errors in the analysis")
    shown = [d for d in docs if all_documents or d.errors]
    heading = (f"All {len(docs)} documents" if all_documents
               else f"Documents with errors: {len(shown)} of {len(docs)}")
    out = [f"<h3>{esc(heading)} ({n_err} errors)</h3>"]
    pos = 0
    for k, d in enumerate(docs):
        rows = r.errors[pos:pos + len(d.errors)]
        pos += len(d.errors)
        if all_documents or d.errors:
            out.append(_document(d, rows, r.name, k, classes))
    return "\n".join(out)


def _legend(classes: dict[str, str]) -> str:
    labels = "".join(f'<span><mark class="ent {c}">{esc(lab)}</mark></span>' for lab, c in classes.items())
    cats = "".join(f'<span><mark class="ent lx {c}">{esc(CATEGORY_TEXT[c])}</mark></span>' for c in ERROR_CATEGORIES)
    return f'<div class="legend note"><b>labels</b> {labels}<br><b>errors</b> {cats}</div>'


def render_html(reports: Sequence[SplitReport], title: str = "NER evaluation report",
                all_documents: bool = False) -> str:
    labels = [*ENTITY_TYPES]
    for r in reports:
        labels += [t for t in r.analysis.types if t not in labels]
    colours = _colours(labels)
    classes = {lab: f"l{k}" for k, lab in enumerate(labels)}
    label_css = "".join(f".{classes[lab]}{{--c:{colours[lab]}}}" for lab in labels) + ".lx{--c:#f1f3f5}"
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">', f"<title>{esc(title)}</title>",
             f"<style>{CSS}{label_css}</style></head><body>", f"<h1>{esc(title)}</h1>",
             "<nav>" + "".join(f'<a href="#split-{esc(r.name)}">{esc(r.name)}</a>' for r in reports) + "</nav>",
             _legend(classes)]
    for r in reports:
        parts += [f'<h2 id="split-{esc(r.name)}">{esc(r.name)}</h2>',
                  (f'<p class="note">types scored: {esc(", ".join(r.scores.get("types_scored", r.analysis.types)))}; '
                  f"{len(r.analysis.documents)} documents.</p>"),
                  "<h3>Scores</h3>", _scores_section(r),
                  "<h3>Error taxonomy</h3>", _taxonomy_section(r.analysis),
                  "<h3>Label confusion</h3>", _confusion_section(r),
                  _documents_section(r, classes, all_documents)]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_html(path: str | Path, reports: Sequence[SplitReport], title: str = "NER evaluation report",
               all_documents: bool = False) -> None:
    from ner.data.io.common import atomic_write

    with atomic_write(path) as f:
        f.write(render_html(reports, title, all_documents))
