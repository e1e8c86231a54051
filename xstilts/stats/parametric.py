"""Parametric two-sample summaries: Welch's t-test and Hedges' g (S4), TOST equivalence (S8).

The tests are scipy's and statsmodels'; this module puts their numbers into the
project's result records and checks the inputs.
"""

from __future__ import annotations

import numpy as np
from scipy import special as _sp
from scipy import stats as _st
from statsmodels.stats.weightstats import ttost_ind, ttost_paired

from ._common import EquivalenceResult, TestResult, as_1d_float, check_alpha, check_alternative


def _two_samples(a, b) -> tuple[np.ndarray, np.ndarray]:
    x, y = as_1d_float(a, "a"), as_1d_float(b, "b")
    if x.size < 2 or y.size < 2:
        raise ValueError("each sample needs at least two values")
    return x, y


def welch_t(a, b, alternative: str = "two-sided", alpha: float = 0.05) -> TestResult:
    """Welch's unequal-variance t-test of mean(a) - mean(b), with a two-sided ``1 - alpha`` CI.

    ``scipy.stats.ttest_ind(a, b, equal_var=False)``. Across seeds this is a
    secondary analysis (S4): with 5-6 seeds the normality assumption carries
    real weight, whereas the permutation test needs none.
    """
    check_alternative(alternative)
    check_alpha(alpha)
    x, y = _two_samples(a, b)
    test = _st.ttest_ind(x, y, equal_var=False, alternative=alternative)
    # scipy's interval follows the alternative (one-sided ones are half-infinite); the record holds the two-sided one.
    ci = _st.ttest_ind(x, y, equal_var=False).confidence_interval(1 - alpha)
    return TestResult(
        estimate=float(x.mean() - y.mean()),
        statistic=float(test.statistic),
        df=float(test.df),
        p_value=float(test.pvalue),
        ci_low=float(ci.low),
        ci_high=float(ci.high),
        n_a=int(x.size),
        n_b=int(y.size),
        alternative=alternative,
        method="Welch two-sample t-test",
    )


def hedges_g(a, b) -> float:
    """Hedges' g: Cohen's d with pooled SD, times the exact small-sample bias correction.

    ``J(df) = Gamma(df/2) / (sqrt(df/2) * Gamma((df-1)/2))`` with
    ``df = n_a + n_b - 2`` (Hedges 1981); ``J ~ 1 - 3 / (4 df - 1)``.
    """
    x, y = _two_samples(a, b)
    df = x.size + y.size - 2
    pooled_var = ((x.size - 1) * x.var(ddof=1) + (y.size - 1) * y.var(ddof=1)) / df
    diff = x.mean() - y.mean()
    if pooled_var == 0:
        return float("nan") if diff == 0 else float(np.copysign(np.inf, diff))
    correction = np.exp(_sp.gammaln(df / 2) - _sp.gammaln((df - 1) / 2)) / np.sqrt(df / 2)
    return float(correction * diff / np.sqrt(pooled_var))


def tost_equivalence(a, b, margin, alpha: float = 0.05, paired: bool = False) -> EquivalenceResult:
    """Two one-sided t-tests (Schuirmann 1987) for "the difference lies within the margin".

    ``margin`` is the smallest effect size of interest: a positive number
    ``m`` means the interval ``(-m, m)``; a pair ``(lower, upper)`` gives an
    asymmetric interval. The two nulls are ``diff <= lower`` and
    ``diff >= upper``; ``p_value`` is the larger of the two one-sided
    p-values and ``equivalent`` is ``p_value < alpha``, which is the same as
    the ``1 - 2*alpha`` CI lying inside the margins. Unpaired uses Welch's
    standard error and df; ``paired=True`` a one-sample t on ``a - b``.
    """
    check_alpha(alpha)
    if np.ndim(margin) == 0:
        if margin <= 0:
            raise ValueError(f"a scalar margin must be positive, got {margin}")
        lower, upper = -float(margin), float(margin)
    else:
        lower, upper = (float(m) for m in margin)
        if not lower < upper:
            raise ValueError(f"margin must satisfy lower < upper, got {margin}")
    x, y = as_1d_float(a, "a"), as_1d_float(b, "b")
    if paired:
        if x.size != y.size:
            raise ValueError(f"paired samples must have equal length, got {x.size} and {y.size}")
        if x.size < 2:
            raise ValueError("need at least two pairs")
        p_value, (_, p_lower, df), (_, p_upper, _) = ttost_paired(x, y, lower, upper)
        ci = _st.ttest_rel(x, y).confidence_interval(1 - 2 * alpha)
    else:
        x, y = _two_samples(x, y)
        p_value, (_, p_lower, df), (_, p_upper, _) = ttost_ind(x, y, lower, upper, usevar="unequal")
        ci = _st.ttest_ind(x, y, equal_var=False).confidence_interval(1 - 2 * alpha)
    estimate = float(np.mean(x - y)) if paired else float(x.mean() - y.mean())
    return EquivalenceResult(
        estimate=estimate,
        p_value=float(p_value),
        p_lower=float(p_lower),
        p_upper=float(p_upper),
        equivalent=bool(p_value < alpha),
        lower=lower,
        upper=upper,
        ci_low=float(ci.low),
        ci_high=float(ci.high),
        df=float(df),
        n_a=int(x.size),
        n_b=int(y.size),
        alpha=float(alpha),
        method=f"TOST ({'paired t' if paired else 'Welch t'})",
    )
