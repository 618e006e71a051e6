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
    "ours": ["experiment=scratch_small"],                         # small BERT from scratch (the old quick start)
    # + a news vocabulary and PPMI-SVD static vectors as embeddings (needs `python scripts/pretrain.py
    # pretrain=static_vectors` first: encoders/news-static)
    "ours-static": ["experiment=scratch_static"],
    "ours-news-rtd": ["experiment=quickstart", "training.augment=0.0"],       # the shipped encoder, fine-tuned
    "ours-news-rtd-aug": ["experiment=quickstart", "training.augment=0.5"],   # + web-orthography copies
    "mixed-naive": ["experiment=mixed_naive"],
    "mixed-marginal": ["experiment=mixed_marginal"],
}
# CRF systems: the corpora they train on, and the share of web-orthography training copies
CRF = {"crf-peyma": (["peyma"], 0.0), "crf-arman": (["arman"], 0.0), "crf-ours": (["annotations"], 0.0),
       "crf-ours-aug": (["annotations"], 0.5), "crf-mixed": (["annotations", "peyma", "arman"], 0.0)}
# evaluation sets: (data config, split) or (a set above, a web-orthography view of it) or a probe folder
EVALS = {"peyma/dev": ("peyma", "dev"), "arman/test": ("arman", "test"), "ours/test": ("annotations", "test"),
         "ours/test@web": ("ours/test", "web"), "ours/test@zwnj-none": ("ours/test", "zwnj-none"),
         "peyma/dev@web": ("peyma/dev", "web"), "probe/khoosheh": ("probe", "data/probes/khoosheh/source.txt"),
         # our dev split and its web view: where a recipe choice (e.g. augmentation) is made, never on test
         "ours/dev": ("annotations", "dev"), "ours/dev@web": ("ours/dev", "web")}
DEFAULT_EVALS = ["peyma/dev", "ours/test"]   # the original table; the real-text table asks for more (--evals)


def compose(overrides):
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    with initialize_config_dir(config_dir=str(ROOT / "configs"), version_base="1.3"):
        return hydra_compose(config_name="config", overrides=overrides)


def eval_sets(keys=DEFAULT_EVALS):
    """``{key: (documents, annotated types)}``; a view renders its base set in web orthography
    (ner.data.orthography); the «خوشه» probe holds team-written sentences with no CLUSTER in them."""
    from ner.data.corpus.markup import compile_markup
    from ner.data.datasets import annotated_types, load_splits
    from ner.data.orthography import view

    out = {}
    for key in keys:
        a, b = EVALS[key]
        if a == "probe":
            out[key] = (compile_markup(ROOT / b), list(ENTITY_TYPES))
        elif a in EVALS:  # a view of another set
            base_docs, types = out.get(a) or eval_sets([a])[a]
            out[key] = (view(base_docs, b), types)
        else:
            cfg = compose([f"data={a}"]).data
            out[key] = (load_splits(cfg)[b], annotated_types(cfg))
    return out


def score_tagger(predict_words, known_types, sets) -> dict:
    from ner.evaluation.scoring import gold_tags, score

    res = {}
    for key, (docs, corpus_types) in sets.items():
        types = [t for t in corpus_types if t in known_types]
        pred = predict_words([(d.text, d.get_words()) for d in docs])
        s = score(gold_tags(docs), pred, types)["strict"]
        res[key] = {"micro_f1": s["micro"]["f1"], **{t: s["per_type"].get(t, {}).get("f1") for t in types}}
        if key.startswith("probe/"):  # no CLUSTER in the probe: every predicted CLUSTER span is a false one
            res[key]["false_cluster"] = sum(tag == "B-CLUSTER" for tags in pred for tag in tags)
            res[key] = {k: v for k, v in res[key].items() if k != "CLUSTER"}
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
    from ner.data.orthography import augment
    from ner.models.crf import CrfTagger

    train, known = [], set()
    corpora, aug = CRF[name]
    for data in corpora:
        cfg = compose([f"data={data}"]).data
        train += load_splits(cfg)["train"]
        known |= set(annotated_types(cfg))
    t0 = time.time()
    tagger = CrfTagger().fit(augment(train, aug, seed=0) if aug else train)
    res = score_tagger(tagger.predict_words, [t for t in ENTITY_TYPES if t in known], sets)
    return {"seconds": round(time.time() - t0), "scores": res}


