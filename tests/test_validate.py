"""The corpus validator, audit and statistics on small hand-made corpora."""
import shutil

import pytest

from conftest import FIXTURES
from ner.data.corpus.stats import corpus_stats
from ner.data.corpus.validate import audit, load_corpus, structural_errors, validate
from ner.data.documents import Document, Span
from ner.data.io import write_jsonl

NEGATIVES = "خوشه‌های صنعتی، بمب خوشه‌ای، خوشه انگور، نمونه‌گیری خوشه‌ای، خوشه‌بندی و خوشه پروین."


def doc(i, text, *spans):
    return Document(i, text, [Span(*s) for s in spans])


def test_structural_errors_are_named():
    t = "تهران " + NEGATIVES
    splits = {
        "train": [doc("a", t, (0, 5, "LOC")), doc("b", "بمب خوشه‌ای " + NEGATIVES, (0, 11, "CLUSTER"))],
        "dev": [doc("a", "تهران و رشت " + NEGATIVES), doc("c", t)],
        "test": [doc("d", "متن بی‌ربط کوتاه")],
    }
    errors = "\n".join(structural_errors(splits))
    assert "dev: document 'a' also in train" in errors
    assert "dev: document 'c' has the same text as 'a'" in errors
    assert "hard negative «بمب خوشه‌ای» is inside a CLUSTER span" in errors
    assert "test: no example of the hard negative «خوشه انگور»" in errors
    assert "leakage: train/a and dev/c" in errors


def test_audit_finds_label_conflicts_and_bare_mentions_and_honours_exceptions():
    splits = {"train": [doc("a", "بانک ملی در تهران", (0, 8, "ORG"), (12, 17, "LOC")),
                        doc("b", "تهران مهم است", (0, 5, "ORG")),
                        doc("c", "سفر به تهران و صادرات عسل", (22, 25, "CLUSTER")),
                        doc("d", "تولید عسل", )]}
    findings, explained = audit(splits)
    text = "\n".join(findings)
    assert "(a) «تهران» has several labels: LOC x1 (e.g. a); ORG x1 (e.g. b)" in text
    assert "(b) «تهران» annotated 2x as LOC/ORG but bare 1x: c@7" in text
    assert "(b) «عسل»" in text and explained == 0
    findings, explained = audit(splits, {"unannotated": {"عسل": "commodity"}, "multi_label": {"خوشه": "stale"}})
    assert not any("«عسل»" in f for f in findings) and explained == 1
    assert any("(c)" in f and "«خوشه»" in f for f in findings)


def test_audit_compares_whole_words_and_spelling_variants():
    splits = {"train": [doc("a", "صادرات به ترکیه", (10, 15, "LOC")),
                        doc("b", "کالای ترکیه‌ای و تركيه", )]}
    findings, _ = audit(splits)
    assert findings == ["(b) «ترکیه» annotated 1x as LOC but bare 1x: b@17"]  # Arabic spelling, not the adjective


def test_validate_fixture_corpus_and_stats(tmp_path):
    for split in ("train", "dev", "test"):
        shutil.copy(FIXTURES / f"{split}.jsonl", tmp_path / f"{split}.jsonl")
    f = validate(tmp_path)
    assert f.errors and all("hard negative" in e for e in f.errors)  # the fixture's dev/test are tiny
    splits, errors = load_corpus(tmp_path)
    stats = corpus_stats(splits)
    row = stats["splits"]["all"]
    assert (row["documents"], row["CLUSTER"], row["MONEY"], row["PER"]) == (12, 18, 12, 12)
    assert stats["splits"]["test"]["documents"] == 2
    unseen = stats["unseen_in_train"]["test"]["CLUSTER"]
    assert unseen == {"distinct": 2, "unseen_distinct": 2, "unseen_mentions": 2}


def test_schema_errors_are_reported_not_raised(tmp_path):
    write_jsonl([doc("a", "تهران", (0, 5, "LOC"))], tmp_path / "train.jsonl")
    (tmp_path / "dev.jsonl").write_text("{broken\n", encoding="utf-8")
    f = validate(tmp_path)
    assert any("dev.jsonl:1: invalid JSON" in e for e in f.errors)
    assert any("test.jsonl: missing" in e for e in f.errors)


@pytest.mark.parametrize("split", ["train", "dev", "test"])
def test_the_team_corpus_is_valid(split):
    splits, errors = load_corpus(FIXTURES.parents[1] / "data" / "annotations")
    assert errors == [] and len(splits[split]) >= 50
