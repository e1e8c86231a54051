"""The training loop shared by phase 1 (MLM), phase 2 (intermediate tasks) and phase 3 (targets).

Read top to bottom: set up the optimiser and schedule, then for each optimiser step draw a task,
take its next length-grouped batch, accumulate gradients, clip, step; evaluate every
``eval_every`` steps and keep the best weights (early stopping); restore them at the end.
"""

from __future__ import annotations

import math
import time
import zlib
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from xstilts.formats.base import Format
from xstilts.samplers import TaskSampler, length_grouped_batches


class NonFiniteLossError(FloatingPointError):
    pass


@dataclass
class TrainTask:
    head: str  # head name in the model (tasks that share a head share a name, e.g. ANLI+ parts)
    fmt: Format
    features: list[dict]


@dataclass
class LoopSettings:
    lr: float
    batch_size: int
    grad_accum: int = 1
    epochs: float = 1.0
    max_steps: int = 0  # 0: derived from epochs
    warmup: float = 0.1
    weight_decay: float = 0.01
    max_grad_norm: float = 1.0
    eval_every: int = 0  # 0: no evaluation during training
    patience: int = 0  # 0: no early stopping
    length_grouping: bool = True
    bf16: bool = True
    fused_adamw: bool = True
    seed: int = 0
    log_every: int = 50


@dataclass
class TrainResult:
    steps: int
    best_score: float | None
    best_step: int | None
    stopped_early: bool
    tokens: int  # non-padding tokens seen
    padded_tokens: int  # tokens including padding
    seconds: float
    history: list[dict] = field(default_factory=list)


class BatchStream:
    """Endless length-grouped batches of one task; (epoch, position) is its resumable state."""

    def __init__(self, task: TrainTask, batch_size: int, seed: int, group: bool, pad_id: int):
        self.task, self.batch_size, self.seed, self.group, self.pad_id = task, batch_size, seed, group, pad_id
        self.lengths = [task.fmt.num_tokens(f) for f in task.features]
        self.epoch, self.position = 0, 0
        self._batches = self._epoch_batches()

    def _epoch_batches(self):
        return length_grouped_batches(self.lengths, self.batch_size, seed=zlib.crc32(f"{self.seed}/{self.task.head}/{self.epoch}".encode()), group=self.group)

    def next(self) -> dict:
        if self.position >= len(self._batches):
            self.epoch, self.position = self.epoch + 1, 0
            self._batches = self._epoch_batches()
        idx = self._batches[self.position]
        self.position += 1
        return self.task.fmt.collate([self.task.features[i] for i in idx], self.pad_id)

    def state_dict(self):
        return {"epoch": self.epoch, "position": self.position}

    def load_state_dict(self, state):
        self.epoch, self.position = int(state["epoch"]), int(state["position"])
        self._batches = self._epoch_batches()


def total_steps(tasks: dict[str, TrainTask], s: LoopSettings, cap: int | None = None) -> int:
    """jiant's rule: sum over tasks of epochs x batches per epoch (sizes capped), in optimiser steps."""
    if s.max_steps:
        return s.max_steps
    micro = sum(math.ceil(s.epochs * math.ceil(min(len(t.features), cap or len(t.features)) / s.batch_size)) for t in tasks.values())
    return max(1, math.ceil(micro / s.grad_accum))


