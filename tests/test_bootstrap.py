"""Bootstrap intervals and the paired test: exact on cases with a known answer, equal to seqeval on the full set."""
import json
import os
import random
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT

from ner.evaluation.bootstrap import (
    bootstrap_ci,
    compare_systems,
    comparison_markdown,
    intervals_markdown,
    paired_bootstrap,
    point_scores,
    strict_counts,
)
from ner.evaluation.scoring import score

TYPES = ["ORG", "PER", "LOC"]


def random_tags(rng: random.Random, n_words: int, p_entity: float = 0.3) -> list[str]:
    tags, k = [], 0
    while k < n_words:
        if rng.random() < p_entity:
            t, length = rng.choice(TYPES), rng.randint(1, 3)
            tags += [f"B-{t}"] + [f"I-{t}"] * (length - 1)
            k += length
        else:
            tags.append("O")
            k += 1
    return tags[:n_words]


def noisy(rng: random.Random, tags: list[str], p: float) -> list[str]:
    """A worse system: some tags replaced at random (orphan I- tags included, which seqeval strict drops)."""
    choices = ["O", *(f"{p}-{t}" for t in TYPES for p in "BI")]
    return [rng.choice(choices) if rng.random() < p else t for t in tags]


@pytest.fixture(scope="module")
def corpus():
    rng = random.Random(7)
    gold = [random_tags(rng, rng.randint(5, 40)) for _ in range(60)]
    good = [noisy(rng, g, 0.03) for g in gold]
    bad = [noisy(rng, g, 0.35) for g in gold]
    return gold, good, bad


def test_counts_give_seqeval_strict_on_the_full_set(corpus):
    gold, good, bad = corpus
    for pred in (good, bad):
        strict = score(gold, pred, TYPES)["strict"]
        point = point_scores(strict_counts(gold, pred, TYPES), TYPES)
        for k in ("precision", "recall", "f1"):
            assert point["micro"][k] == pytest.approx(strict["micro"][k], abs=1e-12)
        for t in TYPES:
            assert point["per_type"][t] == pytest.approx(strict["per_type"][t]["f1"], abs=1e-12)
    assert point["micro"]["f1"] < 0.9  # the noisy system really is imperfect


def test_counts_respect_the_scored_types():
    counts = strict_counts([["B-ORG", "I-ORG", "B-PER"]], [["B-ORG", "I-ORG", "O"]], ["ORG"])
    assert counts.shape == (1, 1, 3) and counts[0, 0].tolist() == [1, 1, 1]


def test_identical_documents_give_a_zero_width_interval_at_the_true_f1():
    gold = [["B-ORG", "I-ORG", "O", "B-PER", "B-LOC"]] * 20
    pred = [["B-ORG", "O", "O", "B-PER", "B-ORG"]] * 20  # 1 of 3 right: P = R = F1 = 1/3
    ci = bootstrap_ci(strict_counts(gold, pred, TYPES), TYPES, n=200, seed=1)
    f1 = ci["micro"]["f1"]
    assert (f1["value"], f1["low"], f1["high"]) == pytest.approx((1 / 3, 1 / 3, 1 / 3))
    assert ci["per_type"]["PER"]["f1"] == {"value": 1.0, "low": 1.0, "high": 1.0, "undefined": 0}
    assert ci["per_type"]["ORG"]["f1"]["high"] == 0.0


def test_perfect_predictions_give_one_one(corpus):
    gold, _, _ = corpus
    ci = bootstrap_ci(strict_counts(gold, gold, TYPES), TYPES, n=300)
    for iv in [ci["micro"]["f1"], ci["micro"]["precision"], *(ci["per_type"][t]["f1"] for t in TYPES)]:
        assert (iv["value"], iv["low"], iv["high"]) == (1.0, 1.0, 1.0)


