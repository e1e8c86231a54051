"""Statistical toolbox for the xstilts analyses (seed_refs.md §4, S1-S8).

Every random procedure takes an explicit ``seed``; results are frozen dataclasses.

==============================  ==========================================================
S1 paired bootstrap             :func:`paired_bootstrap`, :func:`paired_bootstrap_mean`
S3 permutation across seeds     :func:`permutation_test`, :func:`min_achievable_p`
S4 parametric                   :func:`welch_t`, :func:`hedges_g`
S5 variability                  :func:`brown_forsythe`, :func:`cross_language_dispersion_test`,
                                :func:`pitman_morgan`
S6 multiplicity                 :func:`holm`, :func:`benjamini_hochberg`
S8 equivalence                  :func:`tost_equivalence`
RQ4/RQ5 interaction             :func:`diff_in_diff_bootstrap`
==============================  ==========================================================

Holm, Benjamini-Hochberg, Brown-Forsythe, Welch and TOST call scipy/statsmodels; the
bootstraps and permutation tests are the project's own (their modules say why).
S2 (two-level seed x example bootstrap) and S7 (mixed models, statsmodels) are not
implemented here. Calibration (false-positive rate under simulated nulls) and power
are checked in ``tests/test_stats_calibration.py``.
"""

from ._common import (
    BootstrapResult,
    EquivalenceResult,
    PermutationResult,
    TestResult,
    VarianceTestResult,
)
from .bootstrap import bootstrap_p_value, diff_in_diff_bootstrap, paired_bootstrap, paired_bootstrap_mean
from .multiplicity import benjamini_hochberg, holm
from .parametric import hedges_g, tost_equivalence, welch_t
from .permutation import min_achievable_p, n_relabellings, permutation_test
from .variance import brown_forsythe, cross_language_dispersion_test, pitman_morgan

__all__ = [
    "BootstrapResult",
    "EquivalenceResult",
    "PermutationResult",
    "TestResult",
    "VarianceTestResult",
    "benjamini_hochberg",
    "bootstrap_p_value",
    "brown_forsythe",
    "cross_language_dispersion_test",
    "diff_in_diff_bootstrap",
    "hedges_g",
    "holm",
    "min_achievable_p",
    "n_relabellings",
    "paired_bootstrap",
    "paired_bootstrap_mean",
    "permutation_test",
    "pitman_morgan",
    "tost_equivalence",
    "welch_t",
]
