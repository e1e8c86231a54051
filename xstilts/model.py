"""One shared XLM-R encoder with one head per task (jiant's design). Phase 2 keeps the encoder
and discards heads; phase 3 loads the encoder strictly and starts fresh heads."""

from __future__ import annotations

import json
import os

import torch
from torch import nn
from transformers import XLMRobertaConfig, XLMRobertaModel


def encoder_config(vocab_size: int, hidden_size: int, num_layers: int, num_heads: int, intermediate_size: int, max_positions: int = 514, dropout: float = 0.1) -> XLMRobertaConfig:
    return XLMRobertaConfig(
        vocab_size=vocab_size, hidden_size=hidden_size, num_hidden_layers=num_layers,
        num_attention_heads=num_heads, intermediate_size=intermediate_size,
        max_position_embeddings=max_positions, type_vocab_size=1, pad_token_id=1, bos_token_id=0,
        eos_token_id=2, hidden_dropout_prob=dropout, attention_probs_dropout_prob=dropout,
    )


def build_encoder(config: XLMRobertaConfig, pooler: bool = False) -> XLMRobertaModel:
    """``pooler``: HF's pooler (dense + tanh over <s>) is part of the encoder, as in jiant's XLM-R."""
    # SDPA attention: PyTorch's fused kernels (flash / memory-efficient) where the device has them.
    config._attn_implementation = "sdpa"
    return XLMRobertaModel(config, add_pooling_layer=pooler)


def has_pooler(encoder: XLMRobertaModel) -> bool:
    return encoder.pooler is not None


class ClassificationHead(nn.Module):
    """jiant's (and RoBERTa's) head: dropout, dense, tanh, dropout, projection, over the sentence
    summary: the encoder's ``pooler_output`` when it has a pooler (jiant), else the <s> state."""

    def __init__(self, hidden: int, num_labels: int, dropout: float):
        super().__init__()
        self.dense, self.out = nn.Linear(hidden, hidden), nn.Linear(hidden, num_labels)
        self.drop = nn.Dropout(dropout)

    def forward(self, summary, batch):
        x = self.drop(summary)
        return self.out(self.drop(torch.tanh(self.dense(x))))


class ChoiceHead(ClassificationHead):
    """Scores each (context, choice) encoding; the caller reshapes to [batch, n_choices]."""

    def __init__(self, hidden: int, num_labels: int, dropout: float):
        super().__init__(hidden, 1, dropout)


class TaggingHead(nn.Module):
    def __init__(self, hidden: int, num_labels: int, dropout: float):
        super().__init__()
        self.drop, self.out = nn.Dropout(dropout), nn.Linear(hidden, num_labels)

    def forward(self, hidden_states, batch):
        return self.out(self.drop(hidden_states))


class SpanHead(nn.Module):
    def __init__(self, hidden: int, num_labels: int, dropout: float):
        super().__init__()
        self.out = nn.Linear(hidden, 2)

    def forward(self, hidden_states, batch):
        return self.out(hidden_states)


class MLMHead(nn.Module):
    """XLM-R's LM head (dense, gelu, layer norm, decoder tied to the input embeddings)."""

    def __init__(self, hidden: int, vocab_size: int, embeddings: nn.Embedding):
        super().__init__()
        self.dense, self.norm = nn.Linear(hidden, hidden), nn.LayerNorm(hidden, eps=1e-5)
        self.embeddings = [embeddings]  # a list keeps the tied weight out of this module's state dict
        self.bias = nn.Parameter(torch.zeros(vocab_size))

    def forward(self, hidden_states, batch):
        if "labels" in batch:  # only masked positions are scored: ~7x less work than the full vocab projection
            hidden_states = hidden_states[batch["labels"] != -100]
        x = self.norm(nn.functional.gelu(self.dense(hidden_states)))
        return x @ self.embeddings[0].weight.T + self.bias


