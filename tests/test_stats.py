"""Unit tests for xstilts.stats: hand-computed values, agreement with scipy/statsmodels, invariants.

Calibration (false-positive rates) and power live in test_stats_calibration.py.
"""

from __future__ import annotations

import dataclasses
import itertools
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.weightstats import ttost_ind, ttost_paired

from xstilts import stats as S


def accuracy(preds, refs):
    """Accuracy that works on 1-D inputs and, row-wise, on 2-D (vectorized) inputs."""
    return np.mean(np.asarray(preds) == np.asarray(refs), axis=-1)


def micro_f1_positive(preds, refs):
    """Corpus-level F1 of the positive class: not a mean of per-example scores."""
    p, r = np.asarray(preds), np.asarray(refs)
    tp = np.sum((p == 1) & (r == 1))
    fp = np.sum((p == 1) & (r == 0))
    fn = np.sum((p == 0) & (r == 1))
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)


# ----------------------------------------------------------------------------- multiplicity


def test_holm_matches_hand_computation():
    # sorted: .005 .01 .03 .04 -> 4*.005=.02, 3*.01=.03, 2*.03=.06, max(.06, 1*.04)=.06
    p = [0.01, 0.04, 0.03, 0.005]
    np.testing.assert_allclose(S.holm(p), [0.03, 0.06, 0.06, 0.02])


def test_benjamini_hochberg_matches_hand_computation():
    # sorted: .005*4/1=.02, .01*4/2=.02, .03*4/3=.04, .04*4/4=.04 (already monotone)
    p = [0.01, 0.04, 0.03, 0.005]
    np.testing.assert_allclose(S.benjamini_hochberg(p), [0.02, 0.04, 0.04, 0.02])


def test_benjamini_hochberg_enforces_step_up_monotonicity():
    # raw scaled values 3*.02/1=.06, 3*.03/2=.045, 3*.5/3=.5 -> the first is pulled down to .045
    np.testing.assert_allclose(S.benjamini_hochberg([0.5, 0.02, 0.03]), [0.5, 0.045, 0.045])


def test_holm_clips_at_one():
    np.testing.assert_allclose(S.holm([0.6, 0.7]), [1.0, 1.0])


def test_multiplicity_agrees_with_statsmodels():
    p = np.random.default_rng(0).random(25) ** 3
    np.testing.assert_allclose(S.holm(p), multipletests(p, method="holm")[1])
    np.testing.assert_allclose(S.benjamini_hochberg(p), multipletests(p, method="fdr_bh")[1])
    rng = np.random.default_rng(1)  # Holm is the project's own arithmetic: many families, ties and sizes 1..12
    for _ in range(40):  # (statsmodels' Holm costs ~70 ms a call here: its gc.collect())
        p = np.round(rng.random(rng.integers(1, 13)) ** 2, 2)
        np.testing.assert_allclose(S.holm(p), multipletests(p, method="holm")[1], rtol=0, atol=1e-12)


@pytest.mark.parametrize("adjust", [S.holm, S.benjamini_hochberg])
def test_multiplicity_rejects_nan_and_out_of_range(adjust):
    with pytest.raises(ValueError, match="NaN"):
        adjust([0.01, float("nan")])
    with pytest.raises(ValueError):
        adjust([0.01, 1.5])


@pytest.mark.parametrize("adjust", [S.holm, S.benjamini_hochberg])
def test_multiplicity_empty_input(adjust):
    assert adjust([]).shape == (0,)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=30))
def test_adjusted_p_values_are_valid_and_ordered(p):
    p = np.asarray(p)
    holm_adj, bh_adj = S.holm(p), S.benjamini_hochberg(p)
    # Adjusting never lowers a p-value, never exceeds 1, and BH is never stricter than Holm.
    assert np.all(holm_adj >= p - 1e-15) and np.all(bh_adj >= p - 1e-15)
    assert np.all(holm_adj <= 1.0) and np.all(bh_adj <= 1.0)
    assert np.all(bh_adj <= holm_adj + 1e-15)
    # Adjusted p-values preserve the order of the raw ones.
    order = np.argsort(p, kind="stable")
    assert np.all(np.diff(holm_adj[order]) >= -1e-15)
    assert np.all(np.diff(bh_adj[order]) >= -1e-15)


# ----------------------------------------------------------------------------- permutation test


