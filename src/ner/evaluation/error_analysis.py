"""Entity-level error analysis: SemEval-2013 (MUC-style) categories per label, a label confusion matrix and a
listing of every error with its context.

Categories of one gold/predicted pairing (``CATEGORIES``):

- ``correct`` — same boundaries, same type (what seqeval strict counts as a true positive);
- ``wrong_type`` — same boundaries, another type (SemEval "incorrect");
- ``wrong_boundary`` — overlapping, same type, other boundaries (SemEval "partial");
- ``wrong_boundary_and_type`` — overlapping, other boundaries and another type;
- ``missed`` — a gold entity no prediction was paired with;
- ``spurious`` — a prediction no gold entity was paired with.

The aggregate SemEval scenarios (strict / exact / partial / ent_type) come from ``nervaluate``. Its per-type
numbers score each type in isolation (a type error there is a miss plus a spurious entity) and it lists no
pairs, so the six-way taxonomy per label and the error listing come from our own pairing, which follows
nervaluate's strict scenario step by step so that both agree on the totals. Entities are
``tags_to_spans`` over the document's own words, restricted to the types scored, on valid IOB2 tags (gold from
spans, predictions from ``NerPredictor``), so ``correct`` equals seqeval strict's true positives.
"""
from __future__ import annotations

import io
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from ner.data.documents import Document
from ner.data.spans import spans_to_tags, tags_to_spans
from ner.data.words import Word
from ner.evaluation.scoring import restrict_tags

log = logging.getLogger(__name__)

CATEGORIES = ("correct", "wrong_type", "wrong_boundary", "wrong_boundary_and_type", "missed", "spurious")
ERROR_CATEGORIES = CATEGORIES[1:]
SCENARIOS = ("strict", "exact", "partial", "ent_type")  # nervaluate's names
MISSED, SPURIOUS = "missed", "spurious"  # the confusion matrix's extra column and row


@dataclass(frozen=True)
class Mention:
    """An entity: character offsets (end exclusive) and the inclusive word range, which nervaluate uses."""

    start: int
    end: int
    label: str
    first: int
    last: int

    def to_json(self, text: str) -> dict:
        return {"start": self.start, "end": self.end, "label": self.label, "text": text[self.start:self.end]}


@dataclass(frozen=True)
class Match:
    category: str
    gold: Mention | None
    pred: Mention | None

    @property
    def label(self) -> str:
        """The gold label, or the predicted one for a spurious entity (how the taxonomy attributes it)."""
        return self.gold.label if self.gold is not None else self.pred.label

    @property
    def position(self) -> tuple[int, int]:
        spans = [m for m in (self.gold, self.pred) if m is not None]
        return min(m.start for m in spans), max(m.end for m in spans)


@dataclass
class DocumentAnalysis:
    doc: Document
    gold: list[Mention]
    pred: list[Mention]
    matches: list[Match]

    @property
    def errors(self) -> list[Match]:
        return [m for m in self.matches if m.category != "correct"]


@dataclass
class Analysis:
    """Everything the reports need about one evaluated split."""

    types: list[str]
    documents: list[DocumentAnalysis]
    taxonomy: dict = field(default_factory=dict)
    confusion: dict = field(default_factory=dict)
    nervaluate: dict = field(default_factory=dict)

    def error_rows(self, split: str, context_chars: int = 30) -> list[dict]:
        """One row per error, in document order, with a stable id (``<split>-0001``) the HTML report reuses."""
        rows = []
        for d in self.documents:
            for m in d.errors:
                text = d.doc.text
                a, b = m.position
                lo, hi = max(0, a - context_chars), min(len(text), b + context_chars)
                rows.append({"id": f"{split}-{len(rows) + 1:04d}", "split": split, "doc_id": d.doc.id,
                             "category": m.category, "label": m.label,
                             "gold": [m.gold.to_json(text)] if m.gold else [],
                             "pred": [m.pred.to_json(text)] if m.pred else [],
                             "context": text[lo:hi], "context_start": lo})
        return rows


def mentions(words: Sequence[Word], tags: Sequence[str]) -> list[Mention]:
    """Entities of IOB2 ``tags`` over ``words``, in text order."""
    first = {w.start: i for i, w in enumerate(words)}
    last = {w.end: i for i, w in enumerate(words)}
    return [Mention(s.start, s.end, s.label, first[s.start], last[s.end]) for s in tags_to_spans(words, tags)]


