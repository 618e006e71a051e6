"""`model=crf`: trained by the training entry point, saved without pickles, scored and served by the predictor."""
import json

import pytest

from conftest import compose
from ner import NerPredictor
from ner.data.words import split_words


@pytest.fixture(scope="module")
def crf_run(tmp_path_factory):
    from ner.training.finetune import train

    cfg = compose("config", ["experiment=smoke", "model=crf"])
    run = tmp_path_factory.mktemp("crf")
    return run, train(cfg, run)


def test_crf_run_folder_has_the_shape_of_any_run(crf_run):
    run, out = crf_run
    model = run / "model"
    assert (model / "crf.crfsuite").exists() and not list(model.glob("*.pkl")) and not list(model.glob("*.bin"))
    assert json.loads((model / "ner_config.json").read_text())["model_type"] == "crf"
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["test"]["strict"]["micro"]["f1"] == out["results"]["test"]["strict"]["micro"]["f1"]
    assert (run / "report.html").exists()


def test_predictor_serves_a_saved_crf_with_the_entity_contract(crf_run):
    from ner.models.crf import CrfTagger
    from ner.predictor import CrfPredictor

    run, _ = crf_run
    predictor = NerPredictor.from_pretrained(run / "model")
    assert isinstance(predictor, CrfPredictor)
    text = "مدیرعامل شرکت شهرک‌های صنعتی استان گیلان گفت ۵۳۰ میلیارد تومان به خوشه صنعتی چای اختصاص یافت"
    ents = predictor(text)
    assert ents and all(text[e.start:e.end] == e.text and 0 <= e.score <= 1 for e in ents)
    words = [(text, split_words(text))]
    direct = CrfTagger.load(run / "model").predict_words(words)[0]
    assert predictor.predict_words(words)[0][0] == direct  # the predictor adds nothing to the CRF's tags
    with pytest.raises(ValueError, match="is a CRF model"):
        NerPredictor.from_pretrained(run / "model", backend="onnx")


def test_a_missing_or_stale_crf_file_is_a_clear_error(crf_run, tmp_path):
    import shutil

    from ner.models.crf import CONFIG_FILE, MODEL_FILE, CrfTagger

    run, _ = crf_run
    broken = tmp_path / "m"
    shutil.copytree(run / "model", broken)
    (broken / MODEL_FILE).unlink()
    with pytest.raises(FileNotFoundError, match="crf.crfsuite is missing"):
        NerPredictor.from_pretrained(broken)
    shutil.copy(run / "model" / MODEL_FILE, broken / MODEL_FILE)
    cfg = json.loads((broken / CONFIG_FILE).read_text())
    (broken / CONFIG_FILE).write_text(json.dumps({**cfg, "features_version": 0}))
    with pytest.raises(ValueError, match="retrain"):
        CrfTagger.load(broken)