def test_exact_unpaired_permutation_by_hand():
    # a=[3,4], b=[1,2]: the 6 choices of group A give T = 2, -2, -1, 0, 0, 1.
    res = S.permutation_test([3, 4], [1, 2])
    assert res.exact and res.n_perm == 6
    assert res.estimate == pytest.approx(2.0)
    assert res.p_value == pytest.approx(2 / 6)  # |T| >= 2: the observed split and its mirror
    assert S.permutation_test([3, 4], [1, 2], alternative="greater").p_value == pytest.approx(1 / 6)
    assert S.permutation_test([3, 4], [1, 2], alternative="less").p_value == pytest.approx(6 / 6)


def test_exact_paired_permutation_by_hand():
    # differences 1, 2, 3; the 8 sign patterns give sums 6, 4, 2, 0, 0, -2, -4, -6.
    res = S.permutation_test([1, 2, 3], [0, 0, 0], paired=True)
    assert res.exact and res.n_perm == 8
    assert res.p_value == pytest.approx(2 / 8)
    assert S.permutation_test([1, 2, 3], [0, 0, 0], paired=True, alternative="greater").p_value == pytest.approx(1 / 8)


def test_three_versus_three_reaches_the_tabulated_minimum():
    # Completely separated groups give the smallest two-sided p: 2 / C(6, 3) = 0.1.
    assert S.permutation_test([1, 2, 3], [4, 5, 6]).p_value == pytest.approx(0.1)


def test_exact_permutation_handles_ties():
    # With all values equal every relabelling ties with the observed one.
    assert S.permutation_test([1.0, 1.0, 1.0], [1.0, 1.0, 1.0]).p_value == pytest.approx(1.0)
    # Floating-point noise in the statistic must not break ties between a split and its mirror.
    a, b = [0.1, 0.2, 0.7], [0.3, 0.6, 0.4]
    res = S.permutation_test(a, b)
    brute = _brute_force_unpaired_p(a, b)
    assert res.p_value == pytest.approx(brute)


def _brute_force_unpaired_p(a, b):
    """Two-sided exact p by listing group-A index sets with itertools (independent of the package)."""
    pooled = list(a) + list(b)
    observed = abs(np.mean(a) - np.mean(b))
    hits = total = 0
    for chosen in itertools.combinations(range(len(pooled)), len(a)):
        rest = [pooled[i] for i in range(len(pooled)) if i not in chosen]
        total += 1
        hits += abs(np.mean([pooled[i] for i in chosen]) - np.mean(rest)) >= observed - 1e-12
    return hits / total


def test_exact_permutation_matches_brute_force_with_unequal_groups():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=3), rng.normal(size=5) + 0.5
    assert S.permutation_test(a, b).p_value == pytest.approx(_brute_force_unpaired_p(a, b))


@pytest.mark.parametrize("paired", [False, True])
def test_one_sided_exact_p_matches_scipy(paired):
    # scipy's two-sided convention differs (2 x smaller tail), so compare one-sided p-values.
    rng = np.random.default_rng(11)
    a, b = rng.normal(size=6) + 0.7, rng.normal(size=6)
    ours = S.permutation_test(a, b, paired=paired, alternative="greater")
    theirs = sps.permutation_test(
        (a, b),
        lambda x, y, axis: np.mean(x, axis=axis) - np.mean(y, axis=axis),
        permutation_type="samples" if paired else "independent",
        alternative="greater",
        n_resamples=np.inf,
        vectorized=True,
    )
    assert ours.exact
    assert ours.p_value == pytest.approx(theirs.pvalue)


def test_monte_carlo_permutation_is_seeded_and_close_to_exact():
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=7) + 0.8, rng.normal(size=7)
    exact = S.permutation_test(a, b, n_perm=5000)  # C(14, 7) = 3432 <= 5000
    mc = S.permutation_test(a, b, n_perm=3000, seed=1)  # 3432 > 3000: Monte Carlo
    assert exact.exact and not mc.exact
    assert mc.n_perm == 3000
    assert mc.p_value == S.permutation_test(a, b, n_perm=3000, seed=1).p_value
    assert abs(mc.p_value - exact.p_value) < 0.02
    assert mc.p_value >= 1 / 3001  # the +1 correction keeps p away from zero


