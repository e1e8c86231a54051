"""Retrieval metrics: cosine kNN, BUCC 2018 bitext mining, Tatoeba accuracy, mAP@k.

BUCC follows XTREME ``third_party/utils_retrieve.py`` / jiant ``bucc2018.py`` (both adapted from
LASER's ``mine_bitext.py`` and ``bucc.py``): ratio margin with k = 4 neighbours in both
directions, retrieval mode "max", greedy one-to-one selection, dev-tuned threshold. Tatoeba
follows XTREME ``similarity_search`` (top-1 cosine). mAP@k follows XTREME-R (LAReQA, Mewsli-X).

Determinism: every ordering here is a stable sort, so among exactly equal similarities or
scores the lower index wins (faiss and ``np.argsort`` default do not promise this).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Collection, Hashable, Iterable, Sequence

import numpy as np

Candidate = tuple[int, int, float]  # (source index, target index, margin score)

_BLOCK_ENTRIES = 1 << 24  # similarity-matrix entries held at once (~128 MiB of float64)


# --------------------------------------------------------------------------- kNN


def l2_normalize(x: np.ndarray) -> np.ndarray:
    """Row-wise unit vectors; zero rows are an error because their cosine is undefined."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f"expected a non-empty 2-D embedding matrix, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("embeddings contain NaN or infinity")
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError(f"row {int(np.flatnonzero(norms[:, 0] == 0)[0])} is a zero vector")
    return x / norms


