"""Fine-tuning runs: documents -> features, the HF ``Trainer``, the run folder with model and reports.

The top of the pipeline: it draws on every layer below (data, models, evaluation, predictor).
"""
