import math

import pytest
import torch

from ner.data.labels import bio_tags
from ner.models.losses import allowed_tag_masks, partial_label_nll

TAGS = bio_tags(["ORG", "MONEY"])  # O, B-ORG, I-ORG, B-MONEY, I-MONEY
L2I = {t: i for i, t in enumerate(TAGS)}


def bits(mask):
    return {TAGS[i] for i in range(len(TAGS)) if mask >> i & 1}


def test_o_of_a_corpus_without_money_may_be_money():
    masks = allowed_tag_masks(["B-ORG", "I-ORG", "O"], ["ORG"], L2I)
    assert bits(masks[0]) == {"B-ORG"} and bits(masks[1]) == {"I-ORG"}
    assert bits(masks[2]) == {"O", "B-MONEY", "I-MONEY"}
    assert [bits(m) for m in allowed_tag_masks(["O"], ["ORG", "MONEY"], L2I)] == [{"O"}]


def test_marginal_loss_hand_computed():
    # p = softmax(log [1, 2, 3, 4, 0+]) = [1, 2, 3, 4, ~0] / 10
    logits = torch.log(torch.tensor([[[1.0, 2.0, 3.0, 4.0, 1e-12]] * 3]))
    mask = torch.tensor([[
        1 << 0 | 1 << 3 | 1 << 4,   # {O, B-MONEY, I-MONEY}: -log(0.1 + 0.4 + 0) = -log 0.5
        1 << 2,                     # {I-ORG}: -log 0.3
        0,                          # ignored
    ]])
    expected = (-math.log(0.5) - math.log(0.3)) / 2
    assert partial_label_nll(logits, mask).item() == pytest.approx(expected, rel=1e-5)


def test_single_allowed_tag_is_cross_entropy_and_all_allowed_is_zero():
    torch.manual_seed(0)
    logits = torch.randn(2, 4, len(TAGS))
    gold = torch.randint(0, len(TAGS), (2, 4))
    ce = torch.nn.functional.cross_entropy(logits.view(-1, len(TAGS)), gold.view(-1))
    assert partial_label_nll(logits, 1 << gold).item() == pytest.approx(ce.item(), rel=1e-5)
    everything = torch.full((2, 4), (1 << len(TAGS)) - 1)
    assert partial_label_nll(logits, everything).item() == pytest.approx(0.0, abs=1e-5)


def test_marginal_loss_gradient_does_not_push_unannotated_types_down():
    logits = torch.zeros(1, 1, len(TAGS), requires_grad=True)
    partial_label_nll(logits, torch.tensor([[1 << 0 | 1 << 3 | 1 << 4]])).backward()
    g = logits.grad[0, 0]
    assert g[L2I["B-MONEY"]] < 0 and g[L2I["O"]] < 0      # allowed tags are pushed up together
    assert g[L2I["B-ORG"]] > 0                            # a contradicted tag is pushed down