def test_paired_monte_carlo_when_sign_flips_exceed_budget():
    rng = np.random.default_rng(6)
    a = rng.normal(size=12) + 1.0
    b = rng.normal(size=12)
    mc = S.permutation_test(a, b, paired=True, n_perm=999, seed=0)
    exact = S.permutation_test(a, b, paired=True, n_perm=5000)  # 2**12 = 4096
    assert not mc.exact and exact.exact
    assert abs(mc.p_value - exact.p_value) < 0.02


_scores = st.lists(st.floats(min_value=-100, max_value=100, allow_nan=False), min_size=2, max_size=6)


@settings(max_examples=150, deadline=None)
@given(_scores, _scores)
def test_exact_p_value_is_bounded_by_the_design_minimum_and_symmetric(a, b):
    res = S.permutation_test(a, b)
    assert S.min_achievable_p(len(a), len(b)) - 1e-12 <= res.p_value <= 1.0
    # Swapping the roles of the groups flips the sign of T but not a two-sided p-value.
    assert S.permutation_test(b, a).p_value == pytest.approx(res.p_value)


def test_paired_permutation_requires_equal_lengths():
    with pytest.raises(ValueError):
        S.permutation_test([1, 2, 3], [1, 2], paired=True)


def test_permutation_rejects_unknown_alternative():
    with pytest.raises(ValueError):
        S.permutation_test([1, 2], [3, 4], alternative="two_sided")


# The S3 table of seed_refs.md §4: smallest two-sided p with k seeds per condition.
@pytest.mark.parametrize(
    "k, unpaired, paired",
    [
        (3, 0.100, 0.25), (4, 0.0286, 0.125), (5, 0.0079, 0.0625),
        (6, 0.0022, 0.031), (8, 0.00016, 0.0078), (10, 1e-5, 0.0020),
    ],
)
def test_min_achievable_p_reproduces_design_table(k, unpaired, paired):
    assert S.min_achievable_p(k, k) == pytest.approx(unpaired, rel=0.1)
    assert S.min_achievable_p(k, paired=True) == pytest.approx(paired, rel=0.1)


def test_min_achievable_p_is_attained():
    res = S.permutation_test([10, 11, 12, 13, 14], [0, 1, 2, 3, 4])
    assert res.p_value == pytest.approx(S.min_achievable_p(5, 5))
    assert S.min_achievable_p(3, 5) == pytest.approx(1 / 56)  # unequal groups: no mirror image
    assert S.min_achievable_p(10, 10, n_perm=999) == pytest.approx(1 / 1000)  # Monte Carlo regime


# ----------------------------------------------------------------------------- paired bootstrap


def _two_systems(n=400, seed=0):
    rng = np.random.default_rng(seed)
    refs = rng.integers(0, 2, size=n)
    a = np.where(rng.random(n) < 0.80, refs, 1 - refs)
    b = np.where(rng.random(n) < 0.75, refs, 1 - refs)
    langs = np.array(["sw", "de", "th", "ur"])[rng.integers(0, 4, size=n)]
    return a, b, refs, langs


@pytest.mark.parametrize("with_strata", [False, True])
@pytest.mark.parametrize("aggregate", ["macro", "pooled"])
def test_generic_bootstrap_equals_fast_path_for_accuracy(with_strata, aggregate):
    # Both paths draw the same resamples for the same seed, so results must agree.
    a, b, refs, langs = _two_systems()
    strata = langs if with_strata else None
    generic = S.paired_bootstrap(accuracy, a, b, refs, n_boot=300, seed=4, strata=strata, aggregate=aggregate)
    fast = S.paired_bootstrap_mean(a == refs, b == refs, n_boot=300, seed=4, strata=strata, aggregate=aggregate)
    for field in ("estimate", "ci_low", "ci_high", "p_value", "se", "score_a", "score_b"):
        assert getattr(generic, field) == pytest.approx(getattr(fast, field), abs=1e-12), field


def test_vectorized_metric_equals_per_resample_calls():
    a, b, refs, langs = _two_systems(n=200)
    loop = S.paired_bootstrap(accuracy, a, b, refs, n_boot=200, seed=2, strata=langs)
    vec = S.paired_bootstrap(accuracy, a, b, refs, n_boot=200, seed=2, strata=langs, vectorized=True)
    assert loop.p_value == vec.p_value
    assert loop.ci_low == pytest.approx(vec.ci_low) and loop.ci_high == pytest.approx(vec.ci_high)


