"""Compile the markup sources into the split JSONL files, and check that the two are in sync.

The split of each document is decided by ``splits.yaml``: by document id first, then by province (the
source file's name), else the default split. Splitting by province keeps a province's clusters and people
— and any near-duplicate wording of one writer on one province — inside one split.
"""
from __future__ import annotations

from pathlib import Path

from ner.data.corpus.markup import compile_markup
from ner.data.documents import AnnotationError, Document
from ner.data.io.common import read_yaml
from ner.data.io.jsonl import read_jsonl, write_jsonl

SPLITS = ("train", "dev", "test")


def load_split_spec(path: str | Path) -> dict:
    spec = read_yaml(path)
    default = spec.get("default", "train")
    if default not in SPLITS:
        raise ValueError(f"{path}: default split {default!r} is not one of {SPLITS}")
    by_id, by_province = {}, {}
    for split in SPLITS:
        part = spec.get(split) or {}
        for i in part.get("ids", []):
            by_id[i] = split
        for p in part.get("provinces", []):
            by_province[p] = split
    return {"default": default, "ids": by_id, "provinces": by_province}


def assign_split(doc: Document, spec: dict) -> str:
    return spec["ids"].get(doc.id) or spec["provinces"].get(doc.meta.get("province")) or spec["default"]


def compile_sources(source_dir: str | Path, spec: dict) -> dict[str, list[Document]]:
    """All ``*.txt`` sources, sorted by file name, grouped by split; duplicate ids are an error."""
    out: dict[str, list[Document]] = {s: [] for s in SPLITS}
    seen: dict[str, str] = {}
    files = sorted(Path(source_dir).glob("*.txt"))
    if not files:
        raise FileNotFoundError(f"no *.txt source files in {source_dir}")
    for path in files:
        for doc in compile_markup(path):
            if doc.id in seen:
                raise AnnotationError(f"duplicate document id (also in {seen[doc.id]})", source=str(path),
                                      line=doc.meta["line"], doc_id=doc.id)
            seen[doc.id] = path.name
            out[assign_split(doc, spec)].append(doc)
    return out


def build(source_dir: str | Path, out_dir: str | Path, spec_path: str | Path) -> dict[str, list[Document]]:
    splits = compile_sources(source_dir, load_split_spec(spec_path))
    for split, docs in splits.items():
        write_jsonl(docs, Path(out_dir) / f"{split}.jsonl")
    return splits


def out_of_sync(source_dir: str | Path, out_dir: str | Path, spec_path: str | Path) -> list[str]:
    """Differences between what the sources compile to and the JSONL files on disk (empty when in sync)."""
    problems = []
    expected = compile_sources(source_dir, load_split_spec(spec_path))
    for split, docs in expected.items():
        path = Path(out_dir) / f"{split}.jsonl"
        if not path.exists():
            problems.append(f"{path} is missing")
            continue
        on_disk = read_jsonl(path)
        if [d.to_json() for d in on_disk] != [d.to_json() for d in docs]:
            ids = {d.id for d in on_disk} ^ {d.id for d in docs}
            problems.append(f"{path} differs from the sources" + (f" (ids only on one side: {sorted(ids)[:5]})"
                                                                  if ids else " (text or entities)"))
    return problems
