"""Domain-adaptive masked-LM pretraining: unlabeled-news readers, masking, the pretraining run."""
