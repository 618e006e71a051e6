"""A lean pre-LayerNorm encoder for pretraining, with the exact maths of Hugging Face's RoBERTa-PreLayerNorm.

Pretraining runs this module, not the Hugging Face one: one fused QKV projection, PyTorch's
``scaled_dot_product_attention`` (flash attention when no mask is given), positions supplied per token so packed
documents restart at 1, and no per-call Python overhead worth compiling around. ``to_hf_state_dict`` renames (and
splits the QKV weight) into ``RobertaPreLayerNormForMaskedLM`` names, so the saved encoder loads with
``AutoModelForTokenClassification`` like any other; a test checks both give the same hidden states.

Objectives: ``MaskedLm`` (BERT masking, the vocabulary projected only at the masked positions) and
``ReplacedTokenDetection`` (ELECTRA: a smaller generator fills the masks, the encoder learns which tokens were
replaced, so every position gives signal: more signal per pass over a small corpus).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class EncoderSizes:
    vocab_size: int
    hidden_size: int = 512
    num_layers: int = 6
    num_heads: int = 8
    intermediate_size: int = 2048
    max_positions: int = 512          # real positions; Hugging Face's table has pad_token_id + 2 more rows
    pad_token_id: int = 0
    dropout: float = 0.1              # during pretraining (0 lets a CPU skip the costly random masks)
    layer_norm_eps: float = 1e-12
    finetune_dropout: float = 0.1     # what the saved config asks of fine-tuning

    def hf_config(self, **extra):
        """The ``RobertaPreLayerNormConfig`` of the same encoder (positions numbered from pad_token_id + 1)."""
        from transformers import RobertaPreLayerNormConfig

        return RobertaPreLayerNormConfig(
            vocab_size=self.vocab_size, hidden_size=self.hidden_size, num_hidden_layers=self.num_layers,
            num_attention_heads=self.num_heads, intermediate_size=self.intermediate_size,
            hidden_dropout_prob=self.finetune_dropout, attention_probs_dropout_prob=self.finetune_dropout,
            max_position_embeddings=self.max_positions + self.pad_token_id + 2, type_vocab_size=2,
            pad_token_id=self.pad_token_id, layer_norm_eps=self.layer_norm_eps,
            architectures=["RobertaPreLayerNormForMaskedLM"], **extra)

    def to_dict(self) -> dict:
        return asdict(self)


class Block(nn.Module):
    """x + Attn(LN(x)), then x + FFN(LN(x)): RoBERTa-PreLayerNorm's layer."""

    def __init__(self, s: EncoderSizes):
        super().__init__()
        self.heads, self.p = s.num_heads, s.dropout
        self.ln_attn = nn.LayerNorm(s.hidden_size, eps=s.layer_norm_eps)
        self.qkv = nn.Linear(s.hidden_size, 3 * s.hidden_size)
        self.attn_out = nn.Linear(s.hidden_size, s.hidden_size)
        self.ln_ffn = nn.LayerNorm(s.hidden_size, eps=s.layer_norm_eps)
        self.ffn_in = nn.Linear(s.hidden_size, s.intermediate_size)
        self.ffn_out = nn.Linear(s.intermediate_size, s.hidden_size)
        self.drop = nn.Dropout(s.dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(self.ln_attn(x)).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=self.p if self.training else 0.0)
        x = x + self.drop(self.attn_out(a.transpose(1, 2).reshape(b, n, d)))
        return x + self.drop(self.ffn_out(F.gelu(self.ffn_in(self.ln_ffn(x)))))


class LeanEncoder(nn.Module):
    """Embeddings (word + position + token type 0, LayerNorm), pre-LN blocks, final LayerNorm."""

    def __init__(self, s: EncoderSizes):
        super().__init__()
        self.sizes = s
        self.word = nn.Embedding(s.vocab_size, s.hidden_size)
        self.position = nn.Embedding(s.max_positions + s.pad_token_id + 2, s.hidden_size)
        self.token_type = nn.Embedding(2, s.hidden_size)
        self.ln_embed = nn.LayerNorm(s.hidden_size, eps=s.layer_norm_eps)
        self.drop = nn.Dropout(s.dropout)
        self.blocks = nn.ModuleList(Block(s) for _ in range(s.num_layers))
        self.ln_final = nn.LayerNorm(s.hidden_size, eps=s.layer_norm_eps)
        self.apply(_init_weights)

    def forward(self, input_ids: torch.Tensor, positions: torch.Tensor | None = None,
                mask: torch.Tensor | None = None, inputs_embeds: torch.Tensor | None = None) -> torch.Tensor:
        """``positions``: 0 for the first token of a sequence (shifted here to Hugging Face's numbering);
        ``mask``: boolean ``(batch, 1, n, n)``, True where attention is allowed, or None for full attention."""
        if positions is None:
            positions = torch.arange(input_ids.shape[1], device=input_ids.device).expand_as(input_ids)
        x = self.word(input_ids) if inputs_embeds is None else inputs_embeds
        x = x + self.position(positions + self.sizes.pad_token_id + 1) + self.token_type.weight[0]
        x = self.drop(self.ln_embed(x))
        for block in self.blocks:
            x = block(x, mask)
        return self.ln_final(x)


