"""Benchmark aggregation as XTREME's official ``evaluate.py`` computes it.

The one implementation of task, category and benchmark scores: ``analysis`` and ``verify`` call
these functions. A task's score is the plain mean over its languages of the task metric; QA tasks
use (F1 + EM) / 2 per language (equal to averaging F1 and EM separately, since both are means).
The XTREME score is the plain mean of the nine task scores (not of the category scores), and is
``None`` rather than a partial mean when any task is missing (``evaluate.py`` shows an overall or
group score only when all its tasks are there). ``xtreme_r_score`` likewise averages XTREME-R's
ten tasks.

Categories: ``XTREME_R_CATEGORIES`` are the groups of the official ``evaluate.py``
(``XTREME_R_GROUP2TASK``): retrieval = Tatoeba + Mewsli-X, and XCOPA both in classification and in
its own multiple-choice group. The XTREME-R paper's table groups differently (LAReQA in
retrieval, no multiple-choice group): ``XTREME_R_PAPER_CATEGORIES``. On the same predictions the
two retrieval scores differ, and without LAReQA the paper grouping has none.
"""

from __future__ import annotations

from typing import Mapping, Sequence

# Task -> metric keys whose mean is the per-language task score.
TASK_METRIC: dict[str, tuple[str, ...]] = {
    "xnli": ("accuracy",),
    "pawsx": ("accuracy",),
    "xcopa": ("accuracy",),
    "udpos": ("f1",),
    "panx": ("f1",),
    "xquad": ("f1", "exact_match"),
    "mlqa": ("f1", "exact_match"),
    "tydiqa": ("f1", "exact_match"),
    "bucc2018": ("f1",),
    "tatoeba": ("accuracy",),
    "mewslix": ("map@20",),
    "lareqa": ("map@20",),
}

XTREME_CATEGORIES: dict[str, tuple[str, ...]] = {
    "classification": ("xnli", "pawsx"),
    "structured_prediction": ("udpos", "panx"),
    "question_answering": ("xquad", "mlqa", "tydiqa"),
    "retrieval": ("bucc2018", "tatoeba"),
}
XTREME_R_CATEGORIES: dict[str, tuple[str, ...]] = {  # official evaluate.py (the default)
    "classification": ("xnli", "xcopa"),
    "structured_prediction": ("udpos", "panx"),
    "question_answering": ("xquad", "mlqa", "tydiqa"),
    "retrieval": ("tatoeba", "mewslix"),
    "multiple_choice": ("xcopa",),
}
XTREME_R_PAPER_CATEGORIES: dict[str, tuple[str, ...]] = {  # the XTREME-R paper's table
    "classification": ("xnli", "xcopa"),
    "structured_prediction": ("udpos", "panx"),
    "question_answering": ("xquad", "mlqa", "tydiqa"),
    "retrieval": ("tatoeba", "mewslix", "lareqa"),
}
XTREME_TASKS = tuple(t for tasks in XTREME_CATEGORIES.values() for t in tasks)
# The ten tasks of the official XTREME-R language table (LAReQA is in no official group).
XTREME_R_TASKS = ("xnli", "xcopa", "udpos", "panx", "xquad", "mlqa", "tydiqa", "tatoeba", "mewslix", "lareqa")


def language_score(metrics: Mapping[str, float], task: str) -> float:
    """One language's task score: the mean of the task's metric keys (e.g. (F1+EM)/2 for QA)."""
    keys = _metric_keys(task)
    absent = [key for key in keys if key not in metrics]
    if absent:
        raise KeyError(f"{task} needs metric(s) {absent}; got {sorted(metrics)}")
    return sum(float(metrics[key]) for key in keys) / len(keys)


def task_average(per_language: Mapping[str, Mapping[str, float]], task: str) -> float:
    """Plain mean over languages of ``language_score`` (XTREME ``avg_metric``)."""
    if not per_language:
        raise ValueError(f"no languages to average for {task}")
    scores = [language_score(metrics, task) for metrics in per_language.values()]
    return sum(scores) / len(scores)


def category_scores(
    task_scores: Mapping[str, float], categories: Mapping[str, tuple[str, ...]] = XTREME_CATEGORIES
) -> dict[str, float | None]:
    """Mean task score per category; ``None`` for a category with any task missing."""
    return {name: tasks_mean(task_scores, tasks) for name, tasks in categories.items()}


def xtreme_score(task_scores: Mapping[str, float]) -> float | None:
    """XTREME overall score: plain mean over the nine tasks, or ``None`` if any is missing."""
    return tasks_mean(task_scores, XTREME_TASKS)


def xtreme_r_score(task_scores: Mapping[str, float]) -> float | None:
    """XTREME-R overall score: plain mean over its ten tasks, or ``None`` if any is missing."""
    return tasks_mean(task_scores, XTREME_R_TASKS)


def _metric_keys(task: str) -> tuple[str, ...]:
    try:
        return TASK_METRIC[task]
    except KeyError:
        raise KeyError(f"unknown task {task!r}; known: {sorted(TASK_METRIC)}") from None


def tasks_mean(task_scores: Mapping[str, float], tasks: Sequence[str]) -> float | None:
    """Plain mean of the listed tasks' scores, ``None`` if any is missing (or none is listed).

    The XTREME score is this over its nine tasks; ``verify`` uses it over the tasks it compares.
    """
    # A partial mean would silently look comparable to full benchmark numbers.
    if not tasks or any(task_scores.get(task) is None for task in tasks):
        return None
    return sum(float(task_scores[task]) for task in tasks) / len(tasks)
