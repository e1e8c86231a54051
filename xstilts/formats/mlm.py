"""Masked language modelling: phase 1 pretraining and the 'multi-task + MLM' phase-2 variant.
15% of non-special tokens are selected; of those 80% become <mask>, 10% a random token, 10%
stay (BERT/XLM-R and jiant's defaults). Special tokens are the tokenizer's own (XLM-R: <s> <pad>
</s> <unk> = 0-3 and <mask> = 250001; id 4 is ","), and a random replacement is never one of them."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from xstilts.formats.base import IGNORE, Format, pad_2d


class MaskedLM(Format):
    name = "masked_lm"
    head_type = "mlm"

    def __init__(self, mask_id: int, vocab_size: int, special_ids, probability: float = 0.15):
        self.mask_id, self.vocab_size = mask_id, vocab_size
        self.special_ids = torch.tensor(sorted({*special_ids, mask_id}))
        # the ids a "random token" is drawn from: every non-special id of the vocabulary
        keep = torch.ones(vocab_size, dtype=torch.bool)
        keep[self.special_ids] = False
        self.random_ids = keep.nonzero().squeeze(1)
        self.probability = probability
        self.generator = torch.Generator().manual_seed(0)

    @classmethod
    def for_tokenizer(cls, tokenizer, probability: float = 0.15) -> "MaskedLM":
        return cls(tokenizer.mask_token_id, len(tokenizer), tokenizer.all_special_ids, probability)

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
        inputs[randomise] = self.random_ids[torch.randint(len(self.random_ids), ids.shape, generator=g)][randomise]
        return {"input_ids": inputs, "attention_mask": (ids != pad_id).long(), "labels": labels}

    def loss(self, logits, batch):
        # The MLM head returns logits for the masked positions only, in row-major order.
        labels = batch["labels"]
        return F.cross_entropy(logits, labels[labels != IGNORE])

    def predict(self, outputs, features, examples):
        raise NotImplementedError("MLM is trained, not evaluated per example")

    def score(self, predictions, examples, metric, lang):
        raise NotImplementedError("MLM is trained, not evaluated per example")
