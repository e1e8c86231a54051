import pytest

from xstilts.metrics import (
    TASK_METRIC,
    XTREME_CATEGORIES,
    XTREME_R_CATEGORIES,
    category_scores,
    task_average,
    xtreme_r_score,
    xtreme_score,
)
from xstilts.metrics.aggregate import XTREME_R_PAPER_CATEGORIES, XTREME_R_TASKS, XTREME_TASKS, language_score, tasks_mean

# Category sizes 2/2/3/2, so the task mean and the mean of category means differ.
SCORES = {
    "xnli": 80.0,
    "pawsx": 90.0,
    "udpos": 70.0,
    "panx": 60.0,
    "xquad": 50.0,
    "mlqa": 40.0,
    "tydiqa": 30.0,
    "bucc2018": 20.0,
    "tatoeba": 10.0,
}


def test_task_lists():
    assert len(XTREME_TASKS) == 9 and len(set(XTREME_TASKS)) == 9
    assert len(XTREME_R_TASKS) == 10
    assert "pawsx" not in XTREME_R_TASKS and "bucc2018" not in XTREME_R_TASKS
    assert set(XTREME_TASKS) | set(XTREME_R_TASKS) == set(TASK_METRIC)


def test_qa_language_score_is_mean_of_f1_and_em():
    assert language_score({"f1": 80.0, "exact_match": 70.0}, "mlqa") == pytest.approx(75.0)
    assert language_score({"accuracy": 81.0, "f1": 0.0}, "xnli") == pytest.approx(81.0)


def test_task_average_hand_computed():
    per_lang = {"en": {"f1": 80.0, "exact_match": 70.0}, "de": {"f1": 60.0, "exact_match": 50.0}}
    assert task_average(per_lang, "xquad") == pytest.approx(65.0)
    assert task_average({"de": {"accuracy": 70.0}, "fr": {"accuracy": 80.0}, "zh": {"accuracy": 30.0}}, "xnli") == (
        pytest.approx(60.0)
    )
    assert task_average({"en": {"map@20": 40.0}}, "lareqa") == pytest.approx(40.0)


def test_task_average_errors():
    with pytest.raises(KeyError, match="exact_match"):
        task_average({"en": {"f1": 80.0}}, "tydiqa")
    with pytest.raises(KeyError, match="unknown task"):
        task_average({"en": {"f1": 80.0}}, "squad")
    with pytest.raises(ValueError):
        task_average({}, "xnli")


def test_category_scores_xtreme():
    cats = category_scores(SCORES)
    assert cats == pytest.approx(
        {"classification": 85.0, "structured_prediction": 65.0, "question_answering": 40.0, "retrieval": 15.0}
    )


def test_xtreme_score_is_mean_over_tasks_not_categories():
    assert xtreme_score(SCORES) == pytest.approx(450.0 / 9)  # 50.0
    mean_of_categories = sum(category_scores(SCORES).values()) / 4  # 51.25
    assert xtreme_score(SCORES) != pytest.approx(mean_of_categories)


def test_missing_task_gives_none_not_partial_mean():
    partial = {t: v for t, v in SCORES.items() if t != "tatoeba"}
    assert xtreme_score(partial) is None
    cats = category_scores(partial)
    assert cats["retrieval"] is None and cats["classification"] == pytest.approx(85.0)
    assert xtreme_score({**partial, "tatoeba": None}) is None


def test_xtreme_r_score_and_categories():
    scores = {t: float(i) for i, t in enumerate(XTREME_R_TASKS)}  # 0..9
    assert xtreme_r_score(scores) == pytest.approx(4.5)
    cats = category_scores(scores, XTREME_R_CATEGORIES)
    assert cats["classification"] == pytest.approx((scores["xnli"] + scores["xcopa"]) / 2)
    # official evaluate.py: retrieval = Tatoeba + Mewsli-X, XCOPA also alone as multiple choice
    assert cats["retrieval"] == pytest.approx((scores["tatoeba"] + scores["mewslix"]) / 2)
    assert cats["multiple_choice"] == pytest.approx(scores["xcopa"])
    paper = category_scores(scores, XTREME_R_PAPER_CATEGORIES)
    assert paper["retrieval"] == pytest.approx((scores["tatoeba"] + scores["mewslix"] + scores["lareqa"]) / 3)
    assert "multiple_choice" not in paper
    assert xtreme_r_score(SCORES) is None  # XTREME scores lack xcopa, mewslix, lareqa


def test_xtreme_r_retrieval_without_lareqa_as_the_official_code():
    # LAReQA has no test languages in the official evaluate.py: its retrieval group still scores
    scores = {"tatoeba": 50.0, "mewslix": 36.26}
    assert category_scores(scores, XTREME_R_CATEGORIES)["retrieval"] == pytest.approx(43.13)
    assert category_scores(scores, XTREME_R_PAPER_CATEGORIES)["retrieval"] is None


def test_tasks_mean():
    assert tasks_mean(SCORES, ("xnli", "tatoeba")) == pytest.approx(45.0)
    assert tasks_mean(SCORES, ("xnli", "xcopa")) is None
    assert tasks_mean(SCORES, ()) is None
    assert tasks_mean(SCORES, XTREME_TASKS) == xtreme_score(SCORES)


def test_category_definitions_match_benchmarks():
    assert XTREME_CATEGORIES["question_answering"] == ("xquad", "mlqa", "tydiqa")
    assert XTREME_R_CATEGORIES["retrieval"] == ("tatoeba", "mewslix")
    assert XTREME_R_PAPER_CATEGORIES["retrieval"] == ("tatoeba", "mewslix", "lareqa")
