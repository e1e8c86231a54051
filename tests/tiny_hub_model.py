"""A warm Hugging Face cache holding a tiny XLM-R in the Hub's snapshot layout (config.json,
tokenizer files, model.safetensors with XLMRobertaForMaskedLM's keys, LM head included)."""

from __future__ import annotations

from pathlib import Path

import torch

COMMIT = "0123456789abcdef0123456789abcdef01234567"
LINES = [f"the {a} {b} sat on the {c} mat , said {d} ." for a in ("cat", "dog", "owl") for b in ("red", "old") for c in ("big", "flat") for d in ("ann", "bob", "cy")]


def make_cache(root: Path, repo_id: str = "xlm-roberta-large"):
    """Write the cache under ``root``; returns the XLMRobertaForMaskedLM it holds."""
    from transformers import XLMRobertaConfig, XLMRobertaForMaskedLM

    from xstilts.rehearsal.hubcache import add_pooler
    from xstilts.tokenization import train_tokenizer

    repo = root / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / COMMIT
    tok = train_tokenizer(LINES, 60, str(snapshot))
    # xlm-roberta-large's depth and positions (24 layers, 514), so the paper profile's bounds
    # (retrieval.layer 14, 512 tokens; xstilts/model_bounds.py) hold for it as for the real model
    config = XLMRobertaConfig(vocab_size=len(tok), hidden_size=16, num_hidden_layers=24, num_attention_heads=2, intermediate_size=32, max_position_embeddings=514, type_vocab_size=1, pad_token_id=1, bos_token_id=0, eos_token_id=2)
    torch.manual_seed(0)
    model = XLMRobertaForMaskedLM(config).eval()
    with torch.no_grad():  # a trained-looking head: nothing at its initial zeros/ones
        for p in model.lm_head.parameters():
            p.normal_(0, 0.5)
    model.save_pretrained(str(snapshot), safe_serialization=True)
    add_pooler(str(snapshot / "model.safetensors"), config.hidden_size)  # as xlm-roberta-large ships roberta.pooler.*
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(COMMIT)
    return model


def use_cache(monkeypatch, root: Path) -> None:
    """Point huggingface_hub at ``root``, offline."""
    import huggingface_hub.constants as constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(root))
