"""Retrieval evaluation from an encoder's pooled hidden states: BUCC 2018, Tatoeba (XTREME) and
LAReQA, Mewsli-X (XTREME-R).

Embeddings are the mean over non-padding tokens of one hidden layer (jiant's EmbeddingModel:
layer 14 of XLM-R Large's 24, index 0 being the embedding output), the setting the paper used
for BUCC and Tatoeba; the encoder runs only up to that layer (:func:`first_layers`). Similarity
search and BUCC mining run in float32 on ``device`` (:mod:`xstilts.metrics.retrieval`).
LAReQA and Mewsli-X use the same embedding of questions / mentions and of candidates, ranked
by cosine similarity (no dual-encoder fine-tuning here: see docs/tasks.md).

:func:`evaluate_task` returns ``{"scores", "chance", "predictions"}``; the predictions are one row
per example, enough to recompute the score (and to write an XTREME submission, see
:mod:`xstilts.submission`):

* tatoeba: one row per English sentence, the query side in XTREME (``evaluate_retrieval.py``
  searches the other language with each English sentence): ``{"id", "english", "prediction",
  "gold", "prediction_xtreme", "gold_xtreme"}``. ``id`` is the English sentence's line in XTREME's
  English file (the stripped lines sorted alphabetically, ties in original order), ``english`` its
  index in the Hub's order; ``prediction`` / ``gold`` index the other-language side, whose order
  XTREME keeps, so the ``*_xtreme`` fields (what a submission writes, one line per ``id``) equal
  them.
* bucc2018 (test split, pairs at or above the dev-tuned threshold): ``{"id", "prediction":
  [s, t], "score", "gold", "source_id", "target_id"}``. Its scores add ``dev_oracle_f1``, the dev F1
  at the threshold tuned on dev (jiant's BUCC validation F1).
* lareqa / mewslix: ``{"id", "prediction": [top-20 candidate ids], "gold": [relevant ids], "ap"}``
  with ``ap`` this query's AP@20 in [0, 1]; ``mean_average_precision_at_k(prediction, gold)``
  over the rows gives the score back.
"""

from __future__ import annotations

import contextlib
import hashlib

import numpy as np
import torch

from xstilts import packed
from xstilts.metrics import retrieval as retrieval_metrics

MAP_K = 20  # XTREME-R scores LAReQA and Mewsli-X by mAP@20
MAP_KEY = "map@20"  # the metric key xstilts.metrics.aggregate.TASK_METRIC reads


@contextlib.contextmanager
def first_layers(encoder, n_layers: int):
    """Run ``encoder`` with only its first ``n_layers`` Transformer layers: its last hidden state is
    then ``hidden_states[n_layers]`` of the full model, without computing the layers above (layer
    14 of XLM-R Large's 24: 10 layers saved per batch). The layers are put back on exit."""
    layers = encoder.encoder.layer
    encoder.encoder.layer = torch.nn.ModuleList(list(layers)[:n_layers])
    try:
        yield encoder
    finally:
        encoder.encoder.layer = layers