class LmHead(nn.Module):
    """dense -> GELU -> LayerNorm -> the (tied) word embeddings + bias, as RoBERTa's masked-LM head."""

    def __init__(self, s: EncoderSizes):
        super().__init__()
        self.dense = nn.Linear(s.hidden_size, s.hidden_size)
        self.ln = nn.LayerNorm(s.hidden_size, eps=s.layer_norm_eps)
        self.bias = nn.Parameter(torch.zeros(s.vocab_size))
        self.apply(_init_weights)

    def forward(self, h: torch.Tensor, embeddings: torch.Tensor) -> torch.Tensor:
        return F.linear(self.ln(F.gelu(self.dense(h))), embeddings, self.bias)


def _init_weights(m: nn.Module) -> None:
    if isinstance(m, (nn.Linear, nn.Embedding)):
        nn.init.normal_(m.weight, std=0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, nn.LayerNorm):
        nn.init.ones_(m.weight)
        nn.init.zeros_(m.bias)


class MaskedLm(nn.Module):
    """Masked-LM loss with the vocabulary projection computed at the masked positions only (a fixed number
    per row, so shapes are static and ``torch.compile`` does not recompile)."""

    objective = "mlm"

    def __init__(self, s: EncoderSizes):
        super().__init__()
        self.encoder = LeanEncoder(s)
        self.head = LmHead(s)

    def forward(self, batch: dict) -> dict:
        h = self.encoder(batch["masked_ids"], batch["positions"], batch.get("mask"))
        picked = torch.gather(h, 1, batch["mask_index"].unsqueeze(-1).expand(-1, -1, h.shape[-1]))
        logits = self.head(picked, self.encoder.word.weight).float()
        loss = F.cross_entropy(logits.flatten(0, 1), batch["targets"].flatten())
        return {"loss": loss, "mlm_loss": loss.detach()}


class ReplacedTokenDetection(nn.Module):
    """ELECTRA: a generator (the same width, ``generator_layers`` deep, sharing the word and position
    embeddings) predicts the masked tokens; its samples replace them; the encoder (the discriminator) labels
    every token original or replaced. Loss = generator MLM + ``rtd_weight`` x discriminator BCE."""

    objective = "rtd"

    def __init__(self, s: EncoderSizes, generator_layers: int = 2, rtd_weight: float = 50.0):
        super().__init__()
        self.encoder = LeanEncoder(s)
        gen = EncoderSizes(**{**s.to_dict(), "num_layers": generator_layers})
        self.generator = LeanEncoder(gen)
        self.generator.word = self.encoder.word          # shared embeddings, as in ELECTRA
        self.generator.position = self.encoder.position
        self.head = LmHead(gen)
        self.rtd = nn.Linear(s.hidden_size, 1)
        self.rtd_weight = rtd_weight

    def forward(self, batch: dict) -> dict:
        ids, index, targets = batch["masked_ids"], batch["mask_index"], batch["targets"]
        g = self.generator(ids, batch["positions"], batch.get("mask"))
        picked = torch.gather(g, 1, index.unsqueeze(-1).expand(-1, -1, g.shape[-1]))
        logits = self.head(picked, self.encoder.word.weight).float()
        mlm = F.cross_entropy(logits.flatten(0, 1), targets.flatten())
        with torch.no_grad():  # sample replacements (Gumbel-max); no gradient flows back through the sample
            gumbel = -torch.log(-torch.log(torch.rand_like(logits).clamp_(1e-9, 1.0)))
            sampled = (logits + gumbel).argmax(-1)
            corrupted = batch["original_ids"].scatter(1, index, sampled)
            replaced = (corrupted != batch["original_ids"]).float()
        h = self.encoder(corrupted, batch["positions"], batch.get("mask"))
        scores = self.rtd(h).squeeze(-1).float()
        weight = batch["maskable"].float()
        bce = (F.binary_cross_entropy_with_logits(scores, replaced, reduction="none") * weight).sum() / weight.sum()
        with torch.no_grad():
            acc = (((scores > 0).float() == replaced).float() * weight).sum() / weight.sum()
        return {"loss": mlm + self.rtd_weight * bce, "mlm_loss": mlm.detach(), "rtd_loss": bce.detach(),
                "rtd_accuracy": acc}


