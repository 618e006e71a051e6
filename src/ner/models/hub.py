"""Loading pretrained models without ever hanging on an unreachable model hub.

``huggingface_hub`` retries for tens of seconds when the network is down. Before touching the hub we check
for a local directory, then whether the hub answers at all (a 3-second probe); when it does not, loading
runs with ``local_files_only=True`` and fails at once, with a message that names the fixes.
"""
from __future__ import annotations

import os
import socket
import threading
from pathlib import Path
from urllib.parse import urlparse

OFFLINE_FIXES = (
    "Fixes: (1) point model.name_or_path=/path/to/a/local/copy (a directory with config.json, the weights and "
    "tokenizer files, e.g. made with `huggingface-cli download {name} --local-dir DIR` on a machine with internet); "
    "(2) if this machine can reach the hub, run with HF_HUB_OFFLINE=0; "
    "(3) to work fully offline, use the locally built small model: `make train` or `python scripts/train.py "
    "experiment=quickstart` (model=small)."
)


class ModelLoadError(RuntimeError):
    pass


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
    """``loader.from_pretrained(name_or_path, **kwargs)``, fast and with a clear error when it cannot work."""
    local = Path(name_or_path).expanduser()
    if local.exists():
        if not local.is_dir():
            raise ModelLoadError(f"model path {local} is a file; expected a model directory")
        return loader.from_pretrained(str(local), **kwargs)
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
