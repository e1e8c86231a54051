"""The training loop shared by phase 1 (MLM), phase 2 (intermediate tasks) and phase 3 (targets).

Read top to bottom. Set up: optimiser and schedule, task sampler, one batch stream per task,
optional torch.compile and DDP. Resume from the newest checkpoint in ``checkpoint_dir`` if there is
one. Then for each optimiser step: draw a task (once per step, as jiant's runner), take its next
batches, and for each micro-batch backpropagate then clip the accumulated gradients (jiant's
``complex_backpropagate``); check the loss is finite, step; log; evaluate every ``eval_every`` steps and keep
the best weights (early stopping); checkpoint every ``checkpoint_every`` steps or
``checkpoint_seconds`` of training, and at the end. Finally restore the best weights, as jiant does.

Resuming is exact: a checkpoint holds everything that decides what happens next (weights, AdamW
moments, schedule, sampler draws, each stream's epoch and position, every RNG including the MLM
masking generator, best weights, eval history, log records), so a run killed with SIGKILL and
started again ends with the same weights as one that never stopped (anchors.md §11.8: resumed
Trainer runs diverge when the RNG or the data position is not restored). A checkpoint is resumed
only by a run with the same settings, the same starting weights and the same training features
(hashes in its fingerprint): after an upstream change it is refused, not silently continued.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import math
import os
import pickle
import time
import zlib
from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np
import torch

from xstilts import checkpoint, distributed, preemption
from xstilts.formats.base import Format
from xstilts.io import jsonable
from xstilts.samplers import TaskSampler, length_grouped_batches


class NonFiniteLossError(FloatingPointError):
    pass


class NonFiniteScoreError(FloatingPointError):
    """A NaN/inf dev score: early stopping would compare against it forever (NaN > x is always
    false), so it is a failure, not a bad evaluation."""


@dataclass
class TrainTask:
    head: str  # head name in the model (tasks that share a head share a name, e.g. ANLI+ parts)
    fmt: Format
    features: list[dict]


@dataclass
class LoopSettings:
    lr: float
    batch_size: int  # per device; the global batch is batch_size x grad_accum x world size
    grad_accum: int = 1
    epochs: float = 1.0
    max_steps: int = 0  # 0: derived from epochs
    warmup: float = 0.1
    weight_decay: float = 0.01
    max_grad_norm: float = 1.0
    eval_every: int = 0  # 0: no evaluation during training
    patience: int = 0  # 0: no early stopping
    length_grouping: bool = True  # off: plain shuffled batches (still padded per batch)
    bf16: bool = True  # autocast on CUDA only
    tf32: bool = False  # CUDA only: TF32 matmuls / convolutions (off: full fp32, as jiant's 2020 runs)
    fused_adamw: bool = True  # CUDA only
    seed: int = 0
    log_every: int = 50  # steps between log records (curves); progress lines are rarer on long runs
    compile: bool = False  # torch.compile the encoder, in place (state-dict keys unchanged)
    compile_backend: str = "inductor"  # "eager" only traces with dynamo: fast, for tests
    padding_free: bool = False  # run the model on the batches' real tokens only (xstilts/packed.py); equal to float tolerance


# Executed notebooks hold the progress lines: a paper-profile run has up to ~10^6 steps, so lines
# are capped per run (about 100 bytes each) to keep every notebook well under 1 MB.
MAX_PROGRESS_LINES = 200


def progress_interval(steps: int, log_every: int) -> int:
    """Steps between printed progress lines: every ``log_every``, but at most ~MAX_PROGRESS_LINES a run."""
    return max(log_every, -(-steps // MAX_PROGRESS_LINES))


# Settings that change the trajectory: resuming a checkpoint written under other values is refused.
# (bf16, fused_adamw, compile, padding_free, log_every change speed or output, not what is trained.)
_TRAJECTORY = ("lr", "batch_size", "grad_accum", "epochs", "max_steps", "warmup", "weight_decay", "max_grad_norm", "eval_every", "patience", "length_grouping", "seed")


@dataclass
class TrainResult:
    steps: int
    best_score: float | None
    best_step: int | None
    stopped_early: bool
    tokens: int  # non-padding tokens seen (all ranks)
    padded_tokens: int  # tokens the model processed, padding included (all ranks; padding-free: the real tokens)
    seconds: float  # training time, summed over resumed segments
    history: list[dict] = field(default_factory=list)
    resumed_from: int | None = None  # step of the checkpoint this run resumed from
    checkpoint: str | None = None  # the last checkpoint written or read


class BatchStream:
    """Endless length-grouped batches of one task; (epoch, position) is its resumable state.

    Under data parallelism every rank builds the same global batches of ``batch_size x world_size``
    examples (length-grouped over the global batch) and keeps every world_size-th example from its rank
    on: ranks see distinct examples of similar lengths, and together exactly the batch that one
    process with the global batch size would see."""

    def __init__(self, task: TrainTask, batch_size: int, seed: int, group: bool, pad_id: int, rank: int = 0, world_size: int = 1, name: str | None = None):
        if len(task.features) < world_size:
            raise ValueError(f"task {task.head} has {len(task.features)} examples, fewer than the {world_size} ranks")
        self.task, self.batch_size, self.seed, self.group, self.pad_id = task, batch_size, seed, group, pad_id
        self.name = name or task.head  # seeds the batch order: parts sharing a head (ANLI+) get their own
        self.rank, self.world_size = rank, world_size
        self.lengths = [task.fmt.num_tokens(f) for f in task.features]
        self.epoch, self.position = 0, 0
        self._batches = self._epoch_batches()

    def _epoch_batches(self):
        seed = zlib.crc32(f"{self.seed}/{self.name}/{self.epoch}".encode())
        batches = length_grouped_batches(self.lengths, self.batch_size * self.world_size, seed=seed, group=self.group)
        return [b for b in batches if len(b) >= self.world_size]  # a tail with fewer examples than ranks would starve a rank

    def next(self) -> tuple[dict, float]:
        """This rank's next batch, and the weight of its mean loss: its share of the global batch x
        world size (1.0 when the global batch splits evenly), so that DDP's gradient average is the
        gradient of the global batch's mean loss."""
        if self.position >= len(self._batches):
            self.epoch, self.position = self.epoch + 1, 0
            self._batches = self._epoch_batches()
        idx = self._batches[self.position]
        self.position += 1
        mine = idx[self.rank :: self.world_size]
        return self.task.fmt.collate([self.task.features[i] for i in mine], self.pad_id), len(mine) * self.world_size / len(idx)

    def state_dict(self):
        return {"epoch": self.epoch, "position": self.position}

    def load_state_dict(self, state):
        self.epoch, self.position = int(state["epoch"]), int(state["position"])
        self._batches = self._epoch_batches()