@torch.no_grad()
def embed(encoder, tokenizer, sentences: list[str], *, layer: int, max_length: int, device, batch_size: int = 64, padding_free: bool = False) -> np.ndarray:
    """Mean of hidden layer ``layer`` over each sentence's non-padding tokens; ``padding_free``
    (``engine.padding_free``) runs the layers on the real tokens only (xstilts/packed.py)."""
    if not 0 <= layer <= encoder.config.num_hidden_layers:
        raise ValueError(f"retrieval layer {layer} outside 0..{encoder.config.num_hidden_layers}")
    order = sorted(range(len(sentences)), key=lambda i: -len(sentences[i]))  # little padding per batch
    out = np.zeros((len(sentences), encoder.config.hidden_size), dtype=np.float32)
    with first_layers(encoder, layer):
        for s in range(0, len(order), batch_size):
            idx = order[s : s + batch_size]
            enc = tokenizer([sentences[i] for i in idx], truncation=True, max_length=max_length, padding=True, return_tensors="pt").to(device)
            if padding_free:
                hidden, packing = packed.encode(encoder, enc["input_ids"], enc["attention_mask"])
                out[idx] = packed.mean_pool(hidden, packing).float().cpu().numpy()
                continue
            hidden = encoder(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            out[idx] = ((hidden * mask).sum(1) / mask.sum(1)).float().cpu().numpy()
    return out


# ---- ids and orders used by the XTREME submission files ---------------------------------------


def bucc_sentence_id(lang: str, index: int) -> str:
    """A BUCC-style sentence id (``de-000000001``) for the 0-based position ``index`` of one side.

    mteb/BUCC keeps positions, not the LIMSI ids; its gold pairs are 1-based positions. We number
    sentences 1-based in the LIMSI id format, which equals the LIMSI ids only if mteb kept the
    LIMSI files' order and their ids are consecutive from 1 (unverified: check before submitting).
    """
    return f"{lang}-{index + 1:09d}"


def xtreme_tatoeba_order(targets: list[str]) -> list[int]:
    """``position[j]``: where English sentence ``j`` lands in XTREME's Tatoeba English file, which
    holds the stripped English lines sorted alphabetically (a stable sort: equal lines keep their
    original order)."""
    order = sorted(range(len(targets)), key=lambda j: targets[j].strip())
    position = [0] * len(targets)
    for rank, j in enumerate(order):
        position[j] = rank
    return position


# ---- mAP@k and its chance level -----------------------------------------------------------------


def expected_average_precision_at_k(n_candidates: int, n_relevant: int, k: int = MAP_K) -> float:
    """E[AP@k] (in [0, 1]) of a uniformly random ranking of ``n_candidates`` with ``n_relevant``
    relevant ones, AP normalised by min(n_relevant, k) as in :func:`average_precision_at_k`.

    With rel_i the indicator that rank i is relevant and H_i the relevant count in ranks 1..i,
    AP@k = sum_i rel_i H_i / i / min(R, k), and for a random permutation
    E[rel_i H_i] = R/N + (i - 1) R (R - 1) / (N (N - 1)).
    """
    n, r = int(n_candidates), int(n_relevant)
    if n < 1 or not 1 <= r <= n:
        raise ValueError(f"need 1 <= n_relevant <= n_candidates, got {r} of {n}")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    pair = r * (r - 1) / (n * (n - 1)) if n > 1 else 0.0
    total = sum((r / n + (i - 1) * pair) / i for i in range(1, min(k, n) + 1))
    return total / min(r, k)


def rank_candidates(queries: np.ndarray, candidates: np.ndarray, gold: list[tuple[int, int]], *, query_ids: list[str],
                    candidate_ids: list[str], k: int = MAP_K, device=None) -> tuple[dict, float, list[dict]]:
    """Rank candidates by cosine for each query; mAP@k over the queries that have a relevant
    candidate. Returns (scores, chance in percent, per-query rows)."""
    relevant: list[set[int]] = [set() for _ in range(len(queries))]
    for i, j in gold:
        relevant[i].add(j)
    _, nearest = retrieval_metrics.cosine_knn(queries, candidates, min(k, len(candidates)), device)
    rankings, relevant_ids, rows, chances = [], [], [], []
    for i in range(len(queries)):
        if not relevant[i]:
            continue  # a question whose answer sentence the reader could not locate (LAReQA re-split)
        ranking = [candidate_ids[j] for j in nearest[i]]
        rel = sorted({candidate_ids[j] for j in relevant[i]})
        ap = retrieval_metrics.average_precision_at_k(ranking, set(rel), k)
        rankings.append(ranking)
        relevant_ids.append(rel)
        chances.append(expected_average_precision_at_k(len(candidates), len(relevant[i]), k))
        rows.append({"id": query_ids[i], "prediction": ranking, "gold": rel, "ap": ap})
    if not rows:
        raise ValueError("no query has a relevant candidate: mAP is undefined")
    scores = {
        f"map@{k}": retrieval_metrics.mean_average_precision_at_k(rankings, relevant_ids, k),
        "queries": len(rows),
        "queries_without_gold": len(queries) - len(rows),
        "candidates": len(candidates),
    }
    return scores, 100.0 * float(np.mean(chances)), rows


# ---- one task, one language ---------------------------------------------------------------------


def evaluate_task(task, store, lang, encoder, tokenizer, *, layer, max_length, k, device, batch_size, split: str = "test",
                  map_k: int = MAP_K, cache: dict | None = None, padding_free: bool = False) -> dict:
    """Score one language of a retrieval task; keeps per-example predictions (module docstring).

    ``k`` is BUCC's margin neighbourhood; ``split`` the split scored by Tatoeba, LAReQA and
    Mewsli-X (BUCC always tunes its threshold on dev and scores test, as XTREME does).
    ``cache``: a dict the caller keeps across the languages of ONE encoder; the LAReQA / Mewsli-X
    candidate pool (the same for every query language, ~1M entities for Mewsli-X) is then
    embedded once instead of once per language.
    """

    def emb(sents):
        return embed(encoder, tokenizer, sents, layer=layer, max_length=max_length, device=device, batch_size=batch_size, padding_free=padding_free)

    def emb_cached(sents):
        if cache is None:
            return emb(sents)
        h = hashlib.sha256(f"{layer}\x00{max_length}\x00".encode())
        for sent in sents:
            h.update(sent.encode("utf-8") + b"\x00")
        key = ("retrieval-candidates", h.hexdigest())
        if key not in cache:
            cache[key] = emb(sents)
        return cache[key]

    if task.name == "tatoeba":
        (ex,) = task.load(store, split, lang)
        src, trg = emb(ex.sources), emb(ex.targets)
        gold = [j for _, j in sorted(ex.gold)]  # English index of source i
        accuracy = retrieval_metrics.tatoeba_accuracy(src, trg, gold, device)  # English side searches (XTREME)
        nearest = retrieval_metrics.tatoeba_search(src, trg, device)
        source_of = {j: i for i, j in enumerate(gold)}
        position = xtreme_tatoeba_order(ex.targets)
        # one row per English query, in XTREME's English file order; the source side keeps its order
        predictions = [
            {"id": position[j], "english": j, "prediction": int(nearest[j]), "gold": source_of[j],
             "prediction_xtreme": int(nearest[j]), "gold_xtreme": source_of[j]}
            for j in sorted(range(len(ex.targets)), key=position.__getitem__)
        ]
        return {"scores": {"accuracy": accuracy}, "chance": 100.0 / len(ex.sources), "predictions": predictions}
    if task.name == "bucc2018":
        mined = {}
        for part in ("dev", "test"):
            (ex,) = task.load(store, part, lang)
            candidates = retrieval_metrics.mine_bitext(emb(ex.sources), emb(ex.targets), k=k, src_texts=ex.sources, trg_texts=ex.targets, device=device)
            mined[part] = (candidates, ex.gold, ex)
        threshold = retrieval_metrics.tune_bucc_threshold(*mined["dev"][:2])  # tuned on dev, reused on test (XTREME)
        # dev F1 at the threshold tuned on dev itself: jiant's BUCC "validation" F1
        # (bucc_eval(threshold=None)), the quantity verify's jiant sanity reference quotes
        dev_oracle_f1 = retrieval_metrics.bucc_f1_at(*mined["dev"][:2], threshold)[2]
        candidates, gold_pairs, ex = mined["test"]
        p, r, f = retrieval_metrics.bucc_f1_at(candidates, gold_pairs, threshold)
        gold = set(map(tuple, gold_pairs))

        def sid(ids, side_lang, i):
            return ids[i] if ids else bucc_sentence_id(side_lang, i)

        predictions = [
            {"id": f"{s}-{t}", "prediction": [s, t], "score": sc, "gold": (s, t) in gold,
             "source_id": sid(ex.source_ids, lang, s), "target_id": sid(ex.target_ids, "en", t)}
            for s, t, sc in candidates if sc >= threshold
        ]
        return {"scores": {"f1": f, "precision": p, "recall": r, "threshold": threshold, "dev_oracle_f1": dev_oracle_f1},
                "chance": 0.0, "predictions": predictions}
    if task.name in ("lareqa", "mewslix"):
        # LAReQA: questions in `lang` vs the sentence pool of all 11 languages; Mewsli-X: mentions vs entities.
        (ex,) = task.load(store, split, lang)
        query_ids = ex.source_ids or [str(i) for i in range(len(ex.sources))]
        candidate_ids = ex.target_ids or [str(j) for j in range(len(ex.targets))]
        scores, chance, predictions = rank_candidates(emb(ex.sources), emb_cached(ex.targets), ex.gold, query_ids=query_ids, candidate_ids=candidate_ids, k=map_k, device=device)
        return {"scores": scores, "chance": chance, "predictions": predictions}
    raise ValueError(f"no retrieval evaluation for task {task.name!r}")
