"""GPU memory of a training run, estimated before it starts: several runs on one GPU
(``engine.parallel_runs``) only where they fit, and the largest micro-batch that fits.

Per run: fp32 weights (4 bytes per parameter), fp32 gradients (4), AdamW's two moments (8), the
activations kept for the backward pass, and the CUDA context of its process. Activations per
encoder layer follow Korthikanti et al. (2022, "Reducing Activation Recomputation in Large
Transformer Models", eq. 2: ``s b h (34 + 5 a s / h)`` bytes in 16-bit, without recomputation),
with the MLP's share written for any intermediate size ``i`` (there 4h): ``s b (18 h + 4 i + 5 a s)``;
fp32 activations double it. A run is admitted with a margin for the allocator's fragmentation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

GiB = 1024**3
CUDA_CONTEXT = 768 * 1024**2  # per process: CUDA context + cuBLAS workspace (typically 0.5-0.8 GiB with torch 2.x)
FRAGMENTATION = 0.15  # the caching allocator's slack over the live tensors


@dataclass(frozen=True)
class EncoderShape:
    parameters: int  # every trained parameter, heads included
    layers: int
    hidden: int
    heads: int
    intermediate: int


@dataclass(frozen=True)
class RunMemory:
    weights: int
    gradients: int
    optimizer: int
    activations: int
    context: int = CUDA_CONTEXT

    @property
    def total(self) -> int:
        return self.context + math.ceil((self.weights + self.gradients + self.optimizer + self.activations) * (1 + FRAGMENTATION))

    def describe(self) -> str:
        g = lambda b: f"{b / GiB:.1f}"  # noqa: E731
        return (f"{g(self.total)} GiB (weights {g(self.weights)}, gradients {g(self.gradients)}, AdamW {g(self.optimizer)}, "
                f"activations {g(self.activations)}, CUDA context {g(self.context)}, +{FRAGMENTATION:.0%} allocator slack)")


def activation_bytes(shape: EncoderShape, batch: int, seq_len: int, head_outputs: int = 2, bf16: bool = True) -> int:
    """Activations kept for backward by one micro-batch of ``batch`` sequences of ``seq_len`` tokens;
    ``head_outputs``: logits per token of the head (vocabulary for MLM, labels for tagging)."""
    s, b, h, i, a = seq_len, batch, shape.hidden, shape.intermediate, shape.heads
    per_layer_16bit = s * b * (18 * h + 4 * i + 5 * a * s)
    scale = 1 if bf16 else 2
    return shape.layers * per_layer_16bit * scale + s * b * head_outputs * 4 * 2  # fp32 logits and their gradient


def estimate(shape: EncoderShape, batch: int, seq_len: int, head_outputs: int = 2, bf16: bool = True) -> RunMemory:
    p = shape.parameters
    return RunMemory(weights=4 * p, gradients=4 * p, optimizer=8 * p, activations=activation_bytes(shape, batch, seq_len, head_outputs, bf16))


def check_parallel_runs(runs: int, run: RunMemory, free: int, device: str = "cuda") -> None:
    """Refuse ``runs`` runs of ``run`` on one device with ``free`` bytes free: a clear error with
    the estimate and how many would fit, instead of an out-of-memory crash halfway through."""
    if runs * run.total <= free:
        return
    fit = free // run.total
    from xstilts.config import ConfigError

    raise ConfigError(f"engine.parallel_runs={runs}: {runs} runs of {run.describe()} need {runs * run.total / GiB:.1f} GiB, "
                      f"{device} has {free / GiB:.1f} GiB free; " + (f"at most {fit} fit: set engine.parallel_runs to {fit}" if fit else "not even one run fits: lower the batch size (or raise grad_accum)"))


def largest_micro_batch(shape: EncoderShape, batch_size: int, grad_accum: int, seq_len: int, free: int, runs: int = 1, head_outputs: int = 2, bf16: bool = True) -> tuple[int, int]:
    """(batch_size, grad_accum) with the same global batch and the fewest micro-batches that fit
    ``runs`` runs into ``free`` bytes: 4 x 8 becomes 1 x 32 where 32 sequences fit at once."""
    global_batch = batch_size * grad_accum
    for accum in range(1, grad_accum + 1):
        if global_batch % accum:
            continue
        if runs * estimate(shape, global_batch // accum, seq_len, head_outputs, bf16).total <= free:
            return global_batch // accum, accum
    return batch_size, grad_accum  # as configured: the caller's own memory check decides


def free_memory(device) -> int:
    """Free bytes on a CUDA device (what the runs may use)."""
    import torch

    free, _ = torch.cuda.mem_get_info(device)
    return free


def encoder_shape(encoder_dir: str, head_parameters: int = 0) -> EncoderShape:
    """The shape of a saved encoder (``config.json`` + ``encoder.safetensors``), without loading it."""
    import json
    import os

    from safetensors import safe_open

    with open(os.path.join(encoder_dir, "config.json")) as f:
        c = json.load(f)
    with safe_open(os.path.join(encoder_dir, "encoder.safetensors"), "pt") as st:
        n = sum(math.prod(st.get_slice(k).get_shape()) for k in st.keys())
    return EncoderShape(n + head_parameters, c["num_hidden_layers"], c["hidden_size"], c["num_attention_heads"], c["intermediate_size"])
