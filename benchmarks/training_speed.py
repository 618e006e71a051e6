#!/usr/bin/env python
"""Training throughput: our fine-tuning loop against the settings of transformers' ``run_ner.py`` example defaults.

Both systems are the project's own ``ner.training.finetune.train`` (what ``scripts/train.py`` runs) on the same model, data
(data/annotations train, scored on dev), epochs, learning rate and seed; only the loop settings differ:

  run_ner   run_ner.py's defaults, reproduced by config overrides: fp32, per_device_train_batch_size 8, random
            order (no length grouping), AdamW (torch), linear schedule, no warm-up, weight decay 0, logging every
            500 steps, no torch.compile, TF32 left at PyTorch's default.
  ours      the project's recipe (experiment=scratch_small: batch 16, length-grouped batches, warm-up 0.06, weight
            decay 0.01). CPU: bf16 autocast where a short probe on this CPU says it is faster (--cpu-bf16 auto).
            GPU: bf16 autocast, fused AdamW, TF32 for the matmuls left in fp32.
  ours-compile   ``ours`` plus torch.compile (GPU: compilation time counts in the training time).

Every run trains the fixed number of epochs and keeps the last model (training.select_best=false,
training.eval_strategy=no), like run_ner with --do_train --do_eval; dev strict F1 comes from the run's metrics.json.
Models: ``small`` (configs/model/small.yaml, 4x256, lr 1e-3) and ``parsbert-shaped`` (the same recipe at 12x768,
12 heads, 3072 intermediate, random init, lr 1e-4). Each run is a fresh process with its own run folder under
runs/benchmarks/training_speed/ (runs go one after another, never side by side).

    python benchmarks/training_speed.py --device cpu --seeds 1 2 3                 # CPU (hours on 2 cores)
    python benchmarks/training_speed.py --device cpu --seeds 1 2 3 --threads 1     # ... on a machine shared with others
    python benchmarks/training_speed.py --device cuda --models small parsbert-shaped --epochs 3 --out FILE
    python benchmarks/training_speed.py --tiny --threads 1                          # rehearsal, < 1 min on CPU
    python benchmarks/training_speed.py --write-doc --from-json runs/benchmarks/training_speed.json FILE2 ...

Measurement: the run's process holds an instrumented ``transformers.Trainer`` (a subclass put in its place before
``train()`` runs; the training code is unchanged) that counts, for every training step, the batch's padded tokens
(input_ids elements), real tokens (attention_mask sum, accumulated on the device: no extra synchronisation) and
samples, and records the resolved TrainingArguments. Training time is the Trainer's own ``train_runtime`` (the
whole training loop: no evaluation or checkpoint saving happens inside it here). tokens/s = real (non-pad)
subword tokens, [CLS]/[SEP] included, processed in training / training time; the worker checks that this count
equals the training features' lengths x epochs.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import quality  # noqa: E402  (shared helpers: compose, fmt, write_doc)

ROOT = quality.ROOT
SCRIPT = "benchmarks/training_speed.py"
SECTION = "training_speed"

MODELS = {
    "small": {"overrides": ["experiment=scratch_small"], "learning_rate": "1e-3"},
    "parsbert-shaped": {"overrides": ["experiment=scratch_small", "model.hidden_size=768", "model.num_layers=12",
                                      "model.num_heads=12", "model.intermediate_size=3072"],
                        "learning_rate": "1e-4"},
}
# --tiny: the fixtures and two tiny shapes, to rehearse every code path (also the GPU job's) in seconds on a CPU.
TINY_MODELS = {
    "small": {"overrides": ["experiment=smoke"], "learning_rate": "5e-3"},
    "parsbert-shaped": {"overrides": ["experiment=smoke", "model.hidden_size=48", "model.num_layers=2",
                                      "model.num_heads=4", "model.intermediate_size=96"], "learning_rate": "5e-3"},
}
DEFAULT_EPOCHS = {"small": 30, "parsbert-shaped": 3}  # small: the quick start's 30; 12x768: ~6 min/epoch on 2 cores
# Every run: fixed epochs, last model kept, no evaluation or checkpoints inside the training loop.
COMMON = ["training.select_best=false", "training.eval_strategy=no", "training.progress=false"]
RUN_NER = ["training.batch_size=8", "training.group_by_length=false", "training.bf16=false",
           "training.warmup_ratio=0", "training.weight_decay=0", "training.optim=adamw_torch",
           "training.torch_compile=false", "training.tf32=null", "training.dataloader_num_workers=0",
           "training.logging_steps=500"]
OURS_GPU = ["training.bf16=true", "training.optim=adamw_torch_fused", "training.tf32=true",
            "training.group_by_length=true", "training.batch_size=16", "training.dataloader_num_workers=0"]
SYSTEMS = ("run_ner", "ours", "ours-compile")  # the baseline first in the table
# Peak dense bf16 tensor-core FLOP/s (no sparsity), by a substring of torch.cuda.get_device_name().
PEAK_BF16 = {"H200": 989e12, "H100": 989e12, "A100": 312e12}


# ----------------------------------------------------------------------------------------------- the worker
def instrument(record: dict) -> None:
    """Put a counting subclass in place of ``transformers.Trainer`` (``train()`` imports it at call time)."""
    import torch
    from transformers import Trainer as base
    from transformers import TrainerCallback

    sync = torch.cuda.synchronize if torch.cuda.is_available() else (lambda: None)
    record.update(samples=0, padded=0, attn=0, real=None, marks={})

    def mark(name, state):
        sync()  # one synchronisation per mark (three per run), so the device has really finished the steps
        real = record["real"]
        record["marks"][name] = {"time": time.perf_counter(), "step": state.global_step, "samples": record["samples"],
                                 "padded": record["padded"], "attn": record["attn"],
                                 "real": int(real) if real is not None else 0}

    class Clock(TrainerCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            record["steady_from_step"] = min(20, state.max_steps // 10)  # skip warm-up (allocator, kernels, compile)
            mark("begin", state)
            if record["steady_from_step"] == 0:
                mark("steady", state)

        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step == record["steady_from_step"]:
                mark("steady", state)
            if state.global_step == state.max_steps:
                mark("end", state)

    class InstrumentedTrainer(base):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            record["training_args"] = json.loads(json.dumps(self.args.to_dict(), default=str))
            self.add_callback(Clock())

        def training_step(self, model, inputs, *args, **kwargs):
            ids = inputs["input_ids"]
            n, s = ids.shape
            record["samples"] += n
            record["padded"] += n * s
            record["attn"] += n * s * s
            mask = inputs.get("attention_mask")
            real = (mask if mask is not None else (ids != 0)).sum()  # [PAD] is id 0; on the device: no sync
            record["real"] = real if record["real"] is None else record["real"] + real
            return super().training_step(model, inputs, *args, **kwargs)

    # transformers may replace its lazy module in sys.modules while loading: patch the one ``import`` finds now,
    # and check that ``train()``'s ``from transformers import Trainer`` will get the subclass.
    setattr(sys.modules["transformers"], "Trainer", InstrumentedTrainer)
    from transformers import Trainer

    if Trainer is not InstrumentedTrainer:
        raise RuntimeError("could not put the instrumented Trainer in place of transformers.Trainer")


def model_shape(model_dir: Path) -> dict:
    """Parameter counts of the saved model; non-embedding = all but the word/position/token-type embeddings."""
    import torch
    from transformers import AutoConfig, AutoModelForTokenClassification

    config = AutoConfig.from_pretrained(model_dir)
    with torch.device("meta"):  # shapes only: no memory, no initialisation
        model = AutoModelForTokenClassification.from_config(config)
    total = sum(p.numel() for p in model.parameters())
    embed = sum(p.numel() for n, p in model.named_parameters()
                if any(k in n for k in ("word_embeddings", "position_embeddings", "token_type_embeddings")))
    return {"params": total, "params_non_embedding": total - embed, "layers": config.num_hidden_layers,
            "hidden": config.hidden_size}


def training_flops(shape: dict, padded_tokens: int, attn: int) -> float:
    """Model FLOPs of training (forward + backward) on the padded batches: 6 x non-embedding parameters per token
    plus attention's score and value products, 12 x layers x hidden x sequence length per token (bidirectional,
    full S x S), i.e. 12 L d sum(n_b S_b^2) over batches b of n_b sequences padded to S_b."""
    return 6.0 * shape["params_non_embedding"] * padded_tokens + 12.0 * shape["layers"] * shape["hidden"] * attn


def feature_tokens(cfg, model_dir: Path) -> int:
    """Subword tokens of the training features (what one epoch must process), rebuilt from the saved tokenizer."""
    from transformers import AutoTokenizer

    from ner.data.datasets import annotated_types, load_corpora
    from ner.data.labels import bio_tags
    from ner.models.alignment import SubwordAligner
    from ner.models.encoders import normalizer_from_config
    from ner.training.features import encode_documents

    docs = [d for c in load_corpora(cfg.data).values() for d in c["train"]]
    label2id = {t: i for i, t in enumerate(bio_tags(annotated_types(cfg.data)))}
    aligner = SubwordAligner(AutoTokenizer.from_pretrained(model_dir), normalizer_from_config(cfg.model.normalization),
                             cfg.model.max_length)
    return sum(len(f["input_ids"]) for f in encode_documents(docs, aligner, label2id))


def worker(spec_file: str) -> int:
    spec = json.loads(Path(spec_file).read_text())
    os.environ.setdefault("PROJECT_ROOT", str(ROOT))
    import torch
    import transformers
    from omegaconf import OmegaConf

    from ner.training import finetune

    run_dir = Path(spec["run_dir"])
    cfg = quality.compose(spec["overrides"])
    (run_dir / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True), encoding="utf-8")
    if spec["device"] == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda, but torch sees no CUDA device")
    record: dict = {}
    instrument(record)
    started = time.time()
    out = finetune.train(cfg, run_dir)
    wall_train_call = time.time() - started

    if "training_args" not in record or "end" not in record["marks"]:
        raise RuntimeError("train() did not use the instrumented Trainer: no measurements")
    summary = out["summary"]
    runtime = next((e["train_runtime"] for e in reversed(summary["log_history"]) if "train_runtime" in e), None)
    marks = record["marks"]
    if runtime is None:
        runtime = marks["end"]["time"] - marks["begin"]["time"]
    end, steady = marks["end"], marks["steady"]
    steady_s = end["time"] - steady["time"]
    shape = model_shape(out["model_dir"])
    epochs = float(cfg.training.epochs)
    expected = feature_tokens(cfg, out["model_dir"]) * epochs
    device = (f"cuda: {torch.cuda.get_device_name(0)}" if spec["device"] == "cuda"
              else f"cpu: {torch.get_num_threads()} thread(s)")
    peak = spec.get("peak_flops")
    if peak is None and spec["device"] == "cuda":
        peak = next((v for k, v in PEAK_BF16.items() if k in torch.cuda.get_device_name(0)), None)
    flops = training_flops(shape, end["padded"], end["attn"])
    dev = out["results"]["dev"]
    keys = ("per_device_train_batch_size", "train_sampling_strategy", "bf16", "fp16", "tf32", "optim",
            "learning_rate", "lr_scheduler_type", "warmup_steps", "weight_decay", "num_train_epochs",
            "max_grad_norm", "adam_beta1", "adam_beta2", "adam_epsilon", "torch_compile", "dataloader_num_workers",
            "logging_steps", "gradient_accumulation_steps", "seed", "use_cpu")
    result = {
        "device": device, "torch": torch.__version__, "transformers": transformers.__version__,
        "train_seconds": round(runtime, 3), "steps": end["step"], "epochs": epochs,
        "samples": end["samples"], "tokens_real": end["real"], "tokens_padded": end["padded"],
        "tokens_real_expected": int(expected),
        "tokens_per_s": end["real"] / runtime, "padded_tokens_per_s": end["padded"] / runtime,
        "samples_per_s": end["samples"] / runtime,
        "steady_from_step": steady["step"],
        "steady_tokens_per_s": (end["real"] - steady["real"]) / steady_s if steady_s > 0 else None,
        "padding_fraction": 1 - end["real"] / end["padded"] if end["padded"] else None,
        **shape, "model_flops": flops, "peak_flops": peak,
        "mfu": flops / runtime / peak if peak else None,
        "dev_f1_strict": dev["strict"]["micro"]["f1"], "dev_f1_default": dev["default"]["micro"]["f1"],
        "test_f1_strict": out["results"].get("test", {}).get("strict", {}).get("micro", {}).get("f1"),
        "train_loss": summary.get("train_loss"), "train_call_seconds": round(wall_train_call, 1),
        "training_args": {k: record["training_args"].get(k) for k in keys},
    }
    (run_dir / "training_args.json").write_text(json.dumps(record["training_args"], indent=2), encoding="utf-8")
    (run_dir / "speed.json").write_text(json.dumps({"spec": spec, "result": result}, indent=2), encoding="utf-8")
    if result["tokens_real"] != result["tokens_real_expected"]:
        print(f"warning: counted {result['tokens_real']} real tokens, the features hold "
              f"{result['tokens_real_expected']} x epochs", file=sys.stderr)
    return 0


# ----------------------------------------------------------------------------------------------- the runner
def parse_epochs(values: list[str] | None, models: list[str], tiny: bool) -> dict[str, int]:
    """``--epochs 3`` (every model) or ``--epochs small=10 parsbert-shaped=3``."""
    out = {m: (1 if tiny else DEFAULT_EPOCHS[m]) for m in models}
    for v in values or []:
        if "=" in v:
            name, n = v.split("=", 1)
            if name not in MODELS:
                raise SystemExit(f"--epochs: unknown model {name!r} (known: {', '.join(MODELS)})")
            out[name] = int(n)
        else:
            out = {m: int(v) for m in out}
    return out


def probe_cpu_bf16(model_overrides: list[str], batch: int = 16, seq: int = 32, steps: int = 5) -> dict:
    """fp32 vs bf16-autocast training step time of the model's shape on this CPU: after two warm-up steps each,
    ``steps`` steps of each mode, alternating (so a neighbour's load hits both alike), median per mode."""
    import torch
    from transformers import BertConfig, BertForTokenClassification

    m = quality.compose(model_overrides).model
    cfg = BertConfig(vocab_size=m.vocab_size, hidden_size=m.hidden_size, num_hidden_layers=m.num_layers,
                     num_attention_heads=m.num_heads, intermediate_size=m.intermediate_size, num_labels=11)
    torch.manual_seed(0)
    x, y = torch.randint(5, m.vocab_size, (batch, seq)), torch.randint(0, 11, (batch, seq))
    models = {mode: BertForTokenClassification(cfg) for mode in ("fp32", "bf16")}
    optims = {mode: torch.optim.AdamW(mdl.parameters(), lr=1e-4) for mode, mdl in models.items()}

    def step(mode) -> float:
        t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=mode == "bf16"):
            loss = models[mode](input_ids=x, labels=y).loss
        loss.backward()
        optims[mode].step()
        optims[mode].zero_grad()
        return time.perf_counter() - t0

    for _ in range(2):
        step("fp32"), step("bf16")
    times = {"fp32": [], "bf16": []}
    for _ in range(steps):
        for mode in times:
            times[mode].append(step(mode))
    ms = {mode: round(statistics.median(t) * 1000, 1) for mode, t in times.items()}
    return {"fp32_ms_per_step": ms["fp32"], "bf16_ms_per_step": ms["bf16"], "batch": batch, "seq": seq,
            "bf16": ms["bf16"] < ms["fp32"] / 1.05}