def cosine_knn(x: np.ndarray, y: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """For each row of ``x`` the ``k`` most cosine-similar rows of ``y``.

    Returns ``(similarities, indices)``, both of shape ``(len(x), k)``, sorted by decreasing
    similarity; equal similarities are ordered by increasing index of ``y``.
    """
    xn, yn = l2_normalize(x), l2_normalize(y)
    if xn.shape[1] != yn.shape[1]:
        raise ValueError(f"dimension mismatch: {xn.shape[1]} vs {yn.shape[1]}")
    if not 1 <= k <= yn.shape[0]:
        raise ValueError(f"k must be in [1, {yn.shape[0]}], got {k}")
    sims = np.empty((xn.shape[0], k))
    inds = np.empty((xn.shape[0], k), dtype=np.int64)
    chunk = max(1, _BLOCK_ENTRIES // yn.shape[0])  # BUCC sides reach ~400k sentences
    for start in range(0, xn.shape[0], chunk):
        block = xn[start : start + chunk] @ yn.T
        rows = slice(start, start + block.shape[0])
        sims[rows], inds[rows] = _top_k_rows(block, k)
    return sims, inds


def _top_k_rows(block: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    # Keep every entry >= the row's k-th largest value (>= k per row, more only with ties at
    # the boundary), then order by (row, -value, column) and take each row's first k: the
    # lower column wins ties even at the k-th place, which argpartition alone would not give.
    n_rows, n_cols = block.shape
    if k < n_cols:
        kth = -np.partition(-block, k - 1, axis=1)[:, k - 1]
        rows, cols = np.nonzero(block >= kth[:, None])
    else:
        rows, cols = (a.ravel() for a in np.indices(block.shape))
    vals = block[rows, cols]
    order = np.lexsort((cols, -vals, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    take = np.searchsorted(rows, np.arange(n_rows))[:, None] + np.arange(k)
    return vals[take], cols[take]


# --------------------------------------------------------------------------- BUCC mining


def mine_bitext(
    src_emb: np.ndarray,
    trg_emb: np.ndarray,
    k: int = 4,
    src_texts: Sequence[str] | None = None,
    trg_texts: Sequence[str] | None = None,
) -> list[Candidate]:
    """Ratio-margin bitext mining in "max" mode, as XTREME/jiant mine BUCC.

    margin(x, y) = cos(x, y) / ((mean cos of x's k nearest y + mean cos of y's k nearest x) / 2).
    Each source proposes its best-margin target among its k nearest targets, each target its
    best-margin source; both lists are merged and, in decreasing score order, a pair is kept
    only if neither its source nor its target sentence is already used.

    Deduplication (optional, when ``src_texts``/``trg_texts`` are given): identical strings are
    mined once, using the embedding of their *last* occurrence (LASER ``unique_embeddings``).
    A mined text pair is then emitted for every (source index, target index) combination
    carrying those texts, all with the same score, as LASER ``bucc.py`` maps text pairs back to
    sentence ids. Without texts every row is its own sentence.

    Returns the selected pairs with a positive score (the reference writes only scores above its
    default threshold 0; ratio margins are negative only for negative cosines), sorted by
    decreasing score, then indices. The BUCC threshold is applied later (``bucc_f1_at``).
    """
    src_groups, src_rows = _dedup_groups(src_texts, len(src_emb), "source")
    trg_groups, trg_rows = _dedup_groups(trg_texts, len(trg_emb), "target")
    x = np.asarray(src_emb, dtype=np.float64)[src_rows]
    y = np.asarray(trg_emb, dtype=np.float64)[trg_rows]
    unique_pairs = _mine_unique(x, y, k)
    out = [
        (s, t, score)
        for us, ut, score in unique_pairs
        if score > 0
        for s in src_groups[us]
        for t in trg_groups[ut]
    ]
    out.sort(key=lambda c: (-c[2], c[0], c[1]))
    return out


def _dedup_groups(texts: Sequence[str] | None, n: int, side: str) -> tuple[list[list[int]], list[int]]:
    """Unique sentence -> original indices, and the row (last occurrence) representing it."""
    if texts is None:
        return [[i] for i in range(n)], list(range(n))
    if len(texts) != n:
        raise ValueError(f"{len(texts)} {side} texts for {n} {side} embeddings")
    groups: dict[str, list[int]] = defaultdict(list)  # insertion order = first occurrence
    for i, text in enumerate(texts):
        groups[text].append(i)
    members = list(groups.values())
    return members, [idx[-1] for idx in members]


def _mine_unique(x: np.ndarray, y: np.ndarray, k: int) -> list[Candidate]:
    x2y_sim, x2y_ind = cosine_knn(x, y, min(k, len(y)))
    y2x_sim, y2x_ind = cosine_knn(y, x, min(k, len(x)))
    x2y_mean, y2x_mean = x2y_sim.mean(axis=1), y2x_sim.mean(axis=1)
    # The margin's numerator is the kNN similarity itself: cos(x_i, y_j) for j in x_i's list.
    fwd = x2y_sim / ((x2y_mean[:, None] + y2x_mean[x2y_ind]) / 2)
    bwd = y2x_sim / ((y2x_mean[:, None] + x2y_mean[y2x_ind]) / 2)
    fwd_pick, bwd_pick = fwd.argmax(axis=1), bwd.argmax(axis=1)  # first max = nearer neighbour
    src = np.concatenate([np.arange(len(x)), y2x_ind[np.arange(len(y)), bwd_pick]])
    trg = np.concatenate([x2y_ind[np.arange(len(x)), fwd_pick], np.arange(len(y))])
    scores = np.concatenate([fwd.max(axis=1), bwd.max(axis=1)])
    return _greedy_one_to_one(src, trg, scores)


def _greedy_one_to_one(src: np.ndarray, trg: np.ndarray, scores: np.ndarray) -> list[Candidate]:
    # Stable order: among equal scores forward proposals (by source index) precede backward ones.
    used_src: set[int] = set()
    used_trg: set[int] = set()
    kept: list[Candidate] = []
    for i in np.argsort(-scores, kind="stable"):
        s, t = int(src[i]), int(trg[i])
        if s not in used_src and t not in used_trg:
            used_src.add(s)
            used_trg.add(t)
            kept.append((s, t, float(scores[i])))
    return kept


# --------------------------------------------------------------------------- BUCC scoring


def bucc_f1_at(
    candidates: Iterable[Candidate], gold_pairs: Iterable[tuple[int, int]], threshold: float
) -> tuple[float, float, float]:
    """(precision, recall, F1) in percent of the pairs scoring ``>= threshold`` (XTREME ``bucc_f1``)."""
    gold = set(gold_pairs)
    if not gold:
        raise ValueError("no gold pairs: BUCC recall is undefined")
    predicted = {(s, t) for s, t, score in candidates if score >= threshold}
    correct = len(predicted & gold)
    if correct == 0:
        return 0.0, 0.0, 0.0
    precision, recall = correct / len(predicted), correct / len(gold)
    return 100 * precision, 100 * recall, 100 * 2 * precision * recall / (precision + recall)


def tune_bucc_threshold(candidates: Iterable[Candidate], gold_pairs: Iterable[tuple[int, int]]) -> float:
    """Score threshold maximising F1 on dev (LASER/XTREME ``bucc_optimize``), to reuse on test.

    Candidates are swept in decreasing score; F1 is evaluated only after a whole group of equal
    scores (a threshold cannot split ties), and the first strict best wins. The threshold is the
    midpoint between the last kept score and the next lower one (the lowest score itself when
    everything is kept). Returns 0.0 when no candidate is correct, as the reference does.
    """
    gold = set(gold_pairs)
    if not gold:
        raise ValueError("no gold pairs: cannot tune a BUCC threshold")
    # A pair listed twice is predicted as soon as its best score passes (as in bucc_f1_at).
    best_score: dict[tuple[int, int], float] = {}
    for s, t, score in candidates:
        best_score[(s, t)] = max(score, best_score.get((s, t), score))
    ranked = sorted(((s, t, score) for (s, t), score in best_score.items()), key=lambda c: -c[2])
    best_f1, threshold = 0.0, 0.0
    n_kept = n_correct = 0
    for i, (s, t, score) in enumerate(ranked):
        n_kept += 1
        n_correct += (s, t) in gold
        if i + 1 < len(ranked) and ranked[i + 1][2] == score:
            continue  # finish the tie group first
        if n_correct == 0:
            continue
        p, r = n_correct / n_kept, n_correct / len(gold)
        f = 2 * p * r / (p + r)
        if f > best_f1:
            best_f1 = f
            threshold = _cut_below(score, ranked[i + 1][2] if i + 1 < len(ranked) else None)
    return threshold


def _cut_below(kept: float, next_lower: float | None) -> float:
    if next_lower is None:
        return kept
    mid = (kept + next_lower) / 2
    # Adjacent floats can round the midpoint onto next_lower, which ">=" would then keep.
    return mid if mid > next_lower else kept


# --------------------------------------------------------------------------- Tatoeba, mAP


def tatoeba_accuracy(src_emb: np.ndarray, trg_emb: np.ndarray, gold: Sequence[int]) -> float:
    """Percentage of sources whose cosine-nearest target is ``gold[i]`` (ties: lower index)."""
    if len(gold) != len(src_emb):
        raise ValueError(f"{len(gold)} gold indices for {len(src_emb)} source sentences")
    _, nearest = cosine_knn(src_emb, trg_emb, 1)
    return float((nearest[:, 0] == np.asarray(gold)).mean() * 100.0)


def average_precision_at_k(ranking: Sequence[Hashable], relevant: Collection[Hashable], k: int = 20) -> float:
    """AP@k in [0, 1]: sum of precision@i at each relevant hit in the top k, / min(|relevant|, k).

    A candidate repeated in the ranking counts only at its first position (XTREME-R).
    """
    if not relevant:
        raise ValueError("a query with no relevant candidate has undefined AP")
    seen: set[Hashable] = set()
    hits, total = 0, 0.0
    for rank, cand in enumerate(ranking[:k], start=1):
        if cand in relevant and cand not in seen:
            hits += 1
            total += hits / rank
        seen.add(cand)
    return total / min(len(relevant), k)


def mean_average_precision_at_k(
    rankings: Sequence[Sequence[Hashable]], relevant: Sequence[Collection[Hashable]], k: int = 20
) -> float:
    """mAP@k in percent (XTREME-R LAReQA / Mewsli-X use k = 20)."""
    if len(rankings) == 0:
        raise ValueError("no queries to score")
    if len(rankings) != len(relevant):
        raise ValueError(f"{len(rankings)} rankings but {len(relevant)} relevance sets")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    aps = []
    for q, (ranking, rel) in enumerate(zip(rankings, relevant)):
        if not rel:
            raise ValueError(f"query {q} has no relevant candidate")
        aps.append(average_precision_at_k(ranking, set(rel), k))
    return 100.0 * float(np.mean(aps))