def _overlaps(pred: Mention, gold: Mention) -> bool:
    """nervaluate's test (min_overlap_percentage=1): shared words are at least 1% of the gold entity's words."""
    shared = min(pred.last, gold.last) - max(pred.first, gold.first) + 1
    return shared > 0 and shared * 100 >= gold.last - gold.first + 1


def match_mentions(gold: Sequence[Mention], pred: Sequence[Mention]) -> list[Match]:
    """Pair predictions with gold entities one to one, as nervaluate's strict scenario does: an exact match wins,
    otherwise the first still unpaired overlapping gold entity; unpaired gold entities are missed."""
    paired: set[int] = set()
    out: list[Match] = []
    for p in pred:
        exact = overlap = None
        for i, g in enumerate(gold):
            if i in paired:
                continue
            if (g.start, g.end, g.label) == (p.start, p.end, p.label):
                exact = i
                break
            if overlap is None and _overlaps(p, g):
                overlap = i
        if exact is not None:
            paired.add(exact)
            out.append(Match("correct", gold[exact], p))
        elif overlap is not None:
            paired.add(overlap)
            g = gold[overlap]
            if (g.start, g.end) == (p.start, p.end):
                category = "wrong_type"
            else:
                category = "wrong_boundary" if g.label == p.label else "wrong_boundary_and_type"
            out.append(Match(category, g, p))
        else:
            out.append(Match("spurious", None, p))
    out += [Match("missed", g, None) for i, g in enumerate(gold) if i not in paired]
    return sorted(out, key=lambda m: (m.position, CATEGORIES.index(m.category)))


def analyse(docs: Sequence[Document], pred_tags: Sequence[Sequence[str]], types: Sequence[str],
            gold_tags: Sequence[Sequence[str]] | None = None) -> Analysis:
    """Pair gold and predicted entities of every document and build the taxonomy, confusion matrix and the
    nervaluate scenarios. Tags of types outside ``types`` count as ``O`` on both sides, as in ``score()``."""
    if len(docs) != len(pred_tags):
        raise ValueError(f"{len(docs)} documents but {len(pred_tags)} predicted tag sequences")
    types = list(types)
    results = []
    for k, (doc, pred) in enumerate(zip(docs, pred_tags)):
        words = doc.get_words()
        gold = spans_to_tags(doc, words) if gold_tags is None else gold_tags[k]
        if len(pred) != len(words):
            raise ValueError(f"document {doc.id!r}: {len(words)} words but {len(pred)} predicted tags")
        g, p = mentions(words, restrict_tags(gold, types)), mentions(words, restrict_tags(pred, types))
        results.append(DocumentAnalysis(doc, g, p, match_mentions(g, p)))
    analysis = Analysis(types, results)
    analysis.taxonomy = taxonomy(results, types)
    analysis.confusion = confusion_matrix(results, types)
    try:
        analysis.nervaluate = nervaluate_scenarios(results, types)
    except ImportError as e:
        log.warning("no nervaluate scenarios (%s); install the eval extra: pip install -e '.[eval]'", e)
    else:
        _check_against_nervaluate(analysis)
    return analysis


def _prf(correct: int, predicted: int, gold: int) -> dict:
    p = correct / predicted if predicted else 0.0
    r = correct / gold if gold else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


def taxonomy(results: Sequence[DocumentAnalysis], types: Sequence[str]) -> dict:
    """Counts per category, overall and per label (by the gold label; spurious ones by the predicted label),
    with each label's gold and predicted totals and the strict P/R/F1 they imply."""
    by_label = {t: Counter() for t in types}
    gold_n, pred_n = Counter(), Counter()
    for d in results:
        gold_n.update(m.label for m in d.gold)
        pred_n.update(m.label for m in d.pred)
        for m in d.matches:
            by_label[m.label][m.category] += 1

    def row(counts: Counter, gold: int, predicted: int) -> dict:
        return {**{c: counts[c] for c in CATEGORIES}, "gold": gold, "predicted": predicted,
                **_prf(counts["correct"], predicted, gold)}

    per_type = {t: row(by_label[t], gold_n[t], pred_n[t]) for t in types}
    overall = row(sum(by_label.values(), Counter()), sum(gold_n.values()), sum(pred_n.values()))
    return {"categories": list(CATEGORIES), "overall": overall, "per_type": per_type}


