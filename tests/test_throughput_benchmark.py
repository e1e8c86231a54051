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


def test_the_padding_free_row_trains_the_same_random_batches_on_their_real_tokens_only():
    feats = tt.features("mnli", 128)
    _, useful_random, processed_random = tt.run_engine(feats, 16, 3, group=False)
    _, useful_free, processed_free = tt.run_engine(feats, 16, 3, group=False, padding_free=True)
    assert useful_free == useful_random  # the same random batches
    assert processed_free == useful_free and processed_random > 1.3 * useful_random  # no padding processed
    assert tt.PADDING_FREE.startswith("(a'') xstilts engine: random batches, padding-free")
