"""Tests about variability (S5).

* :func:`brown_forsythe`: equal variance across *independent* groups, e.g. the
  across-seed spread of two conditions in one language (10 vs 10 runs).
* :func:`cross_language_dispersion_test`: is the spread *across languages*
  different between two conditions evaluated on the same languages? The
  languages are shared, so the two SDs are correlated and Levene-type tests do
  not apply; the test swaps condition labels within each language.
* :func:`pitman_morgan`: the classical parametric test of equal variances of
  two paired (correlated) samples, as a confirmatory alternative.
"""

from __future__ import annotations

import numpy as np
from scipy import stats as _st

from ._common import (
    PermutationResult,
    TestResult,
    VarianceTestResult,
    as_1d_float,
    check_alternative,
    count_extreme,
    tolerance,
)
from .permutation import sign_flip_matrix

_MAX_CHUNK_ELEMENTS = 1 << 22


def brown_forsythe(*groups) -> VarianceTestResult:
    """Brown-Forsythe test: one-way ANOVA on absolute deviations from each group's median.

    ``scipy.stats.levene(*groups, center="median")``, with the degrees of
    freedom the record keeps. It is robust to non-normality but somewhat
    conservative for small groups (an odd-sized group always has a zero deviation).
    """
    if len(groups) < 2:
        raise ValueError("need at least two groups")
    arrays = [as_1d_float(g, f"group {i}") for i, g in enumerate(groups)]
    if any(g.size < 2 for g in arrays):
        raise ValueError("every group needs at least two values")
    n_total = sum(g.size for g in arrays)
    with np.errstate(divide="ignore", invalid="ignore"):  # identical deviations: F is inf or nan, as before
        test = _st.levene(*arrays, center="median")
    return VarianceTestResult(
        statistic=float(test.statistic),
        p_value=float(test.pvalue),
        df_between=float(len(arrays) - 1),
        df_within=float(n_total - len(arrays)),
        n=int(n_total),
        method="Brown-Forsythe (median-centred Levene)",
    )


def _per_language(scores, name: str) -> np.ndarray:
    """Per-language scores; a (languages, seeds) matrix is averaged over seeds first."""
    arr = np.asarray(scores, dtype=float)
    if arr.ndim == 2:
        arr = arr.mean(axis=1)
    return as_1d_float(arr, name)


def _dispersion(x: np.ndarray, statistic: str) -> np.ndarray:
    """Row-wise SD (ddof=1), or its log, of a (m, languages) matrix."""
    sd = x.std(axis=-1, ddof=1)
    return np.log(sd) if statistic == "log_sd" else sd


