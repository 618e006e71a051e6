"""Test setup: never wait on the network; compose the Hydra config once; each run gets its own tmp dir."""
import copy
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("PROJECT_ROOT", str(ROOT))
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
SHARED = Path(os.environ.get("NER_SHARED_DIR", ROOT.parent / "shared"))


def compose(config_name: str = "config", overrides: list[str] | None = None):
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    with initialize_config_dir(config_dir=str(ROOT / "configs"), version_base="1.3"):
        return hydra_compose(config_name=config_name, overrides=overrides or [], return_hydra_config=False)


@pytest.fixture(scope="session")
def smoke_cfg_session():
    return compose("config", ["experiment=smoke"])


@pytest.fixture
def smoke_cfg(smoke_cfg_session, tmp_path):
    cfg = copy.deepcopy(smoke_cfg_session)
    cfg.paths.runs_dir = str(tmp_path / "runs")
    return cfg


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory, smoke_cfg_session):
    """One smoke training run shared by the end-to-end tests (a few seconds)."""
    from ner.training.finetune import train

    cfg = copy.deepcopy(smoke_cfg_session)
    run_dir = tmp_path_factory.mktemp("run")
    out = train(cfg, run_dir)
    return run_dir, out


@pytest.fixture(scope="session")
def fixture_tokenizer():
    """A WordPiece tokenizer trained on the fixture text (no download)."""
    from ner.data.io import read_jsonl
    from ner.data.normalize import Normalizer
    from ner.models.encoders import train_wordpiece

    norm = Normalizer()
    texts = [norm(d.text) for split in ("train", "dev", "test") for d in read_jsonl(FIXTURES / f"{split}.jsonl")]
    return train_wordpiece(texts, vocab_size=400, min_frequency=1)


def needs_shared(*parts: str):
    path = SHARED.joinpath(*parts)
    return pytest.mark.skipif(not path.exists(), reason=f"public corpus folder {path} is absent")


@pytest.fixture(scope="session")
def random_model_dir(fixture_tokenizer, tmp_path_factory):
    """A randomly initialised 1-layer BERT saved like a run's model/ folder, in a second instead of a training
    run: it tags plenty of (random) entities, which is what the predictor's plumbing tests need."""
    import torch
    from transformers import BertConfig, BertForTokenClassification

    from ner.data.labels import bio_tags
    from ner.data.normalize import Normalizer
    from ner.predictor import save_ner_config

    path = tmp_path_factory.mktemp("random_model") / "model"
    tags = bio_tags()
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(fixture_tokenizer), hidden_size=16, num_hidden_layers=1,
                        num_attention_heads=2, intermediate_size=32, max_position_embeddings=64,
                        id2label=dict(enumerate(tags)), label2id={t: i for i, t in enumerate(tags)})
    BertForTokenClassification(config).save_pretrained(path)
    fixture_tokenizer.save_pretrained(path)
    save_ner_config(path, Normalizer(), max_length=24, overlap=6)
    return path


@pytest.fixture(scope="session")
def parsbert_standin(tmp_path_factory):
    """A ParsBERT-shaped model folder (vocab.txt, slow BertTokenizer config, tiny random BERT; tests/standin.py)."""
    from standin import build_parsbert_standin

    return build_parsbert_standin(tmp_path_factory.mktemp("parsbert") / "bert-fa-standin")


def run_script(name, *args, stdin=None):
    """Run ``scripts/<name>`` offline in a subprocess and assert it succeeded (its output on failure)."""
    import subprocess
    import sys

    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", PROJECT_ROOT=str(ROOT))
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / name), *args], input=stdin, capture_output=True,
                          text=True, env=env, timeout=600)
    assert proc.returncode == 0, f"{name} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc
