"""Carry an encoder folder through a narrow pipe: a tar archive cut into parts of at most ``max_mib`` MiB, with a
manifest of SHA-256 sums, and its exact reverse.

The GPU machines lent to this project return at most 8 files of 16 MiB each: a 6 x 512 encoder in half precision
(~55 MB with its tokenizer) comes back as four parts and a manifest. ``unpack`` checks every part and every
file against the manifest and writes the folder under a temporary name first, so a missing or corrupt part
fails with a clear message instead of leaving a half-restored encoder.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
from pathlib import Path

from ner.data.io.common import atomic_write

MANIFEST = "manifest.json"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pack(folder: str | Path, out_dir: str | Path, prefix: str = "encoder", max_mib: float = 15.0,
         skip: tuple[str, ...] = ("checkpoint.pt", "snapshots", "logs", "token-store")) -> list[Path]:
    """Archive ``folder`` (its top-level entries except ``skip``) into ``<prefix>.part-NN`` files and
    ``<prefix>.manifest.json`` in ``out_dir``; returns the written paths."""
    folder, out_dir = Path(folder), Path(out_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"nothing to pack: {folder} is not a folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    files = sorted(f for f in folder.rglob("*") if f.is_file() and f.relative_to(folder).parts[0] not in skip)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for f in files:
            tar.add(f, arcname=str(f.relative_to(folder)))
    data = buf.getvalue()
    size = int(max_mib * 1024 * 1024)
    parts = [data[i:i + size] for i in range(0, len(data), size)]
    written = []
    for i, chunk in enumerate(parts):
        path = out_dir / f"{prefix}.part-{i:02d}"
        with atomic_write(path, "wb") as f:
            f.write(chunk)
        written.append(path)
    manifest = {"prefix": prefix, "archive_sha256": _sha256(data), "archive_bytes": len(data),
                "parts": [{"name": p.name, "sha256": _sha256(c)} for p, c in zip(written, parts)],
                "files": {str(f.relative_to(folder)): _sha256(f.read_bytes()) for f in files}}
    man = out_dir / f"{prefix}.{MANIFEST}"
    with atomic_write(man) as f:  # written last and whole: a manifest always describes complete parts
        f.write(json.dumps(manifest, indent=2))
    return [*written, man]


def unpack(manifest_path: str | Path, target: str | Path) -> Path:
    """Rebuild the folder described by ``manifest_path`` (its parts beside it) at ``target``."""
    manifest_path, target = Path(manifest_path), Path(target)
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    chunks = []
    for part in manifest["parts"]:
        path = manifest_path.parent / part["name"]
        if not path.exists():
            raise FileNotFoundError(f"{manifest_path}: part {part['name']} is missing")
        data = path.read_bytes()
        if _sha256(data) != part["sha256"]:
            raise ValueError(f"{path}: checksum mismatch (truncated or corrupt transfer)")
        chunks.append(data)
    data = b"".join(chunks)
    if _sha256(data) != manifest["archive_sha256"]:
        raise ValueError(f"{manifest_path}: the joined archive does not match its checksum")
    tmp = target.with_name(f".{target.name}.unpacking")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r") as tar:
        for member in tar.getmembers():
            if not member.isfile() or member.name.startswith(("/", "..")) or ".." in Path(member.name).parts:
                raise ValueError(f"{manifest_path}: unsafe archive entry {member.name!r}")
            dest = tmp / member.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(tar.extractfile(member).read())
    for name, digest in manifest["files"].items():
        if _sha256((tmp / name).read_bytes()) != digest:
            raise ValueError(f"{manifest_path}: {name} does not match its checksum after unpacking")
    if target.exists():
        shutil.rmtree(target)
    os.replace(tmp, target)
    return target
