"""Bootstrap procedures: paired bootstrap over test examples (S1) and the
difference-in-differences bootstrap over seeds or examples (RQ4/RQ5).

P-values (``p_method``)
-----------------------
``"centred"`` (default)
    The shifted-bootstrap null of Efron & Tibshirani (1993, §16.4) as used for
    NLP by Berg-Kirkpatrick et al. (2012): the bootstrap distribution of the
    difference is re-centred on zero and taken as the null distribution of the
    observed difference::

        p = (1 + #{ |d*_b - d| >= |d| }) / (B + 1)          (two-sided)
        p = (1 + #{  d*_b - d  >= d  }) / (B + 1)           ("greater")
        p = (1 + #{  d*_b - d  <= d  }) / (B + 1)           ("less")

    The ``+1`` keeps p away from 0 with finitely many resamples. Calibration
    is checked by simulation in ``tests/test_stats_calibration.py``.
``"percentile"``
    The Koehn (2004) count: how often the resampled difference lands on the
    other side of zero, ``p_greater = (1 + #{d*_b <= 0}) / (B + 1)``;
    two-sided is twice the smaller one-sided p, clipped at 1. It rejects
    exactly when zero is outside the percentile CI.

CIs are percentile intervals of the resampled differences at level
``1 - alpha`` (two-sided, whatever ``alternative`` is).

Why not ``scipy.stats.bootstrap``: it returns CIs only, for a statistic of
independent samples; S1 needs a p-value (the null above), resampling of test
examples with the corpus-level metric recomputed (F1/EM of the resample, not a
mean of per-example scores), strata, and the difference in differences'
studentized interval across four cells.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from ._common import BootstrapResult, as_1d_float, check_alpha, check_alternative, count_extreme, tolerance

# Cap on the number of resampled indices held in memory at once (int64: 32 MB).
_MAX_CHUNK_ELEMENTS = 1 << 22

P_METHODS = ("centred", "percentile")
AGGREGATES = ("macro", "pooled")


# ----------------------------------------------------------------------------- helpers


def _strata_positions(n: int, strata) -> list[np.ndarray]:
    """Positions of each stratum's examples; a single block when ``strata`` is None."""
    if strata is None:
        return [np.arange(n)]
    labels = np.asarray(strata)
    if labels.shape != (n,):
        raise ValueError(f"strata must have one label per example ({n}), got shape {labels.shape}")
    _, inverse = np.unique(labels, return_inverse=True)
    return [np.flatnonzero(inverse == k) for k in range(inverse.max() + 1)]


