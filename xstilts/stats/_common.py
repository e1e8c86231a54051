"""Result records and small helpers shared by the statistics modules.

Every random procedure takes an explicit ``seed`` and builds its own
``numpy.random.Generator`` from it, so that a result is a pure function of its
inputs. Results are frozen dataclasses so that they can be stored in claims
tables without being modified by accident.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ALTERNATIVES = ("two-sided", "less", "greater")


@dataclass(frozen=True)
class BootstrapResult:
    """A bootstrap estimate of a difference, with percentile CI and p-value.

    ``ci_low``/``ci_high`` form the two-sided percentile interval at level
    ``1 - alpha`` whatever ``alternative`` is. ``n`` counts the resampled units
    (examples, or seeds summed over cells for the DiD bootstrap).
    """

    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    n: int
    n_boot: int
    alpha: float
    alternative: str
    method: str
    se: float
    score_a: float = float("nan")  # metric of system A (paired bootstraps only)
    score_b: float = float("nan")  # metric of system B (paired bootstraps only)


@dataclass(frozen=True)
class PermutationResult:
    """A permutation test; ``n_perm`` counts the permutations actually scored."""

    estimate: float
    p_value: float
    n_a: int
    n_b: int
    n_perm: int
    exact: bool
    alternative: str
    method: str


@dataclass(frozen=True)
class TestResult:
    """A parametric test with a test statistic and (optionally) a CI."""

    __test__ = False  # keep pytest from collecting this class as a test case

    estimate: float
    statistic: float
    df: float
    p_value: float
    ci_low: float
    ci_high: float
    n_a: int
    n_b: int
    alternative: str
    method: str


@dataclass(frozen=True)
class VarianceTestResult:
    """A test of equal variances across groups (F statistic with two dfs)."""

    statistic: float
    p_value: float
    df_between: float
    df_within: float
    n: int
    method: str


@dataclass(frozen=True)
class EquivalenceResult:
    """Two one-sided tests (TOST) against the interval ``[lower, upper]``.

    ``ci_low``/``ci_high`` form the ``1 - 2*alpha`` CI: equivalence is declared
    exactly when it lies inside the margins.
    """

    estimate: float
    p_value: float
    p_lower: float  # H0: difference <= lower margin
    p_upper: float  # H0: difference >= upper margin
    equivalent: bool
    lower: float
    upper: float
    ci_low: float
    ci_high: float
    df: float
    n_a: int
    n_b: int
    alpha: float
    method: str


def as_1d_float(x, name: str) -> np.ndarray:
    """Return ``x`` as a finite 1-D float array, or raise."""
    arr = np.asarray(x, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def check_alternative(alternative: str) -> None:
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be one of {ALTERNATIVES}, got {alternative!r}")


def check_alpha(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")


def tolerance(*arrays: np.ndarray) -> float:
    """Absolute tolerance for ``>=`` comparisons between resampled statistics.

    Statistics that are equal in exact arithmetic (e.g. a permutation and its
    mirror image) can differ in the last bits after floating-point summation.
    Counting them as ties is what makes exact tests exact.
    """
    scale = max((float(np.max(np.abs(a))) for a in arrays if np.size(a)), default=0.0)
    return 1e-9 * max(scale, 1e-12)


def count_extreme(null_stats: np.ndarray, observed: float, alternative: str, tol: float) -> int:
    """Count null statistics at least as extreme as ``observed``.

    Two-sided uses ``|T*| >= |T|``, appropriate for statistics whose null
    distribution is centred at zero.
    """
    if alternative == "two-sided":
        return int(np.count_nonzero(np.abs(null_stats) >= abs(observed) - tol))
    if alternative == "greater":
        return int(np.count_nonzero(null_stats >= observed - tol))
    return int(np.count_nonzero(null_stats <= observed + tol))
