"""Preemption (xstilts.preemption): SIGTERM/SIGUSR1 or the job's flag file stop training at the
next step boundary with a checkpoint; the run started again resumes there and ends with the
weights of a run never interrupted. The SLURM and local-backend versions are in tests/cluster/."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import torch
from safetensors.torch import load_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_engine_helpers import run  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKER = os.path.join(ROOT, "tests", "test_engine_helpers.py")
SETTINGS = {"lr": 3e-3, "batch_size": 8, "grad_accum": 2, "max_steps": 30, "eval_every": 7, "patience": 100, "log_every": 1, "seed": 5}
BASE = {"settings": SETTINGS, "heads": ["a", "b"], "dropout": 0.1}


def _start(cfg: dict, env: dict | None = None) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": ROOT, "OMP_NUM_THREADS": "1", **(env or {})}
    return subprocess.Popen([sys.executable, WORKER, json.dumps(cfg)], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _wait_for_step(progress: str, at_least: int, proc: subprocess.Popen, timeout: float = 120) -> int:
    deadline = time.monotonic() + timeout
    while True:
        assert proc.poll() is None, proc.communicate()[0].decode()[-3000:]
        assert time.monotonic() < deadline, "training never got that far"
        if os.path.exists(progress) and (text := open(progress).read()) and int(text) >= at_least:
            return int(text)
        time.sleep(0.01)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[str, torch.Tensor]:
    """The same run, never interrupted, without checkpoints (one thread, as the worker)."""
    out = tmp_path_factory.mktemp("ref") / "ref"
    threads = torch.get_num_threads()
    try:
        run({**BASE, "out": str(out)})
    finally:
        torch.set_num_threads(threads)
    return load_file(str(out / "weights.safetensors"))


@pytest.mark.parametrize("how", ["SIGTERM", "SIGUSR1", "flag file"])
def test_preempt_checkpoints_at_the_next_step_and_resumes_to_identical_weights(tmp_path, how, reference):
    flag = str(tmp_path / "preempt")
    cfg = {**BASE, "out": str(tmp_path / "resumed"), "checkpoint_dir": str(tmp_path / "ckpt"), "progress_file": str(tmp_path / "progress"), "step_seconds": 0.15}
    victim = _start(cfg, {"XSTILTS_PREEMPT_FILE": flag})
    ref = reference
    sent_at = _wait_for_step(cfg["progress_file"], 6, victim)
    if how == "flag file":
        open(flag, "w").close()
    else:
        victim.send_signal(getattr(signal, how))
    out = victim.communicate(timeout=120)[0].decode()
    assert victim.returncode != 0 and "Preempted" in out and "preempted at step" in out, out[-3000:]
    stopped = int(re.search(r"preempted at step (\d+)/", out).group(1))
    assert sent_at <= stopped <= sent_at + 2, (sent_at, stopped)  # the step in progress, then the boundary
    assert not os.path.exists(str(tmp_path / "resumed")), "a preempted run writes no result"

    # the job script requeues only on this acknowledgement: stopped with a checkpoint, not killed
    assert open(flag + ".checkpointed").read().strip().endswith(f"step-{stopped:08d}")
    if how == "flag file":
        os.remove(flag)  # the job script clears it before the command starts again
    again = _start({**cfg, "step_seconds": 0}, {"XSTILTS_PREEMPT_FILE": flag})
    out = again.communicate(timeout=120)[0].decode()
    assert again.returncode == 0, out[-3000:]
    result = json.load(open(tmp_path / "resumed" / "result.json"))
    assert result["resumed_from"] == stopped and result["steps"] == SETTINGS["max_steps"]  # nothing lost
    resumed = load_file(str(tmp_path / "resumed" / "weights.safetensors"))
    assert resumed.keys() == ref.keys() and all(torch.equal(resumed[k], ref[k]) for k in ref)


def test_without_checkpoints_a_signal_keeps_its_default(tmp_path):
    """No checkpoint_dir: nothing to resume from, so SIGTERM ends the process as usual."""
    cfg = {**BASE, "out": str(tmp_path / "plain"), "progress_file": str(tmp_path / "progress"), "step_seconds": 0.15}
    victim = _start(cfg)
    _wait_for_step(cfg["progress_file"], 3, victim)
    victim.send_signal(signal.SIGTERM)
    victim.communicate(timeout=60)
    assert victim.returncode == -signal.SIGTERM


def test_handlers_are_restored_after_training():
    from xstilts import preemption

    before = signal.getsignal(signal.SIGTERM)
    watch = preemption.Watch().start()
    assert signal.getsignal(signal.SIGTERM) != before
    os.kill(os.getpid(), signal.SIGUSR1)
    assert watch.requested() == "SIGUSR1"
    watch.stop()
    assert signal.getsignal(signal.SIGTERM) == before
    assert preemption.Watch(active=False).start().requested() is None