def cross_language_dispersion_test(
    scores_c1,
    scores_c2,
    n_perm: int = 10_000,
    seed: int = 0,
    alternative: str = "two-sided",
    statistic: str = "sd",
    center: bool = True,
) -> PermutationResult:
    """Paired permutation test of the difference in cross-language SD between two conditions.

    ``scores_c1[l]`` and ``scores_c2[l]`` are the scores of conditions 1 and 2 on
    language ``l`` (a 2-D ``(languages, seeds)`` input is averaged over seeds).
    The statistic is ``SD(c1) - SD(c2)`` across languages (``statistic="log_sd"``:
    ``log SD(c1) - log SD(c2)``). The null distribution comes from swapping
    the two conditions' scores independently within each language: all
    ``2**L`` swap patterns when ``2**L <= n_perm``, otherwise ``n_perm`` random
    ones. ``alternative="greater"`` is H1: condition 1 is more dispersed.

    ``center=False`` swaps the raw scores. This is an exact test of "the two
    scores of each language are exchangeable", which includes equal means; a
    mean difference between the conditions leaks into the swapped SDs and
    makes the test very conservative (little power).

    ``center=True`` (default) tests equal spread whatever the means: each
    condition is first centred on its mean over languages. Centring estimates
    the mean shift, which removes about ``1/L`` of the variance of the swapped
    differences and makes plain swapping liberal (about 6-7% false positives
    at alpha = 0.05 for 8-15 languages). To compensate, the within-language
    half-differences are inflated by ``sqrt(L / (L - 1))`` before swapping
    (the sign-flip analogue of the ``n/(n-1)`` variance correction) and the
    observed value is counted as one extra permutation, ``p = (1 + #) / (N + 1)``.
    Measured: calibrated for >= 12 languages, conservative below (FPR ~0.025
    for 8 languages); see ``tests/test_stats_calibration.py``.
    """
    check_alternative(alternative)
    if statistic not in ("sd", "log_sd"):
        raise ValueError(f"statistic must be 'sd' or 'log_sd', got {statistic!r}")
    x = _per_language(scores_c1, "scores_c1")
    y = _per_language(scores_c2, "scores_c2")
    if x.size != y.size:
        raise ValueError(f"both conditions need the same languages, got {x.size} and {y.size}")
    if x.size < 3:
        raise ValueError("need at least three languages")
    if center:
        x, y = x - x.mean(), y - y.mean()
    observed = float(_dispersion(x, statistic) - _dispersion(y, statistic))
    n_lang = x.size
    # Write each language's pair as midpoint -/+ half-difference; a swap flips the half-difference's sign.
    mid, half = (x + y) / 2.0, (y - x) / 2.0
    if center:
        half = half * np.sqrt(n_lang / (n_lang - 1))
    exact = 2**n_lang <= n_perm

    def null_for(signs: np.ndarray) -> np.ndarray:
        return _dispersion(mid - signs * half, statistic) - _dispersion(mid + signs * half, statistic)

    if exact:
        null = null_for(sign_flip_matrix(n_lang))
    else:
        rng = np.random.default_rng(seed)
        chunk = max(1, min(n_perm, _MAX_CHUNK_ELEMENTS // n_lang))
        parts, done = [], 0
        while done < n_perm:
            m = min(chunk, n_perm - done)
            parts.append(null_for(1.0 - 2.0 * rng.integers(0, 2, size=(m, n_lang))))
            done += m
        null = np.concatenate(parts)
    count = count_extreme(null, observed, alternative, tolerance(x, y))
    # Without correction, exact enumeration contains the observed labelling itself; with it, add it.
    p_value = count / null.size if (exact and not center) else (1 + count) / (null.size + 1)
    return PermutationResult(
        estimate=observed,
        p_value=float(min(1.0, p_value)),
        n_a=int(n_lang),
        n_b=int(n_lang),
        n_perm=int(null.size),
        exact=bool(exact),
        alternative=alternative,
        method=(
            f"within-language swap permutation test of {'log ' if statistic == 'log_sd' else ''}SD difference"
            f"{' (centred, small-sample corrected)' if center else ''} ({'all swaps' if exact else 'Monte Carlo'})"
        ),
    )


def pitman_morgan(x, y, alternative: str = "two-sided") -> TestResult:
    """Pitman-Morgan test of equal variances for paired samples.

    Var(x) = Var(y) iff corr(x + y, x - y) = 0, tested with the usual
    t statistic on ``n - 2`` df (exact for bivariate normal pairs).
    ``estimate`` is the variance ratio Var(x)/Var(y); ``alternative="greater"``
    is H1: Var(x) > Var(y).
    """
    check_alternative(alternative)
    a = as_1d_float(x, "x")
    b = as_1d_float(y, "y")
    if a.size != b.size:
        raise ValueError(f"paired samples must have equal length, got {a.size} and {b.size}")
    n = a.size
    if n < 3:
        raise ValueError("need at least three pairs")
    r = float(np.corrcoef(a + b, a - b)[0, 1])
    df = n - 2
    t = r * np.sqrt(df / (1.0 - r * r)) if abs(r) < 1 else np.copysign(np.inf, r)
    if alternative == "two-sided":
        p = 2 * _st.t.sf(abs(t), df)
    elif alternative == "greater":
        p = _st.t.sf(t, df)
    else:
        p = _st.t.cdf(t, df)
    return TestResult(
        estimate=float(a.var(ddof=1) / b.var(ddof=1)),
        statistic=float(t),
        df=float(df),
        p_value=float(min(1.0, p)),
        ci_low=float("nan"),
        ci_high=float("nan"),
        n_a=int(n),
        n_b=int(n),
        alternative=alternative,
        method="Pitman-Morgan test for paired variances",
    )
