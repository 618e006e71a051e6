"""Masked-LM pretraining of a BERT encoder, from scratch or continued from a checkpoint.

Text is normalised exactly like the NER pipeline, tokenised, packed into fixed-length blocks and masked on the
fly (token-level or whole-word). The loss projects onto the vocabulary only at masked positions, which halves
the cost of a masked-LM step on CPU. A run is bounded (``max_steps`` and ``max_minutes``) and resumable:
checkpoints go to ``<output_dir>/checkpoints`` and a rerun continues from the last one.
"""
from __future__ import annotations

import json
import logging
import math
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch

from ner.models.alignment import IGNORE_INDEX

log = logging.getLogger(__name__)


def pack_blocks(tokenizer, docs: list[str], block_size: int) -> list[list[int]]:
    """Concatenate documents (``[SEP]`` between them) and cut into ``[CLS] ... [SEP]`` blocks."""
    body = block_size - 2
    stream: list[int] = []
    blocks = []
    enc = tokenizer(docs, add_special_tokens=False)["input_ids"]
    for ids in enc:
        stream += ids + [tokenizer.sep_token_id]
        while len(stream) >= body:
            blocks.append([tokenizer.cls_token_id] + stream[:body] + [tokenizer.sep_token_id])
            stream = stream[body:]
    if len(stream) > body // 4:
        blocks.append([tokenizer.cls_token_id] + stream + [tokenizer.sep_token_id])
    return blocks


class MaskingCollator:
    """BERT masking (80% [MASK], 10% random, 10% kept) of ``probability`` of the tokens, or of whole words
    (a word = a token plus the ``##`` pieces after it) when ``whole_word``."""

    def __init__(self, tokenizer, probability: float = 0.15, whole_word: bool = False, seed: int = 0):
        self.tok = tokenizer
        self.p = probability
        self.whole_word = whole_word
        self._worker = -1
        self.generator = torch.Generator().manual_seed(seed)
        vocab = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
        self.is_continuation = torch.tensor([t.startswith("##") for t in vocab], dtype=torch.bool)
        self.special = torch.tensor(sorted(set(tokenizer.all_special_ids)))

    def _rng(self) -> torch.Generator:
        # DataLoader workers each hold a copy of this collator: reseed each from its worker seed (different per
        # worker and per epoch, reproducible from the loader's seed), else they would all repeat one mask stream
        from torch.utils.data import get_worker_info

        info = get_worker_info()
        worker = info.seed if info is not None else -1
        if worker != self._worker:
            self._worker = worker
            self.generator = torch.Generator().manual_seed(worker % 2**63)
        return self.generator

    def __call__(self, features) -> dict:
        gen = self._rng()
        ids = [f["input_ids"] if isinstance(f, dict) else f for f in features]
        width = max(len(x) for x in ids)
        input_ids = torch.full((len(ids), width), self.tok.pad_token_id, dtype=torch.long)
        for r, x in enumerate(ids):
            input_ids[r, :len(x)] = torch.as_tensor(x)
        attention = (input_ids != self.tok.pad_token_id).long()
        maskable = ~torch.isin(input_ids, self.special)
        draw = torch.rand(input_ids.shape, generator=gen)
        if self.whole_word:
            # every piece takes the draw of its word's first piece: the position of the last non-continuation
            # token at or before it (a running maximum over positions)
            cont = self.is_continuation[input_ids] & maskable
            pos = torch.arange(width).expand_as(input_ids)
            start = torch.where(cont, torch.zeros_like(pos), pos).cummax(dim=1).values
            chosen = torch.gather(draw, 1, start) < self.p
        else:
            chosen = draw < self.p
        chosen &= maskable
        labels = torch.where(chosen, input_ids, torch.full_like(input_ids, IGNORE_INDEX))
        action = torch.rand(input_ids.shape, generator=gen)
        masked = input_ids.clone()
        masked[chosen & (action < 0.8)] = self.tok.mask_token_id
        rand_pos = chosen & (action >= 0.8) & (action < 0.9)
        masked[rand_pos] = torch.randint(len(self.tok), (int(rand_pos.sum()),), generator=gen)
        return {"input_ids": masked, "attention_mask": attention, "labels": labels}


