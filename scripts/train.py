#!/usr/bin/env python
"""Fine-tune a token classifier: ``python scripts/train.py [hydra overrides]`` (see configs/config.yaml)."""
import hydra
from omegaconf import DictConfig, OmegaConf

from ner import cli

cli.setup()


@hydra.main(version_base="1.3", config_path=cli.config_dir(), config_name="config")
def main(cfg: DictConfig) -> None:
    from hydra.core.hydra_config import HydraConfig

    from ner.data.documents import AnnotationError
    from ner.data.io.common import atomic_write
    from ner.models.hub import ModelLoadError
    from ner.predictor import NerPredictor
    from ner.training.finetune import train

    run_dir = HydraConfig.get().runtime.output_dir
    # The resolved config (every interpolation filled in) makes the run reproducible from its folder alone.
    with atomic_write(f"{run_dir}/config.yaml") as f:
        f.write(OmegaConf.to_yaml(cfg, resolve=True))
    try:
        out = train(cfg, run_dir)
    except (AnnotationError, ModelLoadError, FileNotFoundError) as e:
        cli.fail(str(e))
    print(open(f"{run_dir}/report.txt", encoding="utf-8").read())
    example = cfg.get("example_text") or "مدیرعامل شرکت شهرک‌های صنعتی استان گیلان گفت ۵۳۰ میلیارد تومان به خوشه صنعتی چای اختصاص یافت."
    predictor = NerPredictor.from_pretrained(out["model_dir"])
    print("Example prediction:", example)
    for ent in predictor(example):
        print(f"  {ent.label:8s} [{ent.start}:{ent.end}] {ent.text}  (score {ent.score:.2f})")
    print(f"Run folder: {run_dir}")


if __name__ == "__main__":
    main()
