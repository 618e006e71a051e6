"""A ParsBERT-shaped stand-in model folder, built offline from the fixtures (no hub).

Shaped like a hub copy of HooshvareLab/bert-fa-*: ``config.json`` (BertForMaskedLM), ``model.safetensors``,
``vocab.txt`` and a ``tokenizer_config.json`` of a slow ``BertTokenizer`` (``do_lower_case``, so BERT's basic
tokenizer lower-cases, strips accents and drops control characters such as ZWNJ). The vocabulary is
ParsBERT-style: the frequent words of the fixtures whole, every character as a word start and as a ``##``
continuation (so rarer words split into several subwords), Persian digits, and the ``[ZWNJ]`` token of
bert-fa-zwnj-base. Weights are random (tiny: 1 layer x 32); the tests check the path, not the scores.
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[ZWNJ]"]


def fixture_words() -> Counter:
    """Words of the fixtures as BERT's basic tokenizer (uncased) sees them after our ParsBERT normalisation."""
    from transformers.models.bert.tokenization_bert_legacy import BasicTokenizer

    from ner.data.io import read_jsonl
    from ner.data.normalize import Normalizer

    norm, basic = Normalizer(), BasicTokenizer(do_lower_case=True)
    counts: Counter = Counter()
    for split in ("train", "dev", "test"):
        for doc in read_jsonl(FIXTURES / f"{split}.jsonl"):
            counts.update(basic.tokenize(norm(doc.text)))
    return counts


def build_vocab(min_count: int = 2) -> list[str]:
    counts = fixture_words()
    chars = sorted({c for w in counts for c in w} | set("۰۱۲۳۴۵۶۷۸۹") | set("abcdefghijklmnopqrstuvwxyz"))
    whole = sorted(w for w, n in counts.items() if n >= min_count and len(w) > 1)
    return SPECIAL + chars + [f"##{c}" for c in chars] + whole


def build_parsbert_standin(path: str | Path, legacy_tokenizer_class: bool = False, seed: int = 0) -> Path:
    """Write the stand-in folder. ``legacy_tokenizer_class``: record transformers 5's Python ``BertTokenizerLegacy``
    (what ``save_pretrained`` of that class writes) instead of the ``BertTokenizer`` a ParsBERT hub copy names."""
    import torch
    from transformers import BertConfig, BertForMaskedLM

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    vocab = build_vocab()
    (path / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    (path / "tokenizer_config.json").write_text(json.dumps({
        "do_lower_case": True, "do_basic_tokenize": True, "never_split": None, "strip_accents": None,
        "tokenize_chinese_chars": True, "model_max_length": 512,
        "tokenizer_class": "BertTokenizerLegacy" if legacy_tokenizer_class else "BertTokenizer",
        "unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]", "mask_token": "[MASK]",
    }, indent=2), encoding="utf-8")
    (path / "special_tokens_map.json").write_text(json.dumps({
        "unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]", "mask_token": "[MASK]",
    }, indent=2), encoding="utf-8")
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128, pad_token_id=0)
    BertForMaskedLM(config).save_pretrained(str(path))  # model.safetensors + config.json, as on the hub
    return path
