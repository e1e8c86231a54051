"""The contract every task format implements: raw example -> tokenized features -> batch ->
head outputs -> one prediction per example (jiant's chain, one implementation per format)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Sequence

import numpy as np
import torch

IGNORE = -100  # label id ignored by cross-entropy (sub-word continuations, padding, hidden labels)


def pad_2d(rows: Sequence[Sequence[int]], pad: int, dtype=torch.long) -> torch.Tensor:
    """Right-pad rows to the longest row of *this batch* (dynamic padding)."""
    width = max(len(r) for r in rows)
    out = torch.full((len(rows), width), pad, dtype=dtype)
    for i, r in enumerate(rows):
        out[i, : len(r)] = torch.as_tensor(r, dtype=dtype)
    return out


class Format(ABC):
    """One task format. Features are plain dicts of python lists so they cache as JSON/arrow."""

    name: str
    head_type: str  # which head in xstilts.model builds the outputs of this format

    @abstractmethod
    def featurize(self, examples: Sequence, tokenizer, max_length: int, train: bool) -> list[dict]:
        """Tokenize examples. Every feature carries ``example_index`` (position in ``examples``)."""

    def collate(self, features: Sequence[dict], pad_id: int) -> dict[str, torch.Tensor]:
        ids = pad_2d([f["input_ids"] for f in features], pad_id)
        batch = {"input_ids": ids, "attention_mask": (ids != pad_id).long()}
        if "label" in features[0]:
            batch["labels"] = torch.tensor([f["label"] for f in features], dtype=torch.long)
        return batch

    def num_tokens(self, feature: dict) -> int:
        return len(feature["input_ids"])

    @abstractmethod
    def loss(self, logits: torch.Tensor, batch: dict) -> torch.Tensor: ...

    @abstractmethod
    def predict(self, outputs: list[np.ndarray], features: Sequence[dict], examples: Sequence) -> list:
        """Turn per-feature head outputs into one prediction per example, in example order."""

    @abstractmethod
    def score(self, predictions: list, examples: Sequence, metric: str, lang: str) -> dict[str, float]:
        """Score predictions with the task's metric; hidden labels are refused, never counted wrong."""

    def labelled(self, examples: Sequence) -> bool:
        """False when the split's gold labels are withheld (GLUE/XTREME test splits)."""
        return True
