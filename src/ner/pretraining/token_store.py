"""Pretraining text tokenised once into a memory-mapped array, and packed batches cut from it on the device.

A store is a folder: ``tokens.bin`` (every document's subword ids followed by ``[SEP]``, one flat array of
uint16, or int32 for vocabularies past 65,535), ``doc_starts.npy`` (where each document begins) and
``meta.json`` (sizes, the tokenizer's fingerprint). A pass over the news is ~5M tokens: 10 MB, read once and
kept on the GPU, so no data loader, no padding and no Python in the step.

``PackedBatches`` cuts rows of ``block_size`` tokens: ``[CLS]`` and then ``block_size - 1`` consecutive
tokens from the stream, so every position is a real token (no padding). Positions restart at each document
start, and with ``document_attention`` a token attends only to tokens of its own document (a block-diagonal
mask), so packing does not leak context across documents; masking never touches ``[CLS]``/``[SEP]``.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch

STORE_FILES = ("tokens.bin", "doc_starts.npy", "meta.json")


def tokenizer_fingerprint(tokenizer) -> str:
    """A hash of the vocabulary: a store is only valid with the tokenizer that wrote it."""
    vocab = sorted(tokenizer.get_vocab().items(), key=lambda kv: kv[1])
    return hashlib.sha1("\n".join(t for t, _ in vocab).encode()).hexdigest()[:16]


def write_store(tokenizer, docs: Iterable[str], out_dir: str | Path, batch: int = 2000) -> dict:
    """Tokenise ``docs`` (already normalised) into a store in ``out_dir``; written to a temporary name and
    renamed, so an interrupted run leaves no half-written store."""
    out = Path(out_dir)
    tmp = out.with_name(out.name + ".tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    dtype = np.uint16 if len(tokenizer) <= np.iinfo(np.uint16).max + 1 else np.int32
    sep = tokenizer.sep_token_id
    starts, n = [], 0
    chunk: list[str] = []
    with open(tmp / "tokens.bin", "wb") as fh:
        def flush():
            nonlocal n
            for ids in tokenizer(chunk, add_special_tokens=False)["input_ids"]:
                starts.append(n)
                arr = np.asarray(ids + [sep], dtype=dtype)
                fh.write(arr.tobytes())
                n += len(arr)
            chunk.clear()

        for doc in docs:
            chunk.append(doc)
            if len(chunk) >= batch:
                flush()
        if chunk:
            flush()
    np.save(tmp / "doc_starts.npy", np.asarray(starts, dtype=np.int64))
    meta = {"tokens": n, "documents": len(starts), "dtype": np.dtype(dtype).name, "vocab_size": len(tokenizer),
            "tokenizer": tokenizer_fingerprint(tokenizer)}
    (tmp / "meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    if out.exists():
        import shutil

        shutil.rmtree(out)
    tmp.rename(out)
    return meta


class TokenStore:
    """A store opened read-only (memory-mapped)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        missing = [f for f in STORE_FILES if not (self.path / f).exists()]
        if missing:
            raise FileNotFoundError(f"token store {self.path} lacks {', '.join(missing)} (build it with "
                                    f"scripts/pretrain.py, which writes it on first use)")
        self.meta = json.loads((self.path / "meta.json").read_text(encoding="utf-8"))
        self.tokens = np.memmap(self.path / "tokens.bin", dtype=self.meta["dtype"], mode="r")
        self.doc_starts = np.load(self.path / "doc_starts.npy")
        if len(self.tokens) != self.meta["tokens"]:
            raise ValueError(f"token store {self.path}: tokens.bin holds {len(self.tokens)} tokens, "
                             f"meta.json says {self.meta['tokens']} (a truncated copy?)")

    def __len__(self) -> int:
        return len(self.tokens)

    def check_tokenizer(self, tokenizer) -> None:
        if self.meta["tokenizer"] != tokenizer_fingerprint(tokenizer):
            raise ValueError(f"token store {self.path} was written with another tokenizer; delete it to rebuild")