def masked_only_loss(model, inputs) -> torch.Tensor:
    """Masked-LM cross-entropy with the vocabulary projection computed only where a label is set."""
    labels = inputs["labels"]
    hidden = model.base_model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"]).last_hidden_state
    sel = labels != IGNORE_INDEX
    if not sel.any():
        return hidden.sum() * 0.0
    head = model.cls if hasattr(model, "cls") else model.lm_head  # BERT / RoBERTa-style masked-LM heads
    logits = head(hidden[sel])
    return torch.nn.functional.cross_entropy(logits.float(), labels[sel])


class BudgetPlan:
    """How many steps this invocation can afford within ``minutes``, re-estimated from the measured step time.

    With ``scheduler: linear_budget`` the learning rate warms up over ``warmup`` (a fraction of the planned
    steps) and decays linearly to zero exactly when the time budget ends, so a time-bounded run is annealed
    whatever the machine's speed. ``max_steps`` stays an upper bound. A resumed run plans afresh from its own
    budget (the rate rises again: a warm restart).
    """

    def __init__(self, minutes: float | None, max_steps: int, warmup: float, measure_after: int = 10):
        self.deadline = time.time() + 60 * minutes if minutes else None
        self.max_steps, self.warmup, self.measure_after = max_steps, warmup, measure_after
        self.total = max_steps
        self._t0 = self._s0 = None

    def update(self, step: int) -> None:
        now = time.time()
        if self._t0 is None:  # start timing after the first step (allocation, kernel selection)
            self._t0, self._s0 = now, step
        elif self.deadline and step - self._s0 >= self.measure_after:
            per_step = (now - self._t0) / (step - self._s0)
            self.total = min(self.max_steps, step + max(0, int((self.deadline - now) / per_step)))

    def lr_factor(self, step: int) -> float:
        warm = max(1, int(self.warmup * self.total)) if self.warmup < 1 else int(self.warmup)
        if step < warm:
            return step / warm
        return max(0.0, (self.total - step) / max(1, self.total - warm))


def _trainer_class():
    from transformers import Trainer, TrainerCallback

    class MaskedLMTrainer(Trainer):
        plan: BudgetPlan | None = None

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            loss = masked_only_loss(model, inputs)
            return (loss, {"loss": loss}) if return_outputs else loss

        def create_scheduler(self, num_training_steps, optimizer=None):
            if self.plan is None or self.lr_scheduler is not None:
                return super().create_scheduler(num_training_steps, optimizer)
            self.lr_scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer or self.optimizer, self.plan.lr_factor)
            return self.lr_scheduler

    class TimeBudget(TrainerCallback):
        """Stop (and save) when this invocation's time budget or planned step count is reached; a rerun resumes."""

        def __init__(self, plan: BudgetPlan):
            self.plan = plan

        def on_step_end(self, args, state, control, **kw):
            self.plan.update(state.global_step)
            over_time = self.plan.deadline and time.time() > self.plan.deadline
            if over_time or state.global_step >= self.plan.total:
                log.info("budget reached at step %d: saving and stopping", state.global_step)
                control.should_save = True
                control.should_training_stop = True

    class Snapshots(TrainerCallback):
        """Copies of the encoder at chosen steps (``snapshots/step-N``), for the pretraining learning curve."""

        def __init__(self, steps, out_dir: Path, tokenizer):
            self.steps, self.out_dir, self.tokenizer = set(steps or []), out_dir, tokenizer

        def on_step_end(self, args, state, control, model=None, **kw):
            if state.global_step in self.steps and model is not None:
                target = self.out_dir / "snapshots" / f"step-{state.global_step}"
                with staged_folder(target) as tmp:
                    model.save_pretrained(str(tmp))
                    self.tokenizer.save_pretrained(str(tmp))

    return MaskedLMTrainer, TimeBudget, Snapshots


def build_encoder(cfg, train_docs: list[str]):
    """(tokenizer, masked-LM model): a new WordPiece + encoder of the configured size and architecture, or a
    checkpoint to continue."""
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    from ner.models import hub
    from ner.models.encoders import encoder_config, train_wordpiece

    if cfg.mode == "continue":
        tok = hub.from_pretrained(AutoTokenizer, cfg.init_from)
        return tok, hub.from_pretrained(AutoModelForMaskedLM, cfg.init_from)
    if cfg.mode != "scratch":
        raise ValueError(f"pretrain.mode must be 'scratch' or 'continue', not {cfg.mode!r}")
    tok = train_wordpiece(train_docs, vocab_size=cfg.tokenizer.vocab_size, min_frequency=cfg.tokenizer.min_frequency)
    m = cfg.model
    config = encoder_config(m.get("arch", "bert"), len(tok), m.hidden_size, m.num_layers, m.num_heads,
                            m.intermediate_size, m.max_position_embeddings, tok.pad_token_id,
                            bos_token_id=tok.cls_token_id, eos_token_id=tok.sep_token_id)
    return tok, AutoModelForMaskedLM.from_config(config)


