"""Loading pretrained models without ever hanging on an unreachable model hub.

``huggingface_hub`` retries for tens of seconds when the network is down. Before touching the hub we check
for a local directory, then whether the hub answers at all (a 3-second probe); when it does not, loading
runs with ``local_files_only=True`` and fails at once, with a message that names the fixes.

Loading is safe by default: weights only from safetensors (``use_safetensors=True``: a pickled
``pytorch_model.bin`` could run code when unpickled), ``trust_remote_code=False`` always (no Python from a model
folder or the hub), and ``training_args.bin`` (a pickle the Trainer leaves next to the weights) is never read.
A local folder is checked before loading, so a missing ``config.json``, a truncated ``model.safetensors`` or a
corrupt JSON file is reported by file name instead of as a deep library trace.
"""
from __future__ import annotations

import json
import os
import socket
import threading
from pathlib import Path
from urllib.parse import urlparse

OFFLINE_FIXES = (
    "Fixes: (1) point model.name_or_path=/path/to/a/local/copy (a directory with config.json, the weights and "
    "tokenizer files, e.g. made with `huggingface-cli download {name} --local-dir DIR` on a machine with internet); "
    "(2) if this machine can reach the hub, run with HF_HUB_OFFLINE=0; "
    "(3) to work fully offline, use the news encoder shipped in models/ (`make train`, i.e. `python scripts/train.py "
    "experiment=quickstart`, or model=news_rtd) or the locally built small model (model=small)."
)


SAFETENSORS_FIX = (
    "convert it once, on a machine where you trust the file: `python -c \"from transformers import "
    "AutoModelForTokenClassification as M; M.from_pretrained('{path}', use_safetensors=False)"
    ".save_pretrained('{path}')\"`"
)


class ModelLoadError(RuntimeError):
    pass


def read_json(path: str | Path) -> dict:
    """A JSON object from a model folder; a corrupt or truncated file raises ``ModelLoadError`` naming it."""
    path = Path(path)
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ModelLoadError(f"{path} is not UTF-8 text: the file is corrupt; re-save or re-copy the model") from None
    except json.JSONDecodeError as e:
        raise ModelLoadError(f"{path} is not valid JSON ({e.msg}, line {e.lineno} column {e.colno}): the file is "
                             "truncated or corrupt; re-save or re-copy the model") from None
    if not isinstance(value, dict):
        raise ModelLoadError(f"{path} must hold a JSON object, not {type(value).__name__}")
    return value


def loads_weights(loader) -> bool:
    """True for model classes (``AutoModel...``, ``PreTrainedModel`` subclasses); False for tokenizers and
    configs, which take no ``use_safetensors``."""
    name = getattr(loader, "__name__", "")
    if name.startswith("AutoModel"):
        return True
    try:
        from transformers import PreTrainedModel
    except ImportError:  # pragma: no cover - transformers is a dependency
        return False
    return isinstance(loader, type) and issubclass(loader, PreTrainedModel)


def check_model_dir(path: str | Path, weights: bool = True) -> None:
    """Raise ``ModelLoadError`` naming the file when a local model folder cannot load: every top-level JSON file
    must parse; with ``weights``, ``config.json`` and safetensors weights (whole, not truncated) must be there."""
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    for f in sorted(path.glob("*.json")):
        read_json(f)
    if not weights:
        return
    if not (path / "config.json").is_file():
        raise ModelLoadError(f"{path} has no config.json: not a saved Hugging Face model folder (expected "
                             "config.json, model.safetensors and the tokenizer files); re-save or re-copy the model")
    index = path / "model.safetensors.index.json"
    if index.is_file():
        shards = sorted(set((read_json(index).get("weight_map") or {}).values()))
        if not shards:
            raise ModelLoadError(f"{index} names no weight files: the file is corrupt; re-save the model")
    elif (path / "model.safetensors").is_file():
        shards = ["model.safetensors"]
    else:
        pickled = [f.name for f in sorted(path.glob("*.bin")) if f.name != "training_args.bin"]
        if pickled:
            raise ModelLoadError(f"{path} has weights only as {', '.join(pickled)} (a pickle, not loaded because "
                                 "unpickling can run code); " + SAFETENSORS_FIX.format(path=path))
        raise ModelLoadError(f"{path} has no model.safetensors: the weights are missing; re-save or re-copy the model")
    for name in shards:
        shard = path / name
        if not shard.is_file():
            raise ModelLoadError(f"{shard} is missing (named in {index.name}); re-copy the model")
        try:
            with safe_open(str(shard), framework="pt"):
                pass
        except (SafetensorError, OSError) as e:
            raise ModelLoadError(f"{shard} is truncated or corrupt ({e}); re-save or re-copy the model") from None


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def hub_reachable(timeout: float = 3.0) -> bool:
    """True when a TCP connection to the hub endpoint opens within ``timeout`` (DNS included)."""
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    host = urlparse(endpoint).hostname or "huggingface.co"
    port = urlparse(endpoint).port or 443
    result: list[bool] = []

    def probe() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                result.append(True)
        except OSError:
            result.append(False)

    t = threading.Thread(target=probe, daemon=True)
    t.start()
    t.join(timeout)
    return bool(result and result[0])


def hub_offline() -> bool:
    if _truthy(os.environ.get("HF_HUB_OFFLINE")) or _truthy(os.environ.get("TRANSFORMERS_OFFLINE")):
        return True
    if "HF_HUB_OFFLINE" in os.environ:  # explicitly set to 0: trust the user
        return False
    return not hub_reachable()


def from_pretrained(loader, name_or_path: str, **kwargs):
    """``loader.from_pretrained(name_or_path, **kwargs)``, fast, safe (safetensors only, no remote code) and with a
    clear error when it cannot work."""
    if kwargs.get("trust_remote_code"):
        raise ModelLoadError("trust_remote_code=True is refused: it runs Python code shipped with a model")
    kwargs["trust_remote_code"] = False
    if loads_weights(loader):
        if kwargs.get("use_safetensors") is False:
            raise ModelLoadError("use_safetensors=False is refused: pickled weights can run code when loaded")
        kwargs["use_safetensors"] = True
    name_or_path = str(name_or_path)
    local = Path(name_or_path).expanduser()
    if local.exists():
        if not local.is_dir():
            raise ModelLoadError(f"model path {local} is a file; expected a model directory")
        check_model_dir(local, weights=loads_weights(loader))
        try:
            return loader.from_pretrained(str(local), **kwargs)
        except (OSError, ValueError, KeyError) as e:
            first = (str(e).strip().splitlines() or [type(e).__name__])[0]
            raise ModelLoadError(f"cannot load {getattr(loader, '__name__', 'the model')} from {local}: {first}") from e
    looks_local = name_or_path.startswith((".", "/", "~")) or name_or_path.count("/") > 1
    if looks_local:
        raise ModelLoadError(f"model directory {name_or_path!r} does not exist")
    offline = hub_offline()
    try:
        return loader.from_pretrained(name_or_path, local_files_only=offline, **kwargs)
    except (OSError, ValueError) as e:
        why = ("the model hub is unreachable from this machine (or HF_HUB_OFFLINE=1) and it is not in the local "
               "Hugging Face cache") if offline else f"loading failed: {e}"
        raise ModelLoadError(f"cannot load {name_or_path!r}: {why}. " + OFFLINE_FIXES.format(name=name_or_path)) from e
