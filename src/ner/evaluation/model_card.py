"""A model card (``README.md`` with Hugging Face's YAML front matter) for a saved model folder.

Written by ``ner.training.finetune`` right after a run's metrics exist, so every run's ``model/`` says what it is:
labels, training data and sizes, strict seqeval scores with their bootstrap intervals (from ``metrics.json``),
the normalisation and windowing the predictor replays (``ner_config.json``), how to use it, and its limits.
``scripts/evaluate.py`` writes the same card for the data it scored into its report folder.
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml

from ner.data.io.common import atomic_write

CARD = "README.md"
NER_CONFIG = "ner_config.json"  # written by ner.predictor.save_ner_config (same layer: not imported)
# Public corpora whose licences restrict what a model trained on them may be used for.
CORPUS_NOTES = {
    "annotations": "our own news corpus (`data/annotations/`): written and annotated by the team, CC BY 4.0",
    "peyma": "PEYMA (Shahshahani et al.): distributed for research use; check its licence before any other use",
    "arman": "ARMAN (Poostchi et al.): distributed for research use; check its licence before any other use",
    "parstwiner": "ParsTwiNER (Aghajani et al., Persian tweets): research use; check its licence",
    "fixtures": "the repository's test fixtures (a few documents: a smoke test, not a usable model)",
}
RESEARCH_ONLY = {"peyma": "PEYMA", "arman": "ARMAN", "parstwiner": "ParsTwiNER"}
TYPE_NOTES = {"ORG": "organisations, companies, ministries, news agencies, governments", "PER": "people",
              "LOC": "provinces, cities, countries, regions", "MONEY": "an amount with its currency",
              "CLUSTER": "a named industrial cluster (an industry's firms in one province)"}


def _get(cfg, *keys, default=None):
    """``cfg[k1][k2]...`` for dicts and OmegaConf configs alike; ``default`` when a key is missing."""
    for k in keys:
        if cfg is None:
            return default
        try:
            cfg = cfg.get(k) if hasattr(cfg, "get") else None
        except Exception:  # an OmegaConf interpolation that cannot resolve here
            return default
    return default if cfg is None else cfg


def _corpora(run) -> list[str]:
    components = _get(run, "data", "components")
    if components:
        return [k for k in components if components[k] is not None]
    name = _get(run, "data", "name")
    return [name] if name else []


def _fmt(x) -> str:
    return "–" if x is None else f"{x:.3f}"


def _ci(block: Mapping | None) -> str:
    if not block or block.get("low") is None:
        return "–"
    return f"[{block['low']:.3f}, {block['high']:.3f}]"


def _scores_table(metrics: Mapping) -> list[str]:
    rows = ["| evaluation set | documents | strict micro P | R | F1 | F1 95% CI |", "|---|---|---|---|---|---|"]
    for split, m in metrics.items():
        micro = _get(m, "strict", "micro") or {}
        boot = m.get("bootstrap") or {}
        rows.append(f"| {split} | {boot.get('documents', '–')} | {_fmt(micro.get('precision'))} | "
                    f"{_fmt(micro.get('recall'))} | {_fmt(micro.get('f1'))} | {_ci(_get(boot, 'micro', 'f1'))} |")
    return rows


def _per_type_table(metrics: Mapping, split: str) -> list[str]:
    m = metrics[split]
    per_type = _get(m, "strict", "per_type") or {}
    boot = _get(m, "bootstrap", "per_type") or {}
    rows = ["| type | support | P | R | F1 | F1 95% CI |", "|---|---|---|---|---|---|"]
    for t in m.get("types_scored", per_type):
        s = per_type.get(t, {})
        rows.append(f"| {t} | {s.get('support', '–')} | {_fmt(s.get('precision'))} | {_fmt(s.get('recall'))} | "
                    f"{_fmt(s.get('f1'))} | {_ci(_get(boot, t, 'f1'))} |")
    return rows


def _front_matter(name: str, labels: Sequence[str], corpora: Sequence[str], metrics: Mapping) -> str:
    results = []
    for split in ("test", "dev"):
        micro = _get(metrics, split, "strict", "micro")
        if micro:
            results.append({
                "task": {"type": "token-classification", "name": "Named entity recognition"},
                "dataset": {"name": "+".join(corpora) or "unknown", "type": "+".join(corpora) or "unknown",
                            "split": split},
                "metrics": [{"type": k, "value": round(float(micro[k]), 4),
                             "name": f"strict micro {k} (seqeval, IOB2)"} for k in ("precision", "recall", "f1")]})
    meta = {"language": ["fa"], "library_name": "transformers", "pipeline_tag": "token-classification",
            "tags": ["token-classification", "ner", "persian", "news", *sorted({lab.split("-")[-1] for lab in labels
                                                                              if lab != "O"})],
            "metrics": ["seqeval"], "model-index": [{"name": name, "results": results}]}
    return "---\n" + yaml.safe_dump(meta, allow_unicode=True, sort_keys=False) + "---\n"


def render_model_card(model_dir: str | Path, metrics: Mapping, run: Mapping | None = None,
                      splits: Mapping[str, Sequence] | None = None, name: str | None = None,
                      evaluated_on: str | None = None) -> str:
    """The card's text. ``metrics``: the content of ``metrics.json``; ``run``: the run's config (data, model,
    training, seed); ``splits``: the documents per split (``Document``s), for the data sizes; ``evaluated_on``:
    the data config of ``metrics`` when it is not the training data (``scripts/evaluate.py``)."""
    model_dir = Path(model_dir)
    ner_cfg = json.loads((model_dir / NER_CONFIG).read_text(encoding="utf-8")) if (model_dir / NER_CONFIG).exists() \
        else {}
    hf_cfg = json.loads((model_dir / "config.json").read_text(encoding="utf-8")) \
        if (model_dir / "config.json").exists() else {}
    id2label = hf_cfg.get("id2label") or {}
    labels = [id2label[k] for k in sorted(id2label, key=int)] if id2label else \
        ["O"] + [f"{p}-{t}" for t in ner_cfg.get("entity_types", []) for p in "BI"]
    types = [lab[2:] for lab in labels if lab.startswith("B-")]
    corpora = _corpora(run) or [c for c in [ner_cfg.get("trained_on")] if c]
    name = name or _get(run, "run_name") or model_dir.parent.parent.name or model_dir.name
    if ner_cfg.get("model_type") == "crf" or not hf_cfg:
        what = "A linear-chain CRF (sklearn-crfsuite) on word, affix and shape features, trained"
    else:
        if _get(run, "model", "source") == "small":
            base = "a small BERT built locally (vocabulary and weights trained from scratch)"
        else:
            base = f"`{_get(run, 'model', 'name_or_path') or _get(run, 'model', 'name') or '?'}`"
        what = (f"A token classifier ({hf_cfg.get('model_type', '?')}, {hf_cfg.get('num_hidden_layers', '?')} "
                f"layer(s) x {hf_cfg.get('hidden_size', '?')}; from {base}) fine-tuned")
    lines = [_front_matter(name, labels, corpora, metrics),
             f"# {name}: Persian news named-entity recognition ({', '.join(types)})", "",
             f"{what} by this repository's `scripts/train.py` to tag Persian news with character offsets into the "
             "caller's text.", "",
             "## Labels", "", "| type | what |", "|---|---|"]
    lines += [f"| {t} | {TYPE_NOTES.get(t, '')} |" for t in types]
    lines += ["", f"Tags: IOB2 ({', '.join(labels)}); decoding `{ner_cfg.get('decoding', 'viterbi')}` "
              "(Viterbi: the best valid IOB2 sequence per sentence, never an `I-` fragment).", "",
              "## Training data", ""]
    lines += [f"- {CORPUS_NOTES.get(c, c)}" for c in corpora] or ["- not recorded"]
    if splits:
        lines += ["", "| split | documents | entities |", "|---|---|---|"]
        lines += [f"| {s} | {len(docs)} | {sum(len(getattr(d, 'spans', ())) for d in docs)} |"
                  for s, docs in splits.items()]
    training = {k: _get(run, "training", k) for k in ("epochs", "learning_rate", "batch_size", "loss")}
    if any(v is not None for v in training.values()):
        lines += ["", "Training: " + ", ".join(f"{k} {v}" for k, v in training.items() if v is not None)
                  + (f", seed {_get(run, 'seed')}" if _get(run, "seed") is not None else "")
                  + "; the checkpoint with the best dev strict F1 is kept."]
    if metrics:
        boot = next((m.get("bootstrap") for m in metrics.values() if m.get("bootstrap")), {}) or {}
        lines += ["", "## Evaluation", ""]
        if evaluated_on:
            lines += [f"On the data config `{evaluated_on}` (`scripts/evaluate.py`).", ""]
        lines += ["seqeval **strict** mode (IOB2: an entity counts only with exact boundaries and type), micro "
                  f"averages over the types each set annotates; {int(boot.get('confidence', 0.95) * 100)}% "
                  f"intervals: {boot.get('method', 'percentile bootstrap over documents')} "
                  f"({boot.get('samples', '?')} samples).", ""]
        lines += _scores_table(metrics)
        main = "test" if "test" in metrics else next(iter(metrics))
        lines += ["", f"Per type on `{main}`:", ""] + _per_type_table(metrics, main)
    norm = ner_cfg.get("normalization") or {}
    lines += ["", "## Normalisation and windows", "",
              "Every word is normalised on its own before the tokenizer sees it, the same way at training and "
              "prediction (`ner_config.json`); offsets always refer to the original text.", "",
              "| setting | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in norm.items()]
    lines += [f"| max_length (subwords per window) | {ner_cfg.get('max_length', '?')} |",
              f"| overlap (subwords shared by windows) | {ner_cfg.get('overlap', '?')} |"]
    lines += ["", "## How to use", "", "```python", "from ner import NerPredictor", "",
              'predictor = NerPredictor.from_pretrained("path/to/this/folder")   # backend="onnx", quantize=True',
              "entities = predictor(text)   # a Persian news text -> [Entity(start, end, label, text, score)]",
              "```", "",
              "Whole files (resumable; Label Studio, doccano or CoNLL output): `python scripts/predict.py "
              "model_path=<this folder> input=news.jsonl output=tags.jsonl format=doccano`. The folder also loads in "
              '`transformers.pipeline("token-classification", model=<this folder>)`, which does not replay the '
              "normalisation or the constrained decoding.", "",
              "## Intended use", "",
              "Tagging Persian news text (organisations, people, places, amounts of money, industrial clusters) "
              "for search, analytics and pre-annotation to be corrected by people.", "",
              "## Limitations", ""]
    limits = ["Trained and evaluated on news: other registers (social media, colloquial or transliterated "
              "Persian, OCR output) will score lower.",
              "Scores are on held-out documents of the same corpora, with the intervals above; expect lower "
              "numbers on other sources."]
    if "annotations" in corpora:
        limits.append("Our own corpus is written by the team in the style of provincial economic news: it is small "
                      "and its topics and names are narrower than real archives; entities unlike its examples are "
                      "missed.")
    restricted = [RESEARCH_ONLY[c] for c in corpora if c in RESEARCH_ONLY]
    if restricted:
        limits.append(f"Part of the training data ({', '.join(restricted)}) is licensed for research use only: so "
                      "is, prudently, this model.")
    if _get(run, "model", "source") == "small" or "fixtures" in corpora:
        limits.append("The encoder is the small local BERT trained from scratch (not pretrained): a baseline, "
                      "not a production model.")
    lines += [f"- {x}" for x in limits]
    return "\n".join(lines) + "\n"


def write_model_card(model_dir: str | Path, metrics: Mapping, run: Mapping | None = None,
                     splits: Mapping[str, Sequence] | None = None, path: str | Path | None = None,
                     evaluated_on: str | None = None) -> Path:
    """Render the card and write it (atomically) to ``path``, by default ``<model_dir>/README.md``."""
    out = Path(path) if path else Path(model_dir, CARD)
    text = render_model_card(model_dir, metrics, run, splits, evaluated_on=evaluated_on)
    with atomic_write(out) as f:
        f.write(text)
    return out
