"""The report folder of an evaluation: ``metrics.json`` and ``report.txt``, and given the predictions the error
analysis files and ``report.html``. The top of ``ner.evaluation``: it draws on scoring, bootstrap, error analysis
and the HTML page, none of which imports it back."""
from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path

from ner.data.documents import Document
from ner.evaluation.scoring import MODES, format_report, gold_tags

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportOptions:
    """Settings of the error-analysis report. Nothing random or time-dependent: the same predictions give the
    same ``metrics.json``, so ``scripts/evaluate.py`` reproduces a run's numbers exactly."""

    bootstrap_samples: int = 1000
    seed: int = 0
    confidence: float = 0.95
    all_documents: bool = False  # report.html shows every document, not only those with errors
    context_chars: int = 30  # characters of context on each side of an error in errors.jsonl

    @classmethod
    def from_config(cls, cfg, strict: bool = True) -> ReportOptions:
        """From a config's optional ``report:`` block (``+report.all_documents=true`` on the command line).
        An unknown option raises, or with ``strict=False`` (the end of a training run) is logged and ignored."""
        block = cfg.get("report") if cfg is not None else None
        if not block:
            return cls()
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(block) - known)
        if unknown:
            message = f"unknown report option(s) {unknown}; expected some of {sorted(known)}"
            if strict:
                raise ValueError(message)
            log.warning("%s; ignoring them", message)
        return cls(**{k: block[k] for k in block if k in known})


def write_reports(out_dir: str | Path, results: dict[str, dict],
                  predictions: Mapping[str, tuple[Sequence[Document], Sequence[Sequence[str]]]] | None = None,
                  options: ReportOptions | None = None) -> None:
    """``metrics.json`` (numbers) and ``report.txt`` (readable) for named evaluation sets.

    Given each set's documents and predicted tags (``predictions``, e.g. ``{"test": (docs, pred_tags)}``), also the
    error analysis: taxonomy, confusion matrix, nervaluate scenarios and bootstrap intervals in ``metrics.json``
    and ``report.txt``, ``<set>_errors.jsonl``, ``<set>_confusion.png``/``.md`` and one ``report.html``.
    """
    from ner.data.io.common import atomic_write

    out_dir = Path(out_dir)
    numbers = {name: {k: ({m: v for m, v in s.items() if m != "report"} if k in MODES else s)
                      for k, s in scores.items()} for name, scores in results.items()}
    texts = [format_report(name, s) for name, s in results.items()]
    if predictions:
        texts += _write_analysis(out_dir, results, predictions, options or ReportOptions(), numbers)
    with atomic_write(out_dir / "metrics.json") as f:
        json.dump(numbers, f, ensure_ascii=False, indent=2)
    with atomic_write(out_dir / "report.txt") as f:
        f.write("\n".join(texts))


def split_file_stem(split: str) -> str:
    """``test`` -> ``test``; ``peyma/test`` (another corpus of a mixed run) -> ``peyma_test``."""
    return re.sub(r"[^\w.-]+", "_", split)


def _write_analysis(out_dir: Path, results: dict, predictions: Mapping, opts: ReportOptions,
                    numbers: dict) -> list[str]:
    """Error analysis files per set and ``report.html``; adds to ``numbers``, returns report.txt sections."""
    from ner.data.io.common import atomic_write
    from ner.evaluation.bootstrap import bootstrap_ci, intervals_markdown, point_scores, strict_counts
    from ner.evaluation.error_analysis import analyse, confusion_markdown, confusion_png, taxonomy_markdown
    from ner.evaluation.html_report import SplitReport, write_html

    texts, reports = [], []
    for split, (docs, pred) in predictions.items():
        if split not in results:
            raise ValueError(f"predictions for {split!r} but no scores for it (scored: {sorted(results)})")
        scores = results[split]
        types = scores["types_scored"]
        gold = gold_tags(docs)
        analysis = analyse(docs, pred, types, gold)
        counts = strict_counts(gold, pred, types)
        _check_against_seqeval(split, point_scores(counts, types), scores)
        ci = bootstrap_ci(counts, types, opts.bootstrap_samples, opts.seed, opts.confidence)
        numbers[split].update(taxonomy=analysis.taxonomy, confusion=analysis.confusion,
                              nervaluate=analysis.nervaluate, bootstrap=ci)
        rows = analysis.error_rows(split, opts.context_chars)
        stem = split_file_stem(split)
        with atomic_write(out_dir / f"{stem}_errors.jsonl") as f:
            f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        conf_md = confusion_markdown(analysis.confusion)
        with atomic_write(out_dir / f"{stem}_confusion.md") as f:
            f.write(f"# {split}: entity label confusion (gold rows x predicted columns)\n\n{conf_md}")
        try:
            png = confusion_png(analysis.confusion, f"{split}: entity label confusion")
        except ImportError as e:
            log.warning("no confusion plot (%s); install the eval extra: pip install -e '.[eval]'", e)
            png = None
        if png is not None:
            with atomic_write(out_dir / f"{stem}_confusion.png", "wb") as f:
                f.write(png)
        texts.append("\n".join([
            f"== {split}: error analysis ==", "", intervals_markdown(ci),
            "entity error taxonomy (SemEval-2013 categories; counted by gold label, spurious by predicted label):",
            "", taxonomy_markdown(analysis.taxonomy),
            "label confusion over paired entities (rows gold, columns predicted; diagonal includes wrong boundaries):",
            "", conf_md,
            f"{len(rows)} errors listed in {stem}_errors.jsonl; all of it in report.html", ""]))
        reports.append(SplitReport(split, scores, analysis, ci, png, rows))
    write_html(out_dir / "report.html", reports, all_documents=opts.all_documents)
    return texts


def _check_against_seqeval(split: str, point: dict, scores: dict) -> None:
    """The bootstrap counts must give seqeval strict's own numbers on the full set; say so loudly if not."""
    strict = scores["strict"]
    pairs = [("micro", point["micro"]["f1"], strict["micro"]["f1"])]
    pairs += [(t, f, strict["per_type"].get(t, {}).get("f1", 0.0)) for t, f in point["per_type"].items()]
    bad = [(name, ours, theirs) for name, ours, theirs in pairs if abs(ours - theirs) > 1e-9]
    if bad:
        log.error("%s: bootstrap counts disagree with seqeval strict F1 (name, counts, seqeval): %s", split, bad)
