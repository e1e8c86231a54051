"""Permutation tests across seeds (S3).

The statistic is the difference of means, ``mean(a) - mean(b)``.

* Unpaired: group labels are shuffled. Every distinct relabelling is a choice
  of which ``n_a`` of the ``n_a + n_b`` pooled scores form group A, so there are
  ``C(n_a + n_b, n_a)`` of them.
* Paired: the sign of each within-pair difference is flipped (``2**n`` patterns).

When the number of distinct relabellings is at most ``n_perm`` they are all
enumerated (the observed labelling included) and ``p = #{T* at least as
extreme} / #relabellings``: an exact test. Otherwise ``n_perm`` random
relabellings are drawn and ``p = (1 + #{extreme}) / (n_perm + 1)``, which is
also a valid (never liberal) p-value (Phipson & Smyth 2010).

Two-sided p-values use ``|T*| >= |T|``. Exact small-sample tests can only
reach a few p-values; see :func:`min_achievable_p` and the S3 table in
``shared/research/seed_refs.md``.

Why not ``scipy.stats.permutation_test``: the test is the same, but a study runs
it for every (task, language) cell with the same few seeds; here the exact
relabellings are built once per group size (cached masks) and each cell's null
distribution is one matrix product, where scipy rebuilds the enumeration per call.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import combinations
from math import comb

import numpy as np

from ._common import PermutationResult, as_1d_float, check_alternative, count_extreme, tolerance

# Cap on the random keys held in memory at once for Monte Carlo relabelling.
_MAX_CHUNK_ELEMENTS = 1 << 22


@lru_cache(maxsize=32)
def _group_a_masks(n_a: int, n_total: int) -> np.ndarray:
    """All C(n_total, n_a) ways of choosing group A, as a read-only 0/1 float matrix."""
    masks = np.zeros((comb(n_total, n_a), n_total))
    for row, chosen in enumerate(combinations(range(n_total), n_a)):
        masks[row, list(chosen)] = 1.0
    masks.flags.writeable = False
    return masks


@lru_cache(maxsize=32)
def sign_flip_matrix(n: int) -> np.ndarray:
    """All 2**n sign patterns (rows of +-1), the first being all +1. Read-only."""
    bits = (np.arange(2**n)[:, None] >> np.arange(n)[None, :]) & 1
    signs = 1.0 - 2.0 * bits
    signs.flags.writeable = False
    return signs


def n_relabellings(n_a: int, n_b: int | None = None, paired: bool = False) -> int:
    """Number of distinct relabellings: ``2**n_a`` paired, ``C(n_a + n_b, n_a)`` unpaired."""
    if paired:
        return 2**n_a
    if n_b is None:
        raise ValueError("n_b is required for an unpaired test")
    return comb(n_a + n_b, n_a)


def min_achievable_p(
    n_a: int,
    n_b: int | None = None,
    paired: bool = False,
    alternative: str = "two-sided",
    n_perm: int | None = None,
) -> float:
    """Smallest p-value the test can return, for continuous data without ties.

    Exact enumeration: ``1/K`` one-sided, where ``K`` is :func:`n_relabellings`.
    Two-sided, the most extreme labelling and its mirror image tie in ``|T|``
    for a paired test or equal group sizes, giving ``2/K``; with unequal groups
    the mirror image is not a relabelling and the minimum is ``1/K``.
    If ``n_perm`` is given and ``K > n_perm`` the test is Monte Carlo and the
    minimum is ``1/(n_perm + 1)``.
    """
    check_alternative(alternative)
    if paired:
        n_b = n_a
    total = n_relabellings(n_a, n_b, paired)
    if n_perm is not None and total > n_perm:
        return 1.0 / (n_perm + 1)
    mirrored = alternative == "two-sided" and (paired or n_a == n_b)
    return (2.0 if mirrored else 1.0) / total


def _null_stats_unpaired(pooled: np.ndarray, n_a: int, exact: bool, n_perm: int, rng) -> np.ndarray:
    n_total = pooled.size
    n_b = n_total - n_a
    total_sum = pooled.sum()
    if exact:
        sum_a = _group_a_masks(n_a, n_total) @ pooled
        return sum_a / n_a - (total_sum - sum_a) / n_b
    out = []
    chunk = max(1, min(n_perm, _MAX_CHUNK_ELEMENTS // n_total))
    done = 0
    while done < n_perm:
        m = min(chunk, n_perm - done)
        # The first n_a positions of a uniformly random permutation form group A.
        perm = np.argsort(rng.random((m, n_total)), axis=1)[:, :n_a]
        sum_a = pooled[perm].sum(axis=1)
        out.append(sum_a / n_a - (total_sum - sum_a) / n_b)
        done += m
    return np.concatenate(out)


def _null_stats_paired(diff: np.ndarray, exact: bool, n_perm: int, rng) -> np.ndarray:
    n = diff.size
    if exact:
        return sign_flip_matrix(n) @ diff / n
    out = []
    chunk = max(1, min(n_perm, _MAX_CHUNK_ELEMENTS // n))
    done = 0
    while done < n_perm:
        m = min(chunk, n_perm - done)
        signs = 1.0 - 2.0 * rng.integers(0, 2, size=(m, n))
        out.append(signs @ diff / n)
        done += m
    return np.concatenate(out)


def permutation_test(
    a,
    b,
    paired: bool = False,
    n_perm: int = 10_000,
    seed: int = 0,
    alternative: str = "two-sided",
) -> PermutationResult:
    """Permutation test of ``mean(a) - mean(b)`` (e.g. per-seed scores of two conditions).

    ``paired=True`` pairs ``a[i]`` with ``b[i]`` (e.g. runs sharing a seed) and
    flips signs of the differences. ``alternative="greater"`` tests
    H1: mean(a) > mean(b). Enumeration is exact when the number of distinct
    relabellings is ``<= n_perm``; otherwise Monte Carlo with ``n_perm`` draws
    and the ``+1`` correction. ``seed`` only matters in the Monte Carlo case.
    """
    check_alternative(alternative)
    if n_perm < 1:
        raise ValueError(f"n_perm must be positive, got {n_perm}")
    x = as_1d_float(a, "a")
    y = as_1d_float(b, "b")
    if x.size == 0 or y.size == 0:
        raise ValueError("both samples need at least one value")
    rng = np.random.default_rng(seed)
    if paired:
        if x.size != y.size:
            raise ValueError(f"paired samples must have equal length, got {x.size} and {y.size}")
        diff = x - y
        observed = float(diff.mean())
        total = n_relabellings(diff.size, paired=True)
        exact = total <= n_perm
        null = _null_stats_paired(diff, exact, n_perm, rng)
        tol = tolerance(diff)
        method = "paired sign-flip permutation test"
    else:
        pooled = np.concatenate([x, y])
        observed = float(x.mean() - y.mean())
        total = n_relabellings(x.size, y.size)
        exact = total <= n_perm
        null = _null_stats_unpaired(pooled, x.size, exact, n_perm, rng)
        tol = tolerance(pooled)
        method = "unpaired label-shuffle permutation test"
    count = count_extreme(null, observed, alternative, tol)
    if exact:
        p_value = count / null.size
    else:
        p_value = (1 + count) / (null.size + 1)
    return PermutationResult(
        estimate=observed,
        p_value=float(min(1.0, p_value)),
        n_a=int(x.size),
        n_b=int(y.size),
        n_perm=int(null.size),
        exact=bool(exact),
        alternative=alternative,
        method=method + (" (exact)" if exact else " (Monte Carlo)"),
    )
