"""GPU memory estimate and the decisions built on it (several runs per GPU, one micro-batch per
global batch), tested on CPU with fake device memory; and that 4 x 8 accumulation and one batch of
32 give the engine the same update."""

import pytest
import torch

from tests.test_model_training import tiny_encoder, toy_features
from xstilts import memory
from xstilts.config import ConfigError
from xstilts.formats.classification import PairClassification
from xstilts.model import MultiTaskModel, build_encoder, encoder_config
from xstilts.training import LoopSettings, TrainTask, train

GiB = memory.GiB
# XLM-R Large: 24 layers x 1024 hidden, 16 heads, 4096 intermediate; 560M parameters with embeddings
LARGE = memory.EncoderShape(parameters=560_000_000, layers=24, hidden=1024, heads=16, intermediate=4096)


def test_states_are_16_bytes_per_parameter_and_activations_follow_korthikanti():
    run = memory.estimate(LARGE, batch=32, seq_len=128)
    assert (run.weights, run.gradients, run.optimizer) == (4 * LARGE.parameters, 4 * LARGE.parameters, 8 * LARGE.parameters)
    s, b, h, a, L = 128, 32, 1024, 16, 24
    paper = L * s * b * h * (34 + 5 * a * s / h)  # eq. 2, intermediate = 4h, 16-bit activations
    assert run.activations == pytest.approx(paper + s * b * 2 * 8)
    assert memory.estimate(LARGE, 32, 128, bf16=False).activations > 1.9 * run.activations  # fp32 activations
    assert memory.estimate(LARGE, 64, 128).activations > 1.99 * run.activations  # linear in the batch
    assert 10 * GiB < run.total < 30 * GiB  # 9 GiB of states + ~8 GiB of activations


def test_estimate_covers_the_tensors_autograd_really_keeps():
    """The activation estimate against the bytes autograd saves for backward in a real fp32 forward
    of a small XLM-R (CPU): within -20% and +50% (measured: 0.87x)."""
    torch.manual_seed(0)
    h, L, a, i, s, b = 64, 2, 4, 256, 48, 8
    model = MultiTaskModel(build_encoder(encoder_config(100, h, L, a, i, max_positions=66, dropout=0.1)), 0.1)
    model.add_head("t", "classification", 2)
    model.train()
    saved: dict[int, int] = {}

    def pack(t):
        saved[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        return t

    batch = {"input_ids": torch.randint(3, 100, (b, s)), "attention_mask": torch.ones(b, s, dtype=torch.long)}
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model("t", batch).sum()
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    measured = sum(n for ptr, n in saved.items() if ptr not in params)
    shape = memory.EncoderShape(sum(p.numel() for p in model.parameters()), L, h, a, i)
    est = memory.activation_bytes(shape, b, s, head_outputs=2, bf16=False)
    print(f"activations: estimated {est} bytes, autograd saved {measured} bytes ({est / measured:.2f}x)")
    assert 0.8 * measured <= est <= 1.5 * measured, (est, measured)


def test_parallel_runs_that_fit_pass_and_those_that_do_not_are_refused_with_the_numbers():
    run = memory.estimate(LARGE, 4, 128)
    memory.check_parallel_runs(3, run, free=3 * run.total + 1)
    with pytest.raises(ConfigError, match=r"engine.parallel_runs=4: 4 runs of .* GiB .*at most 3 fit: set engine.parallel_runs to 3"):
        memory.check_parallel_runs(4, run, free=3 * run.total + 1)
    with pytest.raises(ConfigError, match="not even one run fits"):
        memory.check_parallel_runs(1, run, free=run.total - 1)


def test_largest_micro_batch_keeps_the_global_batch():
    one = memory.estimate(LARGE, 32, 128).total
    assert memory.largest_micro_batch(LARGE, 4, 8, 128, free=one) == (32, 1)
    sixteen = memory.estimate(LARGE, 16, 128).total
    assert memory.largest_micro_batch(LARGE, 4, 8, 128, free=sixteen) == (16, 2)
    assert memory.largest_micro_batch(LARGE, 4, 8, 128, free=2 * sixteen, runs=2) == (16, 2)  # two runs share it
    assert memory.largest_micro_batch(LARGE, 4, 8, 128, free=GiB) == (4, 8)  # nothing fits: as configured
    assert memory.largest_micro_batch(LARGE, 32, 1, 128, free=100 * GiB) == (32, 1)


def test_four_micro_batches_of_8_and_one_batch_of_32_give_the_same_update_while_no_clip_bites():
    """merge_micro_batches: the same update for a per-example mean loss as long as clipping is not
    in effect (jiant clips after every micro-batch, the merged batch once: tests/test_recipe_engine.py)."""
    fmt = PairClassification()
    feats = toy_features(128)

    def weights_after(batch_size, grad_accum):
        model = MultiTaskModel(tiny_encoder(), dropout=0.0)
        model.add_head("toy", "classification", 2)
        s = LoopSettings(lr=1e-3, batch_size=batch_size, grad_accum=grad_accum, max_steps=3, seed=0, length_grouping=False, bf16=False, fused_adamw=False, log_every=1000, max_grad_norm=1e9)
        res = train(model, {"toy": TrainTask("toy", fmt, feats)}, s, device=torch.device("cpu"), pad_id=1)
        assert res.steps == 3
        return {k: v.clone() for k, v in model.state_dict().items()}, res.tokens

    (a, tokens_a), (b, tokens_b) = weights_after(32, 1), weights_after(8, 4)
    assert tokens_a == tokens_b  # the same 96 examples
    start = MultiTaskModel(tiny_encoder(), dropout=0.0).state_dict()
    assert any(not torch.equal(a[k], start[k]) for k in start)  # training moved the weights
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=1e-5, atol=1e-6, msg=k)
    (c, _) = weights_after(16, 1)  # a different global batch: a different update (the test can fail)
    assert any(not torch.allclose(a[k], c[k], atol=1e-6) for k in a)


