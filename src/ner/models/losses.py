"""Partial-annotation training: the marginal likelihood over the tags consistent with the annotation.

A corpus that does not annotate type X cannot tell ``O`` from X: an ``O`` token from it may really be
``B-X`` or ``I-X``. Its gold *set* is {O} ∪ {B-X, I-X for every X the corpus does not annotate}, and the loss
is ``-log sum_{y in gold set} p(y)`` (Greenberg et al. 2018, token-level form). For a corpus that annotates
everything the set is the single gold tag and the loss is the usual cross-entropy.
Allowed sets travel as integer bit masks (bit k = tag id k), one per first subword, 0 = ignored position.
"""
from __future__ import annotations

from collections.abc import Sequence

from ner.data.labels import OUTSIDE, split_tag


def allowed_tag_masks(tags: Sequence[str], annotates: Sequence[str], label2id: dict[str, int]) -> list[int]:
    """Bit mask of the tags each word may truly have, given what its corpus annotates."""
    unannotated = [t for t in label2id if t != OUTSIDE and split_tag(t)[1] not in set(annotates)]
    o_mask = 1 << label2id[OUTSIDE]
    for t in unannotated:
        o_mask |= 1 << label2id[t]
    return [o_mask if t == OUTSIDE else 1 << label2id[t] for t in tags]


def partial_label_nll(logits, label_mask, reduction: str = "mean"):
    """Mean (or, with ``reduction="sum"``, sum) over non-ignored positions of
    ``-logsumexp(log_softmax(logits)[allowed])``."""
    import torch

    num_labels = logits.shape[-1]
    bits = (label_mask.unsqueeze(-1) >> torch.arange(num_labels, device=logits.device)) & 1
    logp = torch.log_softmax(logits.float(), dim=-1).masked_fill(bits == 0, float("-inf"))
    valid = label_mask > 0
    if not valid.any():
        return logits.sum() * 0.0
    nll = -torch.logsumexp(logp[valid], dim=-1)
    return nll.sum() if reduction == "sum" else nll.mean()
