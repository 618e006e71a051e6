"""The model card (README.md in a saved model folder, Hugging Face conventions): metadata, labels, data, scores
with their intervals, normalisation, intended use and limits."""
import json

import pytest
import yaml

from ner.data.documents import Document, Span
from ner.evaluation.model_card import render_model_card, write_model_card

LABELS = ["O", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]


def interval(value, low, high):
    return {"value": value, "low": low, "high": high}


METRICS = {
    "dev": {"types_scored": ["ORG", "LOC"],
            "strict": {"micro": {"precision": 0.8, "recall": 0.7, "f1": 0.74667, "support": 40},
                       "per_type": {"ORG": {"precision": 0.7, "recall": 0.6, "f1": 0.646, "support": 20},
                                    "LOC": {"precision": 0.9, "recall": 0.8, "f1": 0.847, "support": 20}}}},
    "test": {"types_scored": ["ORG", "LOC"],
             "strict": {"micro": {"precision": 0.75, "recall": 0.65, "f1": 0.69643, "support": 50},
                        "per_type": {"ORG": {"precision": 0.6, "recall": 0.5, "f1": 0.5455, "support": 22},
                                     "LOC": {"precision": 0.88, "recall": 0.79, "f1": 0.8325, "support": 28}}},
             "bootstrap": {"method": "percentile bootstrap, documents resampled with replacement", "samples": 1000,
                           "confidence": 0.95, "documents": 12,
                           "micro": {"f1": interval(0.69643, 0.612, 0.771)},
                           "per_type": {"ORG": {"f1": interval(0.5455, 0.41, 0.66)},
                                        "LOC": {"f1": interval(0.8325, None, None)}}}},
}
RUN = {"run_name": "mixed_marginal", "seed": 7,
       "data": {"name": "mixed", "components": {"annotations": {"name": "annotations"}, "peyma": {"name": "peyma"},
                                                "arman": None}},
       "model": {"name": "parsbert", "source": "pretrained", "name_or_path": "HooshvareLab/bert-fa-base-uncased"},
       "training": {"epochs": 5, "learning_rate": 5e-5, "batch_size": 16, "loss": "marginal"}}


@pytest.fixture
def model_dir(tmp_path):
    cfg = {"model_type": "bert", "num_hidden_layers": 12, "hidden_size": 768,
           "id2label": {str(i): t for i, t in enumerate(LABELS)}}
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    ner = {"normalization": {"arabic_letters": True, "digits": "persian", "zwnj": "keep"}, "max_length": 128,
           "overlap": 32, "decoding": "viterbi", "entity_types": ["ORG", "LOC"], "trained_on": "mixed"}
    (tmp_path / "ner_config.json").write_text(json.dumps(ner))
    return tmp_path


def front_matter(card: str) -> dict:
    assert card.startswith("---\n")
    return yaml.safe_load(card.split("---\n")[1])


def test_card_front_matter_follows_hugging_face_conventions(model_dir):
    meta = front_matter(render_model_card(model_dir, METRICS, RUN))
    assert meta["language"] == ["fa"] and meta["library_name"] == "transformers"
    assert meta["pipeline_tag"] == "token-classification" and meta["metrics"] == ["seqeval"]
    assert {"ner", "persian", "ORG", "LOC"} <= set(meta["tags"])
    [index] = meta["model-index"]
    assert index["name"] == "mixed_marginal"
    test, dev = index["results"]
    assert test["dataset"] == {"name": "annotations+peyma", "type": "annotations+peyma", "split": "test"}
    assert {m["type"]: m["value"] for m in test["metrics"]} == {"precision": 0.75, "recall": 0.65, "f1": 0.6964}
    assert dev["dataset"]["split"] == "dev"


def test_card_body_holds_data_scores_normalisation_use_and_limits(model_dir):
    splits = {"train": [Document("a", "x y", [Span(0, 1, "ORG"), Span(2, 3, "LOC")])] * 3,
              "dev": [Document("b", "x", [])], "test": [Document("c", "x", [Span(0, 1, "LOC")])] * 2}
    card = render_model_card(model_dir, METRICS, RUN, splits)
    body = card.split("---\n", 2)[2]
    assert "# mixed_marginal: Persian news named-entity recognition (ORG, LOC)" in body
    assert "bert, 12 layer(s) x 768; from `HooshvareLab/bert-fa-base-uncased`" in body
    assert "| ORG | organisations" in body and "| LOC | provinces" in body and "| PER |" not in body
    assert "CC BY 4.0" in body and "PEYMA" in body and "ARMAN" not in body  # arman=null: dropped component
    assert "| train | 3 | 6 |" in body and "| dev | 1 | 0 |" in body and "| test | 2 | 2 |" in body
    assert "epochs 5, learning_rate 5e-05, batch_size 16, loss marginal, seed 7" in body
    assert "| test | 12 | 0.750 | 0.650 | 0.696 | [0.612, 0.771] |" in body
    assert "| dev | – | 0.800 | 0.700 | 0.747 | – |" in body      # no bootstrap for dev: no interval invented
    assert "| ORG | 22 | 0.600 | 0.500 | 0.545 | [0.410, 0.660] |" in body
    assert "| LOC | 28 | 0.880 | 0.790 | 0.833 | – |" in body
    assert "95% intervals: percentile bootstrap" in body and "strict" in body
    assert "| digits | persian |" in body and "| max_length (subwords per window) | 128 |" in body
    assert "decoding `viterbi`" in body
    for section in ("## Intended use", "## Limitations", "## How to use"):
        assert section in body
    assert "research use only" in body and "team in the style of provincial economic news" in body


def test_card_of_a_crf_folder_and_of_an_evaluation(tmp_path):
    (tmp_path / "ner_config.json").write_text(json.dumps({"model_type": "crf", "entity_types": ["PER"],
                                                          "trained_on": "arman"}))
    out = write_model_card(tmp_path, {"test": METRICS["test"]}, path=tmp_path / "card.md", evaluated_on="peyma")
    card = out.read_text(encoding="utf-8")
    assert "A linear-chain CRF" in card and "(PER)" in card and "ARMAN" in card
    assert "On the data config `peyma`" in card and not (tmp_path / "README.md").exists()


@pytest.mark.slow
def test_every_training_run_writes_the_card_of_its_model(trained_run):
    run_dir, out = trained_run
    card = (out["model_dir"] / "README.md").read_text(encoding="utf-8")
    metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    f1 = {m["type"]: m["value"] for m in front_matter(card)["model-index"][0]["results"][0]["metrics"]}["f1"]
    assert f1 == round(metrics["test"]["strict"]["micro"]["f1"], 4)
    assert "| train | 8 |" in card and "test fixtures" in card
