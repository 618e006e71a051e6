#!/usr/bin/env python
"""Does pretraining the small encoder on news pay off? NER strict F1 of a small BERT fine-tuned from a pretrained
encoder vs the same architecture from random initialisation vs the CRF baseline, on PEYMA dev (ORG/PER/LOC/MONEY),
ARMAN fold-1 test (ORG/PER/LOC) and our test split (five types).

    python benchmarks/pretraining.py --seeds 1 2 3                     # CPU encoder: encoders/news-small
    python benchmarks/pretraining.py --pretrain-config news_gpu --jobs 8 --curve    # GPU encoder, parallel runs
    python benchmarks/pretraining.py --systems crf
The encoder is built first when missing (scripts/pretrain.py pretrain=<config>). Protocol: every fine-tuning run
trains a fixed number of epochs and keeps the last model (training.select_best=false), because PEYMA's dev split
is the reported one (its test split is withheld), so no run selects on what it reports. --curve fine-tunes
(seed 1) from every encoder snapshot: NER F1 against pretraining tokens.
Raw numbers: runs/benchmarks/pretraining.json (merged across invocations, also side by side); the table goes to
docs/benchmarks.md (pretraining section).
"""
from __future__ import annotations

import argparse
import fcntl
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import quality  # noqa: E402  (shared helpers: compose, score_tagger, table, write_doc)

ROOT = quality.ROOT
CORPORA = {"peyma": ("peyma", "dev"), "arman": ("arman", "test"), "ours": ("annotations", "test")}
FINE_TUNING = ["training.batch_size=32", "training.select_best=false", "training.eval_strategy=no",
               "training.progress=false", "training.warmup_ratio=0.1"]


def encoder_info(config: str, overrides: list[str]) -> dict:
    """Where ``pretrain=<config>`` writes its encoder, and its architecture (from the composed config)."""
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(ROOT / "configs"), version_base="1.3"):
        p = compose(config_name="pretrain", overrides=[f"pretrain={config}", *overrides])
    m = p.pretrain.model
    arch = m.get("arch", "bert")
    return {"dir": Path(p.output_dir), "name": p.pretrain.name,
            "arch": f"{m.num_layers}x{m.hidden_size}" + ("" if arch == "bert" else f" {arch}"),
            "scratch_overrides": [f"model.arch={arch}", f"model.hidden_size={m.hidden_size}", f"model.num_layers={m.num_layers}",
                                  f"model.num_heads={m.num_heads}", f"model.intermediate_size={m.intermediate_size}"]}


