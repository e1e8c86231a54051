"""Sentence retrieval from an encoder without any target training (BUCC 2018, Tatoeba).

Embeddings are the mean over non-padding tokens of one hidden layer (jiant's EmbeddingModel:
layer 14 of XLM-R Large's 24, index 0 being the embedding output), the setting the paper used.
"""

from __future__ import annotations

import numpy as np
import torch

from xstilts.metrics import retrieval as rm


@torch.no_grad()
def embed(encoder, tokenizer, sentences: list[str], *, layer: int, max_length: int, device, batch_size: int = 64) -> np.ndarray:
    if not 0 <= layer <= encoder.config.num_hidden_layers:
        raise ValueError(f"retrieval layer {layer} outside 0..{encoder.config.num_hidden_layers}")
    order = sorted(range(len(sentences)), key=lambda i: -len(sentences[i]))  # little padding per batch
    out = np.zeros((len(sentences), encoder.config.hidden_size), dtype=np.float32)
    for s in range(0, len(order), batch_size):
        idx = order[s : s + batch_size]
        enc = tokenizer([sentences[i] for i in idx], truncation=True, max_length=max_length, padding=True, return_tensors="pt").to(device)
        hidden = encoder(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], output_hidden_states=True).hidden_states[layer]
        mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        out[idx] = ((hidden * mask).sum(1) / mask.sum(1)).float().cpu().numpy()
    return out


def evaluate_task(task, store, lang, encoder, tokenizer, *, layer, max_length, k, device, batch_size) -> dict:
    """Score one language pair; keeps per-example predictions so statistics can be recomputed."""

    def emb(sents):
        return embed(encoder, tokenizer, sents, layer=layer, max_length=max_length, device=device, batch_size=batch_size)

    if task.name == "tatoeba":
        (ex,) = task.load(store, "test", lang)
        src, trg = emb(ex.sources), emb(ex.targets)
        gold = [j for _, j in sorted(ex.gold)]
        _, nearest = rm.cosine_knn(src, trg, 1)
        predictions = [{"id": i, "prediction": int(nearest[i, 0]), "gold": gold[i]} for i in range(len(gold))]
        return {"scores": {"accuracy": rm.tatoeba_accuracy(src, trg, gold)}, "predictions": predictions}
    if task.name == "bucc2018":
        mined = {}
        for split in ("dev", "test"):
            (ex,) = task.load(store, split, lang)
            candidates = rm.mine_bitext(emb(ex.sources), emb(ex.targets), k=k, src_texts=ex.sources, trg_texts=ex.targets)
            mined[split] = (candidates, ex.gold)
        threshold = rm.tune_bucc_threshold(*mined["dev"])  # tuned on dev, reused on test (XTREME)
        p, r, f = rm.bucc_f1_at(*mined["test"], threshold)
        gold = set(map(tuple, mined["test"][1]))
        predictions = [{"id": f"{s}-{t}", "prediction": [s, t], "score": sc, "gold": (s, t) in gold} for s, t, sc in mined["test"][0] if sc >= threshold]
        return {"scores": {"f1": f, "precision": p, "recall": r, "threshold": threshold}, "predictions": predictions}
    raise ValueError(f"no retrieval evaluation for task {task.name!r}")
