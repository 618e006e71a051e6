"""Documents -> training features: sentences cut into windows of subwords with first-subword labels."""
from __future__ import annotations

from collections.abc import Sequence

from ner.data.datasets import sentence_units
from ner.data.documents import Document
from ner.data.labels import ENTITY_TYPES
from ner.models.alignment import SubwordAligner
from ner.models.losses import allowed_tag_masks


def encode_documents(docs: Sequence[Document], aligner: SubwordAligner, label2id: dict[str, int],
                     partial: bool = False, sentence_ids: list[int] | None = None) -> list[dict]:
    """Training features: one or more non-overlapping windows per sentence, first-subword labels; with
    ``partial``, also the allowed-tag masks of each word given what its corpus annotates (``ner.models.losses``).
    Given a ``sentence_ids`` list, appends each feature's sentence number to it (windows of one long sentence
    share it), so evaluation can decode whole sentences."""
    units, annotates = [], []
    for d in docs:
        for u in sentence_units(d):
            units.append(u)
            annotates.append(d.meta.get("annotates") or ENTITY_TYPES)
    pieces = aligner.word_pieces([w for w, _ in units])
    feats = []
    for k, ((_, tags), p, ann) in enumerate(zip(units, pieces, annotates)):
        masks = allowed_tag_masks(tags, ann, label2id) if partial else None
        for f in aligner.encode(p, [label2id[t] for t in tags], overlap=0, masks=masks):
            f.pop("word_index")
            feats.append(f)
            if sentence_ids is not None:
                sentence_ids.append(k)
    return feats
