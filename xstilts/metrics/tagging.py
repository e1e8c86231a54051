"""Token-tagging metrics: seqeval chunk F1 (PAN-X, UD-POS) and token accuracy (CCG).

``seqeval_f1`` is exactly XTREME ``evaluate.py::f1`` and jiant's ``F1TaggingEvaluationScheme``:
``seqeval.metrics.f1_score(references, predictions)`` in seqeval's default (non-strict) mode.

UD-POS convention (xtreme #56): XTREME scores bare UPOS tags with the same chunk F1. seqeval
reads the first character of a tag as the chunk prefix and the rest as the type, so ``NOUN`` is
prefix ``N`` / type ``OUN``; consecutive tokens of one type merge into a single chunk, and
``SCONJ``/``SYM`` (prefix ``S``) are singletons. Gold ``NOUN NOUN VERB`` against predicted
``NOUN VERB VERB`` therefore scores F1 = 0 although 2 of 3 tokens are right. This is NOT token
accuracy; we keep it because it is what XTREME and jiant report.
"""

from __future__ import annotations

import warnings
from typing import Sequence


def _check_aligned(predictions: Sequence[Sequence[str]], references: Sequence[Sequence[str]]) -> None:
    if len(predictions) == 0 or len(references) == 0:
        raise ValueError("cannot score an empty set of sentences")
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predicted sentences but {len(references)} references")
    for i, (pred, ref) in enumerate(zip(predictions, references)):
        if len(pred) != len(ref):
            raise ValueError(f"sentence {i}: {len(pred)} predicted tags but {len(ref)} reference tags")


def seqeval_f1(predictions: list[list[str]], references: list[list[str]]) -> float:
    """Micro chunk F1 in percent, via seqeval 1.2.2 ``f1_score`` as XTREME calls it."""
    _check_aligned(predictions, references)
    from seqeval.metrics import f1_score  # lazy: seqeval pulls in scikit-learn

    with warnings.catch_warnings():
        # Bare UPOS tags make seqeval warn once per token ("NOUN seems not to be NE tag");
        # the behaviour is intended (see module docstring), the warnings are noise.
        warnings.filterwarnings("ignore", message=r".* seems not to be NE tag\.")
        # zero_division=0 equals seqeval's default "warn" numerically, minus the warning.
        score = f1_score([list(r) for r in references], [list(p) for p in predictions], zero_division=0)
    return float(score) * 100.0


def token_accuracy(predictions: list[list[str]], references: list[list[str]]) -> float:
    """Percentage of tokens whose tag equals the reference (jiant's CCG metric), pooled over sentences."""
    _check_aligned(predictions, references)
    total = sum(len(r) for r in references)
    if total == 0:
        raise ValueError("references contain no tokens")
    correct = sum(p == r for pred, ref in zip(predictions, references) for p, r in zip(pred, ref))
    return 100.0 * correct / total
