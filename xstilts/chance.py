"""Chance levels: what a model with no knowledge of the input language would score.

The README reports zero-shot scores next to these. Classification: the majority class of the
split (at least 100 / number of classes). Tagging: every token gets the split's most frequent
tag. Span QA: a random span of the gold answer's length (seeded). Tatoeba: 100 / candidates.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from xstilts.tasks import base as tb


def chance_level(task: tb.Task, examples, lang: str, seed: int = 0) -> float:
    if task.format in (tb.PAIR, tb.CHOICE):
        labels = [e.label for e in examples if e.label != tb.HIDDEN]
        n_classes = len(task.labels) if task.format == tb.PAIR else len(examples[0].choices)
        majority = Counter(labels).most_common(1)[0][1] / len(labels) if labels else 0.0
        return 100.0 * max(majority, 1.0 / n_classes)
    if task.format == tb.TAGGING:
        from xstilts.metrics.tagging import seqeval_f1, token_accuracy

        top = Counter(t for e in examples for t in e.tags).most_common(1)[0][0]
        names = task.labels
        pred = [[names[top]] * len(e.tags) for e in examples]
        gold = [[names[t] for t in e.tags] for e in examples]
        return token_accuracy(pred, gold) if task.metric == "token_accuracy" else seqeval_f1(pred, gold)
    if task.format == tb.SPAN:
        from xstilts.metrics.mlqa import mlqa_scores
        from xstilts.metrics.squad import squad_scores

        rng = np.random.default_rng(seed)
        preds = {}
        for e in examples:
            words = e.context.split()
            n = max(1, len(e.answers_text[0].split())) if e.answers_text else 1
            start = int(rng.integers(0, max(1, len(words) - n + 1)))
            preds[e.id] = " ".join(words[start : start + n])
        refs = {e.id: list(e.answers_text) for e in examples}
        s = mlqa_scores(preds, refs, lang) if task.metric == "mlqa" else squad_scores(preds, refs)
        return (s["exact_match"] + s["f1"]) / 2
    if task.name == "tatoeba":
        return 100.0 / len(examples[0].targets)
    return 0.0  # BUCC: random pairing mines essentially no gold pair