def pretrain(cfg, output_dir: str | Path) -> dict:
    """Run (or resume) pretraining; writes the encoder, ``card.json`` and ``README.md`` into ``output_dir``."""
    from transformers import AutoModelForMaskedLM, AutoTokenizer, TrainingArguments, set_seed
    from transformers.trainer_utils import get_last_checkpoint

    from ner.models import hub
    from ner.models.encoders import normalizer_from_config
    from ner.pretraining.unlabeled import collect_documents, held_out_split

    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    set_seed(cfg.seed)
    started = time.time()
    p = cfg.pretrain
    normalizer = normalizer_from_config(p.normalization)
    docs, counts = collect_documents(p.sources, normalizer)
    train_docs, held_docs = held_out_split(docs, p.held_out_fraction)
    log.info("pretraining text: %d documents (%d held out)", len(train_docs), len(held_docs))

    ckpt_dir = out / "checkpoints"
    last = get_last_checkpoint(str(ckpt_dir)) if ckpt_dir.is_dir() else None
    if last:  # resume: the tokenizer and model come from the checkpoint, so the vocabulary stays fixed
        tokenizer = hub.from_pretrained(AutoTokenizer, last)
        model = hub.from_pretrained(AutoModelForMaskedLM, last)
    else:
        tokenizer, model = build_encoder(p, train_docs)
    train_blocks = pack_blocks(tokenizer, train_docs, p.block_size)
    held_blocks = pack_blocks(tokenizer, held_docs, p.block_size)
    n_tokens = sum(len(b) for b in train_blocks)
    initialised = None
    if not last and p.mode == "scratch" and p.get("init_embeddings") == "ppmi_svd":
        from ner.pretraining.static_vectors import init_embeddings

        initialised = init_embeddings(model, train_blocks, seed=cfg.seed)
        log.info("initialised %d embedding rows from PPMI-SVD vectors", initialised)
    log.info("%d training blocks (%d tokens), %d held-out blocks", len(train_blocks), n_tokens, len(held_blocks))

    t = p.training
    budgeted = t.get("scheduler", "linear") == "linear_budget"
    args = TrainingArguments(
        output_dir=str(ckpt_dir), seed=cfg.seed, max_steps=t.max_steps, learning_rate=t.learning_rate,
        warmup_steps=t.warmup_ratio, weight_decay=t.weight_decay, per_device_train_batch_size=t.batch_size,
        per_device_eval_batch_size=t.batch_size, lr_scheduler_type="linear" if budgeted else t.get("scheduler", "linear"),
        save_strategy="steps", save_steps=t.save_steps, save_total_limit=1, eval_strategy="steps",
        eval_steps=t.eval_steps, logging_steps=t.logging_steps, bf16=t.get("bf16", False),
        # bf16 autocast on a CPU-only machine needs use_cpu (transformers refuses bf16 "without a GPU" otherwise)
        use_cpu=t.get("use_cpu", False) or (t.get("bf16", False) and not torch.cuda.is_available()),
        prediction_loss_only=True, report_to="none", remove_unused_columns=False,
        dataloader_num_workers=t.get("num_workers", 0), disable_tqdm=not t.get("progress", True), max_grad_norm=1.0,
    )
    trainer_cls, time_budget, snapshots = _trainer_class()
    plan = BudgetPlan(t.get("max_minutes"), t.max_steps, t.warmup_ratio)
    trainer_cls.plan = plan if budgeted else None
    collator = MaskingCollator(tokenizer, p.mlm_probability, p.whole_word_mask, seed=cfg.seed)
    trainer = trainer_cls(model=model, args=args, data_collator=collator,
                          train_dataset=[{"input_ids": b} for b in train_blocks],
                          eval_dataset=[{"input_ids": b} for b in held_blocks],
                          callbacks=[time_budget(plan), snapshots(p.get("snapshot_steps"), out, tokenizer)])
    steps_before = int(Path(last).name.split("-")[-1]) if last else 0
    train_started = time.time()
    if t.max_steps > 0:
        if last:
            tokenizer.save_pretrained(last)
        trainer.train(resume_from_checkpoint=last)
        tokenizer.save_pretrained(str(ckpt_dir / f"checkpoint-{trainer.state.global_step}"))
    # max_steps 0: no masked-LM step; the encoder is its vocabulary and (with init_embeddings) its static vectors
    train_seconds = time.time() - train_started
    eval_loss = trainer.evaluate()["eval_loss"]

    staging = out / ".encoder.partial"  # the encoder files appear in ``out`` only once complete
    shutil.rmtree(staging, ignore_errors=True)
    trainer.save_model(str(staging))
    tokenizer.save_pretrained(str(staging))
    steps = trainer.state.global_step
    card = {
        "mode": p.mode, "init_from": p.get("init_from"), "sources": counts,
        "documents": {"train": len(train_docs), "held_out": len(held_docs)},
        "train_tokens_per_pass": n_tokens, "steps": steps, "batch_size": t.batch_size, "block_size": p.block_size,
        "tokens_seen": steps * t.batch_size * p.block_size,
        "embedding_init": p.get("init_embeddings") or "random", "embedding_rows_initialised": initialised,
        "objective": f"masked LM, {p.mlm_probability:.0%} {'whole-word' if p.whole_word_mask else 'token'} masking",
        "model": {"parameters": sum(x.numel() for x in model.parameters()), "vocab_size": len(tokenizer),
                  "hidden_size": model.config.hidden_size, "num_layers": model.config.num_hidden_layers,
                  "architecture": model.config.model_type},
        "held_out_loss": round(eval_loss, 4), "held_out_perplexity": round(math.exp(min(eval_loss, 50)), 2),
        "seconds_this_invocation": round(time.time() - started, 1),
        "training_seconds_this_invocation": round(train_seconds, 1),
        "tokens_per_second": round((steps - steps_before) * t.batch_size * p.block_size / max(train_seconds, 1e-9)),
        "schedule": "linear decay to zero at the time budget" if budgeted else t.get("scheduler", "linear"),
        "peak_learning_rate": t.learning_rate,
        "device": device_name(),
        "normalization": normalizer.to_dict(),
    }
    (staging / "card.json").write_text(json.dumps(card, indent=2, ensure_ascii=False), encoding="utf-8")
    (staging / "README.md").write_text(_card_markdown(card), encoding="utf-8")
    publish_files(staging, out)
    return card


