"""Fine-tuning with the HF ``Trainer``: features, seqeval-strict model selection, early stopping, run folder.

The same command runs in one process or under a launcher (``torchrun``, ``accelerate launch``: the Trainer's
data-parallel training; rank 0 alone writes the run folder), continues a killed run (``training.resume``) and
reports to TensorBoard or MLflow when asked (``logger=``).
"""
from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ner.data.io.common import atomic_write
from ner.data.labels import bio_tags
from ner.models.alignment import IGNORE_INDEX, SubwordAligner
from ner.models.decoding import DECODERS, decode
from ner.models.encoders import build_model, load_pretrained, normalizer_from_config, train_wordpiece
from ner.models.losses import partial_label_nll
from ner.predictor import save_ner_config
from ner.training.distributed import broadcast_object, check_same_on_all_ranks, is_main_process, world_size
from ner.training.features import encode_documents
from ner.training.resume import CHECKPOINTS, config_differences, find_resume
from ner.training.runs import load_run_data, score_run
from ner.training.tracking import Tracker

log = logging.getLogger(__name__)
LOSSES = ("cross_entropy", "marginal")


def _log_softmax(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


def strict_f1_metric(id2label: dict[int, str], decoding: str = "viterbi", sentence_ids: Sequence[int] | None = None):
    """``compute_metrics`` for the Trainer: seqeval strict-IOB2 micro F1 on first subwords, decoded like the
    predictor does (``ner.models.decoding.decode`` on each sentence's first-subword log-probabilities), so model
    selection sees the tags the saved model will emit. ``sentence_ids`` (one per evaluation window, from
    ``encode_documents``) joins the windows of a long sentence before decoding; without it each window is one
    sequence."""
    from seqeval.metrics import f1_score
    from seqeval.scheme import IOB2

    labels_list = [id2label[i] for i in sorted(id2label)]
    if decoding not in DECODERS:
        raise ValueError(f"decoding must be one of {DECODERS}, not {decoding!r}")

    def compute(eval_pred) -> dict[str, float]:
        logits, labels = eval_pred.predictions, eval_pred.label_ids
        if isinstance(logits, tuple):
            logits = logits[0]
        ids = sentence_ids
        if ids is not None and len(ids) != len(labels):
            log.warning("evaluation has %d windows but %d sentence ids: decoding each window on its own",
                        len(labels), len(ids))
            ids = None
        sentences: list[tuple[list[np.ndarray], list[int]]] = []
        previous = None
        for r, l_row in enumerate(labels):
            keep = l_row != IGNORE_INDEX
            sid = ids[r] if ids is not None else r
            scores, gold = _log_softmax(logits[r][keep]), [int(i) for i in l_row[keep]]
            if sentences and sid == previous:
                sentences[-1][0].append(scores)
                sentences[-1][1].extend(gold)
            else:
                sentences.append(([scores], gold))
            previous = sid
        gold_seqs, pred_seqs = [], []
        for scores, gold in sentences:
            if gold:
                gold_seqs.append([id2label[i] for i in gold])
                pred_seqs.append(decode(np.concatenate(scores), labels_list, decoding))
        return {"f1_strict": f1_score(gold_seqs, pred_seqs, mode="strict", scheme=IOB2, zero_division=0),
                "f1_default": f1_score(gold_seqs, pred_seqs, zero_division=0)}

    return compute


class LabelMaskCollator:
    """Dynamic padding of ``input_ids``/``labels`` (HF collator) plus the optional ``label_mask`` (0 = ignore)."""

    def __init__(self, tokenizer, pad_to_multiple_of: int | None = 8):
        from transformers import DataCollatorForTokenClassification

        self.base = DataCollatorForTokenClassification(tokenizer, pad_to_multiple_of=pad_to_multiple_of)

    def __call__(self, features):
        import torch

        masks = [f.pop("label_mask") for f in features] if "label_mask" in features[0] else None
        batch = self.base(features)
        if masks is not None:
            width = batch["input_ids"].shape[1]
            batch["label_mask"] = torch.tensor([m + [0] * (width - len(m)) for m in masks], dtype=torch.long)
        return batch


def _token_loss_trainer():
    """The Trainer class of every run (imported at call time, so a benchmark can put its own subclass in place)."""
    from transformers import Trainer

    class TokenLossTrainer(Trainer):
        """Per-token losses summed over the labelled first subwords and divided by the number of them in the whole
        optimizer step (all processes, all accumulated micro-batches: the Trainer's ``num_items_in_batch``), so one
        process, several processes and gradient accumulation all follow the same gradient. (Hugging Face's
        ``BertForTokenClassification`` averages per micro-batch yet accepts ``num_items_in_batch``, so the Trainer
        would multiply its gradient by the number of processes.) A batch with a ``label_mask`` uses the
        partial-annotation likelihood (``ner.models.losses``), one without it (dev) plain cross-entropy."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.model_accepts_loss_kwargs = True  # this compute_loss normalises by num_items_in_batch itself

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            import torch

            inputs = dict(inputs)
            mask = inputs.pop("label_mask", None)
            labels = inputs.pop("labels")
            outputs = model(**inputs)
            logits = outputs.logits
            if mask is not None:
                total, count = partial_label_nll(logits, mask, reduction="sum"), (mask > 0).sum()
            else:
                total = torch.nn.functional.cross_entropy(logits.float().reshape(-1, logits.shape[-1]),
                                                          labels.reshape(-1), ignore_index=IGNORE_INDEX,
                                                          reduction="sum")
                count = (labels != IGNORE_INDEX).sum()
            if num_items_in_batch is None:
                loss = total / count.clamp(min=1)
            else:  # the data-parallel average of the gradients divides by the number of processes again
                scale = self.accelerator.num_processes if self.args.average_tokens_across_devices else 1
                loss = total / num_items_in_batch * scale
            return (loss, outputs) if return_outputs else loss

    return TokenLossTrainer


def _launched_without_accelerator() -> bool:
    """Several processes on a machine without GPUs: the Trainer runs CPU data-parallel (gloo) only when told
    ``use_cpu``; otherwise each process would silently train alone."""
    import torch

    if world_size() < 2:
        return False
    has = getattr(torch, "accelerator", None)
    return not (has.is_available() if has is not None else torch.cuda.is_available())


def training_arguments(tcfg, output_dir: Path, seed: int, report_to: Sequence[str] = (), run_name: str | None = None):
    from transformers import TrainingArguments

    resumable = bool(tcfg.get("resumable", True) or tcfg.get("resume"))
    return TrainingArguments(
        output_dir=str(output_dir),
        seed=seed,
        num_train_epochs=tcfg.epochs,
        max_steps=tcfg.get("max_steps", -1) or -1,
        learning_rate=tcfg.learning_rate,
        weight_decay=tcfg.weight_decay,
        warmup_steps=tcfg.warmup_ratio,  # a float < 1 is a fraction of the steps in transformers 5
        per_device_train_batch_size=tcfg.batch_size,
        per_device_eval_batch_size=tcfg.eval_batch_size,
        gradient_accumulation_steps=tcfg.get("gradient_accumulation_steps", 1),
        train_sampling_strategy="group_by_length" if tcfg.group_by_length else "random",
        eval_strategy=tcfg.eval_strategy,
        save_strategy=tcfg.eval_strategy,
        eval_steps=tcfg.get("eval_steps"),
        save_steps=tcfg.get("eval_steps"),
        logging_steps=tcfg.logging_steps,
        load_best_model_at_end=tcfg.get("select_best", True) and tcfg.eval_strategy != "no",
        metric_for_best_model="f1_strict",
        greater_is_better=True,
        save_total_limit=2,  # the best and the latest
        # A resumable run also keeps the optimizer, scheduler and RNG states in each checkpoint (training.resume).
        save_only_model=not resumable,
        restore_callback_states_from_checkpoint=True,  # early-stopping patience continues where it was
        full_determinism=tcfg.get("deterministic", False),  # torch.use_deterministic_algorithms and seeded workers
        ddp_find_unused_parameters=tcfg.get("ddp_find_unused_parameters", False),
        log_on_each_node=False,  # several nodes: only global rank 0 logs at INFO
        use_cpu=tcfg.get("use_cpu", False) or _launched_without_accelerator(),
        bf16=tcfg.get("bf16", False),
        # Speed options (configs/training/default.yaml); the defaults keep the behaviour from before they existed.
        optim=tcfg.get("optim", "adamw_torch"),
        torch_compile=tcfg.get("torch_compile", False),
        tf32=tcfg.get("tf32", None),
        dataloader_num_workers=tcfg.get("dataloader_num_workers", 0),
        report_to=list(report_to) or "none",
        run_name=run_name,
        disable_tqdm=not tcfg.get("progress", True),
        remove_unused_columns=False,  # keep label_mask for the partial-label loss; features hold nothing else
    )


def save_model_atomically(trainer, tokenizer, model_dir: Path, write_extra: Callable[[Path], None]) -> None:
    """``model/`` appears whole or not at all: everything is written into a temporary sibling folder that is then
    renamed, so a run killed while saving leaves no half-written model (at most a ``.model.partial`` folder).
    Every process calls ``trainer.save_model`` (sharded setups need them all); rank 0 writes the rest."""
    main = trainer.is_world_process_zero()
    tmp = model_dir.with_name(f".{model_dir.name}.partial")
    if main and tmp.exists():
        shutil.rmtree(tmp)
    trainer.accelerator.wait_for_everyone()
    try:
        trainer.save_model(str(tmp))
        if not main:
            return
        tokenizer.save_pretrained(str(tmp))
        write_extra(tmp)
        old = model_dir.with_name(f".{model_dir.name}.old")
        if model_dir.exists():  # a resumed run that was killed after saving: replace the earlier save
            shutil.rmtree(old, ignore_errors=True)
            model_dir.rename(old)
        tmp.rename(model_dir)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        if main:
            shutil.rmtree(tmp, ignore_errors=True)
        raise


def _vocabulary_hash(tokenizer) -> str:
    return hashlib.sha1(json.dumps(sorted(tokenizer.get_vocab().items()), ensure_ascii=False).encode()).hexdigest()


def train(cfg, run_dir: str | Path) -> dict:
    """Train on ``cfg.data`` and fill ``run_dir``: ``model/`` (HF format), ``metrics.json``, ``report.txt``.

    Under a launcher every process calls this with the same ``run_dir``; rank 0 alone writes the model, the
    reports and the summary (other ranks return ``results=None``). With ``training.resume`` the run continues a
    killed run in that run's own folder, which is returned as ``run_dir``.
    """
    from transformers import EarlyStoppingCallback, set_seed

    main = is_main_process()
    if cfg.model.get("source") == "crf":  # the linear-chain CRF as a model of its own: one process is enough
        if not main:
            return {"results": None, "summary": None, "model_dir": Path(run_dir) / "model", "run_dir": Path(run_dir)}
        from ner.training.crf_run import train_crf

        return train_crf(cfg, run_dir)
    tcfg = cfg.training
    if tcfg.get("loss", "cross_entropy") not in LOSSES:
        raise ValueError(f"training.loss must be 'cross_entropy' or 'marginal', not {tcfg.loss!r}")
    partial = tcfg.get("loss", "cross_entropy") == "marginal"
    decoding = tcfg.get("decoding") or cfg.model.get("decoding") or "viterbi"
    if decoding not in DECODERS:
        raise ValueError(f"training.decoding must be one of {DECODERS}, not {decoding!r}")
    resume = find_resume(tcfg.get("resume"), cfg.paths.runs_dir, cfg.run_name)
    run_dir = resume.run_dir if resume else Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    started = time.time()
    set_seed(cfg.seed)
    log_handler = None
    if resume and main:  # the resumed part of the log goes on in the run's own train.log
        log_handler = logging.FileHandler(run_dir / "train.log", encoding="utf-8")
        log_handler.setFormatter(logging.Formatter("[%(asctime)s][%(name)s][%(levelname)s] - %(message)s"))
        logging.getLogger().addHandler(log_handler)
        log.info("resuming %s from %s", run_dir, resume.checkpoint.name)
        changed = config_differences(run_dir / "config.yaml", cfg)
        if changed:
            log.warning("the resumed config differs from the run's config.yaml: %s", "; ".join(changed))

    try:
        data = load_run_data(cfg)
        splits, types = data.splits, data.types
        tags = bio_tags(types)
        label2id = {t: i for i, t in enumerate(tags)}
        normalizer = normalizer_from_config(cfg.model.normalization)

        if resume:  # the checkpoint holds the tokenizer and weights the run trained with
            tokenizer, model = load_pretrained(str(resume.checkpoint), tags)
        else:  # the small model learns its vocabulary from the normalised training text; a pretrained one has its own
            texts = [normalizer(d.text) for d in splits["train"]] if cfg.model.source == "small" else []
            shared = None
            if cfg.model.source == "small" and world_size() > 1:  # rank 0's vocabulary for every process
                shared = broadcast_object(train_wordpiece(texts, vocab_size=cfg.model.vocab_size,
                                                          min_frequency=cfg.model.get("min_frequency", 2))
                                          if main else None)
            tokenizer, model = build_model(cfg.model, tags, texts, tokenizer=shared)
        check_same_on_all_ranks(_vocabulary_hash(tokenizer), "the tokenizer's vocabulary")
        aligner = SubwordAligner(tokenizer, normalizer, cfg.model.max_length)
        train_ds = encode_documents(splits["train"], aligner, label2id, partial=partial)  # a list of features
        dev_sentences: list[int] = []
        dev_ds = encode_documents(splits["dev"], aligner, label2id, sentence_ids=dev_sentences)
        log.info("features: %d train, %d dev windows", len(train_ds), len(dev_ds))

        tracker = Tracker(cfg, run_dir, main_process=main, resuming=bool(resume))
        trainer = _token_loss_trainer()(
            model=model,
            args=training_arguments(tcfg, run_dir / CHECKPOINTS, cfg.seed, tracker.report_to, cfg.get("run_name")),
            train_dataset=train_ds,
            eval_dataset=dev_ds,
            data_collator=LabelMaskCollator(tokenizer, pad_to_multiple_of=8),
            processing_class=tokenizer,
            compute_metrics=strict_f1_metric(model.config.id2label, decoding, dev_sentences),
            callbacks=[EarlyStoppingCallback(early_stopping_patience=tcfg.early_stopping_patience)]
            if tcfg.get("select_best", True) and tcfg.eval_strategy != "no" else [],
        )
        tracker.attach(trainer)
        tracker.start()
        try:
            train_out = trainer.train(resume_from_checkpoint=str(resume.checkpoint) if resume else None)

            # The best checkpoint (by dev strict F1) is loaded at the end (the last one with select_best=false);
            # save it as the run's model.
            model_dir = run_dir / "model"
            save_model_atomically(trainer, tokenizer, model_dir, lambda d: save_ner_config(
                d, normalizer, cfg.model.max_length, cfg.model.overlap, entity_types=types,
                trained_on=cfg.data.get("name"), decoding=decoding))
            if not main:
                return {"results": None, "summary": None, "model_dir": model_dir, "run_dir": run_dir}

            results = score_run(cfg, run_dir, model_dir, data)
            summary = {
                "train_seconds": round(time.time() - started, 1),
                "train_loss": train_out.metrics.get("train_loss"),
                "global_step": train_out.global_step,
                "best_dev_f1_strict_during_training": trainer.state.best_metric,
                "decoding": decoding,
                "processes": trainer.args.world_size,
                "resumed_from": str(resume.checkpoint.relative_to(run_dir)) if resume else None,
                "log_history": trainer.state.log_history,
            }
            with atomic_write(run_dir / "train_summary.json") as f:
                f.write(json.dumps(summary, indent=2))
            tracker.finish(results, {"train_seconds": summary["train_seconds"], "train_loss": summary["train_loss"]})
        except BaseException:
            tracker.fail()
            raise
        # Checkpoints go last: a run killed while scoring can still be resumed (it then only saves and scores).
        if not tcfg.get("keep_checkpoints", False):
            shutil.rmtree(run_dir / CHECKPOINTS, ignore_errors=True)
        return {"results": results, "summary": summary, "model_dir": model_dir, "run_dir": run_dir}
    finally:
        if log_handler is not None:
            logging.getLogger().removeHandler(log_handler)
            log_handler.close()