def confusion_matrix(results: Sequence[DocumentAnalysis], types: Sequence[str]) -> dict:
    """Gold label (rows, plus ``spurious``: no gold entity) x predicted label (columns, plus ``missed``: no
    prediction), over paired entities; the diagonal holds correct and wrong-boundary pairs."""
    rows, cols = [*types, SPURIOUS], [*types, MISSED]
    counts = {r: dict.fromkeys(cols, 0) for r in rows}
    for d in results:
        for m in d.matches:
            counts[m.gold.label if m.gold else SPURIOUS][m.pred.label if m.pred else MISSED] += 1
    return {"rows": rows, "columns": cols, "counts": [[counts[r][c] for c in cols] for r in rows]}


def nervaluate_scenarios(results: Sequence[DocumentAnalysis], types: Sequence[str]) -> dict:
    """nervaluate's four SemEval-2013 scenarios, overall and per type, on inclusive word ranges."""
    from nervaluate import Evaluator

    def entities(ms: Sequence[Mention]) -> list[dict]:
        return [{"label": m.label, "start": m.first, "end": m.last} for m in ms]

    keys = ("correct", "incorrect", "partial", "missed", "spurious", "precision", "recall", "f1")
    empty = {k: (0.0 if k in ("precision", "recall", "f1") else 0) for k in keys}

    def as_dict(res) -> dict:
        return {k: float(getattr(res, k)) if k in ("precision", "recall", "f1") else int(getattr(res, k))
                for k in keys}

    out = {"overall": {s: dict(empty) for s in SCENARIOS}, "per_type": {t: {s: dict(empty) for s in SCENARIOS}
                                                                        for t in types}}
    if not results:
        return out
    ev = Evaluator([entities(d.gold) for d in results], [entities(d.pred) for d in results], tags=list(types),
                   loader="dict").evaluate()
    for s in SCENARIOS:
        if s in ev["overall"]:
            out["overall"][s] = as_dict(ev["overall"][s])
        for t in types:
            if s in ev["entities"].get(t, {}):
                out["per_type"][t][s] = as_dict(ev["entities"][t][s])
    return out


def _check_against_nervaluate(a: Analysis) -> None:
    """Our pairing mirrors nervaluate's strict scenario; a disagreement means a bug in one of them."""
    ours, theirs = a.taxonomy["overall"], a.nervaluate["overall"]["strict"]
    wrong = sum(ours[c] for c in ("wrong_type", "wrong_boundary", "wrong_boundary_and_type"))
    if (ours["correct"], wrong, ours["missed"], ours["spurious"]) != (
            theirs["correct"], theirs["incorrect"], theirs["missed"], theirs["spurious"]):
        log.warning("error taxonomy %s disagrees with nervaluate's strict scenario %s", ours, theirs)


def taxonomy_markdown(tax: dict) -> str:
    cols = [*CATEGORIES, "gold", "predicted", "precision", "recall", "f1"]
    lines = ["| label | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for name, row in [*tax["per_type"].items(), ("overall", tax["overall"])]:
        cells = [f"{row[c]:.4f}" if isinstance(row[c], float) else str(row[c]) for c in cols]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def confusion_markdown(conf: dict) -> str:
    lines = ["| gold \\ predicted | " + " | ".join(conf["columns"]) + " |", "|---" * (len(conf["columns"]) + 1) + "|"]
    for r, counts in zip(conf["rows"], conf["counts"]):
        cells = ["—" if (r == SPURIOUS and c == MISSED) else str(n) for c, n in zip(conf["columns"], counts)]
        lines.append(f"| {r} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def confusion_png(conf: dict, title: str = "Entity label confusion") -> bytes:
    """The confusion matrix as a PNG (Agg canvas, no pyplot: never touches the caller's backend)."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    m = np.array(conf["counts"], dtype=float)
    n_r, n_c = m.shape
    fig = Figure(figsize=(1.2 + 0.9 * n_c, 1.0 + 0.7 * n_r), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.imshow(np.log1p(m), cmap="Blues", aspect="auto")
    top = np.log1p(m).max() or 1.0
    for i in range(n_r):
        for j in range(n_c):
            if conf["rows"][i] == SPURIOUS and conf["columns"][j] == MISSED:
                continue
            ax.text(j, i, str(int(m[i, j])), ha="center", va="center", fontsize=9,
                    color="white" if np.log1p(m[i, j]) > 0.6 * top else "black")
    ax.set_xticks(range(n_c), conf["columns"], rotation=30, ha="right")
    ax.set_yticks(range(n_r), conf["rows"])
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(title)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()
