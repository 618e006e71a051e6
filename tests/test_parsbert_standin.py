"""The path real users take with ParsBERT, offline: a hub-shaped folder (vocab.txt + slow BertTokenizer config,
do_lower_case, [ZWNJ] in the vocabulary; tests/standin.py) through scripts/train.py model=parsbert
model.name_or_path=DIR, scripts/evaluate.py and scripts/predict.py. BERT's basic tokenizer drops ZWNJ as a
control character and some words tokenise to nothing; offsets must still be those of the caller's text."""
import json
import shutil

import pytest

from conftest import ROOT, run_script
from standin import build_parsbert_standin

ERASED = "\u0300"  # a lone combining mark: our normaliser keeps it, BERT's accent stripping erases it
TEXT = f"شرکت شهرک\u200cهای صنعتی {ERASED} استان گیلان ـ ۵۳۰ میلیارد تومان 😀 به خوشه صنعتی چای"


def _tokenizer(path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(path))


def test_the_standin_tokenizes_like_parsbert(parsbert_standin):
    tok = _tokenizer(parsbert_standin)
    assert json.loads((parsbert_standin / "tokenizer_config.json").read_text())["do_lower_case"] is True
    assert (parsbert_standin / "vocab.txt").is_file() and not (parsbert_standin / "tokenizer.json").exists()
    assert "[ZWNJ]" in tok.get_vocab()
    assert tok.tokenize("شهرک\u200cهای") == ["شهرکهای"]  # ZWNJ dropped as a control character: the halves merge
    assert tok.tokenize(ERASED) == []  # a word that tokenises to nothing
    assert tok.tokenize("TEHRAN") == tok.tokenize("tehran")  # uncased
    assert len(tok.tokenize("۵۳۰")) == 3  # a rarer word splits into ## pieces


def test_erased_words_keep_a_position_with_fast_and_python_tokenizers(parsbert_standin, tmp_path):
    """Words the tokenizer erases (or the normaliser empties: a lone tatweel) get one [UNK] each, so every word
    keeps its label position; a folder naming the Python ``BertTokenizerLegacy`` (no word_ids()) gives the same
    pieces as the tokenizers-backed BertTokenizer."""
    from ner.data.normalize import Normalizer
    from ner.data.words import split_words
    from ner.models.alignment import SubwordAligner

    legacy = build_parsbert_standin(tmp_path / "legacy", legacy_tokenizer_class=True)
    words = [w.text for w in split_words(TEXT)]
    assert ERASED in words and "ـ" in words
    fast_tok, slow_tok = _tokenizer(parsbert_standin), _tokenizer(legacy)
    assert fast_tok.is_fast and not slow_tok.is_fast
    fast = SubwordAligner(fast_tok, Normalizer(), 64).word_pieces([words])[0]
    slow = SubwordAligner(slow_tok, Normalizer(), 64).word_pieces([words])[0]
    assert fast == slow and len(fast) == len(words) and all(fast)
    unk = fast_tok.unk_token_id
    assert fast[words.index(ERASED)] == [unk] and fast[words.index("ـ")] == [unk]
    assert fast[words.index("شهرک\u200cهای")] == fast_tok.convert_tokens_to_ids(["شهرکهای"])


@pytest.fixture(scope="module")
def parsbert_run(parsbert_standin, tmp_path_factory):
    run = tmp_path_factory.mktemp("parsbert_run") / "r"
    proc = run_script("train.py", "experiment=smoke", "model=parsbert", f"model.name_or_path={parsbert_standin}",
                   "training.learning_rate=2e-2", "report.bootstrap_samples=50", f"hydra.run.dir={run}")
    assert "Example prediction" in proc.stdout
    return run


@pytest.mark.slow
def test_train_evaluate_predict_with_the_parsbert_shaped_model(parsbert_run, parsbert_standin, tmp_path):
    config = json.loads((parsbert_run / "model" / "config.json").read_text())
    assert config["model_type"] == "bert" and config["vocab_size"] == len(_tokenizer(parsbert_standin))
    assert config["id2label"]["1"] == "B-ORG"
    assert "name_or_path: " + str(parsbert_standin) in (parsbert_run / "config.yaml").read_text()

    out = tmp_path / "eval"
    run_script("evaluate.py", f"model_path={parsbert_run / 'model'}", "data=fixtures", "splits=[dev,test]",
            "report.bootstrap_samples=50", f"hydra.run.dir={out}")
    assert json.loads((out / "metrics.json").read_text()) == json.loads((parsbert_run / "metrics.json").read_text())

    inp, res = tmp_path / "in.txt", tmp_path / "out.jsonl"
    inp.write_text(TEXT + "\n" + ERASED + "\n", encoding="utf-8")
    run_script("predict.py", f"model_path={parsbert_run / 'model'}", f"input={inp}", f"output={res}")
    rows = [json.loads(line) for line in res.read_text(encoding="utf-8").splitlines()]
    assert [r["text"] for r in rows] == [TEXT, ERASED]
    for r in rows:
        for e in r["entities"]:
            assert r["text"][e["start"]:e["end"]] == e["text"]  # offsets into the text as given, ZWNJ included


@pytest.mark.slow
def test_a_python_tokenizer_folder_predicts_the_same_entities(parsbert_run, tmp_path):
    """The trained model with its tokenizer files replaced by a BertTokenizerLegacy folder (vocab.txt): the
    predictor falls back to word-by-word tokenisation and finds exactly the same entities."""
    from ner import NerPredictor

    legacy = tmp_path / "legacy_model"
    shutil.copytree(parsbert_run / "model", legacy)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"):
        (legacy / name).unlink(missing_ok=True)
    tok = _tokenizer(parsbert_run / "model")
    vocab = sorted(tok.get_vocab().items(), key=lambda kv: kv[1])
    (legacy / "vocab.txt").write_text("\n".join(t for t, _ in vocab) + "\n", encoding="utf-8")
    (legacy / "tokenizer_config.json").write_text(json.dumps(
        {"tokenizer_class": "BertTokenizerLegacy", "do_lower_case": True, "model_max_length": 512}), encoding="utf-8")
    fast = NerPredictor.from_pretrained(parsbert_run / "model")
    slow = NerPredictor.from_pretrained(legacy)
    assert not slow.tokenizer.is_fast
    texts = [TEXT, ERASED, (ROOT / "tests" / "fixtures" / "source.txt").read_text(encoding="utf-8")]
    assert slow.predict(texts) == fast.predict(texts)
