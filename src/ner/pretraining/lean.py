"""The lean pretraining loop: no ``Trainer`` in the hot path.

Text is tokenised once into a memory-mapped store (``token_store``) that is then held on the device; every step
draws packed rows (no padding) and masks them on the device, runs the encoder under bf16 autocast (optionally
``torch.compile``d, attention through SDPA) and updates it with fused AdamW at a learning rate scaled to the
batch. A call is bounded by ``max_minutes`` and/or ``max_steps``; with ``scheduler: linear_budget`` the rate
decays to zero exactly when the time budget ends. Snapshots at chosen token counts give the learning curve;
a checkpoint (model, optimiser, data order, random state) lets a rerun resume where a killed run stopped.
"""
from __future__ import annotations

import json
import logging
import math
import os
import time
from pathlib import Path

import torch

from ner.pretraining.lean_model import EncoderSizes, build_objective, hf_masked_lm
from ner.pretraining.mlm import BudgetPlan, device_name
from ner.pretraining.token_store import PackedBatches, TokenStore, write_store

log = logging.getLogger(__name__)
CHECKPOINT = "checkpoint.pt"


def prepare_store(p, normalizer, seed: int = 0) -> tuple[Path, dict]:
    """The token store of this config (``p.token_store``): built once (documents read, normalised,
    de-duplicated, split into train and held-out, WordPiece trained on the train part, both parts
    tokenised); reused as it is afterwards."""
    from ner.models.encoders import train_wordpiece
    from ner.pretraining.unlabeled import collect_documents, held_out_split

    root = Path(p.token_store)
    info = root / "sources.json"
    if info.exists() and (root / "tokenizer").is_dir():
        return root, json.loads(info.read_text(encoding="utf-8"))
    docs, counts = collect_documents(p.sources, normalizer)
    train_docs, held_docs = held_out_split(docs, p.held_out_fraction)
    log.info("pretraining text: %d documents (%d held out)", len(train_docs), len(held_docs))
    tok = train_wordpiece(train_docs, vocab_size=p.tokenizer.vocab_size, min_frequency=p.tokenizer.min_frequency)
    root.mkdir(parents=True, exist_ok=True)
    train_meta = write_store(tok, train_docs, root / "train")
    held_meta = write_store(tok, held_docs, root / "held_out")
    tok.save_pretrained(str(root / "tokenizer"))
    summary = {"sources": counts, "documents": {"train": len(train_docs), "held_out": len(held_docs)},
               "tokens": {"train": train_meta["tokens"], "held_out": held_meta["tokens"]},
               "normalization": normalizer.to_dict()}
    tmp = info.with_suffix(".tmp")
    tmp.write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    tmp.replace(info)  # written last: its presence marks a complete store
    return root, summary


def scaled_learning_rate(t) -> float:
    """``learning_rate`` is the peak at ``reference_batch_size``; other batches scale it by the square root
    of the ratio (Adam's usual rule), so a larger GPU batch keeps the same per-token step size."""
    ref = t.get("reference_batch_size") or t.batch_size
    return float(t.learning_rate) * math.sqrt(t.batch_size / ref)


def _param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    decay, no_decay, seen = [], [], set()
    for name, param in model.named_parameters():
        if id(param) in seen or not param.requires_grad:  # shared embeddings appear twice
            continue
        seen.add(id(param))
        (no_decay if param.ndim < 2 or name.split(".")[-2].startswith("ln") else decay).append(param)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def make_optimizer(model, lr: float, t, device: torch.device) -> torch.optim.Optimizer:
    groups = _param_groups(model, t.weight_decay)
    betas = tuple(t.get("betas", (0.9, 0.98)))
    try:  # fused AdamW: one kernel for all parameters (CUDA, and CPU in recent torch)
        return torch.optim.AdamW(groups, lr=lr, betas=betas, eps=t.get("eps", 1e-6), fused=True)
    except (RuntimeError, TypeError) as e:
        log.warning("fused AdamW unavailable on %s (%s); using the foreach implementation", device, e)
        return torch.optim.AdamW(groups, lr=lr, betas=betas, eps=t.get("eps", 1e-6), foreach=True)


