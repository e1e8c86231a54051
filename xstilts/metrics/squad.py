"""SQuAD-style extractive QA metrics (SQuAD, XQuAD, TyDiQA-GoldP).

Follows the official SQuAD v2.0 evaluation script, which equals v1.1 on answerable questions:
answers are normalised (lowercase, strip ASCII punctuation, drop English articles, collapse
whitespace); EM is string equality after normalisation; F1 is the bag-of-tokens overlap. An empty
gold list (or golds that all normalise to "") means unanswerable: only an empty prediction
scores, with EM = F1 = 1. Per question the best score over gold answers counts.

Differences from v1.1 only arise in degenerate cases, where we follow v2.0: v1.1 gives F1 = 0
when prediction and gold both normalise to "" and keeps golds that normalise to "".
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
    """Token-overlap F1 in [0, 1] between normalised prediction and gold (SQuAD v2 ``compute_f1``)."""
    return token_f1(normalize(pred).split(), normalize(gold).split())


def token_f1(pred_tokens: Sequence[str], gold_tokens: Sequence[str]) -> float:
    """F1 of two token bags; if either is empty, 1.0 iff both are (the v2 no-answer rule)."""
    if not pred_tokens or not gold_tokens:
        return float(len(pred_tokens) == len(gold_tokens))
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
        pred = predictions[qid]
        golds = _answerable_golds(golds, normalize)
        em_total += max(em_fn(pred, g) for g in golds)
        f1_total += max(f1_fn(pred, g) for g in golds)
    if missing:
        warnings.warn(
            f"{len(missing)} of {len(references)} questions have no prediction and score 0 "
            f"(first ids: {missing[:5]})",
            MissingPredictionsWarning,
            stacklevel=3,
        )
    n = len(references)
    return {"exact_match": 100.0 * em_total / n, "f1": 100.0 * f1_total / n, "missing": len(missing)}


def _answerable_golds(golds: Sequence[str], normalize: Normalizer) -> list[str]:
    # SQuAD v2: drop golds that normalise to nothing; none left means "no answer" = [""].
    if isinstance(golds, str):
        raise TypeError("references must map an id to a list of gold answers, not a single string")
    kept = [g for g in golds if normalize(g)]
    return kept or [""]


def squad_scores(predictions: Mapping[str, str], references: Mapping[str, Sequence[str]]) -> dict[str, float]:
    """SQuAD v1.1/v2.0 EM and F1 in percent over the reference ids (see ``qa_scores``)."""
    return qa_scores(predictions, references, exact_match, f1, normalize_answer)