def total_steps(tasks: dict[str, TrainTask], s: LoopSettings, cap: int | None = None, world_size: int = 1) -> int:
    """jiant's rule: sum over tasks of epochs x batches per epoch (sizes capped), in optimiser steps.
    ``cap`` is for mixtures only (see ``plan.phase2_mixture``): a task trained alone gets its full epochs."""
    return planned_steps({n: len(t.features) for n, t in tasks.items()}, s, cap, world_size)


def planned_steps(sizes: dict[str, int], s: LoopSettings, cap: int | None = None, world_size: int = 1) -> int:
    """:func:`total_steps` from the tasks' sizes (features) alone: what `xstilts.cli plan` prices."""
    if s.max_steps:
        return s.max_steps
    batch = s.batch_size * world_size
    micro = sum(math.ceil(s.epochs * math.ceil(min(n, cap or n) / batch)) for n in sizes.values())
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

    return opt, torch.optim.lr_scheduler.LambdaLR(opt, functools.partial(linear_warmup_decay, warm=warm, steps=steps))


def linear_warmup_decay(step: int, *, warm: int, steps: int) -> float:
    """The lr factor of transformers' ``get_linear_schedule_with_warmup`` (jiant's schedule): step /
    warm during warm-up (the first step at lr 0), then linear decay to zero at ``steps``."""
    if step < warm:
        return step / max(1, warm)
    return max(0.0, (steps - step) / max(1, steps - warm))


