import numpy as np
import pytest

from xstilts.samplers import TaskSampler, length_grouped_batches, task_probabilities


def test_probabilities():
    sizes = {"a": 400_000, "b": 100_000, "c": 10_000}
    assert task_probabilities(sizes, "proportional")["a"] == pytest.approx(400 / 510)
    capped = task_probabilities(sizes, "capped_proportional", cap=131072)
    assert capped["a"] == pytest.approx(131072 / (131072 + 100_000 + 10_000))
    temp = task_probabilities(sizes, "temperature", cap=131072, temperature=2.0)
    assert temp["c"] > capped["c"]  # temperature flattens towards uniform
    assert task_probabilities(sizes, "uniform")["c"] == pytest.approx(1 / 3)
    with pytest.raises(ValueError):
        task_probabilities(sizes, "nope")


def test_sampler_is_seeded_and_resumable():
    p = {"a": 0.7, "b": 0.3}
    s1 = TaskSampler(p, seed=3)
    draws = [s1.next() for _ in range(200)]
    assert abs(draws.count("a") / 200 - 0.7) < 0.1
    s2 = TaskSampler(p, seed=3)
    first = [s2.next() for _ in range(50)]
    state = s2.state_dict()
    s3 = TaskSampler(p, seed=3)
    s3.load_state_dict(state)
    assert first + [s3.next() for _ in range(150)] == draws


def test_length_grouped_batches_cover_everything_and_reduce_padding():
    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 200, size=1000).tolist()
    grouped = length_grouped_batches(lengths, 16, seed=1, group=True)
    plain = length_grouped_batches(lengths, 16, seed=1, group=False)
    for batches in (grouped, plain):
        assert sorted(i for b in batches for i in b) == list(range(1000))

    def padded(batches):
        return sum(len(b) * max(lengths[i] for i in b) for b in batches)

    assert padded(grouped) < 0.7 * padded(plain)
    assert grouped == length_grouped_batches(lengths, 16, seed=1, group=True)
