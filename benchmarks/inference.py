#!/usr/bin/env python
"""Inference throughput: ``NerPredictor`` against transformers' own token-classification pipeline (issue 13).

Both systems tag the same texts with the same model folder:
  predictor[<setting>]  ``NerPredictor.from_pretrained(MODEL, ...).predict(texts)``; a setting is
                        ``<backend>[-int8][-bs<N>]``: torch, torch-int8 (dynamic int8 Linear layers), onnx (ONNX
                        Runtime on the CPU with --threads intra-op threads, exported to MODEL/onnx/ on first use),
                        onnx-int8, torch-bs64, ...
  pipeline              ``transformers.pipeline("token-classification", aggregation_strategy="first",
                        stride=<the predictor's window overlap>, batch_size=32)`` with ``tokenizer.model_max_length``
                        set to the predictor's window, at most the model's position limit (without a limit the
                        pipeline fails on long texts; past the positions a model was trained on it loses F1)
Texts: our dev+test documents plus PEYMA dev sentences joined ten at a time (200 news-length texts; PEYMA is read
from the shared corpora folder, NER_SHARED_DIR or ../shared, and skipped with a note when absent). Each setting is
run once untimed (warm-up), then ``--repeats`` times, the systems taking turns; docs/s and characters/s are medians.
Every setting is also scored on our test split (seqeval strict IOB2 micro F1): the predictor through
``ner.evaluation.scoring.evaluate_predictor``, the pipeline by mapping its entities' character offsets onto our words.

    python benchmarks/inference.py --model runs/quickstart/<time>/model --parsbert-shaped --device cpu --threads 2 \
        --settings torch torch-int8 onnx onnx-int8
    python benchmarks/inference.py --model MODEL --parsbert-shaped --device cuda --out OUT/inference_gpu.json
    python benchmarks/inference.py --write-doc --from-json runs/benchmarks/inference.json OUT/inference_gpu.json
    python benchmarks/inference.py --model /tmp/smoke_run/model --parsbert-shaped --tiny --device cpu \
        --settings torch torch-int8 onnx onnx-int8  # rehearsal

``--parsbert-shaped`` adds a ParsBERT-base-shaped model (BERT 12 layers x 768, 12 heads, 3072 intermediate, 512
positions, random weights) with the given model's tokenizer, labels and ner_config.json; ``--tiny`` makes it 2 x 64,
times 10 texts once and scores the first 10 test documents (a rehearsal, e.g. of a GPU job, in seconds). Raw numbers
go to ``--out`` (JSON); ``--write-doc`` rewrites the whole inference section of docs/benchmarks.md from that file, or
from all the files given with ``--from-json`` (e.g. the CPU results and a GPU run made elsewhere): name every file
whose rows the section should keep.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = "benchmarks/inference.py"
sys.path.insert(0, str(ROOT / "src"))
if str(ROOT / "benchmarks") not in sys.path:
    sys.path.insert(0, str(ROOT / "benchmarks"))

import quality  # noqa: E402  (house helpers: compose for the data configs, write_doc for docs/benchmarks.md)

NUM_TEXTS = 200
PEYMA_GROUP = 10          # PEYMA dev sentences joined into one news-length text
TINY_TEXTS = 10
TINY_EVAL_DOCS = 10       # --tiny scores the first documents of the test split only
PIPELINE_BATCH = 32
WARMUP_TEXTS = 32         # the untimed warm-up call of each system tags the first texts
DEFAULT_OUT = ROOT / "runs" / "benchmarks" / "inference.json"
DOC_SECTION = "inference"
DOC_HEADING = f"## Inference throughput: predictor vs transformers pipeline (`{SCRIPT}`)"
PARSBERT_SHAPE = {"num_hidden_layers": 12, "hidden_size": 768, "num_attention_heads": 12, "intermediate_size": 3072,
                  "max_position_embeddings": 512}
TINY_SHAPE = {"num_hidden_layers": 2, "hidden_size": 64, "num_attention_heads": 2, "intermediate_size": 256,
              "max_position_embeddings": 512}
PARSBERT_SEED = 0
# RoBERTa-style models number positions from pad_token_id + 1: fewer usable positions than embeddings.
OFFSET_POSITIONS = {"roberta", "roberta-prelayernorm", "xlm-roberta", "camembert"}


# ---------------------------------------------------------------------------------------------------- texts

def data_config(name: str):
    os.environ.setdefault("PROJECT_ROOT", str(ROOT))
    return quality.compose([f"data={name}"]).data


def load_texts(tiny: bool = False, log=print) -> tuple[list[str], dict]:
    """The timed texts (deterministic): our dev+test documents, then PEYMA dev sentences ten at a time."""
    from ner.data.datasets import load_split

    ours_cfg = data_config("annotations")
    ours = [d.text for split in ("dev", "test") for d in load_split(ours_cfg, split)]
    peyma: list[str] = []
    note = None
    peyma_cfg = data_config("peyma")
    if Path(peyma_cfg.dev).exists():
        sents = [d.text for d in load_split(peyma_cfg, "dev")]
        need = max(0, NUM_TEXTS - len(ours))
        groups = [" ".join(sents[i:i + PEYMA_GROUP]) for i in range(0, len(sents) - PEYMA_GROUP + 1, PEYMA_GROUP)]
        peyma = groups[:need]
        if len(peyma) < need:
            note = f"PEYMA dev gives only {len(peyma)} groups of {PEYMA_GROUP} sentences; {need} were wanted"
    else:
        note = (f"PEYMA dev ({peyma_cfg.dev}) is absent: timing our {len(ours)} documents only "
                "(set NER_SHARED_DIR to the shared corpora folder)")
    if note:
        log(f"note: {note}")
    labelled = ([(t, "documents of our dev+test splits") for t in ours]
                + [(t, f"PEYMA dev texts of {PEYMA_GROUP} sentences") for t in peyma])[:NUM_TEXTS]
    info: dict = {}
    if tiny:  # evenly spaced, so that a rehearsal sees both sources
        step = max(1, len(labelled) // TINY_TEXTS)
        labelled = labelled[::step][:TINY_TEXTS]
        info["tiny"] = f"one text in {step} of the full set"
    texts = [t for t, _ in labelled]
    sources: dict = {}
    for _, src in labelled:
        sources[src] = sources.get(src, 0) + 1
    info.update(count=len(texts), characters=sum(len(t) for t in texts), sources=sources)
    if note:
        info["note"] = note
    return texts, info


def eval_documents(tiny: bool = False):
    """Our test split (its first documents with ``tiny``), the types it annotates and its path."""
    from ner.data.datasets import annotated_types, load_split

    cfg = data_config("annotations")
    docs = load_split(cfg, "test")
    return (docs[:TINY_EVAL_DOCS] if tiny else docs), annotated_types(cfg), shown_path(cfg.test)


# ---------------------------------------------------------------------------------------------------- models

def position_limit(config) -> int:
    """Tokens a model takes at once: its position embeddings (less RoBERTa's offset)."""
    n = int(config.max_position_embeddings)
    if config.model_type in OFFSET_POSITIONS:
        n -= int(config.pad_token_id) + 1
    return n


def build_parsbert_shaped(model_dir: Path, out_dir: Path, tiny: bool = False) -> dict:
    """A randomly initialised BERT of ParsBERT-base's shape with the given model's tokenizer, labels and
    ner_config.json, saved to ``out_dir`` so that both systems load it like any model folder."""
    import torch
    from transformers import AutoConfig, AutoTokenizer, BertConfig, BertForTokenClassification

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    given = AutoConfig.from_pretrained(str(model_dir))
    shape = TINY_SHAPE if tiny else PARSBERT_SHAPE
    config = BertConfig(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id,
                        id2label={int(k): v for k, v in given.id2label.items()}, label2id=dict(given.label2id),
                        **shape)
    torch.manual_seed(PARSBERT_SEED)
    model = BertForTokenClassification(config).eval()
    model.save_pretrained(str(out_dir))
    tokenizer.save_pretrained(str(out_dir))
    if (model_dir / "ner_config.json").exists():
        shutil.copy(model_dir / "ner_config.json", out_dir / "ner_config.json")
    return {**shape, "vocab_size": len(tokenizer), "seed": PARSBERT_SEED}


def model_name(model_dir: Path) -> str:
    """The run name of a run's ``model/`` folder (from the run's config.yaml), else the folder's name."""
    cfg = model_dir.parent / "config.yaml"
    if model_dir.name == "model" and cfg.exists():
        m = re.search(r"^run_name:\s*(\S+)", cfg.read_text(encoding="utf-8"), re.M)
        if m:
            return m.group(1).strip("'\"")
    return model_dir.parent.name if model_dir.name == "model" else model_dir.name


# ---------------------------------------------------------------------------------------------------- systems

def parse_setting(name: str) -> dict:
    """``NerPredictor.from_pretrained`` options of a setting: ``<backend>[-int8][-bs<N>]`` with backend ``torch``
    or ``onnx`` (ONNX Runtime, exported to ``<model>/onnx/`` on first use); ``int8`` is dynamic int8 quantisation
    (CPU only); ``bs<N>`` the batch size. E.g. torch, torch-bs64, torch-int8, onnx, onnx-int8."""
    parts = name.split("-")
    if parts[0] not in ("torch", "onnx"):
        raise ValueError(f"unknown predictor setting {name!r}: a setting is <backend>[-int8][-bs<N>] with backend "
                         "torch or onnx (e.g. torch, torch-bs64, torch-int8, onnx, onnx-int8)")
    opts: dict = {} if parts[0] == "torch" else {"backend": "onnx"}
    for p in parts[1:]:
        m = re.fullmatch(r"bs(\d+)", p)
        if p == "int8" and "quantize" not in opts:
            opts["quantize"] = True
        elif m and int(m.group(1)) >= 1 and "batch_size" not in opts:
            opts["batch_size"] = int(m.group(1))
        else:
            raise ValueError(f"unknown or repeated option {p!r} in predictor setting {name!r} (known: int8, bs<N>)")
    return opts


def cpu_only(setting: str) -> bool:
    """ONNX Runtime runs here with its CPU provider, and PyTorch's dynamic int8 kernels are CPU kernels."""
    opts = parse_setting(setting)
    return opts.get("backend") == "onnx" or opts.get("quantize", False)


def pipeline_tags(entities, words) -> list[str]:
    """Word-level IOB2 tags from pipeline entities (character offsets): the words an entity overlaps, the first
    ``B-``, the rest ``I-``; a word already taken by an earlier entity stays with it."""
    starts = [w.start for w in words]
    ends = [w.end for w in words]
    tags = ["O"] * len(words)
    for e in sorted(entities, key=lambda e: (e["start"], e["end"])):
        first, last = bisect_right(ends, e["start"]), bisect_left(starts, e["end"])
        idx = [i for i in range(first, last) if tags[i] == "O"]
        for k, i in enumerate(idx):
            tags[i] = ("B-" if k == 0 else "I-") + e["entity_group"]
    return tags


def _f1(strict: dict) -> dict:
    m = strict["micro"]
    return {"precision": m["precision"], "recall": m["recall"], "f1": m["f1"], "support": m["support"]}


@dataclass
class System:
    name: str
    kind: str                       # predictor | pipeline
    tag: object                     # texts -> outputs
    setting: str | None = None
    options: dict = field(default_factory=dict)
    seconds: list = field(default_factory=list)
    f1: dict | None = None


def predictor_system(model_dir: Path, setting: str, device: str, threads: int | None = None) -> tuple[System, object]:
    """The predictor of one setting; an ONNX session gets ``threads`` intra-op threads (torch's are set globally),
    so that both backends use the same cores."""
    from ner import NerPredictor

    opts = parse_setting(setting)
    extra = {"num_threads": threads} if opts.get("backend") == "onnx" and threads else {}
    predictor = NerPredictor.from_pretrained(model_dir, device=device, **opts, **extra)
    shown = {"batch_size": predictor.batch_size, "max_length": predictor.aligner.max_length,
             "overlap": predictor.overlap, "decoding": predictor.decoding, **opts, **extra}
    return System(f"predictor[{setting}]", "predictor", predictor.predict, setting, shown), predictor


def pipeline_system(model_dir: Path, device: str, stride: int, window: int) -> tuple[System, object]:
    """The pipeline reads windows of the predictor's length (at most the model's position limit): like with like,
    and no position a model was never trained on (the news encoder saw 128-token rows only)."""
    from transformers import AutoModelForTokenClassification, AutoTokenizer, pipeline

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModelForTokenClassification.from_pretrained(str(model_dir))
    tokenizer.model_max_length = min(window, position_limit(model.config))
    pipe = pipeline("token-classification", model=model, tokenizer=tokenizer, aggregation_strategy="first",
                    stride=stride, batch_size=PIPELINE_BATCH, device=device)
    opts = {"aggregation_strategy": "first", "stride": stride, "batch_size": PIPELINE_BATCH,
            "model_max_length": tokenizer.model_max_length}
    return System("pipeline", "pipeline", pipe, None, opts), pipe


def score_system(system: System, handle, docs, types) -> dict:
    from ner.evaluation.scoring import evaluate_predictor, gold_tags, score

    if system.kind == "predictor":
        scores, _ = evaluate_predictor(handle, docs, types, progress=False)
    else:
        out = handle([d.text for d in docs])
        pred = [pipeline_tags(ents, d.get_words()) for ents, d in zip(out, docs)]
        scores = score(gold_tags(docs), pred, types)
    return _f1(scores["strict"])


# ---------------------------------------------------------------------------------------------------- timing

def timed(fn, texts, cuda: bool) -> float:
    import torch

    if cuda:
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    fn(texts)
    if cuda:
        torch.cuda.synchronize()
    return time.perf_counter() - t0


def bench_model(name: str, kind: str, model_dir: Path, texts, docs, types, *, device: str, settings, repeats: int,
                log=print, extra: dict | None = None, threads: int | None = None) -> dict:
    """One model: the pipeline and each predictor setting, scored, warmed up, then timed in turns."""
    import torch
    from transformers import AutoConfig

    cuda = device.startswith("cuda")
    config = AutoConfig.from_pretrained(str(model_dir))
    systems, handles = [], []
    for setting in settings:
        s, h = predictor_system(model_dir, setting, device, threads)
        systems.append(s)
        handles.append(h)
    stride = systems[0].options["overlap"]
    s, h = pipeline_system(model_dir, device, stride, systems[0].options["max_length"])
    systems.insert(0, s)
    handles.insert(0, h)
    params = sum(p.numel() for p in handles[0].model.parameters())
    log(f"[{name}] {config.num_hidden_layers} layers x {config.hidden_size}, {params:,} parameters, device {device}")
    for s, h in zip(systems, handles):
        s.f1 = score_system(s, h, docs, types)
        timed(s.tag, texts[:WARMUP_TEXTS], cuda)  # warm-up
        log(f"[{name}] {s.name}: test strict micro F1 {s.f1['f1']:.4f} (warm-up done)")
    for r in range(repeats):
        for s in systems:
            s.seconds.append(timed(s.tag, texts, cuda))
        log(f"[{name}] repeat {r + 1}/{repeats}: " + ", ".join(f"{s.name} {s.seconds[-1]:.2f} s" for s in systems))
    chars = sum(len(t) for t in texts)
    rows = []
    for s in systems:
        med = statistics.median(s.seconds)
        rows.append({"name": s.name, "kind": s.kind, "setting": s.setting, "options": s.options,
                     "seconds": [round(x, 4) for x in s.seconds], "median_seconds": round(med, 4),
                     "docs_per_s": len(texts) / med, "chars_per_s": chars / med, "test_f1": s.f1})
    base = rows[0]["docs_per_s"]
    for row in rows:
        row["ratio_to_pipeline"] = row["docs_per_s"] / base
    del systems, handles
    gc.collect()
    if cuda:
        torch.cuda.empty_cache()
    return {"name": name, "kind": kind, "layers": config.num_hidden_layers, "hidden": config.hidden_size,
            "parameters": params, "position_limit": position_limit(config), **(extra or {}), "systems": rows}


def environment(device: str) -> dict:
    import torch
    import transformers

    if device.startswith("cuda"):
        name = torch.cuda.get_device_name(torch.device(device))
    else:
        name = platform.processor() or platform.machine()
        try:
            name = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo", encoding="utf-8")
                        if line.startswith("model name"))
        except (OSError, StopIteration):
            pass
    return {"device": device, "device_name": name, "torch": torch.__version__,
            "transformers": transformers.__version__, "python": platform.python_version(),
            "torch_threads": torch.get_num_threads(), "cpu_count": os.cpu_count(),
            "cuda": torch.version.cuda if device.startswith("cuda") else None}


