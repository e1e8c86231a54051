"""Retrieval metrics: cosine kNN, BUCC 2018 bitext mining, Tatoeba accuracy, mAP@k.

BUCC follows XTREME ``third_party/utils_retrieve.py`` / jiant ``bucc2018.py`` (both adapted from
LASER's ``mine_bitext.py`` and ``bucc.py``): ratio margin with k = 4 neighbours in both
directions, retrieval mode "max", greedy one-to-one selection, sentences whose text repeats on
their side left out of the scored pairs, dev-tuned threshold. Tatoeba follows XTREME
``evaluate_retrieval.py`` (top-1 cosine, each English sentence searching the other language).
mAP@k follows XTREME-R (LAReQA, Mewsli-X).

Similarities are computed in float32 with torch on ``device`` (the GPU when there is one), in
blocks of query rows so memory stays bounded at BUCC's 400k x 400k: the precision of XTREME's
faiss search, which also works in float32.

Determinism (a departure from the reference, which uses faiss and an unstable ``np.argsort``):
every ordering here is stable, so among exactly equal similarities or scores the lower index wins.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Collection, Hashable, Iterable, Sequence

import numpy as np
import torch

Candidate = tuple[int, int, float]  # (source index, target index, margin score)

_BLOCK_ENTRIES = 1 << 25  # similarity-matrix entries held at once (128 MiB of float32)


# --------------------------------------------------------------------------- kNN


def _device(device) -> torch.device:
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def unit_rows(x, device=None) -> torch.Tensor:
    """Row-wise unit vectors as a float32 tensor on ``device``; zero rows are an error (cosine undefined)."""
    t = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x).to(_device(device), torch.float32)
    if t.ndim != 2 or t.shape[0] == 0:
        raise ValueError(f"expected a non-empty 2-D embedding matrix, got shape {tuple(t.shape)}")
    if not bool(torch.isfinite(t).all()):
        raise ValueError("embeddings contain NaN or infinity")
    norms = torch.linalg.vector_norm(t, dim=1, keepdim=True)
    if bool((norms == 0).any()):
        raise ValueError(f"row {int(torch.nonzero(norms[:, 0] == 0)[0, 0])} is a zero vector")
    return t / norms


def _knn(xn: torch.Tensor, yn: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Top-k cosine of unit rows, block by block: (similarities, indices) on the rows' device."""
    if xn.shape[1] != yn.shape[1]:
        raise ValueError(f"dimension mismatch: {xn.shape[1]} vs {yn.shape[1]}")
    if not 1 <= k <= yn.shape[0]:
        raise ValueError(f"k must be in [1, {yn.shape[0]}], got {k}")
    sims = torch.empty((xn.shape[0], k), dtype=torch.float32, device=xn.device)
    inds = torch.empty((xn.shape[0], k), dtype=torch.int64, device=xn.device)
    chunk = max(1, _BLOCK_ENTRIES // yn.shape[0])
    for start in range(0, xn.shape[0], chunk):
        block = xn[start : start + chunk] @ yn.T
        sims[start : start + block.shape[0]], inds[start : start + block.shape[0]] = _top_k_rows(block, k)
    return sims, inds


def _knn_both_ways(xn: torch.Tensor, yn: torch.Tensor, kx: int, ky: int) -> tuple[torch.Tensor, ...]:
    """Top-``kx`` targets of every source and top-``ky`` sources of every target from ONE pass
    over the similarity matrix (each block of x @ y.T serves both directions: half the work of
    two searches). Same results and tie order as ``_knn(xn, yn, kx)`` and ``_knn(yn, xn, ky)``."""
    if xn.shape[1] != yn.shape[1]:
        raise ValueError(f"dimension mismatch: {xn.shape[1]} vs {yn.shape[1]}")
    if not (1 <= kx <= yn.shape[0] and 1 <= ky <= xn.shape[0]):
        raise ValueError(f"k must be in [1, {yn.shape[0]}] and [1, {xn.shape[0]}], got {kx} and {ky}")
    x2y_sim = torch.empty((xn.shape[0], kx), dtype=torch.float32, device=xn.device)
    x2y_ind = torch.empty((xn.shape[0], kx), dtype=torch.int64, device=xn.device)
    y2x_sim = torch.empty((yn.shape[0], 0), dtype=torch.float32, device=xn.device)
    y2x_ind = torch.empty((yn.shape[0], 0), dtype=torch.int64, device=xn.device)
    chunk = max(1, _BLOCK_ENTRIES // yn.shape[0])
    for start in range(0, xn.shape[0], chunk):
        block = xn[start : start + chunk] @ yn.T
        rows = slice(start, start + block.shape[0])
        x2y_sim[rows], x2y_ind[rows] = _top_k_rows(block, kx)
        col_sim, col_ind = _top_k_rows(block.T.contiguous(), min(ky, block.shape[0]))
        # Running candidates have lower source indices than this block's, and both lists are in
        # (similarity desc, index asc) order, so a stable sort by similarity keeps the tie order.
        merged_sim, order = torch.cat([y2x_sim, col_sim], dim=1).sort(dim=1, descending=True, stable=True)
        merged_ind = torch.cat([y2x_ind, col_ind + start], dim=1).gather(1, order)
        y2x_sim, y2x_ind = merged_sim[:, :ky], merged_ind[:, :ky]
    return x2y_sim, x2y_ind, y2x_sim, y2x_ind


def _top_k_rows(block: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    # topk does not promise which of equal values it returns: take k + 1, and where the k-th and
    # (k+1)-th values tie, redo that row with a stable full sort (rare outside hand-made cases).
    if k < block.shape[1]:
        vals, inds = block.topk(k + 1, dim=1)
        tied = torch.nonzero(vals[:, k - 1] == vals[:, k])[:, 0]
        vals, inds = vals[:, :k].clone(), inds[:, :k].clone()
        if len(tied):
            vals[tied], inds[tied] = (a[:, :k] for a in torch.sort(block[tied], dim=1, descending=True, stable=True))
    else:
        vals, inds = torch.sort(block, dim=1, descending=True, stable=True)
    # within the k: decreasing similarity, then increasing index
    inds, by_index = inds.sort(dim=1)
    vals, by_value = vals.gather(1, by_index).sort(dim=1, descending=True, stable=True)
    return vals, inds.gather(1, by_value)


def cosine_knn(x, y, k: int, device=None) -> tuple[np.ndarray, np.ndarray]:
    """For each row of ``x`` the ``k`` most cosine-similar rows of ``y`` (float32, on ``device``).

    Returns NumPy ``(similarities, indices)``, both of shape ``(len(x), k)``, sorted by decreasing
    similarity; equal similarities are ordered by increasing index of ``y``.
    """
    sims, inds = _knn(unit_rows(x, device), unit_rows(y, device), k)
    return sims.cpu().numpy(), inds.cpu().numpy()


# --------------------------------------------------------------------------- BUCC mining


def mine_bitext(
    src_emb,
    trg_emb,
    k: int = 4,
    src_texts: Sequence[str] | None = None,
    trg_texts: Sequence[str] | None = None,
    device=None,
) -> list[Candidate]:
    """Ratio-margin bitext mining in "max" mode, as XTREME/jiant mine BUCC (float32, on ``device``).

    margin(x, y) = cos(x, y) / ((mean cos of x's k nearest y + mean cos of y's k nearest x) / 2).
    Each source proposes its best-margin target among its k nearest targets, each target its
    best-margin source; both lists are merged and, in decreasing score order, a pair is kept
    only if neither its source nor its target sentence is already used.

    Repeated sentences (when ``src_texts``/``trg_texts`` are given), as XTREME and LASER: identical
    strings are mined once, with the embedding of their *last* occurrence (``unique_embeddings``),
    so they still take part in the neighbourhoods and in the one-to-one selection; then every pair
    whose source or target text (stripped) occurs more than once on its side is dropped, because
    LASER's ``read_sent2id`` cannot map such a text to one sentence id. Sources
    ``[a, b, a]`` can therefore never be paired through ``a``. Without texts every row is its own
    sentence.

    Returns the selected pairs with a positive score (the reference writes only scores above its
    default threshold 0; ratio margins are negative only for negative cosines), sorted by
    decreasing score, then indices. The BUCC threshold is applied later (``bucc_f1_at``).
    """
    src_rows, src_keep = _unique_sentences(src_texts, len(src_emb), "source")
    trg_rows, trg_keep = _unique_sentences(trg_texts, len(trg_emb), "target")
    x = unit_rows(np.asarray(src_emb)[src_rows], device)
    y = unit_rows(np.asarray(trg_emb)[trg_rows], device)
    out = [
        (src_keep[us], trg_keep[ut], score)
        for us, ut, score in _mine_unique(x, y, k)
        if score > 0 and src_keep[us] is not None and trg_keep[ut] is not None
    ]
    out.sort(key=lambda c: (-c[2], c[0], c[1]))
    return out


def _unique_sentences(texts: Sequence[str] | None, n: int, side: str) -> tuple[list[int], list[int | None]]:
    """Rows mined (the last occurrence of each distinct text) and, per mined row, the sentence
    index its pairs are reported under, or None when its text repeats (pairs dropped)."""
    if texts is None:
        return list(range(n)), list(range(n))
    if len(texts) != n:
        raise ValueError(f"{len(texts)} {side} texts for {n} {side} embeddings")
    occurrences: dict[str, list[int]] = defaultdict(list)  # insertion order = first occurrence
    for i, text in enumerate(texts):
        occurrences[text].append(i)
    stripped = Counter(text.strip() for text in texts)
    rows = [idx[-1] for idx in occurrences.values()]
    keep = [idx[0] if len(idx) == 1 and stripped[text.strip()] == 1 else None for text, idx in occurrences.items()]
    return rows, keep


def _mine_unique(x: torch.Tensor, y: torch.Tensor, k: int) -> list[Candidate]:
    x2y_sim, x2y_ind, y2x_sim, y2x_ind = _knn_both_ways(x, y, min(k, len(y)), min(k, len(x)))
    x2y_mean, y2x_mean = x2y_sim.mean(dim=1), y2x_sim.mean(dim=1)
    # The margin's numerator is the kNN similarity itself: cos(x_i, y_j) for j in x_i's list.
    fwd = x2y_sim / ((x2y_mean[:, None] + y2x_mean[x2y_ind]) / 2)
    bwd = y2x_sim / ((y2x_mean[:, None] + x2y_mean[y2x_ind]) / 2)
    fwd_score, fwd_pick = fwd.max(dim=1)  # first max = nearer neighbour
    bwd_score, bwd_pick = bwd.max(dim=1)
    src = torch.cat([torch.arange(len(x), device=x.device), y2x_ind.gather(1, bwd_pick[:, None])[:, 0]])
    trg = torch.cat([x2y_ind.gather(1, fwd_pick[:, None])[:, 0], torch.arange(len(y), device=y.device)])
    scores = torch.cat([fwd_score, bwd_score])
    return _greedy_one_to_one(src.cpu().numpy(), trg.cpu().numpy(), scores.cpu().numpy().astype(np.float64))


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

    Departures from XTREME/LASER ``bucc_optimize``, deliberate: the reference evaluates F1 after
    every candidate, so its best F1 can fall inside a group of tied scores, at a threshold
    (their midpoint, i.e. the tied score) that then keeps the whole group when extracting with
    ">=", so the F1 it optimised is not the F1 it applies; and it fails (IndexError) when the
    best cut keeps every candidate. We optimise only F1 values a threshold can realise, and
    handle the last cut. Without ties and with a next-lower score both agree exactly.
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


def tatoeba_search(src_emb, en_emb, device=None) -> np.ndarray:
    """For each English sentence, the index of its cosine-nearest other-language sentence (ties:
    lower index). XTREME's direction: ``evaluate_retrieval.py`` indexes the other language and
    searches it with the English side (``similarity_search(x=src, y=eng)``), so the prediction
    file has one line per English sentence."""
    _, nearest = cosine_knn(en_emb, src_emb, 1, device)
    return nearest[:, 0]


def tatoeba_accuracy(src_emb, en_emb, gold: Sequence[int], device=None) -> float:
    """Percentage of English sentences whose nearest other-language sentence is their pair.

    ``gold[i]`` is the English sentence aligned with source ``i`` (Tatoeba is a one-to-one
    alignment, so ``gold`` must be a permutation). Searching from the English side (XTREME) and
    from the other side give different scores whenever a sentence is the nearest of several.
    """
    if len(gold) != len(src_emb):
        raise ValueError(f"{len(gold)} gold indices for {len(src_emb)} source sentences")
    if len(en_emb) != len(src_emb) or sorted(int(j) for j in gold) != list(range(len(en_emb))):
        raise ValueError(f"Tatoeba gold must pair the {len(src_emb)} sources one-to-one with the {len(en_emb)} English sentences")
    src_of_en = np.empty(len(gold), dtype=np.int64)
    src_of_en[np.asarray(gold, dtype=np.int64)] = np.arange(len(gold))
    return float((tatoeba_search(src_emb, en_emb, device) == src_of_en).mean() * 100.0)


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