@contextmanager
def staged_folder(target: Path) -> Iterator[Path]:
    """Write a folder under a temporary name and rename it to ``target`` when the block ends without error:
    a killed run never leaves a half-written ``target``."""
    tmp = target.with_name(f".{target.name}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if target.exists():
        shutil.rmtree(target)
    os.replace(tmp, target)


def publish_files(staging: Path, out: Path) -> None:
    """Move the complete files of ``staging`` into ``out`` (which also holds checkpoints and snapshots), each by
    an atomic rename; ``card.json`` goes last, so its presence marks a complete encoder."""
    (out / "card.json").unlink(missing_ok=True)
    files = sorted(staging.iterdir(), key=lambda f: f.name == "card.json")
    for f in files:
        os.replace(f, out / f.name)
    staging.rmdir()


def device_name() -> str:
    if torch.cuda.is_available():
        return f"cuda: {torch.cuda.get_device_name(0)}"
    return f"cpu: {torch.get_num_threads()} thread(s)"


def _card_markdown(card: dict) -> str:
    rows = "\n".join(f"| {k} | {v['documents']} | {v['dropped_duplicate_or_short']} |" for k, v in card["sources"].items())
    return f"""# Persian news encoder (build product, not committed)

- Objective: {card['objective']}; mode: {card['mode']}{f" from {card['init_from']}" if card['init_from'] else ''}
- Model: {card['model']['num_layers']} layers x {card['model']['hidden_size']}, vocabulary {card['model']['vocab_size']},
  {card['model']['parameters']:,} parameters
- Steps: {card['steps']} x batch {card['batch_size']} x block {card['block_size']} = {card['tokens_seen']:,} tokens seen
  ({card['train_tokens_per_pass']:,} tokens per pass over the training text)
- Held-out masked-LM loss {card['held_out_loss']}, perplexity {card['held_out_perplexity']}
- Trained on {card['device']} at {card['tokens_per_second']:,} tokens/s (last invocation), schedule: {card['schedule']}

| source | documents kept | dropped (duplicate/short) |
|---|---|---|
{rows}

Use it for NER fine-tuning with `model=small_pretrained` or `model.source=pretrained model.name_or_path=<this folder>`.
"""