def build_objective(name: str, sizes: EncoderSizes, **options) -> nn.Module:
    if name == "mlm":
        return MaskedLm(sizes)
    if name == "rtd":
        return ReplacedTokenDetection(sizes, **options)
    raise ValueError(f"pretraining objective must be 'mlm' or 'rtd', not {name!r}")


# --- Hugging Face names ------------------------------------------------------------------------------------

_EMBED = {"word.weight": "embeddings.word_embeddings.weight",
          "position.weight": "embeddings.position_embeddings.weight",
          "token_type.weight": "embeddings.token_type_embeddings.weight",
          "ln_embed.weight": "embeddings.LayerNorm.weight", "ln_embed.bias": "embeddings.LayerNorm.bias",
          "ln_final.weight": "LayerNorm.weight", "ln_final.bias": "LayerNorm.bias"}
_BLOCK = {"ln_attn": "attention.LayerNorm", "attn_out": "attention.output.dense", "ln_ffn": "intermediate.LayerNorm",
          "ffn_in": "intermediate.dense", "ffn_out": "output.dense"}


def to_hf_state_dict(objective: nn.Module, prefix: str = "roberta_prelayernorm.") -> dict[str, torch.Tensor]:
    """The encoder (and, for the masked-LM objective, its head) under ``RobertaPreLayerNormForMaskedLM`` names."""
    enc = objective.encoder
    sd = {k: v for k, v in enc.state_dict().items()}
    out = {prefix + hf: sd[k] for k, hf in _EMBED.items()}
    for i in range(len(enc.blocks)):
        p, hp = f"blocks.{i}.", f"{prefix}encoder.layer.{i}."
        for k, hf in _BLOCK.items():
            for t in ("weight", "bias"):
                out[f"{hp}{hf}.{t}"] = sd[f"{p}{k}.{t}"]
        for t in ("weight", "bias"):
            q, k_, v = sd[f"{p}qkv.{t}"].chunk(3, dim=0)
            out[f"{hp}attention.self.query.{t}"] = q
            out[f"{hp}attention.self.key.{t}"] = k_
            out[f"{hp}attention.self.value.{t}"] = v
    if isinstance(objective, MaskedLm):
        h = objective.head.state_dict()
        out.update({"lm_head.dense.weight": h["dense.weight"], "lm_head.dense.bias": h["dense.bias"],
                    "lm_head.layer_norm.weight": h["ln.weight"], "lm_head.layer_norm.bias": h["ln.bias"],
                    "lm_head.bias": h["bias"], "lm_head.decoder.weight": sd["word.weight"],
                    "lm_head.decoder.bias": h["bias"]})
    return {k: v.detach().clone().contiguous() for k, v in out.items()}


def hf_masked_lm(objective: nn.Module, sizes: EncoderSizes, dtype: torch.dtype = torch.float32, **config_extra):
    """A ``RobertaPreLayerNormForMaskedLM`` holding the lean encoder's weights (for saving and checks)."""
    from transformers import RobertaPreLayerNormForMaskedLM

    config = sizes.hf_config(**config_extra)
    model = RobertaPreLayerNormForMaskedLM(config)
    missing, unexpected = model.load_state_dict(to_hf_state_dict(objective), strict=False)
    unexpected = [k for k in unexpected if not k.startswith("lm_head.decoder")]
    # without an LM head (RTD) only lm_head.* may be missing; every encoder weight must have arrived
    missing = [k for k in missing if not k.startswith("lm_head.") or isinstance(objective, MaskedLm)]
    missing = [k for k in missing if "position_ids" not in k and "token_type_ids" not in k]
    if missing or unexpected:
        raise RuntimeError(f"lean -> Hugging Face weights: missing {missing}, unexpected {unexpected}")
    return model.to(dtype)
