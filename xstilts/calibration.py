"""`plan --calibrate`: the planner's throughput measured on this device instead of assumed.

The planner prices a run as FLOPs / (peak x MFU) plus a memory-bound AdamW update per step, with
an ASSUMED MFU (xstilts/planner.py). Calibration replaces both terms with timings of the params'
own encoder shape (XLM-R Large in the paper profile, random weights: speed does not depend on the
values) at the micro-batch shapes the recipe trains most, on the present device and precision:

- forward + backward of one micro-batch per shape (one untimed warm-up first), giving the
  achieved training FLOP/s at that many tokens per micro-batch (the planner's FLOP count);
- one optimiser update (clip, AdamW step, zero the gradients) after a warm-up update that
  allocates AdamW's moments.

The file (JSON) is what `plan --calibration FILE` reads: between the measured token counts the
rate is interpolated linearly, outside them it is clamped; evaluation (forward only, unmeasured)
is priced at the training rate of its batch size. On a CPU the figures price that CPU; on a GPU
they are the GPU check's calibration (issue 19).
"""

from __future__ import annotations

import platform
import time
from dataclasses import asdict, dataclass

import numpy as np

from xstilts import io
from xstilts import planner as pl


@dataclass(frozen=True)
class Calibration:
    device: str  # e.g. "cuda: NVIDIA H100 80GB HBM3" or "cpu: AMD EPYC 7B13 (2 threads)"
    precision: str  # fp32 | tf32 | bf16
    tokens: tuple[float, ...]  # tokens per micro-batch of each measured shape, ascending
    flops_per_second: tuple[float, ...]  # achieved training FLOP/s at those token counts
    optimizer_seconds: float  # one AdamW update of the whole model
    source: str  # the file it was read from

    def rate(self, tokens_per_micro_batch: float) -> float:
        """Training FLOP/s at this many tokens per micro-batch (linear between measurements, clamped)."""
        return float(np.interp(tokens_per_micro_batch, self.tokens, self.flops_per_second))


def recipe_shapes(plan: pl.Plan, limit: int = 3) -> list[tuple[int, int]]:
    """The (sequences, tokens per sequence) micro-batch shapes that cost the most GPU-hours in
    ``plan``'s training runs, at most ``limit`` of them; sequence lengths rounded to 16."""
    hours: dict[tuple[int, int], float] = {}
    for r in plan.runs:
        if not (r.steps and r.micro_tokens and r.seq):
            continue
        seq = max(16, int(round(r.seq / 16)) * 16)
        sequences = max(1, int(round(r.micro_tokens / r.seq)))  # a multiple-choice feature is one sequence per choice
        hours[(sequences, seq)] = hours.get((sequences, seq), 0.0) + r.gpu_hours
    return sorted(sorted(hours, key=hours.get, reverse=True)[:limit])


def _device_name(device) -> str:
    import torch

    if device.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(device)}"
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"cpu: {cpu} ({torch.get_num_threads()} threads)"


def measure(shape: pl.Shape, shapes: list[tuple[int, int]], device, bf16: bool = False, tf32: bool = False, log=print) -> dict:
    """Time forward + backward per micro-batch shape and one optimiser update (module docstring)."""
    import torch

    from xstilts.model import build_encoder, encoder_config
    from xstilts.training import autocast_for, set_tf32

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    set_tf32(device, tf32)
    precision = "bf16" if bf16 and device.type == "cuda" else "tf32" if tf32 and device.type == "cuda" else "fp32"
    torch.manual_seed(0)
    t0 = time.perf_counter()
    model = build_encoder(encoder_config(shape.vocab, shape.hidden, shape.layers, shape.heads, shape.intermediate, dropout=0.1)).to(device).train()
    log(f"[calibrate] {shape} on {_device_name(device)}, {precision}: built in {time.perf_counter() - t0:.1f} s")
    opt = torch.optim.AdamW(model.parameters(), lr=1e-5, eps=1e-8, fused=device.type == "cuda")

    def backward(sequences: int, seq: int) -> None:
        ids = torch.randint(3, shape.vocab, (sequences, seq), device=device)
        with autocast_for(device, bf16):
            hidden = model(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state
        hidden.float().square().mean().backward()  # every layer's gradient, as a head's loss would give

    points = []
    for sequences, seq in shapes:
        backward(sequences, seq)  # warm-up: kernels, allocator, first-touch of the gradients
        sync()
        t = time.perf_counter()
        backward(sequences, seq)
        sync()
        seconds = time.perf_counter() - t
        tokens = sequences * seq
        flops = pl.train_flops(shape, tokens, seq)
        points.append({"sequences": sequences, "seq": seq, "tokens": tokens, "seconds": seconds, "flops": flops, "flops_per_second": flops / seconds})
        log(f"[calibrate] {sequences} x {seq} tokens: {seconds:.3f} s forward+backward, {flops / seconds / 1e12:.3f} TFLOP/s")

    def update():
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=False)  # keep the gradient buffers: the next update times the same work

    update()  # warm-up: allocates AdamW's two moments
    sync()
    t = time.perf_counter()
    update()
    sync()
    optimizer_seconds = time.perf_counter() - t
    log(f"[calibrate] optimiser update ({shape.parameters / 1e6:.0f}M parameters): {optimizer_seconds:.3f} s")
    return {"device": _device_name(device), "precision": precision, "torch": torch.__version__, "shape": asdict(shape),
            "points": sorted(points, key=lambda p: p["tokens"]), "optimizer_seconds": optimizer_seconds}


def save(path: str, measured: dict) -> None:
    io.write_json(path, measured)


def load(path: str) -> Calibration:
    """A calibration file as the planner reads it; a clear error naming the file and what is wrong."""
    import json

    from xstilts.config import ConfigError

    try:
        with open(path) as f:
            raw = json.load(f)
        points = sorted(raw["points"], key=lambda p: p["tokens"])
        cal = Calibration(str(raw["device"]), str(raw["precision"]), tuple(float(p["tokens"]) for p in points),
                          tuple(float(p["flops_per_second"]) for p in points), float(raw["optimizer_seconds"]), path)
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ConfigError(f"--calibration {path}: not a calibration file from `plan --calibrate` ({type(err).__name__}: {err})") from err
    if not cal.tokens or min(cal.flops_per_second) <= 0 or cal.optimizer_seconds < 0:
        raise ConfigError(f"--calibration {path}: needs at least one measured shape with a positive rate")
    return cal
