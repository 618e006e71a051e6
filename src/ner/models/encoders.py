"""Building the tokenizer and the token-classification model: a pretrained (Pars)BERT, or a small BERT
built locally with no download (WordPiece trained on the training text, small ``BertConfig``)."""
from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from ner.data.normalize import Normalizer
from ner.models import hub

log = logging.getLogger(__name__)
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def train_wordpiece(texts: Iterable[str], vocab_size: int, min_frequency: int = 2, lowercase: bool = False):
    """A BERT WordPiece tokenizer trained on ``texts`` (already normalised), wrapped for ``transformers``."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import BertTokenizerFast

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=False,
                                                lowercase=lowercase)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, min_frequency=min_frequency,
                                        special_tokens=SPECIAL_TOKENS, continuing_subword_prefix="##")
    tok.train_from_iterator(texts, trainer=trainer)
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
                                                       special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)])
    tok.decoder = decoders.WordPiece(prefix="##")
    fast = BertTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]",
                             cls_token="[CLS]", mask_token="[MASK]", do_lower_case=lowercase)
    # transformers 5 ignores a vocab_file silently; make sure the trained vocabulary really is in use.
    if len(fast) != tok.get_vocab_size() or len(fast) <= len(SPECIAL_TOKENS):
        raise RuntimeError(f"tokenizer vocabulary was not taken over ({len(fast)} vs {tok.get_vocab_size()})")
    return fast


def label_config(tags: Sequence[str]) -> dict:
    return {"num_labels": len(tags), "id2label": dict(enumerate(tags)), "label2id": {t: i for i, t in enumerate(tags)}}


ARCHITECTURES = ("bert", "prenorm")


def encoder_config(arch: str, vocab_size: int, hidden_size: int, num_layers: int, num_heads: int,
                   intermediate_size: int, max_positions: int, pad_token_id: int, dropout: float = 0.1, **extra):
    """Config of a new encoder. ``bert``: BERT's post-LayerNorm blocks. ``prenorm``: the same sizes with
    LayerNorm before each sub-layer (RoBERTa-PreLayerNorm), which trains stably at the high learning rates a
    short pretraining budget needs (post-LN BERT sat on the unigram plateau here)."""
    from transformers import BertConfig, RobertaPreLayerNormConfig

    sizes = dict(vocab_size=vocab_size, hidden_size=hidden_size, num_hidden_layers=num_layers,
                 num_attention_heads=num_heads, intermediate_size=intermediate_size, hidden_dropout_prob=dropout,
                 attention_probs_dropout_prob=dropout, pad_token_id=pad_token_id, **extra)
    if arch == "bert":
        return BertConfig(max_position_embeddings=max_positions, **sizes)
    if arch == "prenorm":  # RoBERTa numbers positions from pad_token_id + 1
        return RobertaPreLayerNormConfig(max_position_embeddings=max_positions + pad_token_id + 2,
                                         type_vocab_size=2, **sizes)
    raise ValueError(f"model architecture must be one of {ARCHITECTURES}, not {arch!r}")


def build_small(texts: Iterable[str], tags: Sequence[str], cfg, tokenizer=None) -> tuple:
    """Tokenizer trained on ``texts`` plus a randomly initialised small encoder with a token-classification head.
    A given ``tokenizer`` is used instead of training one (WordPiece training is not reproducible between
    processes: under a launcher rank 0 trains it and hands it to the others)."""
    from transformers import AutoModelForTokenClassification

    if tokenizer is None:
        tokenizer = train_wordpiece(texts, vocab_size=cfg.vocab_size, min_frequency=cfg.get("min_frequency", 2))
    config = encoder_config(cfg.get("arch", "bert"), len(tokenizer), cfg.hidden_size, cfg.num_layers, cfg.num_heads,
                            cfg.intermediate_size, max(cfg.max_length, 128), tokenizer.pad_token_id,
                            cfg.get("dropout", 0.1), **label_config(tags))
    log.info("small %s: vocab %d, %d layers x %d hidden", cfg.get("arch", "bert"), len(tokenizer), cfg.num_layers,
             cfg.hidden_size)
    return tokenizer, AutoModelForTokenClassification.from_config(config)


def load_pretrained(name_or_path: str, tags: Sequence[str], dropout: float | None = None) -> tuple:
    """A hub name or local directory; the classification head is new when the label set differs. ``dropout``
    (``model.dropout``; None keeps the checkpoint's) sets BERT's hidden and attention dropout."""
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    tokenizer = hub.from_pretrained(AutoTokenizer, name_or_path)
    extra = {} if dropout is None else {"hidden_dropout_prob": float(dropout),
                                        "attention_probs_dropout_prob": float(dropout)}
    model = hub.from_pretrained(AutoModelForTokenClassification, name_or_path, ignore_mismatched_sizes=True,
                                **label_config(tags), **extra)
    return tokenizer, model


def build_model(model_cfg, tags: Sequence[str], train_texts: Iterable[str], tokenizer=None) -> tuple:
    if model_cfg.source == "small":
        return build_small(train_texts, tags, model_cfg, tokenizer)
    if model_cfg.source == "pretrained":
        return load_pretrained(model_cfg.name_or_path, tags, model_cfg.get("dropout"))
    raise ValueError(f"model.source must be 'small' or 'pretrained', not {model_cfg.source!r}")


def normalizer_from_config(cfg) -> Normalizer:
    return Normalizer(**dict(cfg))
