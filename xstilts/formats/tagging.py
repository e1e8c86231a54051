"""Token tagging (UD-POS, PAN-X NER, CCG supertags): label on the first sub-word of each word,
as jiant and XTREME do; the other sub-words are ignored in the loss and in decoding."""

from __future__ import annotations

import numpy as np
import torch.nn.functional as F

from xstilts.formats.base import IGNORE, Format, pad_2d
from xstilts.tasks.base import HIDDEN


class Tagging(Format):
    name = "tagging"
    head_type = "tagging"

    def __init__(self, label_names=()):
        self.label_names = tuple(label_names)

    def featurize(self, examples, tokenizer, max_length, train):
        enc = tokenizer([e.tokens for e in examples], is_split_into_words=True, truncation=True, max_length=max_length)
        feats = []
        for i, e in enumerate(examples):
            word_ids = enc.word_ids(i)
            labels, first = [], []
            prev = None
            for w in word_ids:
                is_first = w is not None and w != prev
                tag = e.tags[w] if is_first else IGNORE
                labels.append(IGNORE if tag == HIDDEN else tag)
                first.append(w if is_first else -1)
                prev = w
            feats.append({"input_ids": enc["input_ids"][i], "tag_labels": labels, "word_index": first, "example_index": i})
        return feats

    def collate(self, features, pad_id):
        batch = super().collate(features, pad_id)
        batch["labels"] = pad_2d([f["tag_labels"] for f in features], IGNORE)
        return batch

    def loss(self, logits, batch):
        return F.cross_entropy(logits.flatten(0, 1), batch["labels"].flatten(), ignore_index=IGNORE)

    def predict(self, outputs, features, examples):
        preds = [[0] * len(e.tokens) for e in examples]
        for out, f in zip(outputs, features):
            row = preds[f["example_index"]]
            for pos, w in enumerate(f["word_index"]):
                if w >= 0:
                    row[w] = int(np.argmax(out[pos]))
        # Words cut off by truncation keep tag 0 ("O"/first label): counted as errors, as in XTREME.
        return preds

    def labelled(self, examples):
        return not any(t == HIDDEN for e in examples for t in e.tags)

    def score(self, predictions, examples, metric, lang):
        from xstilts.metrics.classification import HiddenLabelsError
        from xstilts.metrics.tagging import seqeval_f1, token_accuracy

        if not self.labelled(examples):
            raise HiddenLabelsError("gold tags are withheld in this split: it cannot be scored locally (use the leaderboard)")
        names = self.label_names
        pred = [[names[t] for t in p] for p in predictions]
        gold = [[names[t] for t in e.tags] for e in examples]
        if metric == "token_accuracy":
            return {"accuracy": token_accuracy(pred, gold)}
        return {"f1": seqeval_f1(pred, gold)}
