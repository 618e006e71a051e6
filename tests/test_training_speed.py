"""benchmarks/training_speed.py: the tiny rehearsal measures both systems, run_ner's settings really reach the
Trainer, and --write-doc rewrites only its own section of the benchmarks document."""
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import training_speed  # noqa: E402

BEGIN, END = "<!-- training_speed:begin -->", "<!-- training_speed:end -->"


@pytest.mark.slow
def test_tiny_rehearsal_measures_both_systems_with_run_ners_settings(tmp_path):
    out = tmp_path / "speed.json"
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", PROJECT_ROOT=str(ROOT))
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "training_speed.py"), "--tiny", "--device", "cpu", "--models",
         "small", "--systems", "ours", "run_ner", "--seeds", "1", "--cpu-bf16", "false", "--threads", "1",
         "--out", str(out), "--runs-dir", str(tmp_path / "runs")], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    runs = {r["system"]: r for r in json.loads(out.read_text())["runs"]}
    assert set(runs) == {"ours", "run_ner"}
    for r in runs.values():
        assert r["tiny"] and r["model"] == "small" and r["seed"] == 1
        assert r["tokens_per_s"] > 0 and r["padded_tokens_per_s"] >= r["tokens_per_s"] and r["samples_per_s"] > 0
        assert r["train_seconds"] > 0 and r["steps"] > 0
        # every real token of every feature was counted once per epoch, and padding only adds
        assert r["tokens_real"] == r["tokens_real_expected"] > 0
        assert r["tokens_padded"] >= r["tokens_real"]
        assert r["mfu"] is None  # CPU: n/a
        assert 0.0 <= r["dev_f1_strict"] <= 1.0
        assert r["run_dir"].startswith(str(tmp_path / "runs"))
        assert os.path.isfile(os.path.join(r["run_dir"], "metrics.json"))
    assert runs["ours"]["run_dir"] != runs["run_ner"]["run_dir"]

    # run_ner.py's defaults, read back from the TrainingArguments the Trainer really got
    full = json.loads((tmp_path / "runs" / "tiny" / "cpu" / "small" / "run_ner" / "seed1" / "training_args.json")
                      .read_text())
    for args in (runs["run_ner"]["training_args"], full):
        assert args["per_device_train_batch_size"] == 8
        assert args["train_sampling_strategy"] == "random"
        assert args["bf16"] is False and args["fp16"] is False and args["tf32"] is None
        assert args["optim"] == "adamw_torch" and args["lr_scheduler_type"] == "linear"
        assert args["warmup_steps"] == 0 and args["weight_decay"] == 0
        assert args["torch_compile"] is False and args["dataloader_num_workers"] == 0
    ours = runs["ours"]["training_args"]
    assert ours["per_device_train_batch_size"] == 16 and ours["train_sampling_strategy"] == "group_by_length"
    assert ours["weight_decay"] > 0 and ours["warmup_steps"] > 0
    for key in ("learning_rate", "num_train_epochs", "seed"):  # same budget for both systems
        assert ours[key] == runs["run_ner"]["training_args"][key]

    # the document renders from these real results
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "benchmarks.md").write_text("# Benchmarks\n", encoding="utf-8")
    assert training_speed.main(["--write-doc", "--from-json", str(out), "--doc-root", str(tmp_path)]) == 0
    doc = (tmp_path / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    assert "| small (tiny rehearsal) | run_ner | bs 8, random order, fp32" in doc
    assert "--systems run_ner --epochs 1 --tiny --threads 1 --seeds 1`" in doc  # run_ner has no bf16 choice
    assert "--systems ours --epochs 1 --tiny --threads 1 --cpu-bf16 false --seeds 1`" in doc
    assert "| cpu: 1 thread(s) |" in doc


def fake_run(system, seed, tps, f1):
    args = {"per_device_train_batch_size": 8 if system == "run_ner" else 16,
            "train_sampling_strategy": "random" if system == "run_ner" else "group_by_length",
            "bf16": system != "run_ner", "fp16": False, "tf32": None, "optim": "adamw_torch",
            "learning_rate": 1e-3, "lr_scheduler_type": "linear", "warmup_steps": 0, "weight_decay": 0,
            "torch_compile": False}
    return {"model": "small", "system": system, "seed": seed, "device_kind": "cuda", "tiny": False,
            "device": "cuda: NVIDIA H200", "epochs": 3.0, "training_args": args, "dev_f1_strict": f1,
            "tokens_per_s": tps, "padded_tokens_per_s": tps * 1.5, "samples_per_s": tps / 30,
            "steady_tokens_per_s": tps * 1.1, "padding_fraction": 0.3, "mfu": 0.01, "peak_flops": 989e12,
            "train_seconds": 10.0, "cpu_bf16_probe": None,
            "command_prefix": f"python benchmarks/training_speed.py --device cuda --models small --systems {system} "
                              "--epochs 3"}


def test_write_doc_replaces_only_its_section(tmp_path):
    results = tmp_path / "r.json"
    results.write_text(json.dumps({"runs": [fake_run("run_ner", 1, 1000.0, 0.5), fake_run("run_ner", 2, 1000.0, 0.6),
                                            fake_run("ours", 1, 2000.0, 0.55), fake_run("ours", 2, 2000.0, 0.55)]}))
    doc = tmp_path / "docs" / "benchmarks.md"
    doc.parent.mkdir()
    doc.write_text(f"# Benchmarks\n\nbefore\n\n{BEGIN}\nSTALE TABLE\n{END}\n\nafter\n", encoding="utf-8")
    args = ["--write-doc", "--from-json", str(results), "--doc-root", str(tmp_path)]
    assert training_speed.main(args) == 0
    text = doc.read_text(encoding="utf-8")
    assert "STALE TABLE" not in text
    assert text.startswith("# Benchmarks\n\nbefore\n\n" + BEGIN) and text.endswith(END + "\n\nafter\n")
    assert text.count(BEGIN) == 1 and text.count(END) == 1
    section = text[text.index(BEGIN):text.index(END)]
    ours = next(line for line in section.splitlines() if line.startswith("| cuda: NVIDIA H200 | small | ours |"))
    assert "| 2.00x |" in ours and "| 0.550 ± 0.000 |" in ours
    assert "| 2,000 ± 0 |" in ours and "| 1.0 ± 0.0% |" in ours
    assert ours.endswith("`python benchmarks/training_speed.py --device cuda --models small --systems ours "
                         "--epochs 3 --seeds 1 2` |")
    assert "H200: 9.89e+14 FLOP/s" in section or "NVIDIA H200: 9.89e+14 FLOP/s" in section
    assert training_speed.main(args) == 0 and doc.read_text(encoding="utf-8") == text  # idempotent

    # a document without the markers gets the section appended at its end, the rest untouched
    doc.write_text("# Benchmarks\n\nother sections\n", encoding="utf-8")
    assert training_speed.main(args) == 0
    text = doc.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks\n\nother sections\n") and text.rstrip().endswith(END)
    assert "| run_ner |" in text


def test_training_flops_and_epoch_options():
    shape = {"params_non_embedding": 100, "layers": 2, "hidden": 4}
    assert training_speed.training_flops(shape, padded_tokens=10, attn=50) == 6 * 100 * 10 + 12 * 2 * 4 * 50
    models = ["small", "parsbert-shaped"]
    assert training_speed.parse_epochs(None, models, tiny=False) == {"small": 30, "parsbert-shaped": 3}
    assert training_speed.parse_epochs(["4"], models, tiny=False) == {"small": 4, "parsbert-shaped": 4}
    assert training_speed.parse_epochs(["small=10", "parsbert-shaped=2"], models, tiny=False) == {
        "small": 10, "parsbert-shaped": 2}
    assert training_speed.parse_epochs(None, models, tiny=True) == {"small": 1, "parsbert-shaped": 1}
    with pytest.raises(SystemExit):
        training_speed.parse_epochs(["big=3"], models, tiny=False)