def resolve_device(name: str | None) -> torch.device:
    if name in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("pretrain.training.device=cuda but no CUDA device is visible (use device=cpu or auto)")
    return torch.device(name)


@torch.no_grad()
def held_out_losses(model, batches: list[dict], autocast) -> dict:
    """Mean losses over the fixed held-out batches (same rows and masks every time)."""
    was = model.training
    model.eval()
    sums: dict[str, float] = {}
    for b in batches:
        with autocast():
            out = model(b)
        for k, v in out.items():
            if k != "loss":
                sums[k] = sums.get(k, 0.0) + float(v)
    model.train(was)
    return {k: v / max(1, len(batches)) for k, v in sums.items()}


class LeanPretrainer:
    """One invocation of the loop for config ``cfg`` (the composed ``pretrain.yaml``) into ``output_dir``."""

    def __init__(self, cfg, output_dir: str | Path):
        from transformers import AutoTokenizer

        from ner.models.encoders import normalizer_from_config

        self.cfg, self.p, self.t = cfg, cfg.pretrain, cfg.pretrain.training
        self.out = Path(output_dir)
        self.out.mkdir(parents=True, exist_ok=True)
        self.device = resolve_device(self.t.get("device", "auto"))
        torch.manual_seed(cfg.seed)
        self.normalizer = normalizer_from_config(self.p.normalization)
        self.store_dir, self.store_info = prepare_store(self.p, self.normalizer, cfg.seed)
        self.tokenizer = AutoTokenizer.from_pretrained(str(self.store_dir / "tokenizer"))
        train_store, held_store = TokenStore(self.store_dir / "train"), TokenStore(self.store_dir / "held_out")
        if len(held_store) < self.p.block_size:
            raise ValueError(f"the held-out text ({len(held_store)} tokens in {held_store.path}) is shorter than one "
                             f"block of {self.p.block_size}: raise pretrain.held_out_fraction or add text")
        train_store.check_tokenizer(self.tokenizer)
        m = self.p.model
        self.sizes = EncoderSizes(vocab_size=len(self.tokenizer), hidden_size=m.hidden_size, num_layers=m.num_layers,
                                  num_heads=m.num_heads, intermediate_size=m.intermediate_size,
                                  max_positions=max(m.max_position_embeddings, self.p.block_size),
                                  pad_token_id=self.tokenizer.pad_token_id, dropout=m.get("dropout", 0.1),
                                  finetune_dropout=m.get("finetune_dropout", 0.1))
        options = dict(self.p.get("rtd") or {}) if self.p.objective == "rtd" else {}
        self.model = build_objective(self.p.objective, self.sizes, **options).to(self.device)
        doc_attention = self.p.get("document_attention", True)
        self.data = PackedBatches(train_store, self.tokenizer, self.p.block_size, self.t.batch_size, self.device,
                                  self.p.mlm_probability, doc_attention, seed=cfg.seed)
        held = PackedBatches(held_store, self.tokenizer, self.p.block_size, self.t.get("eval_batch_size", 64),
                             self.device, self.p.mlm_probability, doc_attention, seed=cfg.seed)
        self.held_batches = held.fixed_batches(self.t.get("eval_batches", 20))
        self.lr = scaled_learning_rate(self.t)
        self.optimizer = make_optimizer(self.model, self.lr, self.t, self.device)
        bf16 = self.t.get("bf16", True)
        self.autocast = lambda: torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=bf16)
        self.step, self.tokens_per_step = 0, self.t.batch_size * self.p.block_size

    # -- checkpoints ---------------------------------------------------------------------------------------
    def _checkpoint_state(self) -> dict:
        state = {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(), "step": self.step,
                 "data": self.data.state_dict(), "torch_rng": torch.get_rng_state()}
        if self.device.type == "cuda":
            state["cuda_rng"] = torch.cuda.get_rng_state(self.device)
        return state

    def save_checkpoint(self) -> None:
        path = self.out / CHECKPOINT
        tmp = path.with_suffix(".tmp")
        torch.save(self._checkpoint_state(), tmp)
        os.replace(tmp, path)  # a kill during the write leaves the previous checkpoint intact

    def load_checkpoint(self) -> bool:
        path = self.out / CHECKPOINT
        if not path.exists():
            return False
        # tensors and plain values only: weights_only refuses pickled code, even in our own checkpoint
        state = torch.load(path, map_location=self.device, weights_only=True)
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.data.load_state_dict(state["data"])
        self.step = state["step"]
        torch.set_rng_state(state["torch_rng"].cpu())
        if "cuda_rng" in state and self.device.type == "cuda":
            torch.cuda.set_rng_state(state["cuda_rng"].cpu(), self.device)
        log.info("resumed from %s at step %d", path, self.step)
        return True

    # -- the loop ------------------------------------------------------------------------------------------
    def run(self) -> dict:
        t, started = self.t, time.time()
        resumed = self.load_checkpoint()
        base = self.step
        budgeted = t.get("scheduler", "linear_budget") == "linear_budget"
        plan = BudgetPlan(t.get("max_minutes") if budgeted else None, t.max_steps - base, t.warmup_ratio,
                          measure_after=t.get("measure_after", 20))
        deadline = time.time() + 60 * t.max_minutes if t.get("max_minutes") else None
        model = self.model
        self.compiled = self._compile()
        step_fn = torch.compile(model) if self.compiled else model
        snapshot_tokens = sorted(int(x) for x in (self.p.get("snapshot_tokens") or []))
        snapshot_steps = {math.ceil(x / self.tokens_per_step): x for x in snapshot_tokens}
        save_every = t.get("save_minutes", 5) * 60
        last_save, last_log = time.time(), time.time()
        train_started, log_sum, log_n = time.time(), {}, 0
        warm_steps, warm_at = t.get("measure_after", 20), None
        model.train()
        stop_at = base + t.invocation_steps if t.get("invocation_steps") else t.max_steps
        while self.step < min(t.max_steps, stop_at):
            local = self.step - base
            if local >= plan.total or (deadline and time.time() > deadline):
                break
            # budgeted: warm up and anneal within this invocation; step-bounded: one schedule over max_steps, so
            # a run resumed from its checkpoint follows exactly the steps of an uninterrupted one
            factor = plan.lr_factor(local) if budgeted else _linear(self.step, t.max_steps, t.warmup_ratio)
            for g in self.optimizer.param_groups:
                g["lr"] = self.lr * factor
            batch = self.data.next()
            try:
                with self.autocast():
                    out = step_fn(batch)
            except Exception as e:  # noqa: BLE001 - a compiler failure must not cost a GPU window: run eagerly
                if step_fn is model:
                    raise
                log.warning("torch.compile failed (%s: %s); continuing without it", type(e).__name__, e)
                step_fn, self.compiled = model, False
                self.optimizer.zero_grad(set_to_none=True)
                with self.autocast():
                    out = step_fn(batch)
            out["loss"].backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), t.get("max_grad_norm", 1.0))
            self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)
            self.step += 1
            if self.step - base == warm_steps:  # steady state starts: compilation and allocation are behind
                if self.device.type == "cuda":
                    torch.cuda.synchronize()
                warm_at = time.time()
            if budgeted:
                plan.update(self.step - base)
            for k, v in out.items():
                if k != "loss":
                    log_sum[k] = log_sum.get(k, 0.0) + v.detach()
            log_n += 1
            if self.step % t.get("logging_steps", 100) == 0:
                means = {k: round(float(v) / log_n, 4) for k, v in log_sum.items()}  # one sync per log line
                rate = log_n * self.tokens_per_step / max(time.time() - last_log, 1e-9)
                log.info("step %d/%d lr %.2e %s %.0f tokens/s", self.step, base + plan.total, self.lr * factor,
                         means, rate)
                log_sum, log_n, last_log = {}, 0, time.time()
            if self.step in snapshot_steps:
                self.save_encoder(self.out / "snapshots" / f"step-{self.step}")
            if time.time() - last_save > save_every:
                self.save_checkpoint()
                last_save = time.time()
        if self.device.type == "cuda":
            torch.cuda.synchronize()
        ended = time.time()
        train_seconds = ended - train_started
        self.save_checkpoint()
        held = held_out_losses(model, self.held_batches, self.autocast)
        steady = None
        if warm_at is not None and self.step - base > warm_steps:
            steady = (self.step - base - warm_steps) * self.tokens_per_step / max(ended - warm_at, 1e-9)
        card = self.card(held, self.step - base, train_seconds, time.time() - started, resumed, budgeted)
        card["tokens_per_second_steady"] = round(steady) if steady else None
        self.save_encoder(self.out, card)
        return card

    def _compile(self) -> bool:
        choice = self.t.get("compile", "auto")
        if choice == "auto":
            return self.device.type == "cuda"
        return bool(choice)

    # -- outputs -------------------------------------------------------------------------------------------
    def save_encoder(self, target: Path, card: dict | None = None) -> None:
        """Hugging Face folder (safetensors in ``save_dtype``, sharded at ``max_shard_mb``), tokenizer,
        ``ner`` card; written under a temporary name and renamed."""
        target = Path(target)
        tmp = target.with_name(f".{target.name}.partial")
        tmp.mkdir(parents=True, exist_ok=True)
        dtype = getattr(torch, self.p.get("save_dtype", "float16"))
        hf = hf_masked_lm(self.model, self.sizes, dtype=dtype, bos_token_id=self.tokenizer.cls_token_id,
                          eos_token_id=self.tokenizer.sep_token_id)
        hf.save_pretrained(str(tmp), max_shard_size=f"{self.p.get('max_shard_mb', 15)}MB")
        # from_pretrained loads in the config's dtype: fine-tune in float32 although the weights are stored in half
        config = json.loads((tmp / "config.json").read_text(encoding="utf-8"))
        config["dtype"] = "float32"
        if self.p.objective == "rtd":  # the discriminator only: no masked-LM head travels with it
            config["architectures"] = ["RobertaPreLayerNormModel"]
        (tmp / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
        self.tokenizer.save_pretrained(str(tmp))
        if card is not None:
            (tmp / "card.json").write_text(json.dumps(card, indent=2, ensure_ascii=False), encoding="utf-8")
            (tmp / "README.md").write_text(card_markdown(card), encoding="utf-8")
        keep = {"checkpoint.pt", "snapshots", "logs", "pretrain_config.yaml"}
        if target.exists():  # replace the encoder files, keep the run's checkpoint, snapshots and logs
            for f in target.iterdir():
                if f.name not in keep and f.is_file():
                    f.unlink()
        target.mkdir(parents=True, exist_ok=True)
        for f in tmp.iterdir():
            os.replace(f, target / f.name)
        tmp.rmdir()

    def card(self, held: dict, steps_now: int, train_seconds: float, seconds: float, resumed: bool,
             budgeted: bool) -> dict:
        p, t = self.p, self.t
        mlm = held.get("mlm_loss", float("nan"))
        objective = ("masked LM" if p.objective == "mlm" else
                     f"replaced-token detection (ELECTRA; {p.rtd.get('generator_layers', 2)}-layer generator, "
                     f"RTD weight {p.rtd.get('rtd_weight', 50)})")
        objective += f", {p.mlm_probability:.0%} token masking, dynamic"
        return {
            "name": p.name, "loop": "lean", "mode": "scratch", "init_from": None, "objective": objective,
            "objective_key": p.objective, "sources": self.store_info["sources"],
            "documents": self.store_info["documents"], "train_tokens_per_pass": self.store_info["tokens"]["train"],
            "steps": self.step, "batch_size": t.batch_size, "block_size": p.block_size,
            "tokens_seen": self.step * self.tokens_per_step,
            "passes_over_text": round(self.step * self.tokens_per_step / self.store_info["tokens"]["train"], 2),
            "packing": "packed rows, no padding; " + ("document-level attention" if p.get("document_attention", True)
                                                      else "attention across packed documents"),
            "embedding_init": "random",
            "model": {"parameters": sum(x.numel() for x in self.model.encoder.parameters()),
                      "vocab_size": self.sizes.vocab_size, "hidden_size": self.sizes.hidden_size,
                      "num_layers": self.sizes.num_layers, "architecture": "roberta-prelayernorm",
                      "dropout": self.sizes.dropout, "finetune_dropout": self.sizes.finetune_dropout},
            "held_out": {k: round(v, 4) for k, v in held.items()},
            "held_out_loss": round(mlm, 4), "held_out_perplexity": round(math.exp(min(mlm, 50)), 2),
            "held_out_note": "masked-LM loss of the model (of the generator for RTD) on fixed held-out rows and masks",
            "resumed": resumed, "seconds_this_invocation": round(seconds, 1),
            "training_seconds_this_invocation": round(train_seconds, 1),
            "tokens_per_second": round(steps_now * self.tokens_per_step / max(train_seconds, 1e-9)),
            "schedule": "linear decay to zero at the time budget" if budgeted else "linear over max_steps",
            "peak_learning_rate": round(self.lr, 6), "weight_decay": t.weight_decay,
            "precision": "bf16 autocast" if t.get("bf16", True) else "fp32", "compiled": getattr(self, "compiled", False),
            "device": device_name(), "torch": torch.__version__, "normalization": self.normalizer.to_dict(),
            "saved_dtype": p.get("save_dtype", "float16"),
        }


def _linear(step: int, total: int, warmup: float) -> float:
    warm = max(1, int(warmup * total)) if warmup < 1 else int(warmup)
    return step / warm if step < warm else max(0.0, (total - step) / max(1, total - warm))


def card_markdown(card: dict) -> str:
    rows = "\n".join(f"| {k} | {v['documents']} | {v['dropped_duplicate_or_short']} |"
                     for k, v in card["sources"].items())
    ner = card.get("ner_rows") or {}
    ner_lines = "\n".join(f"| {k} | {v} |" for k, v in ner.items()) or "| (not measured yet) | |"
    mlm_note = " or `AutoModelForMaskedLM`" if card.get("objective_key") == "mlm" else (
        " (the RTD discriminator; no masked-LM head is included)")
    m = card["model"]
    return f"""---
language: fa
library_name: transformers
tags: [persian, news, roberta-prelayernorm, pretraining]
---
# {card['name']}: a Persian news encoder trained from scratch

- Objective: {card['objective']}; {card['packing']}
- Model: RoBERTa-PreLayerNorm, {m['num_layers']} layers x {m['hidden_size']}, vocabulary {m['vocab_size']:,}
  (WordPiece trained on the pretraining text), {m['parameters']:,} parameters, dropout {m['dropout']} in pretraining
- Steps: {card['steps']:,} x batch {card['batch_size']} x block {card['block_size']} = {card['tokens_seen']:,} tokens
  seen, {card['passes_over_text']} passes over {card['train_tokens_per_pass']:,} training tokens
- Held-out: {card['held_out']} ({card['held_out_note']}); perplexity {card['held_out_perplexity']}
- Trained on {card['device']} (torch {card['torch']}) at {card['tokens_per_second']:,} tokens/s, {card['precision']},
  peak learning rate {card['peak_learning_rate']}, {card['schedule']}; weights stored as {card['saved_dtype']}
- Text normalisation (apply the same before tokenising): {card['normalization']}

| source | documents kept | dropped (duplicate/short) |
|---|---|---|
{rows}

NER fine-tuned from this encoder (seqeval strict micro F1; PEYMA's test split is withheld, so its dev split is
reported and never used for selection): {card.get('ner_protocol', '')}

| evaluation | F1 |
|---|---|
{ner_lines}

## Use

`python scripts/train.py model.source=pretrained model.name_or_path=<this folder> model.max_length={card['block_size']}`
(for the shipped copy: `model=news_rtd`). It loads with `AutoModelForTokenClassification`{mlm_note}. Normalise text
as above before tokenising (the project's predictor and training do).

## Limits

- Pretrained on rows of {card['block_size']} tokens: position embeddings past {card['block_size']} were never trained, so
  fine-tune and predict with windows of at most {card['block_size']} subwords (the project's windowing does this).
- A few million tokens of news, seen many times: it knows far less Persian than ParsBERT (billions of tokens); on
  the NER rows above it has not yet caught up with a feature-based CRF.
- Trained on research-only corpora (Hamshahri, Fars News, RSS, Varzesh3/Namnak, ParsiNLU CC BY-NC-SA, the raw
  text of PEYMA and ARMAN train splits; see their PROVENANCE.md): research and non-commercial use.
"""
