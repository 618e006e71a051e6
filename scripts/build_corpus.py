#!/usr/bin/env python
"""Compile the annotated corpus from its markup sources, or check that the JSONL is in sync with them.

    python scripts/build_corpus.py                      # data/annotations/source/*.txt -> {train,dev,test}.jsonl
    python scripts/build_corpus.py --check              # exit 1 when the JSONL differs from the sources
    python scripts/build_corpus.py --root tests/fixtures
"""
import argparse
import sys
from pathlib import Path

from ner.cli import ROOT
from ner.data.corpus.build import build, out_of_sync
from ner.data.documents import AnnotationError


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", default=str(ROOT / "data" / "annotations"),
                    help="folder with source/ (or source.txt), splits.yaml and the JSONL files")
    ap.add_argument("--check", action="store_true", help="only check that the JSONL matches the sources")
    args = ap.parse_args()
    root = Path(args.root)
    source = root / "source" if (root / "source").is_dir() else root
    try:
        if args.check:
            problems = out_of_sync(source, root, root / "splits.yaml")
            for p in problems:
                print(f"OUT OF SYNC: {p} — run `python scripts/build_corpus.py --root {root}`")
            return 1 if problems else 0
        splits = build(source, root, root / "splits.yaml")
    except (AnnotationError, FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for split, docs in splits.items():
        print(f"{split}: {len(docs)} documents -> {root / (split + '.jsonl')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