def test_corpus_metric_is_recomputed_not_averaged():
    a, b, refs, _ = _two_systems(n=300, seed=1)
    res = S.paired_bootstrap(micro_f1_positive, a, b, refs, n_boot=200, seed=0)
    assert res.score_a == pytest.approx(micro_f1_positive(a, refs))
    assert res.estimate == pytest.approx(micro_f1_positive(a, refs) - micro_f1_positive(b, refs))
    assert res.ci_low < res.estimate < res.ci_high


def test_macro_aggregate_averages_languages_with_equal_weight():
    # Language x: A right on all 10; language y: A wrong on all 90; B always wrong.
    refs = np.ones(100, dtype=int)
    a = np.r_[np.ones(10), np.zeros(90)].astype(int)
    b = np.zeros(100, dtype=int)
    langs = np.r_[["x"] * 10, ["y"] * 90]
    macro = S.paired_bootstrap(accuracy, a, b, refs, n_boot=50, seed=0, strata=langs, aggregate="macro")
    pooled = S.paired_bootstrap(accuracy, a, b, refs, n_boot=50, seed=0, strata=langs, aggregate="pooled")
    assert macro.estimate == pytest.approx(0.5)  # (1.0 + 0.0) / 2
    assert pooled.estimate == pytest.approx(0.1)  # 10 / 100
    # Stratified resampling keeps each language's count, so both statistics never vary here.
    assert macro.se == pytest.approx(0.0) and pooled.se == pytest.approx(0.0)


def test_stratified_blocks_contain_a_single_language():
    a, b, refs, langs = _two_systems(n=120, seed=3)
    # Pass the language as the "reference" so the metric can see which examples it got.
    seen = []

    def one_language(preds, block_langs):
        seen.append(len(set(block_langs)))
        return 0.0

    S.paired_bootstrap(one_language, a, b, list(langs), n_boot=20, seed=0, strata=langs, aggregate="macro")
    assert seen and set(seen) == {1}


def test_bootstrap_accepts_python_lists_of_strings():
    # e.g. QA answers compared by exact match; lists are passed to the metric as lists.
    refs = ["paris", "rome", "oslo", "bern"] * 25
    a = list(refs)
    b = ["paris", "x", "oslo", "y"] * 25

    def exact_match(preds, gold):
        assert isinstance(preds, list)
        return float(np.mean([p == g for p, g in zip(preds, gold)]))

    res = S.paired_bootstrap(exact_match, a, b, refs, n_boot=200, seed=0)
    assert res.estimate == pytest.approx(0.5)
    assert res.p_value < 0.01


def test_identical_systems_give_zero_difference_and_p_one():
    a, _, refs, langs = _two_systems()
    for p_method in ("centred", "percentile"):
        res = S.paired_bootstrap_mean(a == refs, a == refs, n_boot=200, seed=0, strata=langs, p_method=p_method)
        assert res.estimate == 0.0 and res.ci_low == 0.0 and res.ci_high == 0.0
        assert res.p_value == pytest.approx(1.0)


def test_bootstrap_is_deterministic_given_seed():
    a, b, refs, _ = _two_systems()
    first = S.paired_bootstrap_mean(a == refs, b == refs, n_boot=500, seed=9)
    again = S.paired_bootstrap_mean(a == refs, b == refs, n_boot=500, seed=9)
    other = S.paired_bootstrap_mean(a == refs, b == refs, n_boot=500, seed=10)
    assert first == again
    assert first.ci_low != other.ci_low or first.p_value != other.p_value


def test_centred_p_value_by_hand():
    # boot - observed = [-0.5, 0.5, 1.5, -1.5]; two-sided hits |.| >= 1: two of four.
    boot = np.array([0.5, 1.5, 2.5, -0.5])
    assert S.bootstrap_p_value(boot, 1.0, "two-sided", "centred") == pytest.approx(3 / 5)
    assert S.bootstrap_p_value(boot, 1.0, "greater", "centred") == pytest.approx(2 / 5)  # only 1.5 >= 1
    # Koehn count: one of four resamples at or below zero.
    assert S.bootstrap_p_value(boot, 1.0, "greater", "percentile") == pytest.approx(2 / 5)
    assert S.bootstrap_p_value(boot, 1.0, "two-sided", "percentile") == pytest.approx(4 / 5)


