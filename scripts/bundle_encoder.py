#!/usr/bin/env python
"""Pack an encoder folder into <= N MiB parts plus a checksummed manifest, or unpack such parts into a folder.

    python scripts/bundle_encoder.py pack encoders/news-gpu-lean OUT_DIR [--max-mib 15] [--prefix encoder]
    python scripts/bundle_encoder.py unpack OUT_DIR/encoder.manifest.json models/news-gpu-lean
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from ner import cli  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pack")
    p.add_argument("folder")
    p.add_argument("out_dir")
    p.add_argument("--max-mib", type=float, default=15.0)
    p.add_argument("--prefix", default="encoder")
    u = sub.add_parser("unpack")
    u.add_argument("manifest")
    u.add_argument("target")
    args = ap.parse_args()
    from ner.pretraining import bundle

    try:
        if args.command == "pack":
            for f in bundle.pack(args.folder, args.out_dir, args.prefix, args.max_mib):
                print(f"{f}  {f.stat().st_size / 2**20:.1f} MiB")
        else:
            print(f"unpacked into {bundle.unpack(args.manifest, args.target)}")
    except (FileNotFoundError, ValueError) as e:
        cli.fail(str(e))


if __name__ == "__main__":
    main()
