"""Multi-task samplers (jiant's set): which task the next training batch comes from.

p(task) is proportional to its number of training examples (``proportional``), to
min(n, cap) (``capped_proportional``; cap 2^17 in the co-author's script), to
min(n, cap)^(1/T) (``temperature``), or uniform.
"""

from __future__ import annotations

import numpy as np


def task_probabilities(sizes: dict[str, int], kind: str, cap: int = 131072, temperature: float = 2.0) -> dict[str, float]:
    if not sizes:
        raise ValueError("no tasks to sample from")
    names = sorted(sizes)
    n = np.array([sizes[t] for t in names], dtype=float)
    if kind == "proportional":
        w = n
    elif kind == "capped_proportional":
        w = np.minimum(n, cap)
    elif kind == "temperature":
        w = np.minimum(n, cap) ** (1.0 / temperature)
    elif kind == "uniform":
        w = np.ones_like(n)
    else:
        raise ValueError(f"unknown sampler {kind!r}")
    if w.sum() <= 0:
        raise ValueError(f"all task sizes are zero: {sizes}")
    return dict(zip(names, (w / w.sum()).tolist()))


class TaskSampler:
    """Seeded; its position is just the number of draws, so a resumed run replays the same order."""

    def __init__(self, probabilities: dict[str, float], seed: int):
        self.names = sorted(probabilities)
        self.p = np.array([probabilities[t] for t in self.names])
        self.seed, self.draws = seed, 0

    def next(self) -> str:
        # One generator per draw keyed by (seed, draw index): O(1) to restore at any position.
        rng = np.random.default_rng([self.seed, self.draws])
        self.draws += 1
        return self.names[int(rng.choice(len(self.names), p=self.p))]

    def state_dict(self) -> dict:
        return {"draws": self.draws}

    def load_state_dict(self, state: dict) -> None:
        self.draws = int(state["draws"])


def length_grouped_batches(lengths: list[int], batch_size: int, seed: int, group: bool = True, mega: int = 50) -> list[list[int]]:
    """One epoch of batches. With ``group``, shuffle, then sort by length inside windows of
    ``mega`` batches, so each batch holds similar lengths (little padding) while the order stays
    random; batches themselves are shuffled so long ones do not all come last."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(lengths)).tolist()
    if group:
        window = batch_size * mega
        order = [i for s in range(0, len(order), window) for i in sorted(order[s : s + window], key=lambda j: -lengths[j])]
    batches = [order[s : s + batch_size] for s in range(0, len(order), batch_size)]
    if group:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches
