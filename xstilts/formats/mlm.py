"""Masked language modelling: phase 1 pretraining and the 'multi-task + MLM' phase-2 variant.
15% of non-special tokens are selected; of those 80% become <mask>, 10% a random token, 10%
stay (BERT/XLM-R and jiant's defaults)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from xstilts.formats.base import IGNORE, Format, pad_2d


class MaskedLM(Format):
    name = "masked_lm"
    head_type = "mlm"

    def __init__(self, mask_id: int, vocab_size: int, special_ids=(0, 1, 2, 3, 4), probability: float = 0.15):
        self.mask_id, self.vocab_size = mask_id, vocab_size
        self.special_ids = torch.tensor(sorted(special_ids))
        self.probability = probability
        self.generator = torch.Generator().manual_seed(0)

    def featurize(self, lines, tokenizer, max_length, train):
        enc = tokenizer(list(lines), truncation=True, max_length=max_length)
        return [{"input_ids": ids, "example_index": i} for i, ids in enumerate(enc["input_ids"])]

    def collate(self, features, pad_id):
        ids = pad_2d([f["input_ids"] for f in features], pad_id)
        labels = ids.clone()
        g = self.generator
        candidates = ~torch.isin(ids, self.special_ids) & (ids != pad_id)
        selected = (torch.rand(ids.shape, generator=g) < self.probability) & candidates
        labels[~selected] = IGNORE
        roll = torch.rand(ids.shape, generator=g)
        inputs = ids.clone()
        inputs[selected & (roll < 0.8)] = self.mask_id
        randomise = selected & (roll >= 0.8) & (roll < 0.9)
        inputs[randomise] = torch.randint(len(self.special_ids), self.vocab_size, ids.shape, generator=g)[randomise]
        return {"input_ids": inputs, "attention_mask": (ids != pad_id).long(), "labels": labels}

    def loss(self, logits, batch):
        # The MLM head returns logits for the masked positions only, in row-major order.
        labels = batch["labels"]
        return F.cross_entropy(logits, labels[labels != IGNORE])

    def predict(self, outputs, features, examples):
        raise NotImplementedError("MLM is trained, not evaluated per example")

    def score(self, predictions, examples, metric, lang):
        raise NotImplementedError("MLM is trained, not evaluated per example")