# ---- phase 3 on a GPU: decided before any run starts (CPU test, fake device and memory) ---------


def _phase2_dir(tmp_path):
    from xstilts.model import save_encoder

    save_encoder(build_encoder(encoder_config(3000, 96, 4, 4, 384)), str(tmp_path / "encoder"))
    return str(tmp_path)


def test_phase3_runs_sharing_a_gpu_are_refused_when_they_do_not_fit(tmp_path, monkeypatch):
    import dataclasses

    from xstilts import config, pipeline, plan

    params = config.load("params.yaml")
    params = dataclasses.replace(params, engine=dataclasses.replace(params.engine, parallel_runs=3))
    phase2 = _phase2_dir(tmp_path)
    one = max((plan.phase3_memory(params, phase2, u, config.target_hparams(params, u[0]).batch_size) for u in plan.shared_trainings(params, params.target.groups["all"])), key=lambda r: r.total)
    monkeypatch.setattr(pipeline, "device_for", lambda p: torch.device("cuda"))
    monkeypatch.setattr(memory, "free_memory", lambda device: 2 * one.total + 1)
    with pytest.raises(ConfigError, match="engine.parallel_runs=3: .*at most 2 fit"):
        pipeline.run_phase3_group(params, "none", "all", phase2, "unused", "unused", str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()  # refused before any run started


def test_phase3_takes_the_global_batch_in_one_micro_batch_where_it_fits(tmp_path):
    import dataclasses

    from xstilts import config, plan

    params = config.load("params.yaml")
    per_task = {**params.target.per_task, "xnli": config.TargetTaskConfig(epochs=1.0, batch_size=8, grad_accum=4)}
    params = dataclasses.replace(params, target=dataclasses.replace(params.target, per_task=per_task))
    phase2 = _phase2_dir(tmp_path)
    assert plan.phase3_micro_batch(params, phase2, ["xnli"], free=100 * GiB, runs=2) == (8, 4)  # merge off: as configured
    params = dataclasses.replace(params, engine=dataclasses.replace(params.engine, merge_micro_batches=True))
    assert plan.phase3_micro_batch(params, phase2, ["xnli"], free=100 * GiB, runs=2) == (32, 1)
    sixteen = plan.phase3_memory(params, phase2, ["xnli"], 16).total
    assert plan.phase3_micro_batch(params, phase2, ["xnli"], free=2 * sixteen, runs=2) == (16, 2)
    shape = memory.encoder_shape(str(tmp_path / "encoder"))
    assert shape.parameters == sum(p.numel() for p in build_encoder(encoder_config(3000, 96, 4, 4, 384)).parameters())
