#!/usr/bin/env python
"""Throughput of ``scripts/predict.py``'s engines (issue 13): the single-process loop against Ray Data with 1 and 2
workers (an actor each, one predictor per actor, ``--threads-per-worker`` torch/ONNX threads each).

Input: the inference benchmark's texts (our dev+test documents and PEYMA dev sentences ten at a time) repeated
to ``--docs`` JSONL records with ids. Each Ray setting runs on a fresh local Ray instance with as many CPUs as
workers x threads; its wall time counts actor start-up and model loading (as a user pays them), so use enough
documents for them to amortise. Every engine's output must be byte-identical to the local engine's (checked).

    python benchmarks/ray_throughput.py --model runs/quickstart/<time>/model --docs 2000 --workers 1 2
    python benchmarks/ray_throughput.py --model MODEL --docs 2000 --workers 1 2 --backend onnx --quantize
    python benchmarks/ray_throughput.py --model /tmp/smoke_run/model --tiny          # rehearsal (~1 min)
    python benchmarks/ray_throughput.py --write-doc --from-json runs/benchmarks/ray_throughput.json
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = "benchmarks/ray_throughput.py"
sys.path.insert(0, str(ROOT / "src"))
if str(ROOT / "benchmarks") not in sys.path:
    sys.path.insert(0, str(ROOT / "benchmarks"))

import inference  # noqa: E402  (the same texts as the inference benchmark)
import quality  # noqa: E402  (write_doc for docs/benchmarks.md)

DEFAULT_OUT = ROOT / "runs" / "benchmarks" / "ray_throughput.json"
DOC_SECTION = "ray_throughput"
DOC_HEADING = f"## Tagging a corpus: one process vs Ray Data workers (`{SCRIPT}`)"
TINY_DOCS = 40


def write_input(path: Path, docs: int, tiny: bool) -> dict:
    texts, info = inference.load_texts(tiny=tiny, log=lambda *_: None)
    with open(path, "w", encoding="utf-8") as f:
        for k in range(docs):
            f.write(json.dumps({"id": f"doc-{k}", "text": texts[k % len(texts)]}, ensure_ascii=False) + "\n")
    return {"documents": docs, "distinct_texts": len(texts),
            "characters": sum(len(texts[k % len(texts)]) for k in range(docs))}


def job_config(model: str, inp: Path, out: Path, **over) -> dict:
    os.environ.setdefault("PROJECT_ROOT", str(ROOT))
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    args = [f"model_path={model}", f"input={inp}", f"output={out}", "progress=false", "resume=false",
            *(f"{k}={v}" for k, v in over.items())]
    with initialize_config_dir(config_dir=str(ROOT / "configs"), version_base="1.3"):
        return OmegaConf.to_container(compose(config_name="predict", overrides=args), resolve=True)


def run(model: str, docs: int, workers: list[int], threads: int, backend: str, quantize: bool, tiny: bool,
        log=print) -> dict:
    import ray

    from ner.inference.job import run_job

    rows = []
    with tempfile.TemporaryDirectory(prefix="ray_throughput_") as tmp:
        tmp = Path(tmp)
        info = write_input(tmp / "in.jsonl", docs, tiny)
        common = {"backend": backend, "quantize": str(quantize).lower()}
        local = tmp / "local.jsonl"
        t0 = time.perf_counter()
        run_job(job_config(model, tmp / "in.jsonl", local, num_threads=threads, **common))
        rows.append({"engine": "local", "workers": 1, "threads_per_worker": threads,
                     "seconds": time.perf_counter() - t0})
        log(f"local: {rows[-1]['seconds']:.1f} s")
        for w in workers:
            out = tmp / f"ray{w}.jsonl"
            ray.init(num_cpus=w * threads, include_dashboard=False, log_to_driver=False)
            try:
                t0 = time.perf_counter()
                # four blocks per worker at least, so that every actor has work until the end
                split = max(1, min(1000, -(-docs // (4 * w))))
                run_job(job_config(model, tmp / "in.jsonl", out, engine="ray", **{"ray.workers": w},
                                   **{"ray.cpus_per_worker": threads, "ray.split_lines": split}, **common))
                seconds = time.perf_counter() - t0
            finally:
                ray.shutdown()
            if out.read_bytes() != local.read_bytes():
                raise AssertionError(f"ray with {w} worker(s) wrote another output than the local engine")
            rows.append({"engine": "ray", "workers": w, "threads_per_worker": threads, "seconds": seconds})
            log(f"ray, {w} worker(s): {seconds:.1f} s (output identical to the local engine's)")
    for r in rows:
        r["docs_per_s"] = docs / r["seconds"]
        r["chars_per_s"] = info["characters"] / r["seconds"]
    import torch

    return {"benchmark": "ray_throughput", "script": SCRIPT, "created": time.strftime("%Y-%m-%d %H:%M:%S"),
            "args": {"model": inference.shown_path(model), "docs": docs, "workers": workers, "threads": threads,
                     "backend": backend, "quantize": quantize, "tiny": tiny},
            "environment": {"cpu": inference.environment("cpu")["device_name"], "cpu_count": os.cpu_count(),
                            "python": platform.python_version(), "torch": torch.__version__,
                            "ray": ray.__version__},
            "input": info, "rows": rows}


def markdown(runs: list[dict]) -> str:
    lines = ["| model | backend | docs | engine | workers x threads | seconds | docs/s | vs local | command |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        a = r["args"]
        base = next(x for x in r["rows"] if x["engine"] == "local")["docs_per_s"]
        backend = a["backend"] + ("-int8" if a["quantize"] else "")
        cmd = ["python", SCRIPT, "--model", a["model"], "--docs", str(a["docs"]), "--workers",
               *map(str, a["workers"]), "--threads-per-worker", str(a["threads"]), "--backend", a["backend"]]
        cmd += ["--quantize"] if a["quantize"] else []
        cmd += ["--tiny"] if a["tiny"] else []
        for x in r["rows"]:
            lines.append(f"| {inference.model_name(Path(a['model']))} | {backend} | {a['docs']} | {x['engine']} | "
                         f"{x['workers']} x {x['threads_per_worker']} | {x['seconds']:.1f} | {x['docs_per_s']:.1f} | "
                         f"{x['docs_per_s'] / base:.2f}x | `{shlex.join(cmd)}` |")
    return "\n".join(lines) + "\n"


def write_doc(runs: list[dict]) -> Path:
    doc = quality.ROOT / "docs" / "benchmarks.md"
    env = runs[0]["environment"]
    note = (f"`scripts/predict.py` on the same JSONL input with the local engine and with `engine=ray` (Ray Data: "
            f"read tasks over line splits, an actor pool of N predictors, the driver writing in input order); "
            f"every output byte-identical to the local one. Wall time includes Ray's actor start-up and model "
            f"loading. {env['cpu']} ({env['cpu_count']} CPUs), torch {env['torch']}, ray {env['ray']}.\n\n"
            + markdown(runs).rstrip("\n"))
    quality.write_doc({}, note, section=DOC_SECTION, script=SCRIPT, heading=DOC_HEADING)
    return doc


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", help="a saved model folder (a run's model/)")
    ap.add_argument("--docs", type=int, default=2000)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--threads-per-worker", type=int, default=1)
    ap.add_argument("--backend", choices=["torch", "onnx"], default="torch")
    ap.add_argument("--quantize", action="store_true")
    ap.add_argument("--tiny", action="store_true", help=f"{TINY_DOCS} documents from the tiny text set")
    ap.add_argument("--out", default=str(DEFAULT_OUT))
    ap.add_argument("--write-doc", action="store_true")
    ap.add_argument("--from-json", nargs="+", metavar="FILE")
    args = ap.parse_args(argv)
    if args.from_json:
        runs = [json.loads(Path(p).read_text(encoding="utf-8")) for p in args.from_json]
    else:
        if not args.model:
            ap.error("--model is required unless --from-json is given")
        if min(args.workers) < 1 or args.threads_per_worker < 1 or args.docs < 1:
            ap.error("--docs, --workers and --threads-per-worker must be positive")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        result = run(args.model, TINY_DOCS if args.tiny else args.docs, args.workers, args.threads_per_worker,
                     args.backend, args.quantize, args.tiny)
        from ner.data.io.common import atomic_write

        with atomic_write(args.out) as f:
            json.dump(result, f, ensure_ascii=False, indent=2)
        print(f"raw numbers: {args.out}")
        runs = [result]
    print(markdown(runs))
    if args.write_doc:
        print(f"wrote the {DOC_SECTION} section of {write_doc(runs)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
