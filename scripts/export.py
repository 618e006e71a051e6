#!/usr/bin/env python
"""Export a saved model to ONNX (``<model>/onnx/model.onnx``; ``quantize=true`` adds ``model.int8.onnx``)."""
import hydra
from omegaconf import DictConfig

from ner import cli

cli.setup()


@hydra.main(version_base="1.3", config_path=cli.config_dir(), config_name="export")
def main(cfg: DictConfig) -> None:
    from ner.models.backends import export_model_dir
    from ner.models.hub import ModelLoadError

    try:
        paths = export_model_dir(cfg.model_path, quantize=bool(cfg.quantize))
    except (ModelLoadError, FileNotFoundError, ImportError) as e:
        cli.fail(str(e))
    for p in paths:
        print(f"wrote {p}")


if __name__ == "__main__":
    main()