def shown_path(path: str | Path) -> str:
    p = Path(path).resolve()
    try:
        return str(p.relative_to(ROOT))
    except ValueError:
        return str(path)


def run_benchmark(model: str | Path, *, parsbert_shaped: bool = False, parsbert_shaped_only: bool = False,
                  device: str | None = None, threads: int | None = None, repeats: int = 3,
                  settings=("torch",), tiny: bool = False, log=print) -> dict:
    import torch
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    warnings.filterwarnings("ignore", message=".*pin_memory.*no accelerator is found")  # the pipeline's DataLoader
    model_dir = Path(model)
    if not (model_dir / "config.json").exists():
        raise FileNotFoundError(f"--model {model}: no config.json there; give a run's model/ folder")
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError("--device cuda but torch sees no GPU")
    if threads is None and device == "cpu":
        threads = 2
    for s in settings:
        if cpu_only(s) and device != "cpu":  # parse_setting also fails here, before any work, on a bad name
            raise ValueError(f"setting {s!r} runs on the CPU only; use --device cpu")
    if tiny:
        repeats = 1
    args = {"model": shown_path(model_dir), "parsbert_shaped": parsbert_shaped or parsbert_shaped_only,
            "parsbert_shaped_only": parsbert_shaped_only, "device": device, "threads": threads, "repeats": repeats,
            "settings": list(settings), "tiny": tiny}
    old_threads = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        texts, text_info = load_texts(tiny, log)
        docs, types, test_path = eval_documents(tiny)
        types = [t for t in types if f"B-{t}" in json.loads((model_dir / "config.json").read_text())["label2id"]]
        log(f"{len(texts)} texts, {text_info['characters']:,} characters; F1 on {test_path} "
            f"({len(docs)} documents, types {', '.join(types)})")
        result = {"benchmark": "inference", "script": SCRIPT, "created": time.strftime("%Y-%m-%d %H:%M:%S"),
                  "args": args, "environment": environment(device), "texts": text_info,
                  "evaluation": {"split": test_path, "documents": len(docs), "types": types,
                                 "metric": "seqeval strict IOB2 micro F1",
                                 **({"tiny": f"first {len(docs)} documents only"} if tiny else {})},
                  "warmup_texts": min(WARMUP_TEXTS, len(texts)), "models": []}
        common = dict(device=device, settings=settings, repeats=repeats, log=log, threads=threads)
        if not parsbert_shaped_only:
            result["models"].append(bench_model(model_name(model_dir), "given", model_dir, texts, docs, types,
                                                extra={"path": args["model"]}, **common))
        if parsbert_shaped or parsbert_shaped_only:
            with tempfile.TemporaryDirectory(prefix="parsbert_shaped_") as tmp:
                shape = build_parsbert_shaped(model_dir, Path(tmp), tiny)
                label = (f"parsbert-shaped {shape['num_hidden_layers']}x{shape['hidden_size']} (random, "
                         f"tokenizer of {model_name(model_dir)})")
                result["models"].append(bench_model(label, "parsbert-shaped", Path(tmp), texts, docs, types,
                                                    extra={"shape": shape}, **common))
    finally:
        torch.set_num_threads(old_threads)
    return result