class PackedBatches:
    """Batches of packed rows with their positions, document mask and masking, built on ``device``.

    Rows are the stream's non-overlapping windows in a fresh random order each epoch, the window grid shifted
    by a random offset each epoch (so block boundaries move). Masking is dynamic: every time a row is drawn,
    exactly ``round(probability * maskable)`` of its maskable tokens are chosen (80% [MASK], 10% random, 10%
    kept), a fixed count per row so the masked-position gather has a static shape.
    """

    def __init__(self, store: TokenStore, tokenizer, block_size: int, batch_size: int, device: str | torch.device,
                 mask_probability: float = 0.15, document_attention: bool = True, seed: int = 0):
        self.device = torch.device(device)
        self.block, self.batch_size = block_size, batch_size
        self.document_attention = document_attention
        self.cls, self.sep, self.mask_id = tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.mask_token_id
        self.specials = torch.tensor(sorted(set(tokenizer.all_special_ids)), device=self.device)
        self.vocab_size = len(tokenizer)
        self.stream = torch.from_numpy(np.asarray(store.tokens, dtype=np.int64)).to(self.device)
        n = len(self.stream)
        if n < block_size:
            raise ValueError(f"token store {store.path} holds {n} tokens, fewer than one block of {block_size}")
        # per token: its document and its index inside the document (for positions and the document mask)
        starts = torch.from_numpy(store.doc_starts).to(self.device)
        doc = torch.zeros(n, dtype=torch.int64, device=self.device)
        doc[starts[1:]] = 1
        self.doc_of = doc.cumsum(0)
        self.index_in_doc = torch.arange(n, device=self.device) - starts[self.doc_of]
        self.n_masked = max(1, round(mask_probability * (block_size - 1)))
        self.generator = torch.Generator(device=self.device).manual_seed(seed)
        self.epoch, self._order, self._cursor = -1, None, 0

    @property
    def rows_per_epoch(self) -> int:
        return (len(self.stream) - 1) // (self.block - 1)

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "order": self._order, "cursor": self._cursor, "offset": getattr(self, "_offset", 0),
                "generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.epoch, self._cursor, self._offset = state["epoch"], state["cursor"], state["offset"]
        self._order = None if state["order"] is None else state["order"].to(self.device)
        self.generator.set_state(state["generator"])

    def _next_starts(self) -> torch.Tensor:
        body = self.block - 1
        if self._order is None or self._cursor + self.batch_size > len(self._order):
            self.epoch += 1
            self._offset = int(torch.randint(body, (1,), generator=self.generator, device=self.device))
            count = (len(self.stream) - self._offset) // body
            self._order = torch.randperm(count, generator=self.generator, device=self.device)
            self._cursor = 0
            if len(self._order) < self.batch_size:
                raise ValueError(f"the token store holds {len(self._order)} rows, fewer than a batch of "
                                 f"{self.batch_size}")
        rows = self._order[self._cursor:self._cursor + self.batch_size]
        self._cursor += self.batch_size
        return self._offset + rows * body

    def rows(self, starts: torch.Tensor) -> dict:
        """Token ids, positions and document mask of the rows whose bodies start at ``starts``."""
        body = self.block - 1
        idx = starts.unsqueeze(1) + torch.arange(body, device=self.device)
        ids = torch.cat([torch.full((len(starts), 1), self.cls, device=self.device, dtype=torch.int64),
                         self.stream[idx]], dim=1)
        # a token's position: its index in its document, but never more than its column (a document that began
        # before the row continues from position 1, right after the row's [CLS] at 0)
        col = torch.arange(1, self.block, device=self.device)
        pos = torch.minimum(self.index_in_doc[idx], col - 1) + 1
        positions = torch.cat([torch.zeros_like(pos[:, :1]), pos], dim=1)
        out = {"original_ids": ids, "positions": positions}
        if self.document_attention:
            doc = self.doc_of[idx]
            doc = torch.cat([doc[:, :1], doc], dim=1)  # [CLS] belongs to the row's first document
            out["mask"] = (doc.unsqueeze(2) == doc.unsqueeze(1)).unsqueeze(1)
        return out

    def mask(self, batch: dict, generator: torch.Generator | None = None) -> dict:
        """Choose ``n_masked`` maskable positions per row and corrupt them (80/10/10)."""
        gen = generator or self.generator
        ids = batch["original_ids"]
        maskable = ~torch.isin(ids, self.specials)
        score = torch.rand(ids.shape, generator=gen, device=self.device).masked_fill_(~maskable, -1.0)
        index = score.topk(self.n_masked, dim=1).indices
        targets = torch.gather(ids, 1, index)
        action = torch.rand(index.shape, generator=gen, device=self.device)
        random_ids = torch.randint(self.vocab_size, index.shape, generator=gen, device=self.device)
        fill = torch.where(action < 0.8, torch.full_like(targets, self.mask_id),
                           torch.where(action < 0.9, random_ids, targets))
        batch.update(masked_ids=ids.scatter(1, index, fill), mask_index=index, targets=targets, maskable=maskable)
        return batch

    def next(self) -> dict:
        return self.mask(self.rows(self._next_starts()))

    def fixed_batches(self, count: int, seed: int = 0) -> list[dict]:
        """The same rows and masks every call: the held-out set for comparable losses."""
        gen = torch.Generator(device=self.device).manual_seed(seed)
        body = self.block - 1
        total = (len(self.stream) - 1) // body
        starts = torch.arange(total, device=self.device) * body
        out = []
        for i in range(0, min(total, count * self.batch_size), self.batch_size):
            out.append(self.mask(self.rows(starts[i:i + self.batch_size]), generator=gen))
        return out
