"""Encoders and what sits around them: building and loading models, word <-> subword alignment, losses, the CRF
baseline. Imports only ``ner.data``."""