# ---------------------------------------------------------------------------------------------------- reporting

def row_command(run: dict, model: dict, system: dict) -> str:
    a = run["args"]
    parts = ["python", SCRIPT, "--model", a["model"]]
    if model["kind"] == "parsbert-shaped":
        parts.append("--parsbert-shaped-only")
    parts += ["--device", a["device"]]
    if a.get("threads"):
        parts += ["--threads", str(a["threads"])]
    if a.get("tiny"):
        parts.append("--tiny")
    else:
        parts += ["--repeats", str(a["repeats"])]
    parts += ["--settings", *([system["setting"]] if system["setting"] else a["settings"])]
    return "`" + shlex.join(parts) + "`"


def run_note(run: dict) -> str:
    env, t, ev = run["environment"], run["texts"], run["evaluation"]
    threads = f"{env['torch_threads']} torch thread(s)"
    srcs = ", ".join(f"{n} {k}" for k, n in t["sources"].items() if n)
    lines = [f"- **{env['device']}** ({env['device_name']}; {threads}; torch {env['torch']}, transformers "
             f"{env['transformers']}, Python {env['python']}; {run['created']}): {t['count']} texts, "
             f"{t['characters']:,} characters ({srcs}{'; ' + t['tiny'] if t.get('tiny') else ''}); median of "
             f"{run['args']['repeats']} timed pass(es) after a warm-up on the first {run['warmup_texts']} texts; "
             f"F1 on `{ev['split']}` ({ev['documents']} documents{', tiny' if ev.get('tiny') else ''}: "
             f"{', '.join(ev['types'])})."
             + (f" Note: {t['note']}." if t.get("note") else "")]
    for m in run["models"]:
        pipe = next(s for s in m["systems"] if s["kind"] == "pipeline")["options"]
        pred = next(s for s in m["systems"] if s["kind"] == "predictor")["options"]
        lines.append(f"  - {m['name']}: {m['layers']} x {m['hidden']}, {m['parameters']:,} parameters; predictor "
                     f"windows of {pred['max_length']} subwords, overlap {pred['overlap']}; pipeline "
                     f"model_max_length {pipe['model_max_length']}, stride {pipe['stride']}.")
    return "\n".join(lines)


