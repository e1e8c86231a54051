"""Data parallelism: two CPU processes on gloo under torchrun == one process with the global batch."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import torch
from safetensors.torch import load_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # works whether or not tests/ is a package
from test_engine_helpers import run  # noqa: E402

from xstilts import checkpoint  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKER = os.path.join(ROOT, "tests", "test_engine_helpers.py")


def test_two_gloo_ranks_match_one_process_with_the_global_batch(tmp_path):
    # Two tasks (DDP with an unused head per step), accumulation (no_sync), evaluation on rank 0
    # (broadcast), checkpoints (RNG gathered from both ranks, rank 0 writes). Dropout 0: with
    # dropout each rank would draw its own masks, which one process cannot reproduce.
    # Clipping out of reach: per micro-batch (jiant) it sees a rank's partial gradients under
    # no_sync, so with a binding norm two ranks and one process clip different sums by design.
    settings = {"lr": 3e-3, "grad_accum": 2, "max_steps": 8, "eval_every": 4, "log_every": 100, "seed": 5, "max_grad_norm": 1e9}
    cfg = {"heads": ["a", "b"], "dropout": 0.0, "checkpoint_every": 4}
    env = {**os.environ, "PYTHONPATH": ROOT, "OMP_NUM_THREADS": "1"}
    # checkpoint_seconds ~0: a checkpoint by time at every other step too, rank 0's clock broadcast to rank 1
    ddp_cfg = {**cfg, "settings": {**settings, "batch_size": 8}, "out": str(tmp_path / "ddp"), "checkpoint_dir": str(tmp_path / "ck"), "checkpoint_seconds": 1e-9}
    proc = subprocess.Popen(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", WORKER, json.dumps(ddp_cfg)],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    threads = torch.get_num_threads()
    try:  # meanwhile, the single-process reference with the same global batch (2 x 8)
        run({**cfg, "settings": {**settings, "batch_size": 16}, "out": str(tmp_path / "single")})
    finally:
        torch.set_num_threads(threads)
    out, _ = proc.communicate(timeout=180)
    assert proc.returncode == 0, out.decode()[-4000:]

    one, two = load_file(str(tmp_path / "single" / "weights.safetensors")), load_file(str(tmp_path / "ddp" / "weights.safetensors"))
    assert one.keys() == two.keys()
    # Same examples, same loss, same updates; only float rounding differs: each rank pads to its
    # own longest example and sums half the batch, then DDP averages the two halves' gradients, so
    # gradients agree to ~1e-7 relative, not bit for bit. AdamW divides by sqrt(v) + 1e-8 and can
    # blow a rounding-level gradient up to a sizeable update, so the drift is not bounded by the
    # gradient error alone; measured here: 5.6e-7 after 8 steps at lr 3e-3. The bound 5e-5 leaves
    # ~100x headroom for other CPUs/BLAS, yet is far below what a real bug does: without the
    # gradient all-reduce the weights differ by 1.8e-2 (each missing update moves them by ~lr).
    worst = max((one[k] - two[k]).abs().max().item() for k in one)
    assert worst < 5e-5, worst
    r1, r2 = (json.loads((tmp_path / d / "result.json").read_text()) for d in ("single", "ddp"))
    assert r1["tokens"] == r2["tokens"]  # together the ranks saw exactly the single process's examples
    assert [h["step"] for h in r1["history"]] == [h["step"] for h in r2["history"]] == [4, 8]
    assert all(abs(a["score"] - b["score"]) <= 1 / 48 for a, b in zip(r1["history"], r2["history"]))
    ck = checkpoint.load(checkpoint.latest(str(tmp_path / "ck")))
    assert {"torch.rank0", "torch.rank1"} <= ck.rng.keys() and ck.state["fingerprint"]["world_size"] == 2
    assert [step for step, _ in checkpoint.step_dirs(str(tmp_path / "ck"))] == [8]
