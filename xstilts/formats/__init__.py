"""Task formats: one featuriser / head / decoder per format, shared by every task of that format."""

from __future__ import annotations

from xstilts.formats.base import Format
from xstilts.tasks import base as tb

NULL_ANSWER_TASKS = ("squad_v2",)  # SQuAD v2.0 has unanswerable questions: decode a null answer


def format_for(task: tb.Task) -> Format:
    if task.format == tb.PAIR:
        from xstilts.formats.classification import PairClassification

        return PairClassification()
    if task.format == tb.CHOICE:
        from xstilts.formats.classification import MultipleChoice

        return MultipleChoice()
    if task.format == tb.TAGGING:
        from xstilts.formats.tagging import Tagging

        return Tagging(task.labels)
    if task.format == tb.SPAN:
        from xstilts.formats.span_qa import SpanQA

        return SpanQA(allow_null=task.name in NULL_ANSWER_TASKS)
    raise ValueError(f"task {task.name}: format {task.format!r} has no trainable featuriser")


def num_labels(task: tb.Task) -> int:
    return len(task.labels) if task.format in (tb.PAIR, tb.TAGGING) else 0


def major_score(scores: dict[str, float]) -> float:
    """The single number used for early stopping and tables: (EM+F1)/2 for QA, else F1, else
    accuracy, else mAP@20 (LAReQA, Mewsli-X)."""
    for key in ("em_f1_avg", "f1", "accuracy", "map@20"):
        if key in scores:
            return scores[key]
    raise KeyError(f"no major metric in {sorted(scores)}")
