"""Calibration and power of the tests in xstilts.stats, by simulation.

Each calibration test simulates data under a null hypothesis many times with a
fixed seed and checks that the false-positive rate (FPR) at alpha = 0.05 is
within 0.02 of the level the test should have. With 1000 repetitions the
Monte Carlo SE of an FPR near 0.05 is about 0.007, so the band is about 3 SE.

Exact permutation tests with few seeds can only return a few p-values, so
their FPR at alpha equals the largest attainable level not above alpha
(e.g. 12/252 = 0.048 for 5 vs 5 seeds); that attainable level is the target.
Where a test is known to be conservative in a regime we use (Brown-Forsythe
with 10 per group, the studentized DiD with 5 seeds per cell) the test checks
FPR <= alpha + 0.02 there and the two-sided band in a larger-sample regime.

Power tests simulate a stated effect and require power >= 0.8.
Bootstrap and Monte Carlo tests use 999 (or 499) resamples inside the loops
to keep the module well under a minute on two CPU cores.

Run with ``-s`` to see the measured rates.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from xstilts import stats as S

ALPHA = 0.05
TOL = 0.02


def _rate(p_values, alpha=ALPHA):
    """Fraction of p-values at or below alpha (small slack for float round-off in exact p)."""
    return float(np.mean(np.asarray(p_values) <= alpha + 1e-12))


def _check_calibrated(name, p_values, target=ALPHA):
    fpr = _rate(p_values)
    print(f"\n[calibration] {name}: FPR = {fpr:.3f} (target {target:.4f}, n_sim = {len(p_values)})")
    assert abs(fpr - target) <= TOL, f"{name}: FPR {fpr:.3f} not within {TOL} of {target:.4f}"


def _check_not_liberal(name, p_values):
    fpr = _rate(p_values)
    print(f"\n[calibration] {name}: FPR = {fpr:.3f} (must be <= {ALPHA + TOL}, n_sim = {len(p_values)})")
    assert fpr <= ALPHA + TOL, f"{name}: FPR {fpr:.3f} exceeds {ALPHA + TOL}"


def _check_power(name, p_values, minimum=0.8, alpha=ALPHA):
    power = _rate(p_values, alpha)
    print(f"\n[power] {name}: power = {power:.3f} (must be >= {minimum}, n_sim = {len(p_values)})")
    assert power >= minimum, f"{name}: power {power:.3f} < {minimum}"


def _attainable_level(alpha, n_relabellings, mirrored):
    """Largest p-value an exact permutation test can return that is <= alpha (continuous data).

    p-values are multiples of 1/K, or of 2/K when every relabelling ties in |T| with its mirror image.
    """
    step = (2 if mirrored else 1) / n_relabellings
    return np.floor(alpha / step + 1e-9) * step


def _binary_systems(rng, n, gain=0.0, strata_scale=None):
    """Per-example correctness of two systems sharing per-example difficulty.

    Example i is answered correctly with probability p_i by B and p_i + gain by A, independently
    (independent errors are the hardest case for a paired test: many discordant pairs).
    """
    p = rng.beta(2.0, 1.0, size=n)
    if strata_scale is not None:
        p = p * strata_scale
    a = (rng.random(n) < np.clip(p + gain, 0, 1)).astype(float)
    b = (rng.random(n) < p).astype(float)
    return a, b


# ----------------------------------------------------------------------------- paired bootstrap (S1)


@pytest.mark.parametrize("p_method", ["centred", "percentile"])
def test_paired_bootstrap_mean_fpr(p_method):
    rng = np.random.default_rng(100)
    p_values = []
    for rep in range(1000):
        a, b = _binary_systems(rng, 200)
        p_values.append(S.paired_bootstrap_mean(a, b, n_boot=999, seed=rep, p_method=p_method).p_value)
    _check_calibrated(f"paired_bootstrap_mean ({p_method}), 200 binary examples", p_values)


def test_paired_bootstrap_mean_stratified_fpr():
    # Four languages of very different difficulty, macro-averaged as in XTREME.
    rng = np.random.default_rng(101)
    langs = np.repeat(np.arange(4), 50)
    scale = np.repeat([1.0, 0.8, 0.6, 0.45], 50)
    p_values = []
    for rep in range(1000):
        a, b = _binary_systems(rng, 200, strata_scale=scale)
        p_values.append(S.paired_bootstrap_mean(a, b, n_boot=999, seed=rep, strata=langs).p_value)
    _check_calibrated("paired_bootstrap_mean, stratified by 4 languages (macro)", p_values)


def _macro_f1(preds, refs, n_classes=3):
    """Row-wise macro-F1 for (m, n) label matrices: a corpus-level, non-decomposable metric."""
    scores = []
    for c in range(n_classes):
        tp = np.sum((preds == c) & (refs == c), axis=-1)
        fp = np.sum((preds == c) & (refs != c), axis=-1)
        fn = np.sum((preds != c) & (refs == c), axis=-1)
        denom = 2 * tp + fp + fn
        scores.append(np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0))
    return np.mean(scores, axis=0)


def test_paired_bootstrap_corpus_f1_fpr():
    # Generic path, corpus macro-F1 recomputed per resample, 3 languages (XNLI-like 3 classes).
    rng = np.random.default_rng(102)
    n = 300
    langs = np.repeat(["sw", "ur", "th"], n // 3)
    p_values = []
    for rep in range(600):
        refs = rng.integers(0, 3, size=n)
        p_correct = rng.beta(3.0, 1.3, size=n)

        def predictions():
            wrong = (refs + rng.integers(1, 3, size=n)) % 3
            return np.where(rng.random(n) < p_correct, refs, wrong)

        res = S.paired_bootstrap(_macro_f1, predictions(), predictions(), refs, n_boot=499, seed=rep,
                                 strata=langs, vectorized=True)
        p_values.append(res.p_value)
    _check_calibrated("paired_bootstrap, corpus macro-F1, stratified (generic path)", p_values)


def test_paired_bootstrap_ci_coverage():
    # With a real 5-point gain the 95% percentile CI should cover the true gain ~95% of the time.
    rng = np.random.default_rng(103)
    covered = []
    for rep in range(1000):
        p = rng.uniform(0.2, 0.8, size=200)  # no clipping, so the true gain is exactly 0.05
        a = (rng.random(200) < p + 0.05).astype(float)
        b = (rng.random(200) < p).astype(float)
        res = S.paired_bootstrap_mean(a, b, n_boot=999, seed=rep)
        covered.append(res.ci_low <= 0.05 <= res.ci_high)
    coverage = float(np.mean(covered))
    print(f"\n[calibration] paired_bootstrap_mean 95% CI coverage = {coverage:.3f}")
    assert abs(coverage - 0.95) <= TOL


def test_paired_bootstrap_power():
    # A 10-point accuracy gain on 400 test examples with independent errors.
    rng = np.random.default_rng(104)
    p_values = []
    for rep in range(400):
        a, b = _binary_systems(rng, 400, gain=0.10)
        p_values.append(S.paired_bootstrap_mean(a, b, n_boot=499, seed=rep).p_value)
    _check_power("paired_bootstrap_mean, +10 points, n = 400", p_values)


# ----------------------------------------------------------------------------- permutation test (S3)


def test_exact_permutation_5v5_fpr_equals_attainable_level():
    rng = np.random.default_rng(200)
    p_values = [S.permutation_test(rng.normal(size=5), rng.normal(size=5)).p_value for _ in range(2000)]
    _check_calibrated("exact permutation 5 vs 5", p_values, _attainable_level(ALPHA, 252, mirrored=True))


def test_exact_permutation_6v6_fpr_equals_attainable_level():
    rng = np.random.default_rng(201)
    p_values = [S.permutation_test(rng.normal(size=6), rng.normal(size=6)).p_value for _ in range(2000)]
    _check_calibrated("exact permutation 6 vs 6", p_values, _attainable_level(ALPHA, 924, mirrored=True))


def test_exact_permutation_unequal_skewed_fpr():
    # 4 vs 7 skewed scores: exactness needs only exchangeability, not normality.
    rng = np.random.default_rng(202)
    p_values = [S.permutation_test(rng.exponential(size=4), rng.exponential(size=7)).p_value for _ in range(2000)]
    _check_calibrated("exact permutation 4 vs 7, exponential", p_values, _attainable_level(ALPHA, 330, mirrored=False))


def test_exact_paired_permutation_5_pairs():
    # 32 sign patterns: the smallest two-sided p is 2/32 = 0.0625, so alpha = 0.05 is unreachable
    # (FPR exactly 0) and the test is checked at the attainable level 4/32 = 0.125 instead.
    rng = np.random.default_rng(203)
    p_values = [S.permutation_test(rng.normal(size=5), rng.normal(size=5), paired=True).p_value for _ in range(1000)]
    assert _rate(p_values, 0.05) == 0.0
    fpr = _rate(p_values, 0.125)
    print(f"\n[calibration] exact paired permutation, 5 pairs: FPR at alpha=0.125 = {fpr:.3f} (target 0.125)")
    assert abs(fpr - 0.125) <= TOL


def test_exact_paired_permutation_10_pairs_fpr():
    rng = np.random.default_rng(204)
    p_values = [S.permutation_test(rng.normal(size=10), rng.normal(size=10), paired=True).p_value for _ in range(2000)]
    _check_calibrated("exact paired permutation, 10 pairs", p_values, _attainable_level(ALPHA, 1024, mirrored=True))


def test_monte_carlo_permutation_10v10_fpr():
    # C(20, 10) = 184756 > 999: Monte Carlo with the +1 correction.
    rng = np.random.default_rng(205)
    p_values = [
        S.permutation_test(rng.normal(size=10), rng.normal(size=10), n_perm=999, seed=rep).p_value
        for rep in range(1000)
    ]
    _check_calibrated("Monte Carlo permutation 10 vs 10 (999 draws)", p_values)


def test_permutation_power_6v6():
    # 6 seeds per condition, true gain = 2 across-seed SDs (e.g. +1 point with SD 0.5).
    rng = np.random.default_rng(206)
    p_values = [S.permutation_test(rng.normal(size=6) + 2.0, rng.normal(size=6)).p_value for _ in range(1000)]
    _check_power("exact permutation 6 vs 6, d = 2", p_values)


def test_paired_permutation_power_10_pairs():
    # 10 paired seeds, mean difference 1.2 SDs of the paired difference.
    rng = np.random.default_rng(207)
    p_values = [S.permutation_test(rng.normal(size=10) + 1.2, np.zeros(10), paired=True).p_value for _ in range(1000)]
    _check_power("exact paired permutation, 10 pairs, d_z = 1.2", p_values)


# ----------------------------------------------------------------------------- multiplicity (S6)


def test_holm_controls_family_wise_error():
    # 10 independent true nulls: Holm's FWER is at most alpha and close to it here.
    p = np.random.default_rng(300).random((4000, 10))
    fwer = float(np.mean([(S.holm(row) <= ALPHA).any() for row in p]))
    print(f"\n[calibration] Holm FWER, m = 10 nulls: {fwer:.3f}")
    assert fwer <= ALPHA + TOL and fwer >= ALPHA - TOL


def test_benjamini_hochberg_controls_fdr_and_beats_holm_on_power():
    # 8 true nulls, 2 real effects (z = 3.5): FDR <= alpha * m0 / m; BH finds at least as much as Holm.
    rng = np.random.default_rng(301)
    false_disc, bh_hits, holm_hits = [], 0, 0
    for _ in range(4000):
        z = np.r_[rng.normal(size=8), rng.normal(size=2) + 3.5]
        p = 2 * sps.norm.sf(np.abs(z))
        bh_reject = S.benjamini_hochberg(p) <= ALPHA
        holm_reject = S.holm(p) <= ALPHA
        false_disc.append(bh_reject[:8].sum() / max(1, bh_reject.sum()))
        bh_hits += bh_reject[8:].sum()
        holm_hits += holm_reject[8:].sum()
    fdr = float(np.mean(false_disc))
    print(f"\n[calibration] BH FDR (m0 = 8 of 10): {fdr:.3f} (bound {ALPHA * 0.8:.3f}); "
          f"power BH {bh_hits / 8000:.3f} vs Holm {holm_hits / 8000:.3f}")
    assert fdr <= ALPHA * 0.8 + TOL
    assert bh_hits >= holm_hits
    assert bh_hits / 8000 >= 0.8


# ----------------------------------------------------------------------------- variance tests (S5)


def test_brown_forsythe_fpr_20_per_group():
    rng = np.random.default_rng(400)
    p_values = [S.brown_forsythe(rng.normal(size=20), rng.normal(size=20)).p_value for _ in range(1000)]
    _check_calibrated("Brown-Forsythe, 2 x 20", p_values)


def test_brown_forsythe_is_not_liberal_with_10_seeds():
    # Known to be conservative for small groups (FPR ~0.03 at n = 10): only check it is not liberal.
    rng = np.random.default_rng(401)
    p_values = [S.brown_forsythe(*(rng.normal(size=10) for _ in range(3))).p_value for _ in range(1000)]
    _check_not_liberal("Brown-Forsythe, 3 x 10", p_values)


def test_brown_forsythe_power():
    rng = np.random.default_rng(402)
    p_values = [S.brown_forsythe(rng.normal(size=20), 2.5 * rng.normal(size=20)).p_value for _ in range(1000)]
    _check_power("Brown-Forsythe, 2 x 20, SD ratio 2.5", p_values)


def _languages(rng, n_lang, shrink=1.0, mean_shift=5.0):
    """Seed-averaged scores of two conditions on shared languages (language effects SD 3, noise SD 1).

    Condition 2 has a different mean (+``mean_shift``) and its language effects scaled by ``shrink``.
    """
    effect = 3.0 * rng.normal(size=n_lang)
    c1 = 60 + effect + rng.normal(size=n_lang)
    c2 = 60 + mean_shift + shrink * effect + rng.normal(size=n_lang)
    return c1, c2


@pytest.mark.parametrize("statistic", ["sd", "log_sd"])
def test_cross_language_dispersion_fpr_monte_carlo(statistic):
    rng = np.random.default_rng(500)
    p_values = [
        S.cross_language_dispersion_test(*_languages(rng, 15), n_perm=999, seed=rep, statistic=statistic).p_value
        for rep in range(1000)
    ]
    _check_calibrated(f"cross-language dispersion ({statistic}), 15 languages, Monte Carlo", p_values)


def test_cross_language_dispersion_not_liberal_with_8_languages():
    # The small-sample correction over-compensates for few languages (FPR ~0.025 at L = 8): check validity.
    rng = np.random.default_rng(501)
    p_values = [S.cross_language_dispersion_test(*_languages(rng, 8), n_perm=999).p_value for _ in range(1000)]
    _check_not_liberal("cross-language dispersion (centred), 8 languages, all 256 swaps", p_values)


def test_uncentred_cross_language_dispersion_is_exact():
    # Without centring and with equal condition means the pairs are exchangeable: an exact test whose
    # two-sided p-values are multiples of 2/256 (a swap pattern and its complement give opposite statistics).
    rng = np.random.default_rng(504)
    p_values = [
        S.cross_language_dispersion_test(*_languages(rng, 8, mean_shift=0.0), n_perm=999, center=False).p_value
        for _ in range(1000)
    ]
    _check_calibrated("cross-language dispersion (raw), 8 languages, exact", p_values,
                      _attainable_level(ALPHA, 256, mirrored=True))


def test_cross_language_dispersion_power():
    # Multilingual intermediate training shrinks language effects to 35%; means also differ by 5 points.
    rng = np.random.default_rng(502)
    p_values = [
        S.cross_language_dispersion_test(*_languages(rng, 15, shrink=0.35), n_perm=999, seed=rep).p_value
        for rep in range(1000)
    ]
    _check_power("cross-language dispersion, 15 languages, shrink 0.35", p_values)


def test_pitman_morgan_fpr():
    rng = np.random.default_rng(503)
    p_values = [S.pitman_morgan(*_languages(rng, 15)).p_value for _ in range(4000)]
    _check_calibrated("Pitman-Morgan, 15 languages", p_values)


# ----------------------------------------------------------------------------- DiD (RQ4/RQ5)


def _did_cells(rng, n_seeds, did=0.0):
    """Per-seed scores with different means and SDs per cell; the true DiD is ``did``."""
    spec = {("base", "none"): (70, 1.0), ("base", "int"): (72, 1.5), ("large", "none"): (80, 0.5),
            ("large", "int"): (82 + did, 0.7)}
    return {k: mu + sd * rng.normal(size=n_seeds) for k, (mu, sd) in spec.items()}


def test_did_bootstrap_fpr_10_seeds():
    rng = np.random.default_rng(600)
    p_values = [S.diff_in_diff_bootstrap(_did_cells(rng, 10), n_boot=999, seed=rep).p_value for rep in range(1000)]
    _check_calibrated("DiD bootstrap (studentized), 10 seeds per cell", p_values)


def test_did_bootstrap_not_liberal_with_5_seeds():
    # The plain bootstrap is liberal here (~0.07-0.09); the studentized default must not be.
    rng = np.random.default_rng(601)
    p_values = [S.diff_in_diff_bootstrap(_did_cells(rng, 5), n_boot=999, seed=rep).p_value for rep in range(1000)]
    _check_not_liberal("DiD bootstrap (studentized), 5 seeds per cell", p_values)


def test_did_bootstrap_ci_coverage_10_seeds():
    rng = np.random.default_rng(602)
    covered = []
    for rep in range(1000):
        res = S.diff_in_diff_bootstrap(_did_cells(rng, 10, did=-1.0), n_boot=999, seed=rep)
        covered.append(res.ci_low <= -1.0 <= res.ci_high)
    coverage = float(np.mean(covered))
    print(f"\n[calibration] DiD bootstrap-t 95% CI coverage, 10 seeds per cell = {coverage:.3f}")
    assert abs(coverage - 0.95) <= TOL


def test_did_bootstrap_paired_examples_fpr():
    # Per-example 0/1 scores of the 4 cells on the same 200 test examples.
    rng = np.random.default_rng(603)
    shifts = {("base", "none"): -0.2, ("base", "int"): -0.15, ("large", "none"): 0.0, ("large", "int"): 0.05}
    p_values = []
    for rep in range(1000):
        p = rng.beta(2.0, 1.0, size=200)
        cells = {k: (rng.random(200) < np.clip(p + s, 0, 1)).astype(float) for k, s in shifts.items()}
        p_values.append(S.diff_in_diff_bootstrap(cells, n_boot=999, seed=rep, paired_examples=True).p_value)
    # Clipping at 0/1 makes the true DiD not exactly 0; it is tiny (|DiD| < 0.005), so the test stays near alpha.
    _check_calibrated("DiD bootstrap over shared examples", p_values)


def test_did_bootstrap_power():
    # The gain shrinks by 2 points at the large size (seed SDs 0.5-1.5 per cell, so the SE of the
    # DiD is ~0.63); 10 seeds per cell; one-sided H1: DiD < 0.
    rng = np.random.default_rng(604)
    p_values = [
        S.diff_in_diff_bootstrap(_did_cells(rng, 10, did=-2.0), n_boot=999, seed=rep, alternative="less").p_value
        for rep in range(1000)
    ]
    _check_power("DiD bootstrap, 10 seeds, DiD = -2 (one-sided)", p_values)


# ----------------------------------------------------------------------------- parametric (S4, S8)


def test_welch_t_fpr_unequal_variances():
    rng = np.random.default_rng(700)
    p_values = [S.welch_t(rng.normal(size=6), 3 * rng.normal(size=9)).p_value for _ in range(2000)]
    _check_calibrated("Welch t, n = 6 vs 9, SD ratio 3", p_values)


def test_welch_t_power():
    rng = np.random.default_rng(701)
    p_values = [S.welch_t(rng.normal(size=6) + 2.0, rng.normal(size=6)).p_value for _ in range(2000)]
    _check_power("Welch t, 6 vs 6, d = 2", p_values)


@pytest.mark.parametrize("paired", [False, True])
def test_tost_size_at_the_margin(paired):
    # The hardest null for TOST is a true difference exactly at the margin: rejection rate ~= alpha.
    rng = np.random.default_rng(703 if paired else 702)
    p_values = []
    for _ in range(2000):
        b = 0.2 * rng.normal(size=10)
        # Paired: a shares b's run-to-run variation plus its own noise; unpaired: independent runs.
        a = (b if paired else 0.0) + 0.2 * rng.normal(size=10) + 0.5
        p_values.append(S.tost_equivalence(a, b, margin=0.5, paired=paired).p_value)
    _check_calibrated(f"TOST at the margin ({'paired' if paired else 'Welch'})", p_values)


def test_tost_power():
    # No true difference, margin 0.5 points, seed SD 0.3, 10 seeds per condition.
    rng = np.random.default_rng(704)
    p_values = [S.tost_equivalence(0.3 * rng.normal(size=10), 0.3 * rng.normal(size=10), margin=0.5).p_value
                for _ in range(2000)]
    _check_power("TOST, true diff 0, margin 0.5, SD 0.3, 10 vs 10", p_values)
