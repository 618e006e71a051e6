"""The bottom layer: documents, labels, words, normalisation, spans, readers/writers and corpus tooling.

Imports nothing else from ``ner`` and needs no torch, so the data tools run without a model.
"""