def test_one_sided_p_values_point_the_right_way():
    a, b, refs, _ = _two_systems(n=2000)
    greater = S.paired_bootstrap_mean(a == refs, b == refs, n_boot=2000, seed=0, alternative="greater")
    less = S.paired_bootstrap_mean(a == refs, b == refs, n_boot=2000, seed=0, alternative="less")
    assert greater.estimate > 0
    assert greater.p_value < 0.01 < 0.99 < less.p_value


def test_fast_path_handles_ten_thousand_resamples_of_five_thousand_examples_quickly():
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 2, 5000), rng.integers(0, 2, 5000)
    langs = np.repeat(np.arange(10), 500)
    start = time.perf_counter()
    res = S.paired_bootstrap_mean(a, b, n_boot=10_000, seed=0, strata=langs)
    assert res.n_boot == 10_000
    assert time.perf_counter() - start < 10.0  # about 0.5 s on a 2-core CPU


def test_bootstrap_input_validation():
    with pytest.raises(ValueError):
        S.paired_bootstrap_mean([1, 0, 1], [1, 0])
    with pytest.raises(ValueError):
        S.paired_bootstrap(accuracy, [1, 0], [1, 0], [1, 0], strata=["x"])
    with pytest.raises(ValueError):
        S.paired_bootstrap_mean([1, 0], [0, 1], aggregate="mean")
    with pytest.raises(ValueError):
        S.paired_bootstrap_mean([1, 0], [0, 1], p_method="koehn")
    with pytest.raises(ValueError):
        S.paired_bootstrap_mean([1, float("nan")], [0, 1])


def test_results_are_frozen():
    res = S.paired_bootstrap_mean([1, 0, 1, 1], [0, 0, 1, 0], n_boot=10)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.p_value = 0.0  # type: ignore[misc]


# ----------------------------------------------------------------------------- difference in differences


def _did_cells(shift_large_int=0.0):
    rng = np.random.default_rng(8)
    return {
        ("base", "none"): 70 + rng.normal(size=6),
        ("base", "int"): 72 + rng.normal(size=6),
        ("large", "none"): 80 + 0.5 * rng.normal(size=6),
        ("large", "int"): 82 + shift_large_int + 0.5 * rng.normal(size=6),
    }


def test_did_estimate_is_the_difference_of_gains():
    cells = _did_cells()
    m = {k: np.mean(v) for k, v in cells.items()}
    res = S.diff_in_diff_bootstrap(cells, n_boot=500, seed=0)
    gain_large = m["large", "int"] - m["large", "none"]
    gain_base = m["base", "int"] - m["base", "none"]
    assert res.score_a == pytest.approx(gain_large) and res.score_b == pytest.approx(gain_base)
    assert res.estimate == pytest.approx(gain_large - gain_base)
    assert res.ci_low < res.estimate < res.ci_high
    assert res.n == 24


def test_did_detects_a_diminished_gain_one_sided():
    res = S.diff_in_diff_bootstrap(_did_cells(shift_large_int=-2.0), n_boot=2000, seed=0, alternative="less")
    assert res.estimate < -1.0
    assert res.p_value < 0.01


def test_did_custom_labels_and_missing_cell():
    cells = {(k[0].upper(), k[1] == "int"): v for k, v in _did_cells().items()}
    res = S.diff_in_diff_bootstrap(cells, n_boot=200, sizes=("BASE", "LARGE"), conditions=(False, True))
    assert res.estimate == pytest.approx(S.diff_in_diff_bootstrap(_did_cells(), n_boot=200).estimate)
    with pytest.raises(KeyError):
        S.diff_in_diff_bootstrap({k: v for k, v in _did_cells().items() if k != ("base", "none")})


def test_did_paired_examples_uses_the_per_example_contrast():
    rng = np.random.default_rng(0)
    cells = {k: rng.integers(0, 2, size=300).astype(float) for k in _did_cells()}
    res = S.diff_in_diff_bootstrap(cells, n_boot=300, seed=0, paired_examples=True)
    contrast = cells["large", "int"] - cells["large", "none"] - cells["base", "int"] + cells["base", "none"]
    assert res.estimate == pytest.approx(contrast.mean())
    assert res.n == 300
    cells["base", "none"] = cells["base", "none"][:-1]
    with pytest.raises(ValueError):
        S.diff_in_diff_bootstrap(cells, paired_examples=True)