def system_overrides(system: str, device: str, cpu_bf16: bool) -> list[str]:
    if system == "run_ner":
        return list(RUN_NER)
    if device == "cuda":
        ours = list(OURS_GPU)
    else:  # the project's defaults (scratch_small), bf16 autocast only where it is faster on this CPU
        ours = ["training.batch_size=16", "training.group_by_length=true",
                f"training.bf16={'true' if cpu_bf16 else 'false'}"]
    return ours + (["training.torch_compile=true"] if system == "ours-compile" else [])


def command_prefix(args, model: str, system: str, epochs: int) -> str:
    """The command that reproduces a row, all but its ``--seeds`` (which come last)."""
    parts = ["python", SCRIPT, "--device", args.device, "--models", model, "--systems", system,
             "--epochs", str(epochs)]
    if model in args.lr:
        parts += ["--lr", f"{model}={args.lr[model]}"]
    if args.tiny:
        parts.append("--tiny")
    if args.threads:
        parts += ["--threads", str(args.threads)]
    if args.device == "cpu" and system != "run_ner" and args.cpu_bf16 != "auto":
        parts += ["--cpu-bf16", args.cpu_bf16]
    if args.override:
        parts += ["--override", *args.override]
    if args.ours_override and system != "run_ner":
        parts += ["--ours-override", *args.ours_override]
    return " ".join(shlex.quote(p) for p in parts)


