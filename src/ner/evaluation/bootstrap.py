"""How sure are the scores? Bootstrap confidence intervals over documents and a paired bootstrap test.

Documents, not words or sentences, are resampled: errors cluster within a news story (one organisation
mis-tagged throughout), so treating sentences as independent would make the intervals too narrow. Every
replicate is a weighted sum of per-document counts of seqeval-strict (IOB2) true positives, predicted and gold
entities per type, so 1,000 replicates cost a matrix product instead of 1,000 seqeval runs; on the full set
these counts give exactly seqeval strict's numbers (``point_scores``). Resampling uses a fixed seed, so a report
is reproducible to the last digit.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

TP, PRED, GOLD = 0, 1, 2
DEFAULT_SAMPLES = 1000
DEFAULT_SEED = 0
_CHUNK = 200  # replicates per matrix product, to bound memory on large test sets


def strict_counts(gold_tags: Sequence[Sequence[str]], pred_tags: Sequence[Sequence[str]],
                  types: Sequence[str]) -> np.ndarray:
    """``(documents, types, 3)`` integer counts: true positives, predicted and gold entities (seqeval strict)."""
    from seqeval.scheme import IOB2, Tokens

    from ner.evaluation.scoring import restrict_tags

    if len(gold_tags) != len(pred_tags):
        raise ValueError(f"{len(gold_tags)} gold but {len(pred_tags)} predicted tag sequences")
    index = {t: k for k, t in enumerate(types)}
    counts = np.zeros((len(gold_tags), len(types), 3), dtype=np.int64)
    for d, (g, p) in enumerate(zip(gold_tags, pred_tags)):
        if len(g) != len(p):
            raise ValueError(f"document {d}: {len(g)} gold but {len(p)} predicted tags")
        gold = {e.to_tuple() for e in Tokens(restrict_tags(g, types), scheme=IOB2).entities}
        pred = {e.to_tuple() for e in Tokens(restrict_tags(p, types), scheme=IOB2).entities}
        for ents, col in ((gold & pred, TP), (pred, PRED), (gold, GOLD)):
            for e in ents:
                counts[d, index[e[1]], col] += 1
    return counts


def _f1(tp: np.ndarray, pred: np.ndarray, gold: np.ndarray) -> np.ndarray:
    """2TP / (pred + gold): seqeval's F1 whenever it is defined; NaN where a type has no gold and no prediction."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(pred + gold > 0, 2 * tp / (pred + gold), np.nan)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / den, np.nan)


def _micro(sums: np.ndarray) -> dict[str, np.ndarray]:
    """P/R/F1 from summed counts ``(..., types, 3)``, micro-averaged over types."""
    tp, pred, gold = (sums[..., c].sum(axis=-1) for c in (TP, PRED, GOLD))
    return {"precision": _ratio(tp, pred), "recall": _ratio(tp, gold), "f1": _f1(tp, pred, gold)}


def _per_type_f1(sums: np.ndarray) -> np.ndarray:
    return _f1(sums[..., TP], sums[..., PRED], sums[..., GOLD])


def _zero_if_nan(x) -> float:
    x = float(x)
    return 0.0 if np.isnan(x) else x


def point_scores(counts: np.ndarray, types: Sequence[str]) -> dict:
    """Strict micro P/R/F1 and per-type F1 of the whole set, with seqeval's ``zero_division=0`` convention."""
    total = counts.sum(axis=0)
    micro = {k: _zero_if_nan(v) for k, v in _micro(total).items()}
    per_type = {t: _zero_if_nan(f) for t, f in zip(types, _per_type_f1(total))}
    return {"micro": micro, "per_type": per_type}


def _resample_sums(counts: np.ndarray, n: int, seed: int, extra: Sequence[np.ndarray] = ()) -> list[np.ndarray]:
    """Summed counts of ``n`` resamples of the documents (with replacement), the same resamples for ``counts``
    and every array in ``extra`` (paired)."""
    arrays = [counts, *extra]
    n_docs = counts.shape[0]
    if n_docs == 0:  # nothing to resample: every replicate is empty, every score undefined
        return [np.zeros((n, *a.shape[1:])) for a in arrays]
    rng = np.random.default_rng(seed)
    flat = [a.reshape(n_docs, -1).astype(np.float64) for a in arrays]
    out = [[] for _ in arrays]
    for start in range(0, n, _CHUNK):
        weights = rng.multinomial(n_docs, np.full(n_docs, 1.0 / n_docs), size=min(_CHUNK, n - start))
        weights = weights.astype(np.float64)
        for k, f in enumerate(flat):
            out[k].append(weights @ f)
    return [np.concatenate(o).reshape(n, *a.shape[1:]) for o, a in zip(out, arrays)]


def _interval(samples: np.ndarray, value: float, confidence: float) -> dict:
    ok = samples[~np.isnan(samples)]
    alpha = (1 - confidence) / 2
    low, high = (float(np.quantile(ok, q)) for q in (alpha, 1 - alpha)) if ok.size else (None, None)
    return {"value": value, "low": low, "high": high}


