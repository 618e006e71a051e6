#!/usr/bin/env python
"""Pretraining of a news encoder (see configs/pretrain.yaml): the lean loop (``pretrain.loop=lean``) or the
Trainer-based masked LM; resumable, bounded per invocation."""
import hydra
from omegaconf import DictConfig, OmegaConf

from ner import cli

cli.setup()


@hydra.main(version_base="1.3", config_path=cli.config_dir(), config_name="pretrain")
def main(cfg: DictConfig) -> None:
    from ner.data.io.common import atomic_write
    from ner.models.hub import ModelLoadError
    from ner.pretraining.lean import LeanPretrainer
    from ner.pretraining.mlm import pretrain

    with atomic_write(f"{cfg.output_dir}/pretrain_config.yaml") as f:
        f.write(OmegaConf.to_yaml(cfg, resolve=True))
    try:
        if cfg.pretrain.get("loop", "trainer") == "lean":
            card = LeanPretrainer(cfg, cfg.output_dir).run()
        else:
            card = pretrain(cfg, cfg.output_dir)
    except (ModelLoadError, FileNotFoundError, ValueError) as e:
        cli.fail(str(e))
    print(f"encoder: {cfg.output_dir}  steps {card['steps']}  tokens seen {card['tokens_seen']:,}  "
          f"held-out perplexity {card['held_out_perplexity']}")


if __name__ == "__main__":
    main()