def run_key(r: dict) -> str:
    return "|".join([r["device_kind"], "tiny" if r.get("tiny") else "full", r["model"], r["system"], str(r["seed"])])


def load_results(paths) -> list[dict]:
    runs: dict[str, dict] = {}
    for p in paths:
        p = Path(p)
        if p.exists():
            for r in json.loads(p.read_text()).get("runs", []):
                runs[run_key(r)] = r
    return list(runs.values())


def save_results(path: Path, new: dict) -> None:
    runs = {run_key(r): r for r in load_results([path])}
    runs[run_key(new)] = new
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"runs": list(runs.values())}, indent=2))
    tmp.replace(path)


def run_one(args, model: str, system: str, seed: int, epochs: int, model_overrides: list[str], lr: str,
            extra: list[str], runs_root: Path, probe: dict | None) -> dict:
    overrides = [*model_overrides, f"training.learning_rate={lr}", f"training.epochs={epochs}", f"seed={seed}",
                 *COMMON, *extra, *args.override,
                 f"++training.use_cpu={'true' if args.device == 'cpu' else 'false'}"]
    run_dir = runs_root / args.device / model / system / f"seed{seed}"
    spec = {"overrides": overrides, "run_dir": str(run_dir), "device": args.device, "peak_flops": args.peak_flops,
            "threads": args.threads}
    done = run_dir / "speed.json"
    if done.exists() and not args.force and json.loads(done.read_text())["spec"] == spec:
        print(f"{run_dir}: finished earlier with the same settings, kept (--force reruns)", flush=True)
        result, wall = json.loads(done.read_text())["result"], None
    else:
        if run_dir.exists():
            import shutil
            shutil.rmtree(run_dir)
        run_dir.mkdir(parents=True)
        (run_dir / "spec.json").write_text(json.dumps(spec, indent=2))
        env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", PROJECT_ROOT=str(ROOT),
                   TOKENIZERS_PARALLELISM="false")
        if args.threads:
            env.update(OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
        t0 = time.time()
        with open(run_dir / "worker.log", "w") as log:
            cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", str(run_dir / "spec.json")]
            p = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
            try:
                p.wait()
            except BaseException:  # stopped (Ctrl-C, or `timeout`'s SIGTERM): never leave a run holding the device
                p.kill()
                p.wait()
                raise
        wall = round(time.time() - t0, 1)
        if p.returncode != 0:
            tail = (run_dir / "worker.log").read_text()[-3000:]
            raise RuntimeError(f"{model}/{system}/seed{seed} failed (exit {p.returncode}); "
                               f"{run_dir}/worker.log:\n{tail}")
        result = json.loads(done.read_text())["result"]
    return {"model": model, "system": system, "seed": seed, "device_kind": args.device, "tiny": args.tiny,
            "overrides": overrides, "command_prefix": command_prefix(args, model, system, epochs),
            "run_dir": str(run_dir), "wall_seconds": wall, "cpu_bf16_probe": probe, **result}


def _stop(signum, frame):
    raise SystemExit(128 + signum)


def run_benchmark(args) -> int:
    import signal

    signal.signal(signal.SIGTERM, _stop)  # so that the running worker is stopped too (run_one)
    os.environ.setdefault("PROJECT_ROOT", str(ROOT))
    started = time.time()
    table = TINY_MODELS if args.tiny else MODELS
    epochs = parse_epochs(args.epochs, args.models, args.tiny)
    out = Path(args.out or ROOT / "runs" / "benchmarks" / ("training_speed_tiny.json" if args.tiny
                                                           else "training_speed.json"))
    runs_root = Path(args.runs_dir) / ("tiny" if args.tiny else "")
    if args.device == "cuda":
        print(f"MFU: model FLOPs (6 x non-embedding params x padded tokens + 12 x layers x hidden x sum n_b S_b^2) / "
              f"train seconds / peak dense bf16 of the device "
              f"({args.peak_flops or 'by name: ' + ', '.join(f'{k} {v:.3g}' for k, v in PEAK_BF16.items())} FLOP/s)",
              flush=True)
    n_runs = len(args.models) * len(args.systems) * len(args.seeds)
    i = 0
    for model in args.models:
        spec = table[model]
        lr = args.lr.get(model, spec["learning_rate"]) if args.lr else spec["learning_rate"]
        probe = None
        if args.device == "cpu" and any(s != "run_ner" for s in args.systems):
            if args.cpu_bf16 == "auto":
                if args.threads:
                    import torch
                    torch.set_num_threads(args.threads)
                probe = probe_cpu_bf16(spec["overrides"])
                print(f"{model}: CPU bf16 probe {probe}", flush=True)
            else:
                probe = {"bf16": args.cpu_bf16 == "true", "forced": True}
        for seed in args.seeds:
            for system in args.systems:
                i += 1
                if args.deadline_minutes is not None and time.time() - started > args.deadline_minutes * 60:
                    print(f"[{i}/{n_runs}] {model} {system} seed {seed}: skipped (past --deadline-minutes)", flush=True)
                    continue
                extra = system_overrides(system, args.device, bool(probe and probe["bf16"]))
                if system != "run_ner":
                    extra += args.ours_override
                r = run_one(args, model, system, seed, epochs[model], spec["overrides"], lr, extra, runs_root, probe)
                save_results(out, r)
                mfu = f"{r['mfu'] * 100:.1f}%" if r.get("mfu") is not None else "n/a"
                print(f"[{i}/{n_runs}] {model} {system} seed {seed}: wall {r['wall_seconds']} s, train "
                      f"{r['train_seconds']:.2f} s, {r['tokens_per_s']:,.0f} tokens/s (padded "
                      f"{r['padded_tokens_per_s']:,.0f}, {r['samples_per_s']:,.1f} samples/s), MFU {mfu}, dev strict "
                      f"F1 {r['dev_f1_strict']:.3f}", flush=True)
    print(f"results: {out} ({time.time() - started:.0f} s in all)")
    return 0


# ----------------------------------------------------------------------------------------------- the document
def _num(values, digits=0):
    return quality.fmt(values, digits, thousands=True)


def _settings(a: dict) -> str:
    prec = "bf16 autocast" if a.get("bf16") else ("fp16" if a.get("fp16") else "fp32")
    return (f"bs {a['per_device_train_batch_size']}, "
            + ("length-grouped" if a.get("train_sampling_strategy") == "group_by_length" else "random order")
            + f", {prec}" + (", TF32" if a.get("tf32") else "") + f", {a['optim']}"
            + (", torch.compile" if a.get("torch_compile") else "")
            + f", lr {a['learning_rate']:g} {a['lr_scheduler_type']}, warm-up {a['warmup_steps']:g}, "
            f"wd {a['weight_decay']:g}")


def render(runs: list[dict]) -> str:
    groups: dict[tuple, dict[str, list[dict]]] = {}
    for r in sorted(runs, key=lambda r: (r["device_kind"], r.get("tiny", False), list(MODELS).index(r["model"]),
                                         SYSTEMS.index(r["system"]), r["seed"])):
        key = (r["device_kind"], r.get("tiny", False), r["model"])
        groups.setdefault(key, {}).setdefault(r["system"], []).append(r)
    lines = ["| device | model | system | settings (resolved TrainingArguments) | epochs | seeds | dev strict F1 | "
             "tokens/s | padded tokens/s | samples/s | steady tokens/s | padding | MFU | tokens/s vs run_ner | "
             "train s | command |", "|" + "---|" * 16]
    for (_, tiny, model), systems in groups.items():
        base = systems.get("run_ner")
        base_tps = statistics.mean(r["tokens_per_s"] for r in base) if base else None
        for system, rs in systems.items():
            seeds = sorted(r["seed"] for r in rs)
            tps = statistics.mean(r["tokens_per_s"] for r in rs)
            cmd = f"{rs[0]['command_prefix']} --seeds {' '.join(map(str, seeds))}"
            mfu = [r["mfu"] * 100 for r in rs if r.get("mfu") is not None]
            lines.append(
                f"| {rs[0]['device']} | {model}{' (tiny rehearsal)' if tiny else ''} | {system} | "
                f"{_settings(rs[0]['training_args'])} | {rs[0]['epochs']:g} | {','.join(map(str, seeds))} | "
                f"{quality.fmt([r['dev_f1_strict'] for r in rs])} | {_num([r['tokens_per_s'] for r in rs])} | "
                f"{_num([r['padded_tokens_per_s'] for r in rs])} | {_num([r['samples_per_s'] for r in rs], 1)} | "
                f"{_num([r.get('steady_tokens_per_s') for r in rs])} | "
                f"{_num([r['padding_fraction'] * 100 for r in rs], 0)}% | "
                f"{_num(mfu, 1) + '%' if mfu else 'n/a'} | "
                f"{f'{tps / base_tps:.2f}x' if base_tps else 'n/a'} | {_num([r['train_seconds'] for r in rs], 1)} | "
                f"`{cmd}` |")
    return "\n".join(lines)


def note(runs: list[dict]) -> str:
    peaks = sorted({(r["device"], r["peak_flops"]) for r in runs if r.get("peak_flops")})
    probes = sorted({(r["device"], r["model"], json.dumps(r["cpu_bf16_probe"], sort_keys=True))
                     for r in runs if r.get("cpu_bf16_probe") and not r["cpu_bf16_probe"].get("forced")})
    lines = [
        "Our fine-tuning loop (`ours`, the project's recipe) against the settings of transformers' `run_ner.py` "
        "example defaults (`run_ner`), both run by the project's `ner.training.finetune.train` on the same model, data "
        "(data/annotations train; dev scored), epochs, learning rate and seed, so data, labels and evaluation are "
        "identical and only the loop settings differ. Every run trains its fixed epochs and keeps the last model "
        "(`training.select_best=false training.eval_strategy=no`); one run at a time, each in a fresh process.",
        "",
        "- **Reproduced from run_ner.py's defaults** (config overrides `" + " ".join(RUN_NER) + "`): fp32, "
        "per-device batch 8, random order (no length grouping), AdamW (torch) with betas (0.9, 0.999), eps 1e-8, "
        "linear schedule, no warm-up, weight decay 0, gradient clipping 1.0, logging every 500 steps, no "
        "torch.compile, TF32 at PyTorch's default, collation in the training process; "
        "`DataCollatorForTokenClassification` dynamic padding; `label_all_tokens=False` = only the first subword "
        "of a word carries its label, which the project also does; no sentence is truncated (run_ner truncates "
        "at the model's maximum, the project windows sentences longer than `model.max_length`; no training "
        "sentence here is that long).",
        "- **Not reproduced**: the project's collator pads to a multiple of 8 (run_ner only does so for fp16); "
        "run_ner saves a checkpoint every 500 steps (here nothing is saved inside the training loop, which can "
        "only favour run_ner); run_ner reads pre-split words from a dataset, here the project's normalisation and "
        "word splitting produce the features of both systems; run_ner reports seqeval's default mode, here dev "
        "F1 is seqeval **strict** IOB2 (both modes are in each run's metrics.json).",
        "- **ours**: experiment=scratch_small (batch 16, length-grouped batches, warm-up 0.06, weight decay 0.01, same "
        "learning rate). CPU: bf16 autocast only where a short probe on the machine (fp32 vs bf16 training steps "
        "of the model's shape, batch 16 x 32, alternating, median of 5) finds it at least 5% faster "
        "(`--cpu-bf16 auto`; the probe's numbers are listed below): on CPUs without AMX the answer depends on "
        "the shape and on the load (a shared 2-core AVX512-BF16 machine gave 1.4-1.7x for 4x256 and 0.75-1.7x "
        "for 12x768 in two tries). GPU: `" + " ".join(OURS_GPU) + "` — bf16 autocast and fused AdamW cut the "
        "per-step time, length grouping cuts padding; batch 16 (not 32) keeps the project's number of optimizer "
        "updates at the same learning rate, so the F1 comparison is not confounded by 4x fewer updates than "
        "run_ner (`--ours-override training.batch_size=32` runs the larger batch); `ours-compile` adds "
        "torch.compile, whose compilation time counts in the training time.",
        "- Models: `small` = configs/model/small.yaml (4 layers x 256, 4 heads, 1024 intermediate, WordPiece 8k "
        "trained on the training text, random init), lr 1e-3 as the quick start; `parsbert-shaped` = the same "
        "recipe at 12 x 768, 12 heads, 3072 intermediate (BERT-base shape, random init), lr 1e-4: BERT's own "
        "pretraining peak rate; 5e-5, the usual rate for fine-tuning a *pretrained* encoder, moves a randomly "
        "initialised one slowly in the few epochs affordable here (`--lr parsbert-shaped=5e-5` runs it).",
        "- **tokens/s** = real (non-pad) subword tokens, [CLS]/[SEP] included, processed in training, divided by "
        "the Trainer's `train_runtime` (the whole training loop; no evaluation or saving inside it); the count is "
        "taken per step from the batches' attention masks and checked against the training features' lengths x "
        "epochs. **padded tokens/s** counts every position of the padded batches; **samples/s** counts sentence "
        "windows. **steady tokens/s** leaves out the first min(20, 10% of) steps (warm-up, compilation). "
        "**padding** = share of padded positions. **MFU** (GPU only; n/a on CPU) = model FLOPs on the padded "
        "batches, 6 x non-embedding parameters per token + 12 x layers x hidden x sum over batches of n_b S_b^2 "
        "for attention's score and value products, divided by training time and the device's peak dense bf16 "
        "rate" + (" (" + "; ".join(f"{d}: {p:.3g} FLOP/s" for d, p in peaks) + ")" if peaks else "")
        + "; fp32 runs are measured against the same bf16 peak.",
    ]
    for device, model, probe in probes:
        p = json.loads(probe)
        lines.append(f"- CPU bf16 probe, {model} on {device}: fp32 {p['fp32_ms_per_step']} ms/step, bf16 "
                     f"{p['bf16_ms_per_step']} ms/step -> {'bf16' if p['bf16'] else 'fp32'}.")
    return "\n".join(lines) + "\n\n" + render(runs)


def write_doc(runs: list[dict], doc_root: Path | None = None) -> Path:
    """Rewrite the training_speed section of docs/benchmarks.md (appended when its markers are missing) with
    quality.write_doc; ``doc_root`` points it at <doc_root>/docs/benchmarks.md instead of the repository's."""
    saved = quality.ROOT
    if doc_root is not None:
        quality.ROOT = Path(doc_root)  # write_doc reads the document's place from its module's ROOT
    try:
        # The whole section is the note; write_doc's own quality table is empty without quality results.
        quality.write_doc({}, note(runs), section=SECTION, script=SCRIPT)
        return quality.ROOT / "docs" / "benchmarks.md"
    finally:
        quality.ROOT = saved


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    ap.add_argument("--systems", nargs="+", choices=SYSTEMS, default=["ours", "run_ner"])
    ap.add_argument("--epochs", nargs="+", default=None,
                    help="N for every model, or MODEL=N pairs (default: small=30 parsbert-shaped=3; --tiny: 1)")
    ap.add_argument("--lr", nargs="+", default=[], help="MODEL=LR pairs (default: small=1e-3 parsbert-shaped=1e-4)")
    ap.add_argument("--seeds", nargs="+", type=int, default=[1])
    ap.add_argument("--out", default=None, help="results JSON (default runs/benchmarks/training_speed.json; "
                                                "--tiny: training_speed_tiny.json); merged with what it holds")
    ap.add_argument("--runs-dir", default=str(ROOT / "runs" / "benchmarks" / "training_speed"))
    ap.add_argument("--tiny", action="store_true", help="fixtures (data=fixtures), 1 epoch, tiny shapes: a rehearsal")
    ap.add_argument("--cpu-bf16", choices=["auto", "true", "false"], default="auto",
                    help="CPU `ours`: bf16 autocast if a short probe finds it faster (auto), always, or never")
    ap.add_argument("--threads", type=int, default=None,
                    help="CPU threads per run (OMP_NUM_THREADS; default: torch's). On a machine shared with "
                         "others, 1 avoids the threads' busy-waiting (2 threads ran a tiny model ~100x slower there)")
    ap.add_argument("--peak-flops", type=float, default=None, help="peak FLOP/s for MFU (default: by GPU name)")
    ap.add_argument("--override", nargs="*", default=[], help="extra Hydra overrides for every run (recorded)")
    ap.add_argument("--ours-override", nargs="*", default=[],
                    help="extra Hydra overrides for the ours systems only, e.g. training.batch_size=32")
    ap.add_argument("--deadline-minutes", type=float, default=None, help="start no run after this many minutes")
    ap.add_argument("--force", action="store_true", help="rerun runs that finished earlier with the same settings")
    ap.add_argument("--write-doc", action="store_true", help="render the docs/benchmarks.md section and stop")
    ap.add_argument("--from-json", nargs="+", default=None, help="results files for --write-doc (default: --out)")
    ap.add_argument("--doc-root", default=None, help="write <DIR>/docs/benchmarks.md instead (for tests)")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return worker(args.worker)
    args.lr = dict(v.split("=", 1) for v in args.lr)
    if args.write_doc:
        files = args.from_json or [args.out or ROOT / "runs" / "benchmarks" / "training_speed.json"]
        runs = load_results(files)
        if not runs:
            raise SystemExit(f"no results in {', '.join(map(str, files))}")
        doc = write_doc(runs, args.doc_root)
        print(f"{doc}: section {SECTION} rewritten from {len(runs)} run(s)")
        return 0
    return run_benchmark(args)


if __name__ == "__main__":
    sys.exit(main())
