"""Metric suite scoring every task the way the XTREME benchmark (and jiant) score it.

Pure functions on plain Python / numpy inputs; scores are percentages in [0, 100].
Modules: ``classification`` (accuracy, macro-F1), ``tagging`` (seqeval 0.0.12 chunk F1, token accuracy),
``squad`` and ``mlqa`` (extractive QA EM/F1), ``retrieval`` (BUCC mining, Tatoeba, mAP@k) and
``aggregate`` (task, category and benchmark averages).
"""

import importlib

from xstilts.metrics.aggregate import (
    TASK_METRIC,
    XTREME_CATEGORIES,
    XTREME_R_CATEGORIES,
    XTREME_R_PAPER_CATEGORIES,
    category_scores,
    task_average,
    xtreme_r_score,
    xtreme_score,
)
from xstilts.metrics.classification import HiddenLabelsError, accuracy, macro_f1
from xstilts.metrics.mlqa import mlqa_scores
from xstilts.metrics.squad import MissingPredictionsWarning, squad_scores
from xstilts.metrics.tagging import get_entities, seqeval_f1, token_accuracy

# The retrieval metrics load torch (seconds): only when one is used, so that reading tables
# (analysis, verify, `make verify`) does not pay for it.
_RETRIEVAL = ("bucc_f1_at", "cosine_knn", "mean_average_precision_at_k", "mine_bitext", "tatoeba_accuracy", "tune_bucc_threshold")


def __getattr__(name):
    if name == "retrieval" or name in _RETRIEVAL:
        retrieval = importlib.import_module("xstilts.metrics.retrieval")
        return retrieval if name == "retrieval" else getattr(retrieval, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "TASK_METRIC",
    "XTREME_CATEGORIES",
    "XTREME_R_CATEGORIES",
    "XTREME_R_PAPER_CATEGORIES",
    "HiddenLabelsError",
    "MissingPredictionsWarning",
    "accuracy",
    "bucc_f1_at",
    "category_scores",
    "cosine_knn",
    "get_entities",
    "macro_f1",
    "mean_average_precision_at_k",
    "mine_bitext",
    "mlqa_scores",
    "seqeval_f1",
    "squad_scores",
    "task_average",
    "tatoeba_accuracy",
    "token_accuracy",
    "tune_bucc_threshold",
    "xtreme_r_score",
    "xtreme_score",
]