def fmt(values, digits: int = 3, thousands: bool = False):
    """One value, or mean ± std over seeds; ``n/a`` when there is none."""
    vals = [v for v in values if v is not None]
    spec = f"{',' if thousands else ''}.{digits}f"
    if not vals:
        return "n/a"
    if len(vals) == 1:
        return f"{vals[0]:{spec}}"
    return f"{statistics.mean(vals):{spec}} ± {statistics.stdev(vals):{spec}}"


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
              script: str = "benchmarks/quality.py", heading: str | None = None) -> None:
    """Rewrite the part of docs/benchmarks.md between this section's markers (appended, under ``heading``, when
    missing)."""
    begin, end_marker = f"<!-- {section}:begin -->", f"<!-- {section}:end -->"
    doc = ROOT / "docs" / "benchmarks.md"
    body = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n"
    if begin not in body:
        body = body.rstrip("\n") + "\n\n" + (f"{heading}\n\n" if heading else "") + begin + "\n" + end_marker + "\n"
        doc.parent.mkdir(parents=True, exist_ok=True)
    block = f"{begin}\n<!-- written by {script} -->\n{note}\n\n{table(results, evals, script)}{end_marker}"
    start, end = body.index(begin), body.index(end_marker) + len(end_marker)
    doc.write_text(body[:start] + block + body[end:], encoding="utf-8")


def realtext_note(results: dict, evals, threads) -> str:
    """What the real-text table holds, and the «خوشه» probe's false CLUSTER counts (not an F1)."""
    from ner.data.corpus.markup import compile_markup

    lines = [f"Systems trained on our corpus unless named otherwise (crf-peyma/crf-arman: in-domain CRFs), CPU, "
             f"{threads} thread(s) per run; scored on every set they can be (PEYMA and ARMAN are transfer for a "
             f"system trained on ours). `@web`: the same documents in web orthography (ZWNJ as a space, Arabic "
             f"ي/ك, Latin digits); `@zwnj-none`: ZWNJ dropped (ner.data.orthography). `ours-news-rtd`: "
             f"models/news-rtd-6x512 fine-tuned; `-aug`: half the training documents also go in as a random "
             f"web-orthography copy (training.augment=0.5): the quick start, chosen over no augmentation on our dev "
             f"split and its web view (`ours/dev`, `ours/dev@web`), never on test. `ours`: a small BERT from scratch "
             f"(experiment=scratch_small); `ours-static`: the same with a vocabulary learned on the unlabeled news "
             f"and PPMI-SVD static subword vectors from it as the starting embeddings (experiment=scratch_static, "
             f"after `python scripts/pretrain.py pretrain=static_vectors`)."]
    probe = [k for k in evals if k.startswith("probe/")]
    for key in probe:
        counts = {name: [r["scores"][key]["false_cluster"] for r in runs.values() if key in r["scores"]]
                  for name, runs in results.items()}
        n = len(compile_markup(ROOT / EVALS[key][1]))
        lines.append(f"\n`{key}`: {n} team-written sentences using «خوشه» in other senses (grape and date bunches, "
                     "wheat ears, gleaning, data clustering, star clusters, cluster bombs and sampling), no CLUSTER "
                     "in them; false CLUSTER spans predicted (mean over seeds): "
                     + ", ".join(f"{k} {statistics.mean(v):.1f}" for k, v in counts.items() if v) + ".")
    return "\n".join(lines)


def with_earlier_scores(results: dict, name: str, seed: str, run: dict) -> dict:
    """``run`` plus the scores the same system and seed already had on sets this invocation did not score (runs
    are scored again, not retrained, when their folder is complete), unless the budget overrides differ."""
    before = results.get(name, {}).get(seed, {})
    if before.get("overrides", []) == run.get("overrides", []):
        run["scores"] = {**before.get("scores", {}), **run["scores"]}
    return run


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--systems", nargs="+", default=[*BERT, *CRF], choices=[*BERT, *CRF])
    ap.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    ap.add_argument("--override", nargs="*", default=[], help="extra Hydra overrides for the BERT runs, "
                    "e.g. training.epochs=4 (recorded in the results)")
    ap.add_argument("--runs-dir", default=str(ROOT / "runs" / "benchmarks"))
    ap.add_argument("--evals", nargs="+", default=DEFAULT_EVALS, choices=list(EVALS))
    ap.add_argument("--results", type=Path, default=None, help="results file (default <runs-dir>/quality.json)")
    ap.add_argument("--section", default="quality", help="the docs/benchmarks.md section to rewrite")
    ap.add_argument("--report-only", action="store_true", help="rewrite the section from the results file only")
    args = ap.parse_args()
    os.environ.setdefault("PROJECT_ROOT", str(ROOT))
    runs_dir = Path(args.runs_dir)
    runs_dir.mkdir(parents=True, exist_ok=True)
    store = args.results or runs_dir / "quality.json"
    results = json.loads(store.read_text()) if store.exists() else {}
    sets = {} if args.report_only else eval_sets(args.evals)
    for name in [] if args.report_only else args.systems:
        if name in CRF:
            results[name] = {"-": with_earlier_scores(results, name, "-", run_crf(name, sets))}
        else:
            for seed in args.seeds:
                r = run_bert(name, seed, args.override, sets, runs_dir)
                r["overrides"] = args.override
                results.setdefault(name, {})[str(seed)] = with_earlier_scores(results, name, str(seed), r)
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
    if args.section != "quality":
        note = realtext_note(results, args.evals, threads)
    write_doc(results, note, section=args.section, evals=args.evals)
    print(table(results, args.evals))
    return 0


if __name__ == "__main__":
    sys.exit(main())