@contextmanager
def locked_store(path: Path):
    """The results file, read and written under an exclusive lock: benchmarks may run side by side."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data = json.loads(path.read_text()) if path.exists() else {}
        yield data
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2))
        tmp.replace(path)


def run_scores(run: Path, corpus: str) -> dict:
    """Strict micro and per-type F1 on the corpus's reported split, from the run's own metrics.json."""
    split = CORPORA[corpus][1]
    m = json.loads((run / "metrics.json").read_text())[split]["strict"]
    return {"micro_f1": m["micro"]["f1"], **{t: v["f1"] for t, v in m["per_type"].items()}}


def fine_tune(args: list[str], corpus: str, seed: int, run: Path, threads: int) -> dict:
    cmd = [sys.executable, str(ROOT / "scripts" / "train.py"), *args, f"data={CORPORA[corpus][0]}", f"seed={seed}",
           f"hydra.run.dir={run}"]
    if not ((run / "metrics.json").exists() and (run / "model" / "config.json").exists()):  # reuse a finished run
        env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS=str(threads))
        p = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{p.stderr[-2000:]}")
    summary = json.loads((run / "train_summary.json").read_text())
    return {"seconds": summary["train_seconds"], "scores": {f"{corpus}/{CORPORA[corpus][1]}": run_scores(run, corpus)}}


def build_encoder(config: str, enc: dict, overrides: list[str]) -> None:
    if (enc["dir"] / "card.json").exists():
        return
    subprocess.run([sys.executable, str(ROOT / "scripts" / "pretrain.py"), f"pretrain={config}", *overrides],
                   check=True, env=dict(os.environ, HF_HUB_OFFLINE="1"))


def snapshot_points(enc_dir: Path, card: dict) -> list[tuple[int, Path]]:
    snaps = [(int(p.name.split("-")[1]), p) for p in enc_dir.glob("snapshots/step-*")]
    return sorted(s for s in snaps if s[0] < card["steps"]) + [(card["steps"], enc_dir)]


def crf_scores(corpus: str) -> dict:
    from ner.data.datasets import annotated_types, load_splits
    from ner.data.labels import ENTITY_TYPES
    from ner.models.crf import CrfTagger

    data, split = CORPORA[corpus]
    cfg = quality.compose([f"data={data}"]).data
    splits = load_splits(cfg)
    sets = {f"{corpus}/{split}": (splits[split], annotated_types(cfg))}
    t0 = time.time()
    tagger = CrfTagger().fit(splits["train"])
    known = [t for t in ENTITY_TYPES if t in annotated_types(cfg)]
    return {"seconds": round(time.time() - t0), "scores": quality.score_tagger(tagger.predict_words, known, sets)}


def note(results: dict) -> str:
    lines = ["Fine-tuning (all BERT rows): " + " ".join(FINE_TUNING) + "; per-row learning rate and epochs in "
             "its command. `pretrained <encoder>` starts from that encoder; `scratch <layers>x<hidden>` is the same "
             "architecture, randomly initialised, with a WordPiece vocabulary trained on the NER training text."]
    for name, card in sorted(results.get("encoders", {}).items()):
        lines.append(
            f"\nEncoder `{name}`: {card['model'].get('architecture', 'bert')}, {card['model']['num_layers']} layers x "
            f"{card['model']['hidden_size']}, "
            f"{card['model']['parameters']:,} parameters, vocabulary {card['model']['vocab_size']:,}; {card['objective']}; "
            f"embeddings {card.get('embedding_init')}; {card['steps']:,} steps x {card['batch_size']} x "
            f"{card['block_size']} = {card['tokens_seen']:,} tokens seen ({card['train_tokens_per_pass']:,} per pass); "
            f"held-out MLM perplexity {card['held_out_perplexity']}; {card.get('device', 'cpu')}, "
            f"{card.get('training_seconds_this_invocation', card['seconds_this_invocation']) / 60:.1f} min of "
            f"training in its last invocation ({card.get('tokens_per_second', 'n/a')} tokens/s); "
            f"peak lr {card.get('peak_learning_rate', 'n/a')}, schedule: {card.get('schedule', 'linear')}. "
            f"Built by `python scripts/pretrain.py pretrain={card.get('config', name.replace('-', '_'))}`.")
    for name, per_corpus in sorted(results.get("curve", {}).items()):
        for key, points in per_corpus.items():
            crf = results.get("crf", {}).get("-", {}).get("scores", {}).get(key, {}).get("micro_f1")
            lines.append(f"\nLearning curve, encoder `{name}`: {key} strict micro F1 (seed 1) against pretraining "
                         f"tokens (`--curve`)" + (f"; CRF {crf:.3f}" if crf is not None else "")
                         + "\n\n| step | pretraining tokens | micro F1 |\n|---|---|---|")
            lines += [f"| {int(step):,} | {v['tokens_seen']:,} | {v['micro_f1']:.3f} |"
                      for step, v in sorted(points.items(), key=lambda kv: int(kv[0]))]
    return "\n".join(lines)


def write_card_rows(encoder_dir: Path, results: dict, evals: list[str]) -> None:
    """The encoder card's NER rows (mean ± std over seeds, with the CRF beside them), README.md redrawn."""
    from ner.pretraining.lean import card_markdown

    card_path = encoder_dir / "card.json"
    card = json.loads(card_path.read_text(encoding="utf-8"))
    key = next((k for k in results if k.startswith("pretrained ") and k.split(" ", 1)[1] == card["name"]), None)
    if key is None:
        raise SystemExit(f"no 'pretrained {card['name']}' rows in the results to put on {card_path}")
    crf = results.get("crf", {}).get("-", {}).get("scores", {})
    rows = {}
    for ev in evals:
        scores = [r["scores"][ev]["micro_f1"] for r in results[key].values() if ev in r["scores"]]
        if scores:
            crf_f1 = crf.get(ev, {}).get("micro_f1")
            rows[ev] = (f"{quality.fmt(scores)} ({len(scores)} seeds)"
                        + (f"; CRF baseline {crf_f1:.3f}" if crf_f1 is not None else ""))
    card["ner_rows"] = rows
    card["ner_protocol"] = " ".join(FINE_TUNING) + "; " + next(iter(results[key].values()))["command"]
    card_path.write_text(json.dumps(card, indent=2, ensure_ascii=False), encoding="utf-8")
    (encoder_dir / "README.md").write_text(card_markdown(card), encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--systems", nargs="+", default=["pretrained", "scratch", "crf"],
                    choices=["pretrained", "scratch", "crf"])
    ap.add_argument("--corpora", nargs="+", default=list(CORPORA), choices=list(CORPORA))
    ap.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    ap.add_argument("--pretrain-config", default="news_small", help="configs/pretrain/<name>.yaml of the encoder")
    ap.add_argument("--pretrain-override", nargs="*", default=[], help="overrides for scripts/pretrain.py")
    ap.add_argument("--lr-pretrained", default="2e-4", help="fine-tuning learning rate from the encoder")
    ap.add_argument("--lr-scratch", default="5e-4", help="fine-tuning learning rate from random initialisation")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--override", nargs="*", default=[], help="extra Hydra overrides for every fine-tuning run")
    ap.add_argument("--curve", action="store_true", help="also fine-tune (seed 1) from every encoder snapshot")
    ap.add_argument("--curve-corpora", nargs="+", default=["peyma", "arman"], choices=list(CORPORA))
    ap.add_argument("--jobs", type=int, default=1, help="fine-tuning runs at a time (one GPU takes several)")
    ap.add_argument("--threads", type=int, default=None, help="CPU threads per fine-tuning run (default: cores/jobs)")
    ap.add_argument("--report-only", action="store_true", help="rewrite the table from the stored results only")
    ap.add_argument("--results", type=Path, default=ROOT / "runs" / "benchmarks" / "pretraining.json",
                    help="the results file (merged across invocations); fine-tuning runs go beside it")
    ap.add_argument("--no-doc", action="store_true", help="do not rewrite docs/benchmarks.md (rehearsals)")
    ap.add_argument("--section", default="pretraining", help="the docs/benchmarks.md section this store renders")
    ap.add_argument("--card", type=Path, default=None,
                    help="an encoder folder whose card (card.json, README.md) gets the NER rows of this store")
    ap.add_argument("--deadline-minutes", type=float, default=None,
                    help="start no fine-tuning run after this many minutes (the table keeps what finished)")
    args = ap.parse_args()
    started = time.time()
    os.environ.setdefault("PROJECT_ROOT", str(ROOT))
    store = args.results
    enc = encoder_info(args.pretrain_config, args.pretrain_override)
    runs = ROOT / "runs" / "benchmarks" / store.stem / enc["name"]  # run folders stay out of the repository
    threads = args.threads or max(1, (os.cpu_count() or 1) // args.jobs)
    if args.report_only:
        args.systems, args.curve = [], False

    # The CRF needs no encoder and no GPU: it runs first, in this process.
    if "crf" in args.systems:
        for corpus in args.corpora:
            r = crf_scores(corpus)
            with locked_store(store) as results:
                results.setdefault("crf", {}).setdefault("-", {"scores": {}})["scores"].update(r["scores"])
            print(f"crf on {corpus}: {r['scores']}", flush=True)

    # Every BERT run is a job: (result key, seed, corpus, overrides, run dir, learning-curve step or None);
    # key "curve" marks a run that only gives a curve point.
    common = [*FINE_TUNING, f"training.epochs={args.epochs}", *args.override]
    jobs = []
    if "scratch" in args.systems:
        sys_args = ["model=small", *enc["scratch_overrides"], f"training.learning_rate={args.lr_scratch}", *common]
        jobs += [(f"scratch {enc['arch']}", s, c, sys_args, runs / "scratch" / c / f"seed{s}", None)
                 for c in args.corpora for s in args.seeds]
    card = None
    if "pretrained" in args.systems or args.curve:
        build_encoder(args.pretrain_config, enc, args.pretrain_override)
        card = json.loads((enc["dir"] / "card.json").read_text())
        card["config"] = args.pretrain_config
        with locked_store(store) as results:
            results.setdefault("encoders", {})[enc["name"]] = card
        pre = ["model=small_pretrained", f"model.name_or_path={enc['dir']}",
               f"training.learning_rate={args.lr_pretrained}", *common]
        if "pretrained" in args.systems:  # seed 1 on a curve corpus is also the curve's last point
            jobs += [(f"pretrained {enc['name']}", s, c, pre, runs / "pretrained" / c / f"seed{s}",
                      card["steps"] if args.curve and s == 1 and c in args.curve_corpora else None)
                     for c in args.corpora for s in args.seeds]
        if args.curve:
            for step, path in snapshot_points(enc["dir"], card)[:-1]:  # the last point is the seed-1 main run
                jobs += [("curve", 1, c, [*pre, f"model.name_or_path={path}"], runs / "curve" / c / f"step{step}", step)
                         for c in args.curve_corpora]
    command = (f"python benchmarks/pretraining.py --pretrain-config {args.pretrain_config} "
               f"--epochs {args.epochs} --lr-pretrained {args.lr_pretrained} "
               f"--lr-scratch {args.lr_scratch}" + (f" --override {' '.join(args.override)}" if args.override else ""))

    def launch(job):
        _, seed, corpus, sys_args, run, _ = job
        if args.deadline_minutes and time.time() - started > 60 * args.deadline_minutes:
            return job, None
        return job, fine_tune(sys_args, corpus, seed, run, threads)

    failures = []
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for fut in as_completed([pool.submit(launch, j) for j in jobs]):
            try:
                (key, seed, corpus, _, _, step), r = fut.result()
            except RuntimeError as e:
                failures.append(str(e))
                print(f"FAILED: {e}", file=sys.stderr, flush=True)
                continue
            if r is None:
                print(f"skipped (deadline): {key} {corpus} seed {seed}", flush=True)
                continue
            ((split_key, score),) = r["scores"].items()
            with locked_store(store) as results:
                if key != "curve":
                    entry = results.setdefault(key, {}).setdefault(str(seed), {"scores": {}})
                    entry["scores"].update(r["scores"])
                    entry["command"] = f"`{command} --systems {key.split()[0]}`"
                    entry.setdefault("seconds", {})[corpus] = r["seconds"]
                if step is not None:
                    results.setdefault("curve", {}).setdefault(enc["name"], {}).setdefault(split_key, {})[str(step)] = {
                        "tokens_seen": step * card["batch_size"] * card["block_size"], "micro_f1": score["micro_f1"]}
            print(f"{key} {corpus} seed {seed}{'' if step is None else f' step {step}'}: "
                  f"{score['micro_f1']:.3f} ({r['seconds']:.0f} s)", flush=True)

    with locked_store(store) as results:
        final = dict(results)
    table_results = {k: v for k, v in final.items() if k not in ("curve", "encoders")}
    evals = [f"{c}/{CORPORA[c][1]}" for c in CORPORA]
    if not args.no_doc:
        quality.write_doc(table_results, note(final), section=args.section, evals=evals,
                          script="benchmarks/pretraining.py")
    if args.card:
        write_card_rows(args.card, table_results, evals)
    print(quality.table(table_results, evals, "benchmarks/pretraining.py"))
    for f in failures:
        print(f"FAILED: {f}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
