import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xstilts.metrics import HiddenLabelsError, accuracy, macro_f1

try:  # scikit-learn comes with seqeval; it is the reference for macro-F1 only
    from sklearn.metrics import f1_score as sklearn_f1
except ImportError:  # pragma: no cover
    sklearn_f1 = None


def test_accuracy_hand_computed():
    assert accuracy([0, 1, 2, 1], [0, 1, 1, 1]) == pytest.approx(75.0)


def test_accuracy_accepts_numpy_arrays():
    assert accuracy(np.array([1, 1]), np.array([1, 0])) == pytest.approx(50.0)


def test_macro_f1_hand_computed():
    # class 0: TP1 FP1 FN0 -> 2/3; class 1: TP1 FP0 FN1 -> 2/3; class 2: TP1 -> 1
    assert macro_f1([0, 0, 1, 2], [0, 1, 1, 2], num_labels=3) == pytest.approx(100 * 7 / 9)


def test_macro_f1_counts_absent_class_as_zero():
    # sklearn f1_score(average="macro", labels=range(4), zero_division=0) semantics
    assert macro_f1([0, 0, 1, 2], [0, 1, 1, 2], num_labels=4) == pytest.approx(100 * (7 / 3) / 4)


def test_macro_f1_differs_from_accuracy_on_imbalanced_data():
    preds, gold = [0, 0, 0, 0], [0, 0, 0, 1]
    assert accuracy(preds, gold) == pytest.approx(75.0)
    # class 0: 2*3/(4+3) = 6/7, class 1: 0
    assert macro_f1(preds, gold, 2) == pytest.approx(100 * 3 / 7)


def test_all_hidden_labels_refused():
    with pytest.raises(HiddenLabelsError, match="all 3 gold labels are hidden"):
        accuracy([0, 1, 2], [-1, -1, -1])


def test_some_hidden_labels_refused_with_count():
    with pytest.raises(HiddenLabelsError, match="2 of 5 gold labels"):
        accuracy([0, 1, 2, 0, 0], [0, -1, 2, -1, 0])
    with pytest.raises(HiddenLabelsError):
        macro_f1([0, 1], [-1, 1], num_labels=2)


def test_hidden_labels_error_is_a_value_error():
    assert issubclass(HiddenLabelsError, ValueError)


@pytest.mark.parametrize("fn", [accuracy, lambda p, g: macro_f1(p, g, 3)])
def test_empty_and_mismatched_inputs(fn):
    with pytest.raises(ValueError, match="empty"):
        fn([], [])
    with pytest.raises(ValueError, match="2 predictions but 3 labels"):
        fn([0, 1], [0, 1, 2])


def test_macro_f1_rejects_out_of_range_ids():
    with pytest.raises(ValueError, match="outside"):
        macro_f1([0, 3], [0, 1], num_labels=3)


labels_strategy = st.integers(1, 5).flatmap(
    lambda n: st.tuples(
        st.just(n),
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), min_size=1, max_size=40),
    )
)


@pytest.mark.skipif(sklearn_f1 is None, reason="scikit-learn not installed")
@settings(deadline=None)
@given(labels_strategy)
def test_macro_f1_matches_sklearn(case):
    n, pairs = case
    preds, gold = [p for p, _ in pairs], [g for _, g in pairs]
    expected = 100 * sklearn_f1(gold, preds, average="macro", labels=list(range(n)), zero_division=0)
    assert macro_f1(preds, gold, n) == pytest.approx(expected)


@given(labels_strategy)
def test_scores_in_range_and_perfect_is_100(case):
    n, pairs = case
    preds, gold = [p for p, _ in pairs], [g for _, g in pairs]
    assert 0.0 <= accuracy(preds, gold) <= 100.0
    assert 0.0 <= macro_f1(preds, gold, n) <= 100.0
    assert accuracy(gold, gold) == 100.0
