"""Sentence-level classification metrics (XNLI, PAWS-X, XCOPA, intermediate tasks).

Accuracy follows XTREME ``evaluate.py`` (share of exact label matches). Macro-F1 follows
scikit-learn's ``f1_score(average="macro", labels=range(num_labels))``: a class with no gold
and no predicted example contributes F1 = 0. Scores are percentages in [0, 100].
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

HIDDEN_LABEL = -1  # XNLI/GLUE/SNLI test splits mark withheld gold labels with -1


class HiddenLabelsError(ValueError):
    """Raised when gold labels are hidden (-1), i.e. the split cannot be scored locally."""


def _as_label_arrays(predictions: Sequence[int], labels: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    preds = np.asarray(predictions, dtype=np.int64).reshape(-1)
    gold = np.asarray(labels, dtype=np.int64).reshape(-1)
    if preds.size == 0 or gold.size == 0:
        raise ValueError("cannot score an empty set of predictions/labels")
    if preds.size != gold.size:
        raise ValueError(f"{preds.size} predictions but {gold.size} labels")
    _refuse_hidden(gold)
    return preds, gold


def _refuse_hidden(gold: np.ndarray) -> None:
    # Deliberate departure from XTREME evaluate.py, which would compare against the placeholder
    # labels: scoring hidden labels as "wrong" silently yields chance-level numbers (xtreme #24),
    # so any -1 is an error: all hidden = test split without gold, some hidden = broken split.
    n_hidden = int((gold == HIDDEN_LABEL).sum())
    if n_hidden == gold.size:
        raise HiddenLabelsError(
            f"all {n_hidden} gold labels are hidden (-1): this split has no public labels "
            "(score it on the leaderboard or use the validation split)"
        )
    if n_hidden:
        raise HiddenLabelsError(
            f"{n_hidden} of {gold.size} gold labels are hidden (-1): a split mixing hidden and "
            "visible labels is broken; filter or fix it before scoring"
        )


def accuracy(predictions: Sequence[int], labels: Sequence[int]) -> float:
    """Percentage of predictions equal to the gold label (XTREME ``accuracy``)."""
    preds, gold = _as_label_arrays(predictions, labels)
    return float((preds == gold).mean() * 100.0)


def macro_f1(predictions: Sequence[int], labels: Sequence[int], num_labels: int) -> float:
    """Unweighted mean of per-class F1 over classes ``0..num_labels-1``, in percent."""
    if num_labels < 1:
        raise ValueError(f"num_labels must be >= 1, got {num_labels}")
    preds, gold = _as_label_arrays(predictions, labels)
    for name, arr in (("prediction", preds), ("label", gold)):
        bad = arr[(arr < 0) | (arr >= num_labels)]
        if bad.size:
            raise ValueError(f"{name} {int(bad[0])} outside [0, {num_labels})")
    per_class = [_class_f1(preds == c, gold == c) for c in range(num_labels)]
    return float(np.mean(per_class) * 100.0)


def _class_f1(pred_is_c: np.ndarray, gold_is_c: np.ndarray) -> float:
    # F1 = 2TP / (2TP + FP + FN); defined as 0 when the class never occurs (sklearn zero_division=0).
    tp = int((pred_is_c & gold_is_c).sum())
    denom = int(pred_is_c.sum()) + int(gold_is_c.sum())
    return 2.0 * tp / denom if denom else 0.0