@pytest.mark.parametrize("p_method", ["studentized", "centred", "percentile"])
def test_did_p_methods_agree_on_a_clear_effect(p_method):
    res = S.diff_in_diff_bootstrap(_did_cells(shift_large_int=-3.0), n_boot=1000, seed=1, p_method=p_method)
    assert res.p_value < 0.01
    assert res.ci_high < 0


# ----------------------------------------------------------------------------- variance tests


def test_brown_forsythe_matches_scipy_levene_median():
    rng = np.random.default_rng(2)
    groups = [rng.normal(size=10), 2 * rng.normal(size=7), rng.standard_t(3, size=12)]
    ours = S.brown_forsythe(*groups)
    theirs = sps.levene(*groups, center="median")
    assert ours.statistic == pytest.approx(theirs.statistic)
    assert ours.p_value == pytest.approx(theirs.pvalue)
    assert (ours.df_between, ours.df_within) == (2, 26)


def test_brown_forsythe_by_hand():
    # medians 2 and 20 -> deviations [1,0,1] and [10,0,10]; group means 2/3 and 20/3, grand 11/3.
    # between = 3*(3)^2*2 = 54 (df 1); within = 2/3 + 200/3 = 202/3 (df 4); F = 54 / (202/12).
    res = S.brown_forsythe([1, 2, 3], [10, 20, 30])
    assert res.statistic == pytest.approx(54 / (202 / 12))


def test_brown_forsythe_needs_two_groups_of_two():
    with pytest.raises(ValueError):
        S.brown_forsythe([1, 2, 3])
    with pytest.raises(ValueError):
        S.brown_forsythe([1, 2, 3], [4])


def _brute_force_dispersion_p(x, y):
    """Exact two-sided p of SD(x) - SD(y) over all within-language swaps, via itertools."""
    observed = abs(np.std(x, ddof=1) - np.std(y, ddof=1))
    hits = total = 0
    for swap in itertools.product([False, True], repeat=len(x)):
        new_x = [yi if s else xi for xi, yi, s in zip(x, y, swap)]
        new_y = [xi if s else yi for xi, yi, s in zip(x, y, swap)]
        total += 1
        hits += abs(np.std(new_x, ddof=1) - np.std(new_y, ddof=1)) >= observed - 1e-12
    return hits / total


def test_cross_language_dispersion_exact_matches_brute_force():
    x = np.array([60.0, 71.0, 55.0, 80.0, 66.0])
    y = np.array([64.0, 69.0, 62.0, 74.0, 67.0])
    res = S.cross_language_dispersion_test(x, y, center=False)
    assert res.exact and res.n_perm == 32
    assert res.estimate == pytest.approx(np.std(x, ddof=1) - np.std(y, ddof=1))
    assert res.p_value == pytest.approx(_brute_force_dispersion_p(x, y))


def test_cross_language_dispersion_ignores_a_uniform_shift_when_centred():
    rng = np.random.default_rng(4)
    x = rng.normal(size=9) * 3
    y = rng.normal(size=9) * 3
    base = S.cross_language_dispersion_test(x, y, n_perm=600, seed=0)
    shifted = S.cross_language_dispersion_test(x, y + 25.0, n_perm=600, seed=0)
    assert shifted.estimate == pytest.approx(base.estimate)
    assert shifted.p_value == pytest.approx(base.p_value)


def test_cross_language_dispersion_averages_seeds_and_detects_shrinkage():
    rng = np.random.default_rng(5)
    language_effect = rng.normal(size=15) * 4
    c1 = 60 + language_effect[:, None] + rng.normal(size=(15, 10))  # (languages, seeds)
    c2 = 62 + 0.3 * language_effect[:, None] + rng.normal(size=(15, 10))
    res = S.cross_language_dispersion_test(c1, c2, n_perm=2000, seed=0, alternative="greater")
    assert res.estimate > 0 and res.p_value < 0.01
    log_res = S.cross_language_dispersion_test(c1, c2, n_perm=2000, seed=0, statistic="log_sd")
    sd1, sd2 = c1.mean(axis=1).std(ddof=1), c2.mean(axis=1).std(ddof=1)
    assert log_res.estimate == pytest.approx(np.log(sd1 / sd2))


