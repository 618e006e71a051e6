#!/usr/bin/env python
"""Tag documents, streamed and resumable, in one of the output formats of ``ner.inference.outputs``
(``format=entities|label_studio|doccano|conll``); ``engine=ray`` spreads the work over a Ray cluster."""
import sys

import hydra
from omegaconf import DictConfig, OmegaConf

from ner import cli

cli.setup()


@hydra.main(version_base="1.3", config_path=cli.config_dir(), config_name="predict")
def main(cfg: DictConfig) -> None:
    from ner.inference.job import run_job
    from ner.models.hub import ModelLoadError

    try:
        stats = run_job(OmegaConf.to_container(cfg, resolve=True))
    except (ModelLoadError, FileNotFoundError, ValueError, ImportError) as e:
        cli.fail(str(e))
    if cfg.output:
        extra = "".join(f"; wrote {p}" for p in stats.written)
        print(f"tagged {stats.tagged} documents into {cfg.output} (already there: {stats.skipped}){extra}",
              file=sys.stderr)


if __name__ == "__main__":
    main()
