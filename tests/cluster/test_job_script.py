"""The job script's signal handling, without a scheduler (a fake `scontrol` records its calls):
USR1 (sbatch --signal=B:USR1@grace, the job's own warning) checkpoints and requeues the job;
TERM (scancel, `scontrol requeue`, SLURM's preemption: SLURM has decided) checkpoints and
never requeues, so a cancelled job stays cancelled and a requeue under way is not doubled."""

import os
import signal
import subprocess
import sys
import time

import pytest

from xstilts.cluster.dag import Stage
from xstilts.cluster.ledger import Run

# a stand-in for training: wait for the flag, acknowledge it with a checkpoint, stop nonzero
TRAINING = ("import os, sys, time\n"
            "flag = os.environ['XSTILTS_PREEMPT_FILE']\n"
            "open('started', 'w').close()\n"
            "while not os.path.exists(flag): time.sleep(0.05)\n"
            "open(flag + '.checkpointed', 'w').close()\n"
            "sys.exit(1)\n")


@pytest.mark.parametrize("sig, requeued", [(signal.SIGUSR1, True), (signal.SIGTERM, False)])
def test_only_the_jobs_own_warning_requeues_it(tmp_path, sig, requeued):
    from xstilts import preemption

    assert preemption.ENV == "XSTILTS_PREEMPT_FILE"
    (tmp_path / "training.py").write_text(TRAINING)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "scontrol").write_text(f"#!/bin/sh\necho \"$@\" >> {tmp_path / 'scontrol.calls'}\n")
    (bin_dir / "scontrol").chmod(0o755)
    stage = Stage("phase1", f"{sys.executable} training.py", str(tmp_path), (), ())
    run = Run.create(str(tmp_path), "slurm", [stage])
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "SLURM_JOB_ID": "42"}
    proc = subprocess.Popen(["bash", run.write_script(stage)], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 30
    while not (tmp_path / "started").exists():
        assert time.monotonic() < deadline and proc.poll() is None, proc.stdout.read() if proc.poll() is not None else "training never started"
        time.sleep(0.05)
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 1, out
    assert "signal: checkpoint at the next step" in out and "preempted (exit 1)" in out, out
    calls = (tmp_path / "scontrol.calls").read_text() if (tmp_path / "scontrol.calls").exists() else ""
    assert calls == ("requeue 42\n" if requeued else ""), calls
    assert run.preempted(stage) and run.exit_status(stage) is None  # no exit status: SLURM's account of the job counts
