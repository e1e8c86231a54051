from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xstilts.metrics import MissingPredictionsWarning, squad_scores
from xstilts.metrics.squad import exact_match, f1, normalize_answer, question_scores


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("The  Quick, brown-fox!", "quick brownfox"),
        ("An apple a day", "apple day"),
        ("theater", "theater"),  # articles only as whole words
        ("  A\tB\nC ", "b c"),  # "a" removed, whitespace collapsed
        ("《红楼梦》", "《红楼梦》"),  # SQuAD strips ASCII punctuation only
        ("", ""),
    ],
)
def test_normalize_answer(raw, expected):
    assert normalize_answer(raw) == expected


def test_exact_match():
    assert exact_match("the Cat.", "cat") == 1.0
    assert exact_match("cats", "cat") == 0.0


def test_f1_hand_computed():
    # pred tokens [cat sat on mat], gold [cat on mat]: P=3/4, R=1
    assert f1("the cat sat on the mat", "a cat on a mat") == pytest.approx(2 * 0.75 / 1.75)


def test_f1_counts_repeated_tokens_once_per_occurrence():
    assert f1("cat cat cat", "cat") == pytest.approx(0.5)  # P=1/3, R=1
    assert f1("cat dog", "bird") == 0.0


def test_squad_scores_max_over_golds():
    scores = squad_scores({"q": "cat"}, {"q": ["dog", "black cat"]})
    assert scores["exact_match"] == 0.0
    assert scores["f1"] == pytest.approx(100 * 2 / 3)


def test_unanswerable_question_v2():
    # an empty gold list (SQuAD v2.0 only): EM = F1 = 1 iff the prediction normalises to ""
    assert squad_scores({"q": ""}, {"q": []})["exact_match"] == 100.0
    assert squad_scores({"q": "the"}, {"q": []})["f1"] == 100.0
    wrong = squad_scores({"q": "Paris"}, {"q": []})
    assert wrong["exact_match"] == 0.0 and wrong["f1"] == 0.0


def test_gold_normalising_to_empty_is_kept_as_in_v1_1():
    # official SQuAD v1.1: "A" normalises to "", EM "" == "" is 1, F1 shares no token so 0
    # (the v2.0 rule we used before dropped the gold and gave 100/100)
    assert squad_scores({"q": ""}, {"q": ["A"]}) == {"exact_match": 100.0, "f1": 0.0, "missing": 0}
    assert question_scores("", ["the"]) == (1.0, 0.0)
    # it stays one gold among others: the best over golds still counts
    assert question_scores("Paris", ["A", "Paris"]) == (1.0, 1.0)
    assert question_scores("Paris", ["A"]) == (0.0, 0.0)


def test_empty_prediction_on_answerable_question_scores_zero():
    scores = squad_scores({"q": ""}, {"q": ["Paris"]})
    assert scores == {"exact_match": 0.0, "f1": 0.0, "missing": 0}


def test_missing_predictions_score_zero_and_are_reported():
    refs = {"a": ["x"], "b": ["y"], "c": ["z"], "d": ["w"]}
    preds = {"a": "x", "b": "y", "c": "z", "extra": "ignored"}
    with pytest.warns(MissingPredictionsWarning, match=r"1 of 4 .*\['d'\]"):
        scores = squad_scores(preds, refs)
    assert scores["exact_match"] == pytest.approx(75.0)
    assert scores["f1"] == pytest.approx(75.0)
    assert scores["missing"] == 1


def test_extra_predictions_are_ignored():
    assert squad_scores({"a": "x", "zz": "y"}, {"a": ["x"]})["exact_match"] == 100.0


def test_bad_references():
    with pytest.raises(ValueError):
        squad_scores({"a": "x"}, {})
    with pytest.raises(TypeError, match="list of gold answers"):
        squad_scores({"a": "x"}, {"a": "x"})


# fragments glued together, so articles and punctuation appear both as words and inside words
text = st.lists(st.sampled_from(["a", "b", "c", " ", "the", ".", ",", "!", "an", " a ", "Cat"]), max_size=10).map("".join)


@given(text, text)
def test_f1_properties(pred, gold):
    score = f1(pred, gold)
    assert 0.0 <= score <= 1.0
    assert score == pytest.approx(f1(gold, pred))  # symmetric in the token bags
    both_empty = not normalize_answer(pred) and not normalize_answer(gold)
    # v1.1: EM <= F1 except when both normalise to "" (EM 1, F1 0)
    assert exact_match(pred, gold) <= score or (both_empty and score == 0.0)
    bags_equal = Counter(normalize_answer(pred).split()) == Counter(normalize_answer(gold).split())
    assert (score == 1.0) == (bags_equal and not both_empty)


@given(st.dictionaries(st.sampled_from("abcdef"), st.tuples(text, st.lists(text, max_size=3)), min_size=1))
def test_squad_scores_in_range(items):
    preds = {qid: p for qid, (p, _) in items.items()}
    refs = {qid: golds for qid, (_, golds) in items.items()}
    scores = squad_scores(preds, refs)
    assert 0.0 <= scores["exact_match"] <= 100.0 and 0.0 <= scores["f1"] <= 100.0
