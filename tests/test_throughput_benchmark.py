"""benchmarks/training_throughput.py compares against the Trainer at its best: with its own
length grouping (train_sampling_strategy="group_by_length")."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import training_throughput as tt  # noqa: E402


def test_the_trainers_length_grouping_is_on_and_cuts_its_padding():
    feats = tt.features("mnli", 256)
    _, useful_plain, total_plain = tt.run_trainer(feats, 16, 8, None, group=False)
    _, useful_grouped, total_grouped = tt.run_trainer(feats, 16, 8, None, group=True)
    # the same seed and sequences: less padding only if the Trainer's own grouping is on
    assert 1 - useful_grouped / total_grouped < 0.85 * (1 - useful_plain / total_plain)