def bootstrap_ci(counts: np.ndarray, types: Sequence[str], n: int = DEFAULT_SAMPLES, seed: int = DEFAULT_SEED,
                 confidence: float = 0.95) -> dict:
    """Percentile bootstrap intervals for strict micro P/R/F1 and per-type F1 (documents resampled).

    A replicate in which a type has neither gold nor predicted entities leaves its F1 undefined and is left out
    of that type's interval (``undefined`` counts them), rather than counted as 0.
    """
    if n < 1:
        raise ValueError(f"the number of bootstrap samples must be positive, got {n}")
    point = point_scores(counts, types)
    (sums,) = _resample_sums(counts, n, seed)
    micro = _micro(sums)
    per_type = _per_type_f1(sums)
    return {
        "method": "percentile bootstrap, documents resampled with replacement",
        "samples": n, "seed": seed, "confidence": confidence, "documents": int(counts.shape[0]),
        "micro": {k: _interval(micro[k], point["micro"][k], confidence) for k in ("precision", "recall", "f1")},
        "per_type": {t: {"f1": {**_interval(per_type[:, k], point["per_type"][t], confidence),
                                "undefined": int(np.isnan(per_type[:, k]).sum())}}
                     for k, t in enumerate(types)},
    }


def _difference(a: np.ndarray, b: np.ndarray, a0: float, b0: float, confidence: float) -> dict:
    """Observed B - A, its bootstrap interval and a two-sided p-value for "no difference": the share of
    replicates whose difference, centred on the observed one, is at least as large in size (shift method)."""
    diff0 = b0 - a0
    d = b - a
    d = d[~np.isnan(d)]
    tail = int((np.abs(d - diff0) >= abs(diff0) - 1e-12).sum())
    alpha = (1 - confidence) / 2
    low, high = (float(np.quantile(d, q)) for q in (alpha, 1 - alpha)) if d.size else (None, None)
    return {"a": a0, "b": b0, "difference": diff0, "low": low, "high": high,
            "p_value": (tail + 1) / (d.size + 1)}


def paired_bootstrap(counts_a: np.ndarray, counts_b: np.ndarray, types: Sequence[str],
                     n: int = DEFAULT_SAMPLES, seed: int = DEFAULT_SEED, confidence: float = 0.95) -> dict:
    """Paired bootstrap test of system B against system A on the same documents (same resamples for both):
    strict micro F1 and per-type F1 differences B - A with intervals and p-values."""
    if counts_a.shape != counts_b.shape:
        raise ValueError(f"systems scored on different sets: counts {counts_a.shape} vs {counts_b.shape}")
    if not np.array_equal(counts_a[..., GOLD], counts_b[..., GOLD]):
        raise ValueError("the two systems were scored against different gold entities")
    pa, pb = point_scores(counts_a, types), point_scores(counts_b, types)
    sa, sb = _resample_sums(counts_a, n, seed, [counts_b])
    fa, fb = _per_type_f1(sa), _per_type_f1(sb)
    return {
        "method": "paired bootstrap, documents resampled with replacement; two-sided p-value (shift method)",
        "samples": n, "seed": seed, "confidence": confidence, "documents": int(counts_a.shape[0]),
        "micro": {"f1": _difference(_micro(sa)["f1"], _micro(sb)["f1"], pa["micro"]["f1"], pb["micro"]["f1"],
                                    confidence)},
        "per_type": {t: {"f1": _difference(fa[:, k], fb[:, k], pa["per_type"][t], pb["per_type"][t], confidence)}
                     for k, t in enumerate(types)},
    }


def intervals_markdown(ci: dict) -> str:
    pct = round(100 * ci["confidence"])

    def fmt(iv: dict) -> str:
        return "n/a" if iv["low"] is None else f"[{iv['low']:.4f}, {iv['high']:.4f}]"

    lines = [(f"strict (IOB2) scores with {pct}% bootstrap intervals ({ci['samples']} resamples of "
             f"{ci['documents']} documents, seed {ci['seed']}):"), "",
             f"| | value | {pct}% interval |", "|---|---|---|"]
    for k in ("precision", "recall", "f1"):
        lines.append(f"| micro {k} | {ci['micro'][k]['value']:.4f} | {fmt(ci['micro'][k])} |")
    for t, v in ci["per_type"].items():
        lines.append(f"| {t} f1 | {v['f1']['value']:.4f} | {fmt(v['f1'])} |")
    return "\n".join(lines) + "\n"


def comparison_markdown(test: dict, name_a: str = "A", name_b: str = "B") -> str:
    """Per-type and micro F1 of both systems, the difference B - A, its interval and the p-value."""
    pct = round(100 * test["confidence"])
    lines = [f"A = {name_a}", f"B = {name_b}",
             f"paired bootstrap: {test['samples']} resamples of {test['documents']} documents, seed {test['seed']}",
             "", f"| type | F1 A | F1 B | B - A | {pct}% interval of B - A | p-value |", "|---|---|---|---|---|---|"]
    rows = [*((t, v["f1"]) for t, v in test["per_type"].items()), ("micro", test["micro"]["f1"])]
    for name, r in rows:
        iv = "n/a" if r["low"] is None else f"[{r['low']:+.4f}, {r['high']:+.4f}]"
        lines.append(f"| {name} | {r['a']:.4f} | {r['b']:.4f} | {r['difference']:+.4f} | {iv} | {r['p_value']:.4f} |")
    return "\n".join(lines) + "\n"


def compare_systems(gold_tags: Sequence[Sequence[str]], pred_a: Sequence[Sequence[str]],
                    pred_b: Sequence[Sequence[str]], types: Sequence[str], n: int = DEFAULT_SAMPLES,
                    seed: int = DEFAULT_SEED, confidence: float = 0.95) -> dict:
    """Paired bootstrap test of two systems' tags on the same documents (see ``paired_bootstrap``)."""
    return paired_bootstrap(strict_counts(gold_tags, pred_a, types), strict_counts(gold_tags, pred_b, types), types,
                            n, seed, confidence)