def _index_chunks(positions: list[np.ndarray], n_boot: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Yield bootstrap index matrices of shape (m, n), m summing to ``n_boot``.

    Column block ``s`` holds resampled positions of stratum ``s`` (same size as
    the stratum), so a within-stratum statistic is a statistic of a column block.
    Both the generic and the fast path draw through this function, so for the
    same seed they see identical resamples.
    """
    n = sum(len(p) for p in positions)
    chunk = max(1, min(n_boot, _MAX_CHUNK_ELEMENTS // max(n, 1)))
    single_identity = len(positions) == 1 and np.array_equal(positions[0], np.arange(n))
    done = 0
    while done < n_boot:
        m = min(chunk, n_boot - done)
        if single_identity:
            yield rng.integers(0, n, size=(m, n))
        else:
            yield np.concatenate([pos[rng.integers(0, len(pos), size=(m, len(pos)))] for pos in positions], axis=1)
        done += m


def _blocks(positions: list[np.ndarray], aggregate: str) -> list[slice]:
    """Column blocks over which the metric is computed (one per stratum for macro)."""
    if aggregate not in AGGREGATES:
        raise ValueError(f"aggregate must be one of {AGGREGATES}, got {aggregate!r}")
    if aggregate == "pooled":
        return [slice(0, sum(len(p) for p in positions))]
    bounds = np.cumsum([0] + [len(p) for p in positions])
    return [slice(int(lo), int(hi)) for lo, hi in zip(bounds[:-1], bounds[1:])]


def _take(seq, idx: np.ndarray):
    """Index an array with fancy indexing, or any other sequence element-wise (keeps lists as lists)."""
    if isinstance(seq, np.ndarray):
        return seq[idx]
    return [seq[i] for i in idx]


def bootstrap_p_value(boot: np.ndarray, observed: float, alternative: str, p_method: str) -> float:
    """P-value of ``observed`` from resampled statistics ``boot`` (see module docstring)."""
    check_alternative(alternative)
    n_boot = boot.size
    if p_method == "centred":
        tol = tolerance(boot, np.asarray([observed]))
        count = count_extreme(boot - observed, observed, alternative, tol)
        return (1 + count) / (n_boot + 1)
    if p_method == "percentile":
        p_greater = (1 + np.count_nonzero(boot <= 0)) / (n_boot + 1)
        p_less = (1 + np.count_nonzero(boot >= 0)) / (n_boot + 1)
        if alternative == "greater":
            return float(p_greater)
        if alternative == "less":
            return float(p_less)
        return float(min(1.0, 2 * min(p_greater, p_less)))
    raise ValueError(f"p_method must be one of {P_METHODS}, got {p_method!r}")


def _summarise(boot, observed, n, alpha, alternative, p_method, method, score_a, score_b) -> BootstrapResult:
    lo, hi = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    return BootstrapResult(
        estimate=float(observed),
        ci_low=float(lo),
        ci_high=float(hi),
        p_value=float(bootstrap_p_value(boot, observed, alternative, p_method)),
        n=int(n),
        n_boot=int(boot.size),
        alpha=float(alpha),
        alternative=alternative,
        method=method,
        se=float(np.std(boot, ddof=1)) if boot.size > 1 else float("nan"),
        score_a=float(score_a),
        score_b=float(score_b),
    )


def _check_common(n_boot: int, alpha: float, alternative: str, p_method: str, allowed=P_METHODS) -> None:
    if n_boot < 1:
        raise ValueError(f"n_boot must be positive, got {n_boot}")
    check_alpha(alpha)
    check_alternative(alternative)
    if p_method not in allowed:
        raise ValueError(f"p_method must be one of {allowed}, got {p_method!r}")


# ----------------------------------------------------------------------------- paired bootstrap (S1)


def paired_bootstrap(
    metric: Callable[[Any, Any], Any],
    a: Sequence,
    b: Sequence,
    refs: Sequence,
    n_boot: int = 10_000,
    seed: int = 0,
    strata: Sequence | None = None,
    alpha: float = 0.05,
    alternative: str = "two-sided",
    aggregate: str = "macro",
    p_method: str = "centred",
    vectorized: bool = False,
) -> BootstrapResult:
    """Paired bootstrap of ``metric(a, refs) - metric(b, refs)`` over test examples.

    ``a``, ``b`` and ``refs`` hold one entry per test example (predictions of
    systems A and B, and the gold references). On each resample the *same*
    example indices are used for both systems, and ``metric`` is recomputed on
    the resampled examples, so corpus-level metrics (F1, mAP, SQuAD EM/F1) are
    handled correctly rather than averaged per example.

    ``strata`` (e.g. the language of each example) makes the resampling
    stratified: each stratum keeps its size. With strata, ``aggregate="macro"``
    scores each stratum separately and averages the strata with equal weight
    (the XTREME "average over languages"); ``"pooled"`` scores all examples
    together. Without strata the two coincide.

    ``vectorized=True`` declares that ``metric`` accepts 2-D arrays
    ``(m, n_examples)`` of predictions and references and returns ``m``
    scores; inputs are then converted with ``np.asarray`` and resamples are
    scored a chunk at a time. Otherwise ``metric`` is called once per resample,
    system and stratum (ndarrays are fancy-indexed, other sequences are passed
    as lists).
    """
    _check_common(n_boot, alpha, alternative, p_method)
    n = len(refs)
    if len(a) != n or len(b) != n:
        raise ValueError(f"a, b and refs must have equal length, got {len(a)}, {len(b)}, {n}")
    if n == 0:
        raise ValueError("no examples")
    if vectorized:
        a, b, refs = np.asarray(a), np.asarray(b), np.asarray(refs)
    positions = _strata_positions(n, strata)
    order = np.concatenate(positions)  # observed data in the same column layout as the resamples
    blocks = _blocks(positions, aggregate)

    def score(preds, idx: np.ndarray) -> np.ndarray:
        """Metric of ``preds`` on index matrix ``idx`` (m, n): one aggregated score per row."""
        if vectorized:
            per_block = [np.asarray(metric(preds[idx[:, blk]], refs[idx[:, blk]]), dtype=float) for blk in blocks]
            for s in per_block:
                if s.shape != (idx.shape[0],):
                    raise ValueError("a vectorized metric must return one score per row")
        else:
            per_block = [
                np.array([float(metric(_take(preds, row[blk]), _take(refs, row[blk]))) for row in idx])
                for blk in blocks
            ]
        return np.mean(per_block, axis=0)

    observed_idx = order[None, :]
    score_a = float(score(a, observed_idx)[0])
    score_b = float(score(b, observed_idx)[0])
    rng = np.random.default_rng(seed)
    boot = np.concatenate([score(a, idx) - score(b, idx) for idx in _index_chunks(positions, n_boot, rng)])
    method = f"paired bootstrap ({'stratified, ' + aggregate if strata is not None else 'unstratified'}; {p_method} p)"
    return _summarise(boot, score_a - score_b, n, alpha, alternative, p_method, method, score_a, score_b)


def paired_bootstrap_mean(
    scores_a: Sequence[float],
    scores_b: Sequence[float],
    n_boot: int = 10_000,
    seed: int = 0,
    strata: Sequence | None = None,
    alpha: float = 0.05,
    alternative: str = "two-sided",
    aggregate: str = "macro",
    p_method: str = "centred",
) -> BootstrapResult:
    """Fast paired bootstrap when the metric is a mean of per-example scores.

    Use for 0/1 correctness (accuracy) or per-example F1/EM (SQuAD-style F1 is
    a mean of per-question F1). Gives the same result as ``paired_bootstrap``
    with the corresponding mean metric and the same seed, since both draw the
    same resamples; here each resample costs one gather and one dot product.
    """
    _check_common(n_boot, alpha, alternative, p_method)
    a = as_1d_float(scores_a, "scores_a")
    b = as_1d_float(scores_b, "scores_b")
    if a.shape != b.shape:
        raise ValueError(f"scores_a and scores_b must have equal length, got {a.size} and {b.size}")
    if a.size == 0:
        raise ValueError("no examples")
    positions = _strata_positions(a.size, strata)
    blocks = _blocks(positions, aggregate)
    # Column weights turn "mean over blocks of block means" into one dot product.
    weights = np.empty(a.size)
    for blk in blocks:
        weights[blk] = 1.0 / ((blk.stop - blk.start) * len(blocks))
    order = np.concatenate(positions)
    diff = a - b
    score_a, score_b = float(a[order] @ weights), float(b[order] @ weights)
    rng = np.random.default_rng(seed)
    boot = np.concatenate([diff[idx] @ weights for idx in _index_chunks(positions, n_boot, rng)])
    method = (
        f"paired bootstrap of mean ({'stratified, ' + aggregate if strata is not None else 'unstratified'}; "
        f"{p_method} p)"
    )
    observed = float(diff[order] @ weights)
    return _summarise(boot, observed, a.size, alpha, alternative, p_method, method, score_a, score_b)


# ----------------------------------------------------------------------------- difference in differences


def _studentized_summary(boot, boot_se, observed, observed_se, n, alpha, alternative, method, score_a, score_b):
    """Bootstrap-t CI and p-value: the null distribution of ``(estimate - truth) / se`` is
    taken from ``t* = (d*_b - d) / se*_b`` (Efron & Tibshirani 1993, §12.5)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t_star = (boot - observed) / boot_se
    # A degenerate resample (all scores equal in every cell) has 0/0: treat it as t* = 0.
    t_star = np.where(np.isnan(t_star), 0.0, t_star)
    t_obs = observed / observed_se if observed_se > 0 else (0.0 if observed == 0 else np.copysign(np.inf, observed))
    count = count_extreme(t_star, t_obs, alternative, 1e-9 * max(1.0, abs(t_obs)) if np.isfinite(t_obs) else 0.0)
    q_lo, q_hi = np.quantile(t_star, [alpha / 2, 1 - alpha / 2])
    return BootstrapResult(
        estimate=float(observed),
        ci_low=float(observed - q_hi * observed_se),
        ci_high=float(observed - q_lo * observed_se),
        p_value=float((1 + count) / (boot.size + 1)),
        n=int(n),
        n_boot=int(boot.size),
        alpha=float(alpha),
        alternative=alternative,
        method=method,
        se=float(np.std(boot, ddof=1)) if boot.size > 1 else float("nan"),
        score_a=float(score_a),
        score_b=float(score_b),
    )


def diff_in_diff_bootstrap(
    cells: Mapping[tuple[Any, Any], Sequence[float]],
    n_boot: int = 10_000,
    seed: int = 0,
    alpha: float = 0.05,
    sizes: tuple[Any, Any] = ("base", "large"),
    conditions: tuple[Any, Any] = ("none", "int"),
    alternative: str = "two-sided",
    paired_examples: bool = False,
    p_method: str = "studentized",
    variance_correction: bool = True,
) -> BootstrapResult:
    """Bootstrap CI and p-value for a difference in differences of cell means.

    ``cells[(size, condition)]`` holds per-seed (or per-example) scores.
    With ``sizes = (small, large)`` and ``conditions = (control, treatment)``::

        DiD = (mean[large, treatment] - mean[large, control])
            - (mean[small, treatment] - mean[small, control])

    e.g. RQ4: DiD = (large_int - large_none) - (base_int - base_none); H1
    "the gain diminishes with size" is ``alternative="less"``. In the result
    ``score_a`` is the large-model gain and ``score_b`` the small-model gain.

    By default each cell is resampled independently (seeds are independent
    runs). ``paired_examples=True`` is for per-example scores of the four
    cells on the *same* test examples: the same example indices are then used
    in every cell (the per-example contrast is bootstrapped).

    ``p_method``:

    * ``"studentized"`` (default): bootstrap-t. Each resample's DiD is
      standardised by its own standard error ``sqrt(sum_c s*_c^2 / n_c)``; the
      CI is the bootstrap-t interval. With 3-10 seeds per cell the plain
      bootstrap is liberal (its null distribution behaves like a normal where
      a t with few df is needed: about 9% false positives at alpha = 0.05 with
      5 seeds per cell); the studentized version is calibrated (see
      ``tests/test_stats_calibration.py``).
    * ``"centred"`` / ``"percentile"``: as for :func:`paired_bootstrap`, with
      percentile CIs. ``variance_correction`` then resamples residuals inflated
      by ``sqrt(n/(n-1))`` around each cell mean so that the bootstrap
      variance of a cell mean is ``s^2/n``; it has no effect on the
      studentized method, whose pivot is scale-free.
    """
    _check_common(n_boot, alpha, alternative, p_method, allowed=("studentized",) + P_METHODS)
    small, large = sizes
    control, treatment = conditions
    contrast = {(large, treatment): 1.0, (large, control): -1.0, (small, treatment): -1.0, (small, control): 1.0}
    data = {}
    for key in contrast:
        if key not in cells:
            raise KeyError(f"missing cell {key!r}; have {sorted(map(repr, cells))}")
        data[key] = as_1d_float(cells[key], f"cells[{key!r}]")
        if data[key].size < 2:
            raise ValueError(f"cell {key!r} needs at least 2 scores to bootstrap")
    means = {k: float(v.mean()) for k, v in data.items()}
    gain_large = means[(large, treatment)] - means[(large, control)]
    gain_small = means[(small, treatment)] - means[(small, control)]
    observed = gain_large - gain_small
    rng = np.random.default_rng(seed)
    inflate = variance_correction and p_method != "studentized"

    def inflated(x: np.ndarray) -> np.ndarray:
        if not inflate:
            return x
        return x.mean() + np.sqrt(x.size / (x.size - 1)) * (x - x.mean())

    if paired_examples:
        if len({v.size for v in data.values()}) != 1:
            raise ValueError("paired_examples=True needs the same number of examples in every cell")
        per_example = sum(w * data[k] for k, w in contrast.items())
        observed_se = float(per_example.std(ddof=1) / np.sqrt(per_example.size))
        values = inflated(per_example)
        boot_parts, var_parts = [], []
        n_ex = values.size
        shift = values.mean()  # moments of centred values avoid cancellation in the variance below
        centred = values - shift
        for idx in _index_chunks([np.arange(n_ex)], n_boot, rng):
            resampled = centred[idx]
            # Mean and variance from the first two moments: two passes over the chunk instead of four.
            mean = resampled.sum(axis=1) / n_ex
            sum_sq = np.einsum("ij,ij->i", resampled, resampled)
            boot_parts.append(mean + shift)
            var_parts.append(np.maximum(sum_sq - n_ex * mean**2, 0.0) / (n_ex - 1) / n_ex)
        boot, boot_var = np.concatenate(boot_parts), np.concatenate(var_parts)
        n_units = n_ex
        method = "DiD bootstrap over shared examples"
    else:
        observed_se = float(np.sqrt(sum(v.var(ddof=1) / v.size for v in data.values())))
        boot, boot_var = np.zeros(n_boot), np.zeros(n_boot)
        for key, w in contrast.items():
            x = inflated(data[key])
            start = 0
            for idx in _index_chunks([np.arange(x.size)], n_boot, rng):
                resampled = x[idx]
                stop = start + idx.shape[0]
                boot[start:stop] += w * resampled.mean(axis=1)
                boot_var[start:stop] += resampled.var(axis=1, ddof=1) / x.size
                start = stop
        n_units = sum(v.size for v in data.values())
        method = "DiD bootstrap within cells"
    if p_method == "studentized":
        return _studentized_summary(
            boot, np.sqrt(boot_var), observed, observed_se, n_units, alpha, alternative,
            method + " (studentized / bootstrap-t)", gain_large, gain_small,
        )
    method += f" ({'variance-corrected, ' if inflate else ''}{p_method} p)"
    return _summarise(boot, observed, n_units, alpha, alternative, p_method, method, gain_large, gain_small)
