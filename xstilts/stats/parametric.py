"""Parametric two-sample summaries: Welch's t-test and Hedges' g (S4), TOST equivalence (S8)."""

from __future__ import annotations

import numpy as np
from scipy import special as _sp
from scipy import stats as _st

from ._common import EquivalenceResult, TestResult, as_1d_float, check_alpha, check_alternative


def _welch_parts(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Difference of means, its standard error, and the Welch-Satterthwaite df."""
    if x.size < 2 or y.size < 2:
        raise ValueError("each sample needs at least two values")
    va, vb = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
    se = float(np.sqrt(va + vb))
    denom = va**2 / (x.size - 1) + vb**2 / (y.size - 1)
    df = float((va + vb) ** 2 / denom) if denom > 0 else float(x.size + y.size - 2)
    return float(x.mean() - y.mean()), se, df


def _paired_parts(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Mean difference, its standard error and df for a paired (one-sample) t-test."""
    if x.size != y.size:
        raise ValueError(f"paired samples must have equal length, got {x.size} and {y.size}")
    if x.size < 2:
        raise ValueError("need at least two pairs")
    d = x - y
    return float(d.mean()), float(d.std(ddof=1) / np.sqrt(d.size)), float(d.size - 1)


def _t_p_value(t: float, df: float, alternative: str) -> float:
    if np.isnan(t):
        return float("nan")
    if alternative == "two-sided":
        return float(min(1.0, 2 * _st.t.sf(abs(t), df)))
    if alternative == "greater":
        return float(_st.t.sf(t, df))
    return float(_st.t.cdf(t, df))


def _ratio(estimate: float, se: float) -> float:
    if se > 0:
        return estimate / se
    return float("nan") if estimate == 0 else float(np.copysign(np.inf, estimate))


def welch_t(a, b, alternative: str = "two-sided", alpha: float = 0.05) -> TestResult:
    """Welch's unequal-variance t-test of mean(a) - mean(b), with a ``1 - alpha`` CI.

    Matches ``scipy.stats.ttest_ind(a, b, equal_var=False)``. Across seeds this
    is a secondary analysis (S4): with 5-6 seeds the normality assumption
    carries real weight, whereas the permutation test needs none.
    """
    check_alternative(alternative)
    check_alpha(alpha)
    x, y = as_1d_float(a, "a"), as_1d_float(b, "b")
    estimate, se, df = _welch_parts(x, y)
    t = _ratio(estimate, se)
    half = _st.t.ppf(1 - alpha / 2, df) * se
    return TestResult(
        estimate=estimate,
        statistic=float(t),
        df=df,
        p_value=_t_p_value(t, df, alternative),
        ci_low=estimate - half,
        ci_high=estimate + half,
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
    x, y = as_1d_float(a, "a"), as_1d_float(b, "b")
    if x.size < 2 or y.size < 2:
        raise ValueError("each sample needs at least two values")
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
    estimate, se, df = _paired_parts(x, y) if paired else _welch_parts(x, y)
    p_lower = _t_p_value(_ratio(estimate - lower, se), df, "greater")
    p_upper = _t_p_value(_ratio(estimate - upper, se), df, "less")
    p_value = max(p_lower, p_upper)
    half = _st.t.ppf(1 - alpha, df) * se
    return EquivalenceResult(
        estimate=estimate,
        p_value=float(p_value),
        p_lower=float(p_lower),
        p_upper=float(p_upper),
        equivalent=bool(p_value < alpha),
        lower=lower,
        upper=upper,
        ci_low=estimate - half,
        ci_high=estimate + half,
        df=df,
        n_a=int(x.size),
        n_b=int(y.size),
        alpha=float(alpha),
        method=f"TOST ({'paired t' if paired else 'Welch t'})",
    )
