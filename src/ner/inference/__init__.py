"""Tagging at archive scale on top of ``NerPredictor``: streamed inputs, resumable outputs in the annotators'
formats (``outputs``), the single-process loop (``streaming``) and the Ray Data engine (``ray_engine``)."""
