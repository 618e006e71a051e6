import time

import pytest

from ner.models.encoders import load_pretrained
from ner.models.hub import ModelLoadError


def test_hub_name_offline_fails_fast_and_names_the_fixes(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    t0 = time.time()
    with pytest.raises(ModelLoadError) as e:
        load_pretrained("HooshvareLab/bert-fa-base-uncased", ["O", "B-ORG", "I-ORG"])
    assert time.time() - t0 < 10
    msg = str(e.value)
    assert "HooshvareLab/bert-fa-base-uncased" in msg
    assert "model.name_or_path=" in msg and "make train" in msg and "HF_HUB_OFFLINE=0" in msg


def test_missing_local_directory_is_named(tmp_path):
    with pytest.raises(ModelLoadError, match="does not exist"):
        load_pretrained(str(tmp_path / "no" / "such" / "model"), ["O"])
