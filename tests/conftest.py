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