def autocast_for(device: torch.device, bf16: bool):
    """bf16 autocast on CUDA when ``bf16`` is set; otherwise (and on the CPU) full precision."""
    if bf16 and device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def set_tf32(device: torch.device, allowed: bool) -> None:
    """TF32 matmuls and cuDNN convolutions on CUDA: off unless asked for. jiant's 2020 runs predate
    TF32 (Ampere, PyTorch 1.7's defaults), so fp32 there meant full fp32; on a CPU this does nothing."""
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = allowed
        torch.backends.cudnn.allow_tf32 = allowed


def to_device(batch: dict, device: torch.device) -> dict:
    return {k: v.to(device, non_blocking=True) if torch.is_tensor(v) else v for k, v in batch.items()}


def _format_generators(tasks: dict[str, TrainTask]) -> dict[str, torch.Generator]:
    """RNGs owned by formats (MaskedLM draws its masks from its own generator): checkpointed too."""
    return {f"{name}.{attr}": g for name, t in sorted(tasks.items()) for attr, g in sorted(vars(t.fmt).items()) if isinstance(g, torch.Generator)}


def digest_state(state: dict[str, torch.Tensor]) -> str:
    """Hash of a state dict's names and exact bytes: the weights a run starts from."""
    h = hashlib.sha256()
    for name in sorted(state):
        t = state[name].detach().to("cpu").contiguous()
        h.update(f"{name}:{t.dtype}:{tuple(t.shape)}".encode())
        h.update(t.view(-1).view(torch.uint8).numpy())  # the buffer itself: no 2 GB copy at XLM-R Large
    return h.hexdigest()[:16]


def digest_features(features: list[dict]) -> str:
    """Hash of training (or dev) features, in order. pickle only serialises here, nothing is
    unpickled; a list of dicts of ints/lists pickles to the same bytes on every run."""
    h = hashlib.sha256()
    for f in features:
        h.update(pickle.dumps(f, protocol=4))
    return h.hexdigest()[:16]


