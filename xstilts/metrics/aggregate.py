"""Benchmark aggregation as XTREME ``evaluate.py`` and the XTREME-R paper define it.

A task's score is the plain mean over its languages of the task metric; QA tasks use
(F1 + EM) / 2 per language (equal to averaging F1 and EM separately, since both are means).
The XTREME score is the plain mean of the nine task scores (not of the category scores), and is
``None`` rather than a partial mean when any task is missing. Category scores are means over
their tasks. ``xtreme_r_score`` likewise averages XTREME-R's ten tasks.
"""

from __future__ import annotations

from typing import Mapping

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
XTREME_R_CATEGORIES: dict[str, tuple[str, ...]] = {
    "classification": ("xnli", "xcopa"),
    "structured_prediction": ("udpos", "panx"),
    "question_answering": ("xquad", "mlqa", "tydiqa"),
    "retrieval": ("tatoeba", "mewslix", "lareqa"),
}
XTREME_TASKS = tuple(t for tasks in XTREME_CATEGORIES.values() for t in tasks)
XTREME_R_TASKS = tuple(t for tasks in XTREME_R_CATEGORIES.values() for t in tasks)


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
    return {name: _mean_or_none(task_scores, tasks) for name, tasks in categories.items()}


def xtreme_score(task_scores: Mapping[str, float]) -> float | None:
    """XTREME overall score: plain mean over the nine tasks, or ``None`` if any is missing."""
    return _mean_or_none(task_scores, XTREME_TASKS)


def xtreme_r_score(task_scores: Mapping[str, float]) -> float | None:
    """XTREME-R overall score: plain mean over its ten tasks, or ``None`` if any is missing."""
    return _mean_or_none(task_scores, XTREME_R_TASKS)


def _metric_keys(task: str) -> tuple[str, ...]:
    try:
        return TASK_METRIC[task]
    except KeyError:
        raise KeyError(f"unknown task {task!r}; known: {sorted(TASK_METRIC)}") from None


def _mean_or_none(task_scores: Mapping[str, float], tasks: tuple[str, ...]) -> float | None:
    # A partial mean would silently look comparable to full benchmark numbers.
    if any(task_scores.get(task) is None for task in tasks):
        return None
    return sum(float(task_scores[task]) for task in tasks) / len(tasks)
