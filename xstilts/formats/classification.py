"""Sentence-pair classification (NLI, paraphrase) and multiple choice (HellaSwag, COPA, ...)."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from xstilts.formats.base import Format, pad_2d
from xstilts.tasks.base import HIDDEN


def _hidden_count(examples) -> int:
    return sum(1 for e in examples if e.label == HIDDEN)


def _accuracy_scores(predictions, examples, metric):
    from xstilts.metrics.classification import accuracy, macro_f1

    labels = [e.label for e in examples]
    scores = {"accuracy": accuracy(predictions, labels)}
    if metric == "macro_f1":
        scores["macro_f1"] = macro_f1(predictions, labels, num_labels=max(max(labels), max(predictions)) + 1)
    return scores


class _ArgmaxClassifier(Format):
    """Shared by pair classification and multiple choice: one label per example, argmax decoding."""

    def loss(self, logits, batch):
        return F.cross_entropy(logits, batch["labels"], ignore_index=-100)

    def predict(self, outputs, features, examples):
        preds = [0] * len(examples)
        for out, f in zip(outputs, features):
            preds[f["example_index"]] = int(np.argmax(out))
        return preds

    def labelled(self, examples):
        return _hidden_count(examples) == 0

    def score(self, predictions, examples, metric, lang):
        return _accuracy_scores(predictions, examples, metric)


class PairClassification(_ArgmaxClassifier):
    name = "pair_classification"
    head_type = "classification"

    def featurize(self, examples, tokenizer, max_length, train):
        enc = tokenizer([e.text_a for e in examples], [e.text_b for e in examples], truncation="longest_first", max_length=max_length)
        return [
            {"input_ids": ids, "label": e.label if e.label != HIDDEN else -100, "example_index": i}
            for i, (ids, e) in enumerate(zip(enc["input_ids"], examples))
        ]



class MultipleChoice(_ArgmaxClassifier):
    """Each choice is encoded as (context [+ question], choice); the head scores each pair and a
    softmax over choices gives the answer (jiant's multiple-choice model)."""

    name = "multiple_choice"
    head_type = "choice"

    def featurize(self, examples, tokenizer, max_length, train):
        firsts, seconds, owners = [], [], []
        for i, e in enumerate(examples):
            first = f"{e.context} {e.question}".strip() if e.question else e.context
            for c in e.choices:
                firsts.append(first)
                seconds.append(c)
                owners.append(i)
        enc = tokenizer(firsts, seconds, truncation="longest_first", max_length=max_length)
        feats, k = [], 0
        for i, e in enumerate(examples):
            n = len(e.choices)
            feats.append({"input_ids": enc["input_ids"][k : k + n], "label": e.label if e.label != HIDDEN else -100, "example_index": i})
            k += n
        return feats

    def collate(self, features, pad_id):
        n_choices = len(features[0]["input_ids"])
        if any(len(f["input_ids"]) != n_choices for f in features):
            raise ValueError("multiple-choice batch mixes examples with different numbers of choices")
        flat = pad_2d([c for f in features for c in f["input_ids"]], pad_id)
        ids = flat.view(len(features), n_choices, -1)
        return {"input_ids": ids, "attention_mask": (ids != pad_id).long(), "labels": torch.tensor([f["label"] for f in features])}

    def num_tokens(self, feature):
        return sum(len(c) for c in feature["input_ids"])

