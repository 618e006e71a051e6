#!/usr/bin/env python
"""Fine-tune a token classifier: ``python scripts/train.py [hydra overrides]`` (see configs/config.yaml).

The same command runs under ``torchrun``/``accelerate launch`` (data-parallel; one run folder) and as a sweep
(``hparams_search=ner_optuna``): ``main()`` returns the dev strict F1 that the sweeper maximises.
"""
import logging

import hydra
from omegaconf import DictConfig, OmegaConf

from ner import cli

cli.setup()


@hydra.main(version_base="1.3", config_path=cli.config_dir(), config_name="config")
def main(cfg: DictConfig) -> float | None:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from ner.data.documents import AnnotationError
    from ner.data.io.common import atomic_write
    from ner.models.hub import ModelLoadError
    from ner.predictor import NerPredictor
    from ner.training import distributed, sweeps
    from ner.training.finetune import train
    from ner.training.resume import ResumeError
    from ner.training.tracking import TrackingError

    distributed.quiet_replicas()
    hc = HydraConfig.get()
    run_dir = hc.runtime.output_dir
    sweeping = hc.mode == RunMode.MULTIRUN
    if distributed.is_main_process():
        # The resolved config (every interpolation filled in) makes the run reproducible from its folder alone.
        with atomic_write(f"{run_dir}/config.yaml") as f:
            f.write(OmegaConf.to_yaml(cfg, resolve=True))
    try:
        out = train(cfg, run_dir)
    except Exception as e:
        if sweeping:  # a failed trial is recorded and scored; the sweep goes on
            logging.getLogger("train").exception("trial %s failed", hc.job.num)
            sweeps.record_trial(hc.sweep.dir, hc.job.num, list(hc.overrides.task), run_dir, cfg, None,
                                f"{type(e).__name__}: {e}")
            return sweeps.FAILED_TRIAL_VALUE
        if isinstance(e, (AnnotationError, ModelLoadError, FileNotFoundError, ValueError, ResumeError,
                          TrackingError)):
            cli.fail(str(e))
        raise
    if not distributed.is_main_process():  # rank 0 reports; the others are done
        distributed.finish()
        return None
    value = sweeps.objective(out["results"])
    run_dir = out.get("run_dir", run_dir)  # a resumed run finishes in its own folder
    if sweeping:  # one line per trial; the reports are in the trial's folder
        sweeps.record_trial(hc.sweep.dir, hc.job.num, list(hc.overrides.task), run_dir, cfg, value)
        print(f"trial {hc.job.num}: dev strict micro F1 {value:.4f} ({run_dir})")
        return value
    print(open(f"{run_dir}/report.txt", encoding="utf-8").read())
    example = cfg.get("example_text") or "مدیرعامل شرکت شهرک‌های صنعتی استان گیلان گفت ۵۳۰ میلیارد تومان به خوشه صنعتی چای اختصاص یافت."
    predictor = NerPredictor.from_pretrained(out["model_dir"])
    print("Example prediction:", example)
    for ent in predictor(example):
        print(f"  {ent.label:8s} [{ent.start}:{ent.end}] {ent.text}  (score {ent.score:.2f})")
    print(f"Run folder: {run_dir}")
    distributed.finish()
    return value


if __name__ == "__main__":
    from ner.training.distributed import agree_on_run_time

    agree_on_run_time()  # under a launcher: every process gets rank 0's run folder (before Hydra names it)
    main()
