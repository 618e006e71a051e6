"""``training.resume``: continue a killed run from its last complete checkpoint, in its own run folder.

``training.resume=true`` takes the most recently checkpointed unfinished run folder of this ``run_name``;
``training.resume=<run folder>`` names one. A run keeps full checkpoints (weights, optimizer, scheduler, RNG
states, trainer state) while it trains when ``training.resumable`` is true (the default), and deletes them when
it ends unless ``training.keep_checkpoints``.
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

CHECKPOINTS = "checkpoints"
_CKPT = re.compile(r"^checkpoint-(\d+)$")


class ResumeError(RuntimeError):
    pass


@dataclass(frozen=True)
class Resume:
    run_dir: Path     # the killed run's folder: training continues there and its outputs land there
    checkpoint: Path  # its last complete checkpoint


def complete_checkpoints(run_dir: Path) -> list[Path]:
    """Checkpoints a run can continue from, oldest first. The Trainer writes ``trainer_state.json`` last, so a
    checkpoint killed while being written lacks it (or holds a truncated one) and is passed over."""
    folder = Path(run_dir) / CHECKPOINTS
    found = []
    for d in folder.iterdir() if folder.is_dir() else ():
        m = _CKPT.match(d.name)
        if not (m and d.is_dir() and (d / "optimizer.pt").is_file() and (d / "scheduler.pt").is_file()):
            continue
        try:
            json.loads((d / "trainer_state.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        found.append((int(m.group(1)), d))
    return [d for _, d in sorted(found)]


def _finished(run_dir: Path) -> bool:
    return (run_dir / "model").is_dir() and (run_dir / "metrics.json").is_file()


def find_resume(value, runs_dir: str | Path, run_name: str) -> Resume | None:
    """What ``training.resume=value`` means: ``None`` (a fresh run), or the folder and checkpoint to continue.
    Errors name the folder looked at and the fix."""
    if value is None or value is False or str(value).strip().lower() in ("", "false", "no", "0", "none", "null"):
        return None
    if value is True or str(value).strip().lower() in ("true", "yes", "1", "latest"):
        base = Path(runs_dir) / run_name
        # Hydra's fresh folder for this call has no checkpoints, so it is never picked unless it is the killed
        # run's own folder (hydra.run.dir=<that folder>).
        candidates = [d for d in base.iterdir() if d.is_dir() and not _finished(d) and complete_checkpoints(d)] \
            if base.is_dir() else []
        if not candidates:
            raise ResumeError(f"training.resume=true: no unfinished run of {run_name!r} under {base} has a complete "
                              "checkpoint (one is written after each evaluation while training.resumable=true); "
                              "name a run folder with training.resume=<folder> or start a fresh run")
        run = max(candidates, key=lambda d: complete_checkpoints(d)[-1].stat().st_mtime)
    else:
        run = Path(str(value)).expanduser()
        if not run.is_dir():
            raise ResumeError(f"training.resume={value}: no such run folder")
        if _finished(run):
            raise ResumeError(f"training.resume={value}: that run has finished (model/ and metrics.json exist)")
        if not complete_checkpoints(run):
            raise ResumeError(f"training.resume={value}: {run / CHECKPOINTS} holds no complete checkpoint to continue "
                              "from (was the run started with training.resumable=false, or killed before its "
                              "first evaluation?)")
    return Resume(run.resolve(), complete_checkpoints(run)[-1].resolve())


def config_differences(old_yaml: Path, cfg, ignore: tuple[str, ...] = ("training.resume",)) -> list[str]:
    """Keys whose values differ between a run folder's ``config.yaml`` and the resumed config (a warning: a
    user may mean to extend training, but a changed model or data would make the resumed run meaningless)."""
    from omegaconf import OmegaConf

    from ner.training.tracking import flatten

    if not old_yaml.is_file():
        return []
    old = flatten(OmegaConf.to_container(OmegaConf.load(old_yaml), resolve=False))
    new = flatten(OmegaConf.to_container(cfg, resolve=True))
    keys = sorted((set(old) | set(new)) - set(ignore))
    return [f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in keys if old.get(k) != new.get(k)]
