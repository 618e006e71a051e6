"""Scoring and reports: seqeval scores, bootstrap intervals, error analysis, the HTML page, the report folder.

Imports only ``ner.data``; a predictor is passed in, never imported. Inside: ``scoring`` <- ``bootstrap``,
``error_analysis`` <- ``html_report`` <- ``report``.
"""