def markdown_table(runs: list[dict], commands: bool = True) -> str:
    head = "| device | model | system | docs/s | characters/s | vs pipeline | strict F1 (our test) |"
    sep = "|---|---|---|---|---|---|---|"
    if commands:
        head, sep = head + " command |", sep + "---|"
    lines = [head, sep]
    for run in runs:
        for m in run["models"]:
            for s in m["systems"]:
                row = (f"| {run['environment']['device']} | {m['name']} | {s['name']} | {s['docs_per_s']:.2f} | "
                       f"{s['chars_per_s']:,.0f} | {s['ratio_to_pipeline']:.2f}x | {s['test_f1']['f1']:.3f} |")
                lines.append(row + (f" {row_command(run, m, s)} |" if commands else ""))
    return "\n".join(lines) + "\n"


def doc_block(runs: list[dict]) -> str:
    intro = (f"`NerPredictor.predict(texts)` against `transformers.pipeline(\"token-classification\", "
             f"aggregation_strategy=\"first\", stride=<the predictor's overlap>, batch_size={PIPELINE_BATCH})` with "
             "`tokenizer.model_max_length` set to the predictor's window (at most the model's position limit), so both "
             "read the same windows; rows whose pipeline `model_max_length` (below) is larger were measured when it was "
             "the position limit, which has the pipeline read positions a model pretrained on 128-token rows never "
             "saw and costs it F1. The pipeline gets the raw text, the predictor normalises it as in training "
             "(`ner_config.json`). Same model folder, same texts (our dev+test documents and PEYMA dev sentences "
             f"joined {PEYMA_GROUP} at a time). docs/s and characters/s "
             "are medians over the timed passes; `vs pipeline` is docs/s over the pipeline's on the same model. F1 "
             "is seqeval strict IOB2 micro F1 on our test split: the predictor through "
             "`ner.evaluation.scoring.evaluate_predictor`, the pipeline's entities mapped by character offsets onto our "
             "words. The ParsBERT-shaped model has random weights: its F1 means nothing. Predictor settings: "
             "`torch` is the default path; `onnx` runs the same pre- and post-processing on ONNX Runtime (CPU, "
             "as many intra-op threads as torch); `-int8` is dynamic int8 quantisation (torch: `nn.Linear` layers "
             "through `torch.ao`; onnx: `onnxruntime.quantization.quantize_dynamic`).")
    return intro + "\n\n" + "\n".join(run_note(r) for r in runs) + "\n\n" + markdown_table(runs).rstrip("\n")