def _clock(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s"


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
    checkpoint_dir: str | None = None,
    checkpoint_every: int = 0,
    checkpoint_seconds: float = 0.0,
    inputs: dict[str, str] | None = None,
    log_path: str | None = None,
    progress: bool = True,
    desc: str = "train",
) -> TrainResult:
    """Train ``model`` on ``tasks``; see the module docstring for the order of events.

    checkpoint_dir: resume from its newest checkpoint if any; write one every ``checkpoint_every``
        steps and every ``checkpoint_seconds`` of training (0: neither, only at the end), and at the
        end. Only the newest is kept. None: no checkpoints.
    inputs: hashes of what else the trajectory depends on (e.g. the early-stopping dev set), added
        to the resume fingerprint with the starting weights and the training features.
    log_path: the file the progress lines go to instead of stdout (a notebook then shows a summary,
        the full log stays in the file); a fresh run starts it anew, a resumed run appends.
    progress: a plain line every ``progress_interval(steps, log_every)`` steps (rank 0 only).
    Under ``torchrun`` (after :func:`xstilts.distributed.setup`) training is data-parallel.
    """
    ddp = distributed.current()  # the data-parallel process group (world size 1 in a plain run)
    main = ddp.is_main
    # what this run starts from, hashed before anything trains or loads a checkpoint
    origin = {"start_weights": digest_state(model.state_dict()), "features": {n: digest_features(t.features) for n, t in sorted(tasks.items())}, **(inputs or {})} if checkpoint_dir else {}
    model.to(device).train()
    if hasattr(model, "padding_free"):  # kept for the evaluations during and after training (predict)
        model.padding_free = s.padding_free
    steps = total_steps(tasks, s, cap, ddp.world_size)
    print_every = progress_interval(steps, s.log_every)
    opt, sched = make_optimizer(model, s, steps, device)
    probabilities = probabilities or {name: 1.0 / len(tasks) for name in tasks}
    # Identical on every rank: all ranks train the same task at each micro-step (DDP needs the same graph).
    sampler = TaskSampler(probabilities, seed=s.seed)
    streams = {name: BatchStream(t, s.batch_size, s.seed, s.length_grouping, pad_id, ddp.rank, ddp.world_size, name) for name, t in tasks.items()}
    generators = _format_generators(tasks)
    autocast = autocast_for(device, s.bf16)
    set_tf32(device, s.tf32)
    say = (_file_printer(log_path) if log_path else print) if (progress and main) else (lambda *a, **k: None)

    # ---- resume ---------------------------------------------------------------------------
    fingerprint = jsonable({
        **{k: v for k, v in asdict(s).items() if k in _TRAJECTORY}, "steps": steps, "world_size": ddp.world_size,
        "tasks": {n: len(t.features) for n, t in sorted(tasks.items())}, "probabilities": {n: probabilities[n] for n in sorted(probabilities)}, **origin,
    })
    # everything about the loop's progress that a checkpoint carries (JSON)
    loop = {"step": 0, "tokens": 0, "padded": 0, "seconds": 0.0, "best_score": None, "best_step": None, "bad_evals": 0, "stopped_early": False, "finished": False, "history": [], "logs": []}
    best_state: dict[str, torch.Tensor] | None = None
    resumed_from, last_ckpt, rng_to_restore = None, None, None
    path = checkpoint.latest(checkpoint_dir)
    if path:
        ck = checkpoint.load(path)
        checkpoint.check_compatible(ck.state["fingerprint"], fingerprint, path)
        model.load_state_dict(ck.model)
        opt.load_state_dict(ck.optimizer)  # empty in a finished run's checkpoint: nothing left to step
        sched.load_state_dict(ck.state["scheduler"])
        sampler.load_state_dict(ck.state["sampler"])
        for name, st in ck.state["streams"].items():
            streams[name].load_state_dict(st)
        loop, best_state = ck.state["loop"], ck.best
        rng_to_restore = {k.rsplit(".rank", 1)[0]: v for k, v in ck.rng.items() if k.endswith(f".rank{ddp.rank}")}
        resumed_from, last_ckpt = loop["step"], path
        say(f"{desc}: resuming from {path} (step {loop['step']}/{steps})", flush=True)
        if log and main:  # replay, so the caller's curve covers the steps before the interruption
            for record in loop["logs"]:
                log(record)

    # ---- speed: compile, then DDP (both keep `model`'s parameters; `net` is what runs forward) --
    if s.compile:
        # In place on the encoder: heads stay eager (small), state-dict keys keep their names.
        getattr(model, "encoder", model).compile(backend=s.compile_backend)
    net = model
    if ddp.enabled:
        # Other tasks' heads get no gradient in a step: DDP must look for unused parameters.
        net = distributed.wrap(model, device, find_unused_parameters=len(getattr(model, "heads", ())) != 1)

    # RNG last, after everything that could draw from it.
    if rng_to_restore is not None:
        checkpoint.set_rng_state(rng_to_restore, generators)
    else:
        torch.manual_seed(s.seed + ddp.rank)  # rank 0 == a single process; other ranks get their own dropout
        for name, g in generators.items():
            if ddp.rank:  # and their own MLM masks
                g.manual_seed(zlib.crc32(f"{s.seed}/{name}/rank{ddp.rank}".encode()))

    if log_path and progress and main and resumed_from is None and os.path.exists(log_path):
        os.remove(log_path)  # a fresh run's log holds this run only

    def save_checkpoint(step: int) -> str:
        rng = ddp.gather_uint8(checkpoint.rng_state(generators))  # collective: every rank's RNG
        if main:
            state = {"fingerprint": fingerprint, "loop": loop, "scheduler": sched.state_dict(), "sampler": sampler.state_dict(), "streams": {n: st.state_dict() for n, st in streams.items()}}
            weights, best, optim = model.state_dict(), best_state, opt.state_dict()
            if loop["finished"]:  # only the result is needed: the final (best) weights, a third of the size
                weights, best, optim = best_state or weights, None, {"state": {}, "param_groups": optim["param_groups"]}
            checkpoint.save(checkpoint_dir, step, model=weights, best=best, optimizer=optim, rng=rng, state=jsonable(state))
        ddp.barrier()  # no rank runs ahead of a checkpoint still being written
        return os.path.join(checkpoint_dir, f"step-{step:08d}")

    # ---- the loop -------------------------------------------------------------------------
    start, seconds_before = time.perf_counter(), loop["seconds"]
    last_save = start
    window = (start, loop["tokens"])  # for tokens/s in progress lines
    # with checkpoints, SIGTERM/SIGUSR1 (or the job's flag file) stop the run at the next step
    # boundary with a checkpoint (xstilts.preemption); without, the signal keeps its default
    watch = preemption.Watch(active=bool(checkpoint_dir)).start()
    try:
        for step in range(loop["step"], loop["step"] if loop["finished"] else steps):
            # 1. one task per optimiser step (jiant's runner pops the sampler once per step); accumulate
            #    over grad_accum micro-batches, clipping the accumulated gradients after every backward
            #    pass, as jiant's complex_backpropagate (loss / grad_accum, backward, clip). DDP
            #    all-reduces gradients on the last micro-batch only (no_sync on the others), so under
            #    DDP the earlier clips see this rank's partial gradients.
            loss_sum = torch.zeros((), device=device, dtype=torch.float64)
            step_tokens = step_padded = 0
            name = sampler.next()
            names = [name]
            task = tasks[name]
            for micro in range(s.grad_accum):
                cpu_batch, weight = streams[name].next()
                real = int(cpu_batch["attention_mask"].sum())  # counted on the CPU: no device sync
                step_tokens += real
                step_padded += real if s.padding_free else cpu_batch["attention_mask"].numel()  # what the model processes
                batch = to_device(cpu_batch, device)
                sync = not ddp.enabled or micro == s.grad_accum - 1
                with contextlib.nullcontext() if sync else net.no_sync():
                    with autocast:
                        logits = net(task.head, batch)
                    loss = task.fmt.loss(logits.float(), batch) * weight / s.grad_accum
                    loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), s.max_grad_norm)
                loss_sum += loss.detach()
            # 2. one host sync per step: loss and token counts, summed over ranks. A NaN/inf stops
            #    the run here, before the optimiser can write it into the weights; every rank sees
            #    the same value, so all stop together.
            counts = torch.tensor([step_tokens, step_padded], device=device, dtype=torch.float64)
            loss_value, tok, pad = ddp.all_reduce_sum(torch.cat([loss_sum.view(1), counts])).tolist()
            loss_value /= ddp.world_size
            if not math.isfinite(loss_value):
                raise NonFiniteLossError(
                    f"non-finite loss {loss_value} at step {step + 1}/{steps} (tasks {sorted(set(names))}); the weights were not updated. "
                    f"Last good checkpoint: {last_ckpt or 'none (no checkpoint_dir, or none written yet)'}. Lower the learning rate or check the inputs, then resume from it."
                )
            loop["tokens"] += int(tok)
            loop["padded"] += int(pad)
            # 3. step, schedule (clipped above, per micro-batch)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            # 4. log record + a plain progress line (rank 0 prints)
            records = []
            if step % s.log_every == 0 or step == steps - 1:
                records.append({"step": step, "loss": loss_value, "lr": sched.get_last_lr()[0]})
            if step % print_every == 0 or step == steps - 1:
                now = time.perf_counter()
                rate = (loop["tokens"] - window[1]) / max(now - window[0], 1e-9)
                window = (now, loop["tokens"])
                eta = (now - start) / (step + 1 - (resumed_from or 0)) * (steps - step - 1)
                say(f"{desc} step {step + 1}/{steps} | loss {loss_value:.4f} | lr {sched.get_last_lr()[0]:.2e} | {rate:,.0f} tok/s | padding {1 - loop['tokens'] / max(loop['padded'], 1):.0%} | {_clock(seconds_before + now - start)} elapsed, eta {_clock(eta)}", flush=True)
            # 5. periodic evaluation on rank 0, best weights kept (on the CPU), early stopping
            if evaluate and s.eval_every and ((step + 1) % s.eval_every == 0 or step == steps - 1):
                score = ddp.broadcast_float(evaluate(model) if main else None)  # the others wait here
                model.train()
                if not math.isfinite(score):
                    raise NonFiniteScoreError(
                        f"{desc}: dev score {score} at step {step + 1}/{steps}: early stopping cannot rank it. An empty or unlabelled dev subset, "
                        f"or a broken scorer, gives this. Last good checkpoint: {last_ckpt or 'none (no checkpoint_dir, or none written yet)'}."
                    )
                loop["history"].append({"step": step + 1, "score": score})
                records.append({"step": step, "eval_score": score})
                if loop["best_score"] is None or score > loop["best_score"]:
                    loop["best_score"], loop["best_step"], loop["bad_evals"] = score, step + 1, 0
                    best_state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
                else:
                    loop["bad_evals"] += 1
                    loop["stopped_early"] = bool(s.patience and loop["bad_evals"] >= s.patience)
                say(f"{desc} step {step + 1}/{steps} | eval {score:.4f} | best {loop['best_score']:.4f} at step {loop['best_step']}", flush=True)
            # the records go to the checkpoint (for replay) and the caller's callback (curve.json)
            loop["logs"] += records
            if main and log:
                for record in records:
                    log(record)
            # 6. checkpoint every checkpoint_every steps and at the end
            loop["step"] = step + 1
            loop["finished"] = loop["stopped_early"] or step == steps - 1
            loop["seconds"] = seconds_before + time.perf_counter() - start
            due = bool(checkpoint_every and (step + 1) % checkpoint_every == 0)
            if checkpoint_dir and checkpoint_seconds and not due:  # rank 0's clock decides for every rank
                late = time.perf_counter() - last_save >= checkpoint_seconds
                due = bool(ddp.broadcast_float(float(late) if main else None)) if ddp.enabled else late
            why = watch.requested()
            if checkpoint_dir and ddp.enabled:  # rank 0 decides for every rank, as for the clock above
                why = "a signal to rank 0" if ddp.broadcast_float(float(why is not None) if main else None) else None
            if checkpoint_dir and (loop["finished"] or due or why):
                last_ckpt = save_checkpoint(step + 1)
                last_save = time.perf_counter()
            if loop["finished"]:
                break
            if why:
                if main:
                    watch.acknowledge(last_ckpt)
                say(f"{desc}: preempted at step {step + 1}/{steps} ({why}); checkpoint {last_ckpt}: run the stage again to resume", flush=True)
                raise preemption.Preempted(f"{desc}: preempted at step {step + 1}/{steps} ({why}); resume from {last_ckpt} by running the stage again")
    finally:
        watch.stop()

    if best_state is not None:  # restore the best checkpoint, as jiant does at the end
        model.load_state_dict(best_state)
    return TrainResult(loop["step"], loop["best_score"], loop["best_step"], loop["stopped_early"], loop["tokens"], loop["padded"], loop["seconds"], loop["history"], resumed_from, last_ckpt)


