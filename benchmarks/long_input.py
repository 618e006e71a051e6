#!/usr/bin/env python
"""Memory and time on one long document (issue 15): does tagging a 1 MB single-line document stay bounded?

Each size runs in a fresh process (``--one``), so its peak RSS (``getrusage``'s ``ru_maxrss``) is its own: the
process loads the model, tags a short text (warm-up), notes its current RSS, builds the document, tags it once
and reports the peak. The document is our corpus's dev+test text joined into ONE line (no line breaks) and cut
at the size in UTF-8 bytes; ``--mode one-sentence`` (default) also removes sentence-final punctuation, so the
whole megabyte is a single sentence that the predictor must cover with overlapping windows (the worst case),
``--mode news`` keeps the sentences. The summary gives, per size, the text (UTF-8 bytes and the Python ``str``),
the RSS before tagging, the peak, their difference ("growth"), growth per byte of text and the time; then the
slope of growth against size: memory that grows with the document by a bounded factor, not faster.

    python benchmarks/long_input.py --model runs/quickstart/<time>/model --sizes-mb 0.25 0.5 1 --threads 2
    python benchmarks/long_input.py --model runs/quickstart/<time>/model --tiny     # rehearsal: 10-40 KB
    python benchmarks/long_input.py --model MODEL --tracemalloc   # also the peak of Python allocations (slower)
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

SIZES_MB = [0.25, 0.5, 1.0]
TINY_SIZES_MB = [0.01, 0.02, 0.04]
DEFAULT_OUT = ROOT / "runs" / "benchmarks" / "long_input.json"
SENTENCE_END = re.compile(r"[.!?؟…]")


def current_rss() -> int:
    """Resident set size now, in bytes (Linux ``/proc``; 0 where it is unavailable)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


def peak_rss() -> int:
    """Peak resident set size of this process so far, in bytes (``ru_maxrss`` is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def build_document(n_bytes: int, mode: str) -> str:
    """One line of our corpus's dev+test text, repeated as needed and cut to ``n_bytes`` of UTF-8 (at a word)."""
    from ner.data.io import read_jsonl

    texts = [d.text for split in ("dev", "test") for d in read_jsonl(ROOT / "data" / "annotations" / f"{split}.jsonl")]
    base = " ".join(" ".join(t.split()) for t in texts)  # no line breaks: a single-line document
    if mode == "one-sentence":
        base = SENTENCE_END.sub(" ", base)
    base_bytes = len(base.encode("utf-8")) + 1
    doc = " ".join([base] * (n_bytes // base_bytes + 1))
    cut = doc.encode("utf-8")[:n_bytes].decode("utf-8", "ignore")
    return cut[:cut.rfind(" ")] if " " in cut else cut


def run_one(args) -> dict:
    """Measure one size in this process; prints one JSON line."""
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from ner.data.words import split_words
    from ner.predictor import NerPredictor

    predictor = NerPredictor.from_pretrained(args.model, device=args.device)
    predictor("مدیرعامل شرکت شهرک‌های صنعتی استان گیلان گفت ۵۳۰ میلیارد تومان به خوشه صنعتی چای اختصاص یافت.")
    text = build_document(int(args.one * 1_000_000), args.mode)
    baseline, peak_before = current_rss(), peak_rss()
    if args.tracemalloc:
        import tracemalloc

        tracemalloc.start()
    started = time.perf_counter()
    entities = predictor(text)
    seconds = time.perf_counter() - started
    py_peak = None
    if args.tracemalloc:
        import tracemalloc

        py_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    peak = peak_rss()
    assert all(text[e.start:e.end] == e.text for e in entities)
    return {"size_mb": args.one, "mode": args.mode, "characters": len(text), "utf8_bytes": len(text.encode("utf-8")),
            "str_bytes": sys.getsizeof(text), "words": len(split_words(text)),
            "entities": len(entities), "seconds": round(seconds, 2), "chars_per_s": round(len(text) / seconds),
            "rss_before_tagging": baseline, "peak_rss_before_tagging": peak_before, "peak_rss": peak,
            "growth": max(0, peak - baseline), "python_alloc_peak": py_peak}


def fit(rows: list[dict]) -> tuple[float, float]:
    """Least-squares ``growth = fixed + per_byte * utf8_bytes`` over the measured sizes."""
    xs, ys = [r["utf8_bytes"] for r in rows], [r["growth"] for r in rows]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx) ** 2 for x in xs)
    per_byte = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / var if var else 0.0
    return my - per_byte * mx, per_byte


