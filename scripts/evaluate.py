#!/usr/bin/env python
"""Score a saved model on a dataset config; writes metrics.json and report.txt into the report folder."""
import hydra
from omegaconf import DictConfig

from ner import cli

cli.setup()


@hydra.main(version_base="1.3", config_path=cli.config_dir(), config_name="evaluate")
def main(cfg: DictConfig) -> None:
    from hydra.core.hydra_config import HydraConfig

    from ner.data import annotated_types, load_splits
    from ner.documents import AnnotationError
    from ner.evaluation import evaluate_predictor, write_reports
    from ner.hub import ModelLoadError
    from ner.predictor import NerPredictor

    out_dir = HydraConfig.get().runtime.output_dir
    try:
        predictor = NerPredictor.from_pretrained(cfg.model_path, batch_size=cfg.batch_size)
        splits = load_splits(cfg.data)
    except (AnnotationError, ModelLoadError, FileNotFoundError, ValueError) as e:
        cli.fail(str(e))
    missing = [s for s in cfg.splits if s not in splits]
    if missing:
        cli.fail(f"data config {cfg.data.name!r} has no split(s) {missing}; it has {sorted(splits)}")
    types = [t for t in annotated_types(cfg.data) if f"B-{t}" in predictor.labels]
    results = {s: evaluate_predictor(predictor, splits[s], types)[0] for s in cfg.splits}
    write_reports(out_dir, results)
    print(open(f"{out_dir}/report.txt", encoding="utf-8").read())
    print(f"Report folder: {out_dir}")


if __name__ == "__main__":
    main()