# Heads keep PyTorch's default initialisation, as jiant's heads do (plain nn.Linear layers that
# nothing re-initialises). Hugging Face's N(0, 0.02) was tried: at hidden 96 it slowed the embedded
# profile's short phase-3 runs (English PAWS-X 65 -> 51, XQuAD 50 -> 37 at seed 0).
HEADS = {"classification": ClassificationHead, "choice": ChoiceHead, "tagging": TaggingHead, "span": SpanHead}


def set_dropout(encoder: XLMRobertaModel, p: float) -> None:
    """Every dropout of ``encoder`` (embeddings, attention probabilities, hidden states) to ``p``, in
    its modules and in its config (saved with the encoder). A loaded encoder otherwise keeps the
    dropout it was saved with: XLM-R's 0.1 from the Hub, or phase 1's value, whatever
    ``model.dropout`` says."""
    encoder.config.hidden_dropout_prob = encoder.config.attention_probs_dropout_prob = p
    for module in encoder.modules():
        if isinstance(module, nn.Dropout):
            module.p = p


class MultiTaskModel(nn.Module):
    """One shared encoder, one head per task; ``dropout`` is the whole model's (encoder and heads)."""

    def __init__(self, encoder: XLMRobertaModel, dropout: float = 0.1):
        super().__init__()
        set_dropout(encoder, dropout)
        self.encoder = encoder
        self.heads = nn.ModuleDict()
        self.dropout = dropout
        self.padding_free = False  # engine.padding_free: run on the real tokens only (xstilts/packed.py)

    def add_head(self, name: str, head_type: str, num_labels: int = 0) -> None:
        if name in self.heads:
            return
        hidden = self.encoder.config.hidden_size
        if head_type == "mlm":
            head = MLMHead(hidden, self.encoder.config.vocab_size, self.encoder.embeddings.word_embeddings)
        else:
            head = HEADS[head_type](hidden, num_labels, self.dropout)
        self.heads[name] = head.to(next(self.encoder.parameters()).device)

    def forward(self, head: str, batch: dict) -> torch.Tensor:
        if self.padding_free:
            from xstilts import packed

            return packed.forward(self, head, batch)
        ids, mask = batch["input_ids"], batch["attention_mask"]
        choices = ids.dim() == 3  # multiple choice: [batch, n_choices, seq]
        if choices:
            b, c = ids.shape[:2]
            ids, mask = ids.flatten(0, 1), mask.flatten(0, 1)
        encoded = self.encoder(input_ids=ids, attention_mask=mask)
        head_module = self.heads[head]
        if isinstance(head_module, ClassificationHead):  # sentence heads read one vector per sequence
            pooled = encoded.pooler_output
            out = head_module(pooled if pooled is not None else encoded.last_hidden_state[:, 0], batch)
        else:
            out = head_module(encoded.last_hidden_state, batch)
        return out.view(b, c) if choices else out


# ---- saving and strict loading of the encoder ---------------------------------------------


def save_encoder(encoder: XLMRobertaModel, out_dir: str, extra: dict | None = None) -> None:
    """Write config + safetensors weights into a temporary folder, then rename: never half-written."""
    from safetensors.torch import save_file

    tmp = out_dir.rstrip("/") + ".tmp"
    os.makedirs(tmp, exist_ok=True)
    encoder.config.to_json_file(os.path.join(tmp, "config.json"))
    state = {k: v.detach().contiguous().cpu() for k, v in encoder.state_dict().items()}
    save_file(state, os.path.join(tmp, "encoder.safetensors"))
    with open(os.path.join(tmp, "provenance.json"), "w") as f:
        json.dump(extra or {}, f, indent=2, sort_keys=True)
    from xstilts import io

    for name in os.listdir(tmp):  # safetensors writes 0600; durable contents before the rename
        os.chmod(os.path.join(tmp, name), 0o666 & ~io.current_umask())
        io.fsync_file(os.path.join(tmp, name))
    if os.path.isdir(out_dir):
        import shutil

        shutil.rmtree(out_dir)
    os.replace(tmp, out_dir)
    io.fsync_dir(os.path.dirname(os.path.abspath(out_dir)))