def make_optimizer(model: torch.nn.Module, s: LoopSettings, steps: int, device: torch.device):
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if p.requires_grad:  # no weight decay on biases and LayerNorm weights (jiant/BERT recipe)
            (no_decay if p.ndim < 2 or "LayerNorm" in name or "norm" in name else decay).append(p)
    groups = [{"params": decay, "weight_decay": s.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    fused = s.fused_adamw and device.type == "cuda"
    opt = torch.optim.AdamW(groups, lr=s.lr, eps=1e-8, fused=fused)
    warm = int(s.warmup * steps)

    def schedule(step):  # linear warm-up, then linear decay to zero
        return (step + 1) / max(1, warm) if step < warm else max(0.0, (steps - step) / max(1, steps - warm))

    return opt, torch.optim.lr_scheduler.LambdaLR(opt, schedule)


def to_device(batch: dict, device: torch.device) -> dict:
    return {k: v.to(device, non_blocking=True) if torch.is_tensor(v) else v for k, v in batch.items()}


def train(
    model: torch.nn.Module,
    tasks: dict[str, TrainTask],
    s: LoopSettings,
    *,
    device: torch.device,
    pad_id: int,
    probabilities: dict[str, float] | None = None,
    evaluate: Callable[[torch.nn.Module], float] | None = None,
    log: Callable[[dict], None] | None = None,
    cap: int | None = None,
) -> TrainResult:
    model.to(device).train()
    steps = total_steps(tasks, s, cap)
    opt, sched = make_optimizer(model, s, steps, device)
    probabilities = probabilities or {name: 1.0 / len(tasks) for name in tasks}
    sampler = TaskSampler(probabilities, seed=s.seed)
    streams = {name: BatchStream(t, s.batch_size, s.seed, s.length_grouping, pad_id) for name, t in tasks.items()}
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if (s.bf16 and device.type == "cuda") else torch.autocast("cpu", enabled=False)
    torch.manual_seed(s.seed)

    best_score, best_step, best_state, bad_evals = None, None, None, 0
    tokens = padded = 0
    history: list[dict] = []
    start, stopped_early, step = time.perf_counter(), False, 0
    for step in range(steps):
        # 1. accumulate gradients over grad_accum micro-batches, each from a sampled task
        loss_sum = 0.0
        for _ in range(s.grad_accum):
            name = sampler.next()
            task = tasks[name]
            batch = to_device(streams[name].next(), device)
            tokens += int(batch["attention_mask"].sum())
            padded += batch["attention_mask"].numel()
            with autocast:
                logits = model(task.head, batch)
            loss = task.fmt.loss(logits.float(), batch) / s.grad_accum
            if not torch.isfinite(loss):
                raise NonFiniteLossError(f"non-finite loss {loss.item()} at step {step} on task {name}; the last good checkpoint is kept")
            loss.backward()
            loss_sum += loss.item()
        # 2. clip, step, schedule
        torch.nn.utils.clip_grad_norm_(model.parameters(), s.max_grad_norm)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        if log and (step % s.log_every == 0 or step == steps - 1):
            log({"step": step, "loss": loss_sum, "lr": sched.get_last_lr()[0]})
        # 3. periodic evaluation, best weights kept in memory, early stopping
        if evaluate and s.eval_every and ((step + 1) % s.eval_every == 0 or step == steps - 1):
            score = evaluate(model)
            model.train()
            history.append({"step": step + 1, "score": score})
            if log:
                log({"step": step, "eval_score": score})
            if best_score is None or score > best_score:
                best_score, best_step, bad_evals = score, step + 1, 0
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            else:
                bad_evals += 1
                if s.patience and bad_evals >= s.patience:
                    stopped_early = True
                    break
    if best_state is not None:  # restore the best checkpoint, as jiant does at the end
        model.load_state_dict(best_state)
    return TrainResult(step + 1, best_score, best_step, stopped_early, tokens, padded, time.perf_counter() - start, history)


@torch.no_grad()
def predict(model: torch.nn.Module, head: str, fmt: Format, features: list[dict], *, device: torch.device, pad_id: int, batch_size: int = 64) -> list[np.ndarray]:
    """Head outputs per feature (trimmed to the feature's own length), batched longest-first."""
    model.to(device).eval()
    order = sorted(range(len(features)), key=lambda i: -fmt.num_tokens(features[i]))
    outputs: list[np.ndarray | None] = [None] * len(features)
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else torch.autocast("cpu", enabled=False)
    for s in range(0, len(order), batch_size):
        idx = order[s : s + batch_size]
        batch = to_device(fmt.collate([features[i] for i in idx], pad_id), device)
        with autocast:
            out = model(head, batch).float().cpu().numpy()
        for row, i in zip(out, idx):
            n = len(features[i]["input_ids"])
            outputs[i] = row[:n] if row.ndim >= 2 and fmt.head_type in ("tagging", "span") else row
    return outputs  # type: ignore[return-value]
