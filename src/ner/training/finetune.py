"""Fine-tuning with the HF ``Trainer``: features, seqeval-strict model selection, early stopping, run folder."""
from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path

import numpy as np

from ner.data.datasets import annotated_types, load_corpora, selection_corpus
from ner.data.labels import bio_tags
from ner.evaluation.report import ReportOptions, write_reports
from ner.evaluation.scoring import evaluate_predictor
from ner.models.alignment import IGNORE_INDEX, SubwordAligner
from ner.models.encoders import build_model, normalizer_from_config
from ner.models.losses import partial_label_nll
from ner.predictor import NerPredictor, save_ner_config
from ner.training.features import encode_documents

log = logging.getLogger(__name__)


def strict_f1_metric(id2label: dict[int, str]):
    """``compute_metrics`` for the Trainer: seqeval strict-IOB2 micro F1 on first subwords."""
    from seqeval.metrics import f1_score
    from seqeval.scheme import IOB2

    def compute(eval_pred) -> dict[str, float]:
        logits, labels = eval_pred.predictions, eval_pred.label_ids
        preds = np.argmax(logits, axis=-1)
        gold_seqs, pred_seqs = [], []
        for p_row, l_row in zip(preds, labels):
            keep = l_row != IGNORE_INDEX
            gold_seqs.append([id2label[int(i)] for i in l_row[keep]])
            pred_seqs.append([id2label[int(i)] for i in p_row[keep]])
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


def _partial_trainer():
    from transformers import Trainer

    class PartialLabelTrainer(Trainer):
        """Trainer whose loss is the marginal likelihood over allowed tags (``ner.models.losses``) when the batch
        carries a ``label_mask``; batches without one (dev) use the model's cross-entropy."""

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            mask = inputs.pop("label_mask", None)
            outputs = model(**inputs)
            loss = outputs.loss if mask is None else partial_label_nll(outputs.logits, mask)
            return (loss, outputs) if return_outputs else loss

    return PartialLabelTrainer


def training_arguments(tcfg, output_dir: Path, seed: int):
    from transformers import TrainingArguments

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
        save_only_model=True,
        use_cpu=tcfg.get("use_cpu", False),
        bf16=tcfg.get("bf16", False),
        # Speed options (configs/training/default.yaml); the defaults keep the behaviour from before they existed.
        optim=tcfg.get("optim", "adamw_torch"),
        torch_compile=tcfg.get("torch_compile", False),
        tf32=tcfg.get("tf32", None),
        dataloader_num_workers=tcfg.get("dataloader_num_workers", 0),
        report_to="none",
        disable_tqdm=not tcfg.get("progress", True),
        remove_unused_columns=False,  # keep label_mask for the partial-label loss; features hold nothing else
    )


def train(cfg, run_dir: str | Path) -> dict:
    """Train on ``cfg.data`` and fill ``run_dir``: ``model/`` (HF format), ``metrics.json``, ``report.txt``."""
    from transformers import EarlyStoppingCallback, Trainer, set_seed

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    started = time.time()
    set_seed(cfg.seed)

    # Data first: a broken file should fail before any model is built. A mixed config trains on every
    # component's train split and selects on one component's dev split (``select_on``).
    corpora = load_corpora(cfg.data)
    select = selection_corpus(cfg.data)
    splits = dict(corpora[select])
    splits["train"] = [d for c in corpora.values() for d in c["train"]]
    types = annotated_types(cfg.data)
    tags = bio_tags(types)
    label2id = {t: i for i, t in enumerate(tags)}
    normalizer = normalizer_from_config(cfg.model.normalization)

    # The small model learns its vocabulary from the normalised training text; a pretrained one brings its own.
    tokenizer, model = build_model(cfg.model, tags, (normalizer(d.text) for d in splits["train"]))
    aligner = SubwordAligner(tokenizer, normalizer, cfg.model.max_length)
    partial = cfg.training.get("loss", "cross_entropy") == "marginal"
    if cfg.training.get("loss", "cross_entropy") not in ("cross_entropy", "marginal"):
        raise ValueError(f"training.loss must be 'cross_entropy' or 'marginal', not {cfg.training.loss!r}")
    train_ds = encode_documents(splits["train"], aligner, label2id, partial=partial)  # a list of features
    dev_ds = encode_documents(splits["dev"], aligner, label2id)
    log.info("features: %d train, %d dev windows", len(train_ds), len(dev_ds))

    tcfg = cfg.training
    trainer_cls = _partial_trainer() if partial else Trainer
    trainer = trainer_cls(
        model=model,
        args=training_arguments(tcfg, run_dir / "checkpoints", cfg.seed),
        train_dataset=train_ds,
        eval_dataset=dev_ds,
        data_collator=LabelMaskCollator(tokenizer, pad_to_multiple_of=8),
        processing_class=tokenizer,
        compute_metrics=strict_f1_metric(model.config.id2label),
        callbacks=[EarlyStoppingCallback(early_stopping_patience=tcfg.early_stopping_patience)]
        if tcfg.get("select_best", True) and tcfg.eval_strategy != "no" else [],
    )
    train_out = trainer.train()

    # The best checkpoint (by dev strict F1) is loaded at the end (the last one with select_best=false);
    # save it as the run's model.
    model_dir = run_dir / "model"
    trainer.save_model(str(model_dir))
    tokenizer.save_pretrained(str(model_dir))
    save_ner_config(model_dir, normalizer, cfg.model.max_length, cfg.model.overlap, entity_types=types,
                    trained_on=cfg.data.get("name"))
    if not tcfg.get("keep_checkpoints", False):
        shutil.rmtree(run_dir / "checkpoints", ignore_errors=True)

    # Final scores come from the saved model through the predictor, exactly as scripts/evaluate.py computes them.
    predictor = NerPredictor.from_pretrained(model_dir)
    results, predictions = {}, {}
    for split in ("dev", "test"):
        if split in splits:
            results[split], pred_tags = evaluate_predictor(predictor, splits[split], types)
            predictions[split] = (splits[split], pred_tags)
    # Each other corpus of a mixed config is scored on the types it annotates only.
    for name, other in corpora.items():
        for split in ("dev", "test"):
            if name != select and split in other:
                scored = [t for t in other[split][0].meta["annotates"] if t in types] if other[split] else types
                results[f"{name}/{split}"], pred_tags = evaluate_predictor(predictor, other[split], scored)
                predictions[f"{name}/{split}"] = (other[split], pred_tags)
    write_reports(run_dir, results, predictions, ReportOptions.from_config(cfg, strict=False))
    summary = {
        "train_seconds": round(time.time() - started, 1),
        "train_loss": train_out.metrics.get("train_loss"),
        "global_step": train_out.global_step,
        "best_dev_f1_strict_during_training": trainer.state.best_metric,
        "log_history": trainer.state.log_history,
    }
    (run_dir / "train_summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return {"results": results, "summary": summary, "model_dir": model_dir}