def test_pitman_morgan_matches_variance_ratio_form():
    # Equivalent form: t = (F - 1) sqrt(n - 2) / (2 sqrt(F (1 - r^2))), F the variance ratio.
    rng = np.random.default_rng(6)
    z = rng.normal(size=14)
    x, y = z + rng.normal(size=14), 0.5 * z + 0.5 * rng.normal(size=14)
    res = S.pitman_morgan(x, y)
    f, r, n = x.var(ddof=1) / y.var(ddof=1), np.corrcoef(x, y)[0, 1], 14
    assert res.estimate == pytest.approx(f)
    assert res.statistic == pytest.approx((f - 1) * np.sqrt(n - 2) / (2 * np.sqrt(f * (1 - r**2))))
    assert res.p_value == pytest.approx(2 * sps.t.sf(abs(res.statistic), n - 2))


# ----------------------------------------------------------------------------- parametric


def test_welch_t_matches_scipy():
    a, b = [1.0, 2.0, 3.5], [3.0, 4.0, 5.0, 9.0]
    ours = S.welch_t(a, b)
    theirs = sps.ttest_ind(a, b, equal_var=False)
    ci = theirs.confidence_interval(0.95)
    assert ours.statistic == pytest.approx(theirs.statistic)
    assert ours.p_value == pytest.approx(theirs.pvalue)
    assert ours.df == pytest.approx(theirs.df)
    assert (ours.ci_low, ours.ci_high) == (pytest.approx(ci.low), pytest.approx(ci.high))
    one_sided = S.welch_t(a, b, alternative="less").p_value
    assert one_sided == pytest.approx(sps.ttest_ind(a, b, equal_var=False, alternative="less").pvalue)


def test_hedges_g_by_hand():
    # diff -2, pooled SD 1, df 4: J = Gamma(2) / (sqrt(2) Gamma(1.5)) = 0.7978845608.
    assert S.hedges_g([1, 2, 3], [3, 4, 5]) == pytest.approx(-2 * 0.7978845608)


def test_hedges_g_correction_close_to_the_usual_approximation():
    rng = np.random.default_rng(7)
    a, b = rng.normal(size=10) + 1, rng.normal(size=12)
    pooled = np.sqrt((9 * np.var(a, ddof=1) + 11 * np.var(b, ddof=1)) / 20)
    d = (a.mean() - b.mean()) / pooled
    assert S.hedges_g(a, b) == pytest.approx(d * (1 - 3 / (4 * 20 - 1)), rel=1e-3)


def test_tost_matches_statsmodels_unpaired_welch():
    rng = np.random.default_rng(8)
    a, b = 80 + 0.4 * rng.normal(size=8), 80.1 + 0.6 * rng.normal(size=10)
    ours = S.tost_equivalence(a, b, margin=0.5)
    p, (_, p1, df), (_, p2, _) = ttost_ind(a, b, -0.5, 0.5, usevar="unequal")  # (t, p, df) per side
    assert ours.p_value == pytest.approx(p)
    assert (ours.p_lower, ours.p_upper) == (pytest.approx(p1), pytest.approx(p2))
    assert ours.df == pytest.approx(df)


def test_tost_matches_statsmodels_paired():
    rng = np.random.default_rng(9)
    a = 80 + rng.normal(size=10)
    b = a + 0.1 + 0.2 * rng.normal(size=10)
    ours = S.tost_equivalence(a, b, margin=(-0.6, 0.4), paired=True)
    p, _, _ = ttost_paired(a, b, -0.6, 0.4)
    assert ours.p_value == pytest.approx(p)


def test_tost_decision_matches_the_1_minus_2alpha_interval():
    rng = np.random.default_rng(10)
    for _ in range(50):
        a, b = rng.normal(size=6) * 0.3, rng.normal(size=6) * 0.3 + rng.uniform(-0.5, 0.5)
        res = S.tost_equivalence(a, b, margin=0.5)
        inside = -0.5 < res.ci_low and res.ci_high < 0.5
        assert res.equivalent == inside


def test_tost_rejects_bad_margins():
    with pytest.raises(ValueError):
        S.tost_equivalence([1, 2], [1, 2], margin=0)
    with pytest.raises(ValueError):
        S.tost_equivalence([1, 2], [1, 2], margin=(0.5, -0.5))