def _file_printer(path: str) -> Callable[..., None]:
    """print() into ``path``, appending one line at a time: the log is complete up to the last
    line even when the run is killed, and no file handle outlives the run."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)

    def say(line: str, flush: bool = True) -> None:
        with open(path, "a", encoding="utf-8") as f:
            f.write(line + "\n")

    return say


@torch.no_grad()
def predict(model: torch.nn.Module, head: str, fmt: Format, features: list[dict], *, device: torch.device, pad_id: int, batch_size: int = 64, bf16: bool = False, tf32: bool = False) -> list[np.ndarray]:
    """Head outputs per feature (trimmed to the feature's own length), batched longest-first, at the
    training's precision (``engine.bf16``, ``engine.tf32``)."""
    model.to(device).eval()
    order = sorted(range(len(features)), key=lambda i: -fmt.num_tokens(features[i]))
    outputs: list[np.ndarray | None] = [None] * len(features)
    autocast = autocast_for(device, bf16)
    set_tf32(device, tf32)
    for s in range(0, len(order), batch_size):
        idx = order[s : s + batch_size]
        batch = to_device(fmt.collate([features[i] for i in idx], pad_id), device)
        with autocast:
            out = model(head, batch).float().cpu().numpy()
        for row, i in zip(out, idx):
            n = len(features[i]["input_ids"])
            outputs[i] = row[:n] if row.ndim >= 2 and fmt.head_type in ("tagging", "span") else row
    return outputs  # type: ignore[return-value]
