"""Multiplicity adjustment (S6): Holm for confirmatory families, Benjamini-Hochberg for exploratory ones.

Both return adjusted p-values in the order of the input; reject hypothesis
``i`` at family level ``alpha`` when ``adjusted[i] <= alpha``. Benjamini-Hochberg
is statsmodels' ``multipletests``. Holm is computed here, to the same numbers
(tested against ``multipletests``), because statsmodels' Holm branch calls
``gc.collect()`` on every call: 65 ms in a process that holds torch, five minutes
for the 4000-family calibration test. This module also adds the input checks a
family of tests needs (no NaN, no empty-family error).
"""

from __future__ import annotations

import numpy as np
from statsmodels.stats.multitest import multipletests


def _validated(p_values) -> np.ndarray:
    p = np.asarray(p_values, dtype=float)
    if p.ndim != 1:
        raise ValueError(f"p_values must be one-dimensional, got shape {p.shape}")
    if np.isnan(p).any():
        # A missing test is a design error; silently dropping it would change the family size m.
        raise ValueError("p_values contains NaN")
    if ((p < 0) | (p > 1)).any():
        raise ValueError("p_values must lie in [0, 1]")
    return p


def _adjusted(p_values, method: str) -> np.ndarray:
    p = _validated(p_values)
    if p.size == 0:  # statsmodels rejects an empty family; an empty family has nothing to adjust
        return p.copy()
    return np.asarray(multipletests(p, method=method)[1], dtype=float)


def holm(p_values) -> np.ndarray:
    """Holm (1979) step-down adjusted p-values (controls the family-wise error rate).

    With sorted p-values ``p_(1) <= ... <= p_(m)``:
    ``adj_(i) = max_{j <= i} min(1, (m - j + 1) * p_(j))``.
    """
    p = _validated(p_values)
    order = np.argsort(p, kind="stable")
    m = p.size
    stepped = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adjusted = np.empty_like(p)
    adjusted[order] = np.maximum.accumulate(stepped) if m else stepped
    return adjusted


def benjamini_hochberg(p_values) -> np.ndarray:
    """Benjamini-Hochberg (1995) step-up adjusted p-values (controls the false discovery rate).

    With sorted p-values: ``adj_(i) = min_{j >= i} min(1, m * p_(j) / j)``.
    Valid under independence or positive dependence (PRDS) of the tests.
    """
    return _adjusted(p_values, "fdr_bh")
