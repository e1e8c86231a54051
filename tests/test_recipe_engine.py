"""The engine trains as jiant's runner does (issue 20): clipping after every micro-batch, one task
per optimiser step, transformers' linear warm-up, precision as configured, merged micro-batches
that are not the same update for tagging."""

from __future__ import annotations

import contextlib
import copy

import pytest
import torch

from tests.test_engine_helpers import PAD, toy_model, toy_tasks
from xstilts import training
from xstilts.model import MultiTaskModel, build_encoder, encoder_config
from xstilts.training import BatchStream, LoopSettings, autocast_for, linear_warmup_decay, make_optimizer, train


def _settings(**kw) -> LoopSettings:
    base = dict(lr=1e-3, batch_size=8, grad_accum=2, max_steps=3, warmup=0.0, max_grad_norm=0.05, length_grouping=False, bf16=False, fused_adamw=False, seed=0, log_every=1)
    return LoopSettings(**{**base, **kw})


def _reference(model, tasks, s: LoopSettings, clip_per_micro: bool) -> dict:
    """A hand-written loop in jiant's order (runner.run_train_step + complex_backpropagate):
    loss / grad_accum, backward, clip the accumulated gradients, per micro-batch; or, for contrast,
    one clip per optimiser step."""
    opt, sched = make_optimizer(model, s, s.max_steps, torch.device("cpu"))
    stream = BatchStream(tasks["a"], s.batch_size, s.seed, s.length_grouping, PAD, name="a")
    fmt = tasks["a"].fmt
    model.train()
    for _ in range(s.max_steps):
        for _ in range(s.grad_accum):
            batch, weight = stream.next()
            (fmt.loss(model("a", batch).float(), batch) * weight / s.grad_accum).backward()
            if clip_per_micro:
                torch.nn.utils.clip_grad_norm_(model.parameters(), s.max_grad_norm)
        if not clip_per_micro:
            torch.nn.utils.clip_grad_norm_(model.parameters(), s.max_grad_norm)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
    return model.state_dict()


def test_gradients_are_clipped_after_every_micro_batch_as_jiant():
    torch.set_num_threads(1)
    s = _settings()
    tasks = toy_tasks(("a",))
    start = toy_model(("a",), dropout=0.0)
    ours = copy.deepcopy(start)
    train(ours, tasks, s, device=torch.device("cpu"), pad_id=PAD, progress=False)
    jiant_order = _reference(copy.deepcopy(start), tasks, s, clip_per_micro=True)
    per_step = _reference(copy.deepcopy(start), tasks, s, clip_per_micro=False)
    got = ours.state_dict()
    # the two clipping orders give different weights here, so the comparison decides something
    assert any(not torch.equal(jiant_order[k], per_step[k]) for k in got)
    for k in got:
        torch.testing.assert_close(got[k], jiant_order[k], rtol=0, atol=1e-7, msg=k)


def test_one_task_is_drawn_per_optimiser_step(monkeypatch):
    drawn, served = [], []

    class Recording(training.TaskSampler):
        def next(self):
            drawn.append(super().next())
            return drawn[-1]

    original = BatchStream.next

    def next_batch(self):
        served.append(self.name)
        return original(self)

    monkeypatch.setattr(training, "TaskSampler", Recording)
    monkeypatch.setattr(BatchStream, "next", next_batch)
    s = _settings(grad_accum=4, max_steps=6, max_grad_norm=1.0)
    train(toy_model(("a", "b"), dropout=0.0), toy_tasks(("a", "b"), n=64), s, device=torch.device("cpu"), pad_id=PAD, progress=False)
    assert len(drawn) == s.max_steps
    assert served == [name for name in drawn for _ in range(s.grad_accum)]


def test_with_one_micro_batch_the_draws_are_the_samplers_own_sequence(monkeypatch):
    served = []
    original = BatchStream.next

    def next_batch(self):
        served.append(self.name)
        return original(self)

    monkeypatch.setattr(BatchStream, "next", next_batch)
    s = _settings(grad_accum=1, max_steps=10, max_grad_norm=1.0)
    train(toy_model(("a", "b"), dropout=0.0), toy_tasks(("a", "b"), n=64), s, device=torch.device("cpu"), pad_id=PAD, progress=False)
    sampler = training.TaskSampler({"a": 0.5, "b": 0.5}, seed=s.seed)
    assert served == [sampler.next() for _ in range(10)]


@pytest.mark.parametrize("steps,warmup", [(10, 0.1), (37, 0.3), (5, 0.0), (100, 0.06)])
def test_schedule_is_transformers_linear_warmup(steps, warmup):
    from transformers import get_linear_schedule_with_warmup

    s = _settings(warmup=warmup)
    model = torch.nn.Linear(2, 2)
    _, ours = make_optimizer(model, s, steps, torch.device("cpu"))
    opt = torch.optim.AdamW(model.parameters(), lr=s.lr)
    theirs = get_linear_schedule_with_warmup(opt, int(warmup * steps), steps)
    for _ in range(steps + 1):
        assert ours.get_last_lr()[0] == pytest.approx(theirs.get_last_lr()[0], abs=1e-15)
        ours.step()
        theirs.step()
    if int(warmup * steps):
        assert linear_warmup_decay(0, warm=int(warmup * steps), steps=steps) == 0.0  # the first step trains at lr 0


def test_autocast_follows_engine_bf16():
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert isinstance(autocast_for(cpu, True), contextlib.nullcontext)
    assert isinstance(autocast_for(cuda, False), contextlib.nullcontext)  # predict() forced bf16 here before
    with pytest.warns(UserWarning) if not torch.cuda.is_available() else contextlib.nullcontext():
        ctx = autocast_for(cuda, True)
    assert isinstance(ctx, torch.autocast) and ctx.fast_dtype == torch.bfloat16


def test_merged_micro_batches_change_the_tagging_loss():
    """engine.merge_micro_batches is not the same gradient for tagging: the loss is a token mean
    over the batch, so one batch of two sentences weighs tokens, two micro-batches weigh sentences."""
    from xstilts.formats.tagging import Tagging

    fmt = Tagging.__new__(Tagging)
    torch.manual_seed(0)
    short = {"labels": torch.tensor([[0, 1, -100, -100, -100, -100]])}
    long_ = {"labels": torch.tensor([[1, 0, 1, 1, 0, 1]])}
    logits = torch.randn(2, 6, 2)
    batch = {"labels": torch.cat([short["labels"], long_["labels"]])}
    merged = fmt.loss(logits, batch)
    micro = (fmt.loss(logits[:1], short) + fmt.loss(logits[1:], long_)) / 2
    assert not torch.allclose(merged, micro)


def test_adamw_is_jiants():
    """jiant's optimiser (shared/model_setup.py): AdamW, eps 1e-8, betas (0.9, 0.999), no weight decay on biases and LayerNorm."""
    model = MultiTaskModel(build_encoder(encoder_config(40, 16, 1, 2, 32, max_positions=40, dropout=0.0)), 0.0)
    s = LoopSettings(lr=1e-5, batch_size=4, weight_decay=0.01)
    opt, _ = make_optimizer(model, s, 10, torch.device("cpu"))
    assert isinstance(opt, torch.optim.AdamW) and all(g["eps"] == 1e-8 and g["betas"] == (0.9, 0.999) for g in opt.param_groups)
    decay, no_decay = opt.param_groups
    assert decay["weight_decay"] == 0.01 and no_decay["weight_decay"] == 0.0
    assert all(p.ndim < 2 for p in no_decay["params"]) and all(p.ndim >= 2 for p in decay["params"])
