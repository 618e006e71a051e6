#!/usr/bin/env python3
"""Check corpus source files written in the inline markup (stdlib only; for authors while writing).

    python3 scripts/check_markup.py data/annotations/source/gilan.txt [more files]

Prints every markup or span error with file, line and document, then per-label counts, distinct clusters and
the hard negatives found. Exit status 1 when there are errors.
"""
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from ner.data.corpus.checks import HARD_NEGATIVES, hard_negatives_in  # noqa: E402
from ner.data.corpus.markup import compile_markup  # noqa: E402
from ner.data.documents import AnnotationError  # noqa: E402
from ner.data.spans import check_spans  # noqa: E402


def main(paths: list[str]) -> int:
    n_err = 0
    for path in paths:
        try:
            docs = compile_markup(path)
        except AnnotationError as e:
            print(f"ERROR {e}")
            n_err += 1
            continue
        counts: Counter = Counter()
        clusters: Counter = Counter()
        negs: Counter = Counter()
        for doc in docs:
            for e in check_spans(doc, source=path):
                e.line = doc.meta["line"] + doc.text[:e.start].count("\n")
                print(f"ERROR {e}")
                n_err += 1
            for s in doc.spans:
                counts[s.label] += 1
                if s.label == "CLUSTER":
                    clusters[doc.span_text(s)] += 1
            negs.update(hard_negatives_in(doc))
        print(f"{path}: {len(docs)} documents; " + ", ".join(f"{k} {counts[k]}" for k in
                                                              ("CLUSTER", "MONEY", "ORG", "PER", "LOC")))
        print(f"  distinct CLUSTER strings ({len(clusters)}): " + "، ".join(sorted(clusters)))
        missing = [k for k in HARD_NEGATIVES if not negs[k]]
        print("  hard negatives: " + ", ".join(f"{k} {negs[k]}" for k in HARD_NEGATIVES)
              + (f"  MISSING: {', '.join(missing)}" if missing else ""))
    return 1 if n_err else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