def summarise(rows: list[dict]) -> str:
    mib = 2 ** 20
    lines = ["| size | characters | UTF-8 | str | RSS before | peak RSS | growth | growth / UTF-8 | "
             "Python peak | time | chars/s |", "|" + "---|" * 11]
    for r in rows:
        py = f"{r['python_alloc_peak'] / mib:.1f} MiB" if r.get("python_alloc_peak") else "-"
        lines.append(f"| {r['size_mb']} MB | {r['characters']:,} | {r['utf8_bytes'] / mib:.2f} MiB | "
                     f"{r['str_bytes'] / mib:.2f} MiB | {r['rss_before_tagging'] / mib:.0f} MiB | "
                     f"{r['peak_rss'] / mib:.0f} MiB | {r['growth'] / mib:.1f} MiB | "
                     f"{r['growth'] / r['utf8_bytes']:.1f}x | {py} | {r['seconds']:.1f} s | {r['chars_per_s']:,} |")
    if len(rows) >= 2:
        fixed, per_byte = fit(rows)
        lines.append(f"\ngrowth ~= {fixed / mib:.0f} MiB + {per_byte:.1f} x the document's UTF-8 bytes (least squares "
                     f"over the sizes): the fixed part is the working memory of a batch of windows (independent of the "
                     f"document's length), the second is what grows with the document")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="a trained model folder (a run's model/)")
    ap.add_argument("--sizes-mb", type=float, nargs="+", default=SIZES_MB)
    ap.add_argument("--tiny", action="store_true", help=f"rehearsal: sizes {TINY_SIZES_MB} MB")
    ap.add_argument("--mode", choices=["one-sentence", "news"], default="one-sentence")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    ap.add_argument("--tracemalloc", action="store_true", help="also trace Python allocations (slows tagging)")
    ap.add_argument("--out", default=str(DEFAULT_OUT), help="raw numbers (JSON)")
    ap.add_argument("--one", type=float, default=None, help=argparse.SUPPRESS)  # internal: measure one size
    args = ap.parse_args(argv)
    if not Path(args.model, "config.json").is_file():
        print(f"error: {args.model} is not a model folder (no config.json)", file=sys.stderr)
        return 2
    if args.one is not None:
        print(json.dumps(run_one(args)))
        return 0
    rows = []
    for size in TINY_SIZES_MB if args.tiny else args.sizes_mb:
        cmd = [sys.executable, __file__, "--model", args.model, "--one", str(size), "--mode", args.mode,
               "--device", args.device] + (["--threads", str(args.threads)] if args.threads else []) \
            + (["--tracemalloc"] if args.tracemalloc else [])
        proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
        if proc.returncode != 0:
            print(proc.stderr[-3000:], file=sys.stderr)
            print(f"error: the {size} MB run failed", file=sys.stderr)
            return 1
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(f"{size} MB: {rows[-1]['seconds']} s, growth {rows[-1]['growth'] / 2**20:.1f} MiB", flush=True)
    fixed, per_byte = fit(rows) if len(rows) >= 2 else (None, None)
    result = {"model": args.model, "mode": args.mode, "tiny": args.tiny, "rows": rows,
              "fit": {"fixed_bytes": fixed, "bytes_per_text_byte": per_byte},
              "environment": {"python": platform.python_version(), "machine": platform.machine(),
                              "cpus": os.cpu_count(), "threads": args.threads, "device": args.device}}
    from ner.data.io.common import atomic_write

    with atomic_write(args.out) as f:
        json.dump(result, f, indent=2)
    print(summarise(rows))
    print(f"raw numbers: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
