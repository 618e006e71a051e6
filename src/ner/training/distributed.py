"""Runs started by a launcher (``torchrun``, ``accelerate launch``): one run folder, outputs from rank 0 only.

The Trainer does the data-parallel training itself (it reads ``RANK``/``WORLD_SIZE``/``LOCAL_RANK`` from the
environment). What it cannot know is Hydra's run folder: each process names it after its own clock
(``${now:}``), so two processes started a second apart would write two folders. Rank 0's time is therefore
broadcast before Hydra composes the config and handed over in ``NER_RUN_TIME``, which ``configs/config.yaml``
prefers to ``${now:}``.
"""
from __future__ import annotations

import logging
import os
from datetime import datetime

RUN_TIME_ENV = "NER_RUN_TIME"
RUN_TIME_FORMAT = "%Y-%m-%d_%H-%M-%S"  # the format of hydra.run.dir in configs/config.yaml


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE") or 1)


def rank() -> int:
    return int(os.environ.get("RANK") or 0)


def is_main_process() -> bool:
    return rank() == 0


def _init_process_group() -> None:
    """The default process group, as the Trainer would create it (it reuses one that exists): gloo for CPU
    tensors and, on a GPU machine, NCCL for CUDA tensors, with this process on GPU ``LOCAL_RANK``."""
    import torch
    import torch.distributed as dist

    if dist.is_initialized():
        return
    if torch.cuda.is_available() and os.environ.get("LOCAL_RANK") is not None:
        torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
        dist.init_process_group(backend="cpu:gloo,cuda:nccl")
    else:
        dist.init_process_group(backend="gloo")


def agree_on_run_time() -> str | None:
    """Under a launcher (``WORLD_SIZE`` > 1): every process gets rank 0's start time in ``NER_RUN_TIME``, so all
    of them resolve the same ``hydra.run.dir``. A single process does nothing. Returns the agreed time."""
    if world_size() < 2:
        return None
    import torch
    import torch.distributed as dist

    _init_process_group()
    box = [datetime.now().strftime(RUN_TIME_FORMAT) if is_main_process() else None]
    dist.broadcast_object_list(box, src=0, device=torch.device("cpu"))
    os.environ[RUN_TIME_ENV] = box[0]
    return box[0]


def quiet_replicas() -> None:
    """Ranks other than 0 log warnings and errors only (the Trainer does the same for its own messages)."""
    if is_main_process():
        return
    logging.getLogger().setLevel(logging.WARNING)
    for name in ("ner", "transformers", "accelerate", "datasets"):
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        import transformers

        transformers.logging.set_verbosity_warning()
        transformers.logging.disable_progress_bar()
    except ImportError:  # pragma: no cover - transformers is a core dependency
        pass


def broadcast_object(obj):
    """Rank 0's ``obj`` on every process (a picklable object; ``obj`` is ignored on the other ranks)."""
    import torch.distributed as dist

    if world_size() < 2 or not dist.is_initialized():
        return obj
    box = [obj if is_main_process() else None]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def check_same_on_all_ranks(value: str, what: str) -> None:
    """Raise when ``value`` (e.g. a hash of the tokenizer's vocabulary) differs between processes: ranks that
    built different vocabularies would train one model on inconsistent token ids without any error."""
    import torch.distributed as dist

    if world_size() < 2 or not dist.is_initialized():
        return
    values: list = [None] * world_size()
    dist.all_gather_object(values, value)
    if len(set(values)) > 1:
        raise RuntimeError(f"{what} differs between the processes of this launch ({values}); every rank must "
                           "build the same one")


def finish() -> None:
    """Tear down the process group at the end of a launched run (avoids torch's warning at exit)."""
    try:
        import torch.distributed as dist
    except ImportError:  # pragma: no cover
        return
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
