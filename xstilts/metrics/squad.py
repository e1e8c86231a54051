"""SQuAD-style extractive QA metrics (SQuAD, XQuAD, TyDiQA-GoldP).

Follows the official SQuAD v1.1 evaluation script, which XTREME uses for XQuAD and TyDiQA-GoldP:
answers are normalised (lowercase, strip ASCII punctuation, drop English articles, collapse
whitespace); EM is string equality after normalisation; F1 is the bag-of-tokens overlap, 0 when
no token is shared, so also 0 when prediction and gold both normalise to "" (EM is then 1). Every
gold answer is kept, including golds that normalise to "" (prediction "" against gold "A": EM 1,
F1 0). Per question the best score over gold answers counts.

Departure, for SQuAD v2.0 (an intermediate task only): an empty gold list means "unanswerable";
v1.1 cannot score it (its max over no golds fails), so we apply v2.0's rule there: EM = F1 = 1
iff the prediction normalises to "". Answerable v2.0 questions are scored as v1.1 scores them,
which differs from the v2.0 script only for golds that normalise to "" (v2.0 drops them).
"""

from __future__ import annotations

import re
import string
import warnings
from collections import Counter
from typing import Callable, Mapping, Sequence

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_ASCII_PUNCT = frozenset(string.punctuation)

Normalizer = Callable[[str], str]


class MissingPredictionsWarning(UserWarning):
    """Some reference questions had no prediction; they were scored 0."""


def normalize_answer(s: str) -> str:
    """Lowercase, remove ASCII punctuation, remove a/an/the, collapse whitespace (SQuAD order)."""
    s = s.lower()
    s = "".join(ch for ch in s if ch not in _ASCII_PUNCT)
    s = _ARTICLES.sub(" ", s)
    return " ".join(s.split())


def exact_match(pred: str, gold: str, normalize: Normalizer = normalize_answer) -> float:
    """1.0 if the normalised strings are equal, else 0.0."""
    return float(normalize(pred) == normalize(gold))


def f1(pred: str, gold: str, normalize: Normalizer = normalize_answer) -> float:
    """Token-overlap F1 in [0, 1] between normalised prediction and gold (SQuAD v1.1 ``f1_score``)."""
    return token_f1(normalize(pred).split(), normalize(gold).split())


def token_f1(pred_tokens: Sequence[str], gold_tokens: Sequence[str]) -> float:
    """F1 of two token bags; 0.0 when they share no token, even when both are empty (v1.1, MLQA)."""
    num_same = sum((Counter(pred_tokens) & Counter(gold_tokens)).values())
    if num_same == 0:
        return 0.0
    precision = num_same / len(pred_tokens)
    recall = num_same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def qa_scores(
    predictions: Mapping[str, str],
    references: Mapping[str, Sequence[str]],
    em_fn: Callable[[str, str], float],
    f1_fn: Callable[[str, str], float],
    normalize: Normalizer,
) -> dict[str, float]:
    """Shared SQuAD/MLQA loop: max over golds, mean over *reference* ids, in percent.

    A reference id without a prediction scores 0, as in the official scripts (which print
    "Unanswered question ... will receive score 0"); we warn once and return the count under
    ``missing``. Prediction ids absent from the references are ignored.
    """
    if not references:
        raise ValueError("no reference questions to score")
    em_total = f1_total = 0.0
    missing: list[str] = []
    for qid, golds in references.items():
        if qid not in predictions:
            missing.append(qid)
            continue
        em, f1_ = best_over_golds(predictions[qid], golds, em_fn, f1_fn, normalize)
        em_total += em
        f1_total += f1_
    if missing:
        warnings.warn(
            f"{len(missing)} of {len(references)} questions have no prediction and score 0 "
            f"(first ids: {missing[:5]})",
            MissingPredictionsWarning,
            stacklevel=3,
        )
    n = len(references)
    return {"exact_match": 100.0 * em_total / n, "f1": 100.0 * f1_total / n, "missing": len(missing)}


def best_over_golds(
    pred: str,
    golds: Sequence[str],
    em_fn: Callable[[str, str], float],
    f1_fn: Callable[[str, str], float],
    normalize: Normalizer,
) -> tuple[float, float]:
    """One question's (EM, F1) in [0, 1]: the best over its gold answers, all of them kept (v1.1).

    An empty gold list is an unanswerable question (SQuAD v2.0): 1 iff the prediction
    normalises to "" (see the module docstring for why this departs from v1.1).
    """
    if isinstance(golds, str):
        raise TypeError("references must map an id to a list of gold answers, not a single string")
    if len(golds) == 0:
        no_answer = float(not normalize(pred))
        return no_answer, no_answer
    return max(em_fn(pred, g) for g in golds), max(f1_fn(pred, g) for g in golds)


def question_scores(pred: str, golds: Sequence[str]) -> tuple[float, float]:
    """(EM, F1) in [0, 1] of one SQuAD question (per-example form of ``squad_scores``)."""
    return best_over_golds(pred, golds, exact_match, f1, normalize_answer)


def squad_scores(predictions: Mapping[str, str], references: Mapping[str, Sequence[str]]) -> dict[str, float]:
    """SQuAD v1.1 EM and F1 in percent over the reference ids (see ``qa_scores``, module docstring)."""
    return qa_scores(predictions, references, exact_match, f1, normalize_answer)
