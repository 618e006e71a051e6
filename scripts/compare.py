#!/usr/bin/env python
"""Compare two trained models on the same documents: strict F1 per type and micro for A and B, the difference
B - A, its paired-bootstrap interval and p-value. Prints the table and writes comparison.md/.json.

    python scripts/compare.py runs/a/<time> runs/b/<time>          # on the test split of the data both trained on
    python scripts/compare.py RUN_OR_MODEL_A RUN_OR_MODEL_B data=annotations split=dev n=2000 seed=0 out=DIR

``data=NAME`` and ``data.KEY=VALUE`` are Hydra overrides of the dataset config (as in scripts/evaluate.py).
"""
import argparse
import json
import time
from pathlib import Path

from ner import cli

cli.setup()

OPTIONS = {"split": "test", "n": 1000, "seed": 0, "confidence": 0.95, "batch_size": 32, "out": None}


def model_dir(path: str) -> Path:
    p = Path(path)
    for candidate in (p / "model", p):
        if (candidate / "config.json").is_file():
            return candidate
    cli.fail(f"{path} is neither a run folder (with model/) nor a model folder (with config.json)")


def data_config(runs: list[str], data_overrides: list[str]):
    """The composed evaluate config with the data the runs were trained on, unless ``data=`` says otherwise."""
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    names = set()
    if not data_overrides:
        for run in runs:
            cfg_file = Path(run) / "config.yaml"
            ner_cfg = model_dir(run) / "ner_config.json"
            if cfg_file.is_file():
                names.add(OmegaConf.load(cfg_file).data.name)
            elif ner_cfg.is_file() and json.loads(ner_cfg.read_text(encoding="utf-8")).get("trained_on"):
                names.add(json.loads(ner_cfg.read_text(encoding="utf-8"))["trained_on"])
            else:
                cli.fail(f"cannot tell what {run} was trained on; name the data, e.g. data=annotations")
        if len(names) > 1:
            cli.fail(f"the runs were trained on different data ({sorted(names)}); pick one with data=NAME")
        data_overrides = [f"data={names.pop()}"]
    with initialize_config_dir(config_dir=cli.config_dir(), version_base="1.3"):
        return compose("evaluate", overrides=["model_path=unused", *data_overrides])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_a", help="run folder or model folder of system A")
    parser.add_argument("run_b", help="run folder or model folder of system B")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                        help=f"data=NAME, data.KEY=VALUE, or one of {', '.join(OPTIONS)}")
    args = parser.parse_args()
    opts, data_overrides = dict(OPTIONS), []
    for item in args.overrides:
        key, eq, value = item.partition("=")
        if not eq:
            cli.fail(f"expected KEY=VALUE, got {item!r}")
        if key == "data" or key.startswith("data."):
            data_overrides.append(item)
        elif key in OPTIONS:
            try:
                opts[key] = value if OPTIONS[key] is None else type(OPTIONS[key])(value)
            except ValueError:
                cli.fail(f"{key}={value!r}: expected a {type(OPTIONS[key]).__name__}")
        else:
            cli.fail(f"unknown option {key!r}; expected data=..., data.KEY=... or one of {', '.join(OPTIONS)}")

    from ner.data.datasets import annotated_types, load_splits
    from ner.data.documents import AnnotationError
    from ner.data.io.common import atomic_write
    from ner.evaluation.bootstrap import compare_systems, comparison_markdown
    from ner.evaluation.scoring import evaluate_predictor, gold_tags
    from ner.models.hub import ModelLoadError
    from ner.predictor import NerPredictor

    dirs = [model_dir(args.run_a), model_dir(args.run_b)]
    try:
        cfg = data_config([args.run_a, args.run_b], data_overrides)
        splits = load_splits(cfg.data)
        predictors = [NerPredictor.from_pretrained(d, batch_size=opts["batch_size"]) for d in dirs]
    except (AnnotationError, ModelLoadError, FileNotFoundError, ValueError) as e:
        cli.fail(str(e))
    if opts["split"] not in splits:
        cli.fail(f"data config {cfg.data.name!r} has no split {opts['split']!r}; it has {sorted(splits)}")
    docs = splits[opts["split"]]
    types = [t for t in annotated_types(cfg.data) if all(f"B-{t}" in p.labels for p in predictors)]
    tags = [evaluate_predictor(p, docs, types, progress=False)[1] for p in predictors]
    test = compare_systems(gold_tags(docs), tags[0], tags[1], types, opts["n"], opts["seed"], opts["confidence"])
    table = comparison_markdown(test, args.run_a, args.run_b)
    header = f"strict (IOB2) F1 on {cfg.data.name}/{opts['split']} ({len(docs)} documents)\n"
    out = Path(opts["out"] or Path(cfg.paths.runs_dir) / "comparisons" / time.strftime("%Y-%m-%d_%H-%M-%S"))
    with atomic_write(out / "comparison.md") as f:
        f.write(header + "\n" + table)
    with atomic_write(out / "comparison.json") as f:
        json.dump({"a": args.run_a, "b": args.run_b, "data": cfg.data.name, "split": opts["split"], **test}, f,
                  ensure_ascii=False, indent=2)
    print(header)
    print(table)
    print(f"Written to {out}")


if __name__ == "__main__":
    main()