class EncoderLoadError(RuntimeError):
    pass


def load_encoder(path: str, pooler: bool | None = None) -> XLMRobertaModel:
    """Load an encoder saved by :func:`save_encoder`, requiring every weight to match exactly.

    jiant once matched no keys, loaded nothing and only warned (anchors.md §11.2): a random
    encoder was fine-tuned for weeks. Here any missing or unexpected key stops the run.
    ``pooler`` (``model.pooler``) is required present or absent; None (retrieval, which never
    reads it): whatever the saved encoder has.
    """
    from safetensors.torch import load_file

    config = XLMRobertaConfig.from_json_file(os.path.join(path, "config.json"))
    state = load_file(os.path.join(path, "encoder.safetensors"))
    encoder = build_encoder(config, pooler=any(k.startswith("pooler.") for k in state) if pooler is None else pooler)
    result = encoder.load_state_dict(state, strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise EncoderLoadError(f"encoder at {path} does not match its config: missing {result.missing_keys[:5]}..., unexpected {result.unexpected_keys[:5]}...")
    return encoder


def load_pretrained_encoder(name_or_path: str, revision: str | None = None, pooler: bool = False) -> XLMRobertaModel:
    """Phase 1 from the Hub (paper profile): the pretrained XLM-R weights, loaded strictly. With
    ``pooler`` the checkpoint's pooler (``roberta.pooler.*`` in xlm-roberta-large) is loaded; a
    checkpoint without one gets a freshly initialised pooler, and says so."""
    from xstilts import hub

    path = hub.resolve_model(name_or_path, revision or "main").path
    encoder, info = XLMRobertaModel.from_pretrained(path, add_pooling_layer=pooler, attn_implementation="sdpa", output_loading_info=True)
    missing = [k for k in info["missing_keys"] if not k.startswith("pooler.")]
    if missing:
        raise EncoderLoadError(f"pretrained weights at {path} miss encoder keys {missing[:5]}...: refusing to train a randomly initialised encoder")
    new_pooler = sorted(k for k in info["missing_keys"] if k.startswith("pooler."))
    if pooler and new_pooler:
        print(f"model.pooler: the checkpoint at {path} has no pooler weights ({', '.join(new_pooler)}): the pooler is initialised randomly and trained from phase 2 on", flush=True)
    return encoder


# XLMRobertaForMaskedLM's LM head -> MLMHead (its decoder weight is tied to the input embeddings,
# which the encoder holds; lm_head.decoder.bias, where present, is the same tensor as lm_head.bias).
_HUB_LM_HEAD = {"lm_head.dense.weight": "dense.weight", "lm_head.dense.bias": "dense.bias", "lm_head.layer_norm.weight": "norm.weight", "lm_head.layer_norm.bias": "norm.bias", "lm_head.bias": "bias"}


def load_pretrained_mlm_head(path: str) -> dict[str, torch.Tensor]:
    """XLM-R's pretrained LM head from a Hub snapshot folder, in :class:`MLMHead`'s key names.
    Read key by key from the safetensors files: the 560M encoder weights are not loaded twice."""
    from safetensors import safe_open

    found: dict[str, torch.Tensor] = {}
    for name in sorted(os.listdir(path)):
        if name.endswith(".safetensors"):
            with safe_open(os.path.join(path, name), framework="pt") as f:
                for key in f.keys():
                    if key in _HUB_LM_HEAD:
                        found[_HUB_LM_HEAD[key]] = f.get_tensor(key)
    missing = sorted(k for k, v in _HUB_LM_HEAD.items() if v not in found)
    if missing:
        raise EncoderLoadError(f"pretrained weights at {path} have no LM head ({missing} missing from its *.safetensors): the MLM variant would train a random head")
    return found
