#!/usr/bin/env python
"""Score a saved model on a dataset config; writes metrics.json, report.txt, per-split errors and confusion files,
report.html (``+report.all_documents=true``: every document in it) and the model's card with these numbers
(model_card.md) into the report folder."""
import json

import hydra
from omegaconf import DictConfig

from ner import cli

cli.setup()


@hydra.main(version_base="1.3", config_path=cli.config_dir(), config_name="evaluate")
def main(cfg: DictConfig) -> None:
    from hydra.core.hydra_config import HydraConfig

    from ner.data.datasets import annotated_types, load_splits
    from ner.data.documents import AnnotationError
    from ner.evaluation.report import ReportOptions, write_reports
    from ner.evaluation.scoring import evaluate_predictor
    from ner.models.hub import ModelLoadError
    from ner.predictor import NerPredictor

    out_dir = HydraConfig.get().runtime.output_dir
    try:
        predictor = NerPredictor.from_pretrained(cfg.model_path, batch_size=cfg.batch_size)
        splits = load_splits(cfg.data)
        options = ReportOptions.from_config(cfg)
    except (AnnotationError, ModelLoadError, FileNotFoundError, ValueError) as e:
        cli.fail(str(e))
    missing = [s for s in cfg.splits if s not in splits]
    if missing:
        cli.fail(f"data config {cfg.data.name!r} has no split(s) {missing}; it has {sorted(splits)}")
    types = [t for t in annotated_types(cfg.data) if f"B-{t}" in predictor.labels]
    results, predictions = {}, {}
    for s in cfg.splits:
        results[s], pred_tags = evaluate_predictor(predictor, splits[s], types)
        predictions[s] = (splits[s], pred_tags)
    write_reports(out_dir, results, predictions, options)
    # The model's card with this evaluation's numbers, in the report folder (the model folder is left as it is)
    from ner.evaluation.model_card import write_model_card

    with open(f"{out_dir}/metrics.json", encoding="utf-8") as f:
        write_model_card(cfg.model_path, json.load(f), path=f"{out_dir}/model_card.md", evaluated_on=cfg.data.name)
    print(open(f"{out_dir}/report.txt", encoding="utf-8").read())
    print(f"HTML report: {out_dir}/report.html")
    print(f"Report folder: {out_dir}")


if __name__ == "__main__":
    main()
