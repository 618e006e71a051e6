#!/usr/bin/env python
"""Quality benchmark across corpora with different label sets (small offline model + a CRF baseline).

Systems (BERT = the small locally built model, trained from scratch):
  peyma            BERT on PEYMA train                         (ORG/PER/LOC/MONEY)
  ours             BERT on our corpus                          (all five)
  mixed-naive      BERT on ours + PEYMA + ARMAN fold 1, cross-entropy (unannotated types taught as O)
  mixed-marginal   the same mix, partial-annotation marginal likelihood (training.loss=marginal)
  crf-peyma, crf-ours, crf-mixed   linear-chain CRF on the same training data (naive mix for crf-mixed)
Evaluation sets: PEYMA dev (ORG/PER/LOC/MONEY) and our test split (five types); each system is scored only on
the types both it and the evaluation corpus know.

    python benchmarks/quality.py --seeds 1 2 3                       # everything (hours on 2 CPU cores)
    python benchmarks/quality.py --systems ours crf-ours --seeds 1 2 3
Raw numbers go to runs/benchmarks/quality.json (merged across invocations); the table in docs/benchmarks.md
between the quality markers is rewritten from that file.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from ner.data.labels import ENTITY_TYPES  # noqa: E402

BERT = {
    "peyma": ["model=small", "data=peyma", "training.learning_rate=1e-3", "training.warmup_ratio=0.06",
              "training.batch_size=32"],
    "ours": ["experiment=quickstart"],
    "mixed-naive": ["experiment=mixed_naive"],
    "mixed-marginal": ["experiment=mixed_marginal"],
}
CRF = {"crf-peyma": ["peyma"], "crf-ours": ["annotations"], "crf-mixed": ["annotations", "peyma", "arman"]}
EVALS = {"peyma/dev": ("peyma", "dev"), "ours/test": ("annotations", "test")}


def compose(overrides):
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    with initialize_config_dir(config_dir=str(ROOT / "configs"), version_base="1.3"):
        return hydra_compose(config_name="config", overrides=overrides)


def eval_sets():
    from ner.data.datasets import annotated_types, load_splits

    out = {}
    for key, (data, split) in EVALS.items():
        cfg = compose([f"data={data}"]).data
        out[key] = (load_splits(cfg)[split], annotated_types(cfg))
    return out


def score_tagger(predict_words, known_types, sets) -> dict:
    from ner.evaluation.scoring import gold_tags, score

    res = {}
    for key, (docs, corpus_types) in sets.items():
        types = [t for t in corpus_types if t in known_types]
        pred = predict_words([(d.text, d.get_words()) for d in docs])
        s = score(gold_tags(docs), pred, types)["strict"]
        res[key] = {"micro_f1": s["micro"]["f1"], **{t: s["per_type"].get(t, {}).get("f1") for t in types}}
    return res


def run_bert(name, seed, extra, sets, runs_dir) -> dict:
    from ner.predictor import NerPredictor

    run = runs_dir / name / f"seed{seed}"
    cmd = [sys.executable, str(ROOT / "scripts" / "train.py"), *BERT[name], f"seed={seed}", *extra,
           f"hydra.run.dir={run}", "training.progress=false"]
    if (run / "metrics.json").exists() and (run / "model" / "config.json").exists():
        print(f"{run}: finished earlier, evaluating it again without retraining", flush=True)
    else:
        subprocess.run(cmd, check=True, env=dict(os.environ, HF_HUB_OFFLINE="1"), stdout=subprocess.DEVNULL)
    p = NerPredictor.from_pretrained(run / "model")
    known = [t for t in ENTITY_TYPES if f"B-{t}" in p.labels]
    res = score_tagger(lambda docs: [t for t, _ in p.predict_words(docs)], known, sets)
    seconds = json.loads((run / "train_summary.json").read_text())["train_seconds"]
    return {"seconds": seconds, "scores": res}


def run_crf(name, sets) -> dict:
    from ner.data.datasets import annotated_types, load_splits
    from ner.models.crf import CrfTagger

    train, known = [], set()
    for data in CRF[name]:
        cfg = compose([f"data={data}"]).data
        train += load_splits(cfg)["train"]
        known |= set(annotated_types(cfg))
    t0 = time.time()
    tagger = CrfTagger().fit(train)
    res = score_tagger(tagger.predict_words, [t for t in ENTITY_TYPES if t in known], sets)
    return {"seconds": round(time.time() - t0), "scores": res}


def fmt(values):
    vals = [v for v in values if v is not None]
    if not vals:
        return "n/a"
    if len(vals) == 1:
        return f"{vals[0]:.3f}"
    return f"{statistics.mean(vals):.3f} ± {statistics.stdev(vals):.3f}"


def table(results: dict, evals=None, script: str = "benchmarks/quality.py") -> str:
    lines = []
    for key in evals or EVALS:
        types = [t for t in ENTITY_TYPES if any(t in r["scores"].get(key, {}) for runs in results.values()
                                                for r in runs.values())]
        rows = []
        for name, runs in results.items():
            scores = [r["scores"][key] for r in runs.values() if key in r["scores"]]
            if not scores:
                continue
            seeds = ",".join(sorted(runs)) if not name.startswith("crf") else "-"
            overrides = next(iter(runs.values())).get("overrides") or []
            cmd = next(iter(runs.values())).get("command")
            if cmd:  # a stored command: name the seeds that are actually in the row
                cmd = f"`{re.sub(r' --seeds( [0-9]+)*', '', cmd.strip('`'))} --seeds {' '.join(sorted(runs))}`"
            else:
                cmd = (f"`python {script} --systems {name}" + (
                    f" --seeds {' '.join(sorted(runs))}" if not name.startswith("crf") else "") + (
                    f" --override {' '.join(overrides)}" if overrides else "") + "`")
            rows.append(f"| {name} | {seeds} | {fmt([s['micro_f1'] for s in scores])} | "
                        + " | ".join(fmt([s.get(t) for s in scores]) for t in types) + f" | {cmd} |")
        if rows:
            lines += [f"**{key}** (strict IOB2 micro F1 and per type; mean ± std over seeds)", "",
                      "| system | seeds | micro F1 | " + " | ".join(types) + " | command |",
                      "|---|---|---|" + "---|" * len(types) + "---|", *rows, ""]
    return "\n".join(lines)


def write_doc(results: dict, note: str, section: str = "quality", evals=None,
              script: str = "benchmarks/quality.py") -> None:
    """Rewrite the part of docs/benchmarks.md between this section's markers (appended when missing)."""
    begin, end_marker = f"<!-- {section}:begin -->", f"<!-- {section}:end -->"
    doc = ROOT / "docs" / "benchmarks.md"
    body = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n"
    if begin not in body:
        body += "\n" + begin + "\n" + end_marker + "\n"
    block = f"{begin}\n<!-- written by {script} -->\n{note}\n\n{table(results, evals, script)}{end_marker}"
    start, end = body.index(begin), body.index(end_marker) + len(end_marker)
    doc.write_text(body[:start] + block + body[end:], encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--systems", nargs="+", default=[*BERT, *CRF], choices=[*BERT, *CRF])
    ap.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    ap.add_argument("--override", nargs="*", default=[], help="extra Hydra overrides for the BERT runs, "
                    "e.g. training.epochs=4 (recorded in the results)")
    ap.add_argument("--runs-dir", default=str(ROOT / "runs" / "benchmarks"))
    args = ap.parse_args()
    os.environ.setdefault("PROJECT_ROOT", str(ROOT))
    runs_dir = Path(args.runs_dir)
    runs_dir.mkdir(parents=True, exist_ok=True)
    store = runs_dir / "quality.json"
    results = json.loads(store.read_text()) if store.exists() else {}
    sets = eval_sets()
    for name in args.systems:
        if name in CRF:
            results[name] = {"-": run_crf(name, sets)}
        else:
            for seed in args.seeds:
                r = run_bert(name, seed, args.override, sets, runs_dir)
                r["overrides"] = args.override
                results.setdefault(name, {})[str(seed)] = r
        # merge with what other invocations wrote meanwhile (benchmarks may run side by side)
        merged = json.loads(store.read_text()) if store.exists() else {}
        merged[name] = {**merged.get(name, {}), **results[name]}
        store.write_text(json.dumps(merged, indent=2))
        results = {**merged, **{name: merged[name]}}
        print(f"{name}: {json.dumps({k: v['scores'] for k, v in results[name].items()})}", flush=True)
    overrides = sorted({" ".join(r.get("overrides", [])) for runs in results.values() for r in runs.values()} - {""})
    threads = os.environ.get("OMP_NUM_THREADS", "all available")
    note = (f"Small BERT from scratch (configs/model/small.yaml), CPU, {threads} thread(s) per training run."
            + (f" Budget overrides used: {'; '.join(overrides)}." if overrides else ""))
    write_doc(results, note)
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
