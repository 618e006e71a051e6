#!/usr/bin/env python
"""Does pretraining the small encoder on news pay off? NER strict F1 of the small BERT fine-tuned from the
pretrained encoder vs from random initialisation vs the CRF baseline, on PEYMA dev (ORG/PER/LOC/MONEY),
ARMAN fold-1 test (ORG/PER/LOC) and our test split (five types).

    python benchmarks/pretraining.py --seeds 1 2 3          # builds encoders/news-small first when missing
    python benchmarks/pretraining.py --systems crf --corpora arman
    python benchmarks/pretraining.py --curve                # NER dev F1 on our corpus per encoder snapshot
Raw numbers: runs/benchmarks/pretraining.json; the table goes to docs/benchmarks.md (pretraining section).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import quality  # noqa: E402  (shared helpers: compose, score_tagger, table, write_doc)

ROOT = quality.ROOT
CORPORA = {"peyma": ("peyma", "dev"), "arman": ("arman", "test"), "ours": ("annotations", "test")}
SYSTEMS = {
    # fine-tuning learning rates differ for pretrained and random starts (random needs a larger one)
    "pretrained": ["model=small_pretrained", "training.learning_rate=3e-4", "training.epochs=6"],
    "scratch": ["model=small", "training.learning_rate=1e-3", "training.epochs=6"],
}
ENCODER = ROOT / "encoders" / "news-small"


def eval_set(corpus: str):
    from ner.data import annotated_types, load_splits

    data, split = CORPORA[corpus]
    cfg = quality.compose([f"data={data}"]).data
    splits = load_splits(cfg)
    return splits, {f"{corpus}/{split}": (splits[split], annotated_types(cfg))}


def fine_tune(system_args, corpus, seed, run, extra) -> dict:
    from ner.labels import ENTITY_TYPES
    from ner.predictor import NerPredictor

    data = CORPORA[corpus][0]
    cmd = [sys.executable, str(ROOT / "scripts" / "train.py"), *system_args, f"data={data}", f"seed={seed}",
           "training.batch_size=32", "training.early_stopping_patience=2", "training.progress=false", *extra,
           f"hydra.run.dir={run}"]
    if not ((run / "metrics.json").exists() and (run / "model" / "config.json").exists()):  # reuse a finished run
        subprocess.run(cmd, check=True, env=dict(os.environ, HF_HUB_OFFLINE="1"), stdout=subprocess.DEVNULL)
    p = NerPredictor.from_pretrained(run / "model")
    _, sets = eval_set(corpus)
    known = [t for t in ENTITY_TYPES if f"B-{t}" in p.labels]
    return {"seconds": json.loads((run / "train_summary.json").read_text())["train_seconds"],
            "scores": quality.score_tagger(lambda d: [t for t, _ in p.predict_words(d)], known, sets)}


def build_encoder(pretrain_overrides) -> None:
    if (ENCODER / "card.json").exists():
        return
    subprocess.run([sys.executable, str(ROOT / "scripts" / "pretrain.py"), *pretrain_overrides], check=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--systems", nargs="+", default=["pretrained", "scratch", "crf"],
                    choices=["pretrained", "scratch", "crf"])
    ap.add_argument("--corpora", nargs="+", default=list(CORPORA), choices=list(CORPORA))
    ap.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    ap.add_argument("--override", nargs="*", default=[], help="extra Hydra overrides for fine-tuning")
    ap.add_argument("--pretrain-override", nargs="*", default=[], help="overrides for scripts/pretrain.py")
    ap.add_argument("--curve", action="store_true", help="fine-tune on our corpus from every encoder snapshot")
    args = ap.parse_args()
    os.environ.setdefault("PROJECT_ROOT", str(ROOT))
    runs = ROOT / "runs" / "benchmarks" / "pretraining"
    runs.mkdir(parents=True, exist_ok=True)
    store = runs.parent / "pretraining.json"
    results = json.loads(store.read_text()) if store.exists() else {}
    if "pretrained" in args.systems or args.curve:
        build_encoder(args.pretrain_override)

    if args.curve:
        card = json.loads((ENCODER / "card.json").read_text())
        per_step = card["tokens_seen"] / max(card["steps"], 1)
        points = sorted(ENCODER.glob("snapshots/step-*"), key=lambda p: int(p.name.split("-")[1])) + [ENCODER]
        for snap in points:
            step = int(snap.name.split("-")[1]) if snap.name.startswith("step-") else card["steps"]
            r = fine_tune(SYSTEMS["pretrained"] + [f"model.name_or_path={snap}"], "ours", 1,
                          runs / "curve" / f"step{step}", args.override)
            results.setdefault("curve", {})[str(step)] = {**r, "tokens_seen": int(step * per_step)}
            store.write_text(json.dumps(results, indent=2))
            print(f"curve step {step}: {r['scores']}", flush=True)

    for corpus in args.corpora:
        for name in args.systems:
            if name == "crf":
                from ner.crf import CrfTagger
                from ner.labels import ENTITY_TYPES

                splits, sets = eval_set(corpus)
                t0 = time.time()
                tagger = CrfTagger().fit(splits["train"])
                known = [t for t in ENTITY_TYPES if any(t in ts for _, ts in sets.values())]
                r = {"seconds": round(time.time() - t0), "scores": quality.score_tagger(tagger.predict_words, known, sets)}
                results.setdefault("crf", {}).setdefault("-", {"scores": {}})["scores"].update(r["scores"])
            else:
                for seed in args.seeds:
                    r = fine_tune(SYSTEMS[name], corpus, seed, runs / name / corpus / f"seed{seed}", args.override)
                    entry = results.setdefault(name, {}).setdefault(str(seed), {"scores": {}, "overrides": args.override})
                    entry["scores"].update(r["scores"])
            store.write_text(json.dumps(results, indent=2))
            print(f"{name} on {corpus}: done", flush=True)

    card = json.loads((ENCODER / "card.json").read_text()) if (ENCODER / "card.json").exists() else None
    note = ["Small BERT 4 layers x 256 (configs/model/small*.yaml); fine-tuning: "
            + "; ".join(f"{k}: {' '.join(v)}" for k, v in SYSTEMS.items()) + "."]
    if card:
        note.append(f"Encoder: {card['objective']}, embeddings {card.get('embedding_init')}, {card['steps']} steps, "
                    f"{card['tokens_seen']:,} tokens seen ({card['train_tokens_per_pass']:,} per pass), held-out "
                    f"MLM perplexity {card['held_out_perplexity']}, {card['seconds_this_invocation'] / 60:.0f} min "
                    f"in its last invocation (`python scripts/pretrain.py`, see encoders/news-small/card.json).")
    if results.get("curve"):
        note.append("\nLearning curve (our dev → test strict micro F1 after fine-tuning from each snapshot; "
                    "`python benchmarks/pretraining.py --curve`):\n\n| pretraining tokens | ours/test micro F1 |\n|---|---|\n"
                    + "\n".join(f"| {v['tokens_seen']:,} | {v['scores']['ours/test']['micro_f1']:.3f} |"
                                for _, v in sorted(results["curve"].items(), key=lambda kv: int(kv[0]))))
    table_results = {k: v for k, v in results.items() if k != "curve"}
    evals = [f"{c}/{CORPORA[c][1]}" for c in CORPORA]
    quality.write_doc(table_results, "\n".join(note), section="pretraining", evals=evals,
                      script="benchmarks/pretraining.py")
    print(quality.table(table_results, evals, "benchmarks/pretraining.py"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