def test_interval_brackets_the_estimate_and_is_reproducible(corpus):
    gold, _, bad = corpus
    counts = strict_counts(gold, bad, TYPES)
    ci = bootstrap_ci(counts, TYPES, n=500, seed=3)
    f1 = ci["micro"]["f1"]
    assert f1["low"] < f1["value"] < f1["high"] and f1["high"] - f1["low"] < 0.5
    assert bootstrap_ci(counts, TYPES, n=500, seed=3) == ci
    assert bootstrap_ci(counts, TYPES, n=500, seed=4)["micro"]["f1"] != f1
    assert json.loads(json.dumps(ci)) == ci  # no NaN, plain JSON
    assert "micro f1" in intervals_markdown(ci) and "500 resamples of 60 documents" in intervals_markdown(ci)


def test_undefined_replicates_are_left_out_not_counted_as_zero():
    """A type present in one document only: resamples without it have no F1 for that type."""
    gold = [["B-ORG"]] + [["B-PER"]] * 9
    ci = bootstrap_ci(strict_counts(gold, gold, TYPES), TYPES, n=400)
    org = ci["per_type"]["ORG"]["f1"]
    assert org["undefined"] > 50 and (org["low"], org["high"]) == (1.0, 1.0)
    assert ci["per_type"]["LOC"]["f1"] == {"value": 0.0, "low": None, "high": None, "undefined": 400}


def test_paired_test_of_identical_systems(corpus):
    gold, good, _ = corpus
    counts = strict_counts(gold, good, TYPES)
    test = paired_bootstrap(counts, counts.copy(), TYPES, n=300)
    for r in [test["micro"]["f1"], *(test["per_type"][t]["f1"] for t in TYPES)]:
        assert r["difference"] == 0.0 and r["p_value"] == 1.0 and (r["low"], r["high"]) == (0.0, 0.0)


def test_paired_test_finds_a_clearly_better_system(corpus):
    gold, good, bad = corpus
    test = compare_systems(gold, bad, good, TYPES, n=1000, seed=0)
    micro = test["micro"]["f1"]
    assert micro["b"] > micro["a"] and micro["difference"] == pytest.approx(micro["b"] - micro["a"])
    assert micro["p_value"] < 0.01 and 0 < micro["low"] < micro["difference"] < micro["high"]
    for t in TYPES:
        assert test["per_type"][t]["f1"]["p_value"] < 0.05, t
    # The other way round: the same evidence, the sign flips.
    back = compare_systems(gold, good, bad, TYPES, n=1000, seed=0)["micro"]["f1"]
    assert back["difference"] == pytest.approx(-micro["difference"]) and back["p_value"] < 0.01
    table = comparison_markdown(test, "runs/bad", "runs/good")
    assert "| micro |" in table and "A = runs/bad" in table and f"{micro['p_value']:.4f}" in table


def test_paired_test_needs_the_same_gold():
    a = strict_counts([["B-ORG"]], [["B-ORG"]], TYPES)
    b = strict_counts([["B-PER"]], [["B-ORG"]], TYPES)
    with pytest.raises(ValueError, match="different gold"):
        paired_bootstrap(a, b, TYPES)


def test_an_empty_set_has_no_interval():
    ci = bootstrap_ci(np.zeros((0, 3, 3), dtype=int), TYPES, n=10)
    assert ci["micro"]["f1"] == {"value": 0.0, "low": None, "high": None} and ci["documents"] == 0
    assert "n/a" in intervals_markdown(ci)


@pytest.mark.slow
def test_compare_script_on_a_run_against_itself(trained_run, tmp_path):
    run_dir, _ = trained_run
    env = dict(os.environ, HF_HUB_OFFLINE="1", PROJECT_ROOT=str(ROOT))
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "compare.py"), str(run_dir), str(run_dir / "model"),
                           "data=fixtures", "n=200", f"out={tmp_path}"], capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "| micro |" in proc.stdout and "fixtures/test" in proc.stdout
    result = json.loads((tmp_path / "comparison.json").read_text(encoding="utf-8"))
    assert result["micro"]["f1"]["difference"] == 0.0 and result["micro"]["f1"]["p_value"] == 1.0
    assert (tmp_path / "comparison.md").read_text(encoding="utf-8").count("| ") > 10
    bad = subprocess.run([sys.executable, str(ROOT / "scripts" / "compare.py"), str(run_dir), str(run_dir),
                          "spilt=test"], capture_output=True, text=True, env=env, timeout=300)
    assert bad.returncode == 2 and "unknown option 'spilt'" in bad.stderr
