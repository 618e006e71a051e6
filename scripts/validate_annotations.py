#!/usr/bin/env python
"""Validate the annotated corpus and audit its consistency; print statistics.

    python scripts/validate_annotations.py            # errors + audit; exit 1 if anything is unexplained
    python scripts/validate_annotations.py --stats    # statistics table (Markdown)
    python scripts/validate_annotations.py --stats --write-readme   # refresh the table in data/annotations/README.md
"""
import argparse
import json
import re
import sys
from pathlib import Path

from ner.cli import ROOT
from ner.data.corpus.stats import corpus_stats, stats_markdown
from ner.data.corpus.validate import load_corpus, validate
from ner.data.documents import AnnotationError
from ner.data.io.common import atomic_write

BEGIN, END = "<!-- stats:begin -->", "<!-- stats:end -->"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", default=str(ROOT / "data" / "annotations"))
    ap.add_argument("--exceptions", default=None, help="audit exceptions YAML (default: <root>/audit_exceptions.yaml)")
    ap.add_argument("--stats", action="store_true", help="print statistics instead of validating")
    ap.add_argument("--json", action="store_true", help="with --stats: JSON instead of Markdown")
    ap.add_argument("--write-readme", action="store_true", help="with --stats: update <root>/README.md between markers")
    args = ap.parse_args()
    root = Path(args.root)
    if not root.is_dir():
        print(f"error: corpus folder {root} does not exist (expected train/dev/test.jsonl in it; see --root)",
              file=sys.stderr)
        return 2

    if args.stats:
        splits, errors = load_corpus(root)
        if errors:
            print("\n".join(errors), file=sys.stderr)
            return 1
        stats = corpus_stats(splits)
        text = json.dumps(stats, indent=2, ensure_ascii=False) if args.json else stats_markdown(stats)
        print(text)
        if args.write_readme:
            readme = root / "README.md"
            body = readme.read_text(encoding="utf-8")
            cmd = "python scripts/validate_annotations.py --stats --write-readme"
            block = f"{BEGIN}\n<!-- written by `{cmd}` -->\n{stats_markdown(stats)}{END}"
            if BEGIN not in body:
                raise SystemExit(f"{readme} has no {BEGIN} ... {END} markers")
            with atomic_write(readme) as f:
                f.write(re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, body, flags=re.S))
        return 0

    if args.exceptions and not Path(args.exceptions).is_file():
        print(f"error: audit exceptions file {args.exceptions} does not exist", file=sys.stderr)
        return 2
    try:
        f = validate(root, args.exceptions or root / "audit_exceptions.yaml")
    except AnnotationError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for e in f.errors:
        print(f"ERROR {e}")
    for a in f.audit:
        print(f"AUDIT {a}")
    print(f"{len(f.errors)} error(s), {len(f.audit)} unexplained audit finding(s), "
          f"{f.explained} finding(s) explained in audit_exceptions.yaml")
    return 1 if f.errors or f.audit else 0


if __name__ == "__main__":
    sys.exit(main())
