"""Persian named-entity recognition for news: ORG, PER, LOC, MONEY, CLUSTER.

``NerPredictor`` and ``Entity`` are imported lazily so that the data tools (readers, validation) work without torch.
"""
from ner.data.documents import AnnotationError, Document, Span
from ner.data.labels import ENTITY_TYPES

__all__ = ["ENTITY_TYPES", "AnnotationError", "Document", "Entity", "NerPredictor", "Span"]


def __getattr__(name: str):
    if name in ("NerPredictor", "Entity"):
        from ner import predictor

        return getattr(predictor, name)
    raise AttributeError(f"module 'ner' has no attribute {name!r}")