def write_doc(runs: list[dict]) -> Path:
    """Rewrite the inference section of docs/benchmarks.md through quality.write_doc (its results table stays
    empty; this block is the section's note). Without the markers, a heading and the section go at the end."""
    doc = quality.ROOT / "docs" / "benchmarks.md"
    quality.write_doc({}, doc_block(runs), section=DOC_SECTION, script=SCRIPT, heading=DOC_HEADING)
    return doc


def load_runs(paths) -> list[dict]:
    runs = []
    for p in paths:
        run = json.loads(Path(p).read_text(encoding="utf-8"))
        if run.get("benchmark") != "inference":
            raise ValueError(f"{p}: not a result of {SCRIPT}")
        runs.append(run)
    return runs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", help="a trained model folder (a run's model/); its tokenizer and labels also make "
                    "the ParsBERT-shaped model")
    ap.add_argument("--parsbert-shaped", action="store_true", help="also time a ParsBERT-base-shaped random model")
    ap.add_argument("--parsbert-shaped-only", action="store_true", help="time only the ParsBERT-shaped model")
    ap.add_argument("--device", choices=["cpu", "cuda"], default=None, help="default: cuda when available")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default 2 on CPU; untouched on GPU)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--settings", nargs="+", default=["torch"],
                    help="predictor settings <backend>[-int8][-bs<N>]: torch, torch-bs64, torch-int8, onnx, onnx-int8")
    ap.add_argument("--tiny", action="store_true", help=f"{TINY_TEXTS} texts, 1 repeat, a 2 x 64 ParsBERT-shaped model")
    ap.add_argument("--out", default=str(DEFAULT_OUT), help="raw numbers (JSON)")
    ap.add_argument("--write-doc", action="store_true", help="rewrite the inference section of docs/benchmarks.md")
    ap.add_argument("--from-json", nargs="+", metavar="FILE", help="render these results instead of running")
    args = ap.parse_args(argv)
    if args.repeats < 1:
        ap.error("--repeats must be at least 1")
    for setting in args.settings:
        try:
            if cpu_only(setting) and args.device == "cuda":
                ap.error(f"setting {setting!r} runs on the CPU only; use --device cpu")
        except ValueError as e:
            ap.error(str(e))
    if args.from_json:
        runs = load_runs(args.from_json)
    else:
        if not args.model:
            ap.error("--model is required unless --from-json is given")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        run = run_benchmark(args.model, parsbert_shaped=args.parsbert_shaped,
                            parsbert_shaped_only=args.parsbert_shaped_only, device=args.device,
                            threads=args.threads, repeats=args.repeats, settings=args.settings, tiny=args.tiny)
        run["command"] = shlex.join(["python", SCRIPT, *(sys.argv[1:] if argv is None else argv)])
        from ner.data.io.common import atomic_write

        with atomic_write(args.out) as f:
            json.dump(run, f, ensure_ascii=False, indent=2)
        print(f"raw numbers: {args.out}")
        runs = [run]
    print(markdown_table(runs, commands=False))
    if args.write_doc:
        print(f"wrote the {DOC_SECTION} section of {write_doc(runs)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
