"""The local backend: N slots on one machine, each stage started as soon as its upstream is done.

A slot is a GPU (``CUDA_VISIBLE_DEVICES=<id>`` for the stage's processes) or, without GPUs, a CPU
slot. Finished stages are recorded by DVC (``record.commit``) one at a time, after the next ready
stages have started, so a commit never leaves a slot idle.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time

from xstilts.cluster import record
from xstilts.cluster.ledger import Run


def slots_for(n: int | None, gpus: str | None) -> list[str | None]:
    """``gpus="0,1,2"``: one slot per listed GPU; else ``n`` CPU slots (CUDA hidden)."""
    if gpus:
        return [g.strip() for g in gpus.split(",") if g.strip()]
    if not n or n < 1:
        raise ValueError(f"--slots: need at least 1, got {n}")
    return [None] * n


def run(root: str, run: Run, slots: list[str | None], log=print, poll: float = 0.5) -> dict[str, str]:
    """Run every stage of ``run``; returns stage -> done | failed | preempted | skipped (upstream
    failed or stopped).

    SIGTERM to the scheduler (a local preemption: a shutdown, a `kill`) starts nothing more and
    passes USR1 to each running stage's job script, whose trap asks its training to checkpoint at
    the next step and stop (xstilts.preemption); the scheduler returns once they have. A new
    `cluster submit` runs them again and training resumes from the checkpoints."""
    stages = run.stages()
    run.save({**run.load(), "scheduler_pid": os.getpid(), "scheduler_host": socket.gethostname()})  # `submit` waits for it
    state = {s.name: ("done" if run.recorded(s) else "pending") for s in stages}
    free = list(range(len(slots)))
    running: dict[str, tuple[subprocess.Popen, int, float]] = {}
    to_record, stopping = [], []

    def preempt(signum, frame):
        stopping.append(signum)
        for name, (proc, _, _) in running.items():
            log(f"[cluster] SIGTERM: asking {name} to checkpoint and stop")
            proc.send_signal(signal.SIGUSR1)  # the script only: papermill and the kernel die of USR1

    old = signal.signal(signal.SIGTERM, preempt) if threading.current_thread() is threading.main_thread() else None
    try:
        return _schedule(root, run, stages, slots, state, free, running, to_record, stopping, log, poll)
    finally:
        if old is not None:
            signal.signal(signal.SIGTERM, old)


def _schedule(root, run, stages, slots, state, free, running, to_record, stopping, log, poll) -> dict[str, str]:
    failed = False
    while True:
        # start what is ready, unless something failed (then only drain the running stages)
        for s in stages:
            if failed or stopping or not free:
                break
            if state[s.name] == "pending" and all(state[u] == "done" for u in s.after):
                slot = free.pop(0)
                env = {**os.environ, "CUDA_VISIBLE_DEVICES": slots[slot] if slots[slot] is not None else ""}
                with open(run.log(s), "a") as out:
                    proc = subprocess.Popen(["bash", run.write_script(s)], cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
                running[s.name] = (proc, slot, time.perf_counter())
                state[s.name] = "running"
                log(f"[cluster] start {s.name} (slot {slot}{'' if slots[slot] is None else ', GPU ' + slots[slot]})")
        # then record what finished (downstream stages need the files, not the dvc.lock entry)
        for s in to_record:
            try:
                record.commit(root, run, s)
                log(f"[cluster] recorded {s.name} in dvc.lock")
            except RuntimeError as err:
                state[s.name], failed = "failed", True
                log(f"[cluster] FAILED to record {s.name}: {err}")
        to_record = []
        if not running:
            break
        time.sleep(poll)
        for s in stages:
            if s.name not in running or running[s.name][0].poll() is None:
                continue
            proc, slot, start = running.pop(s.name)
            free.append(slot)
            seconds = time.perf_counter() - start
            if proc.returncode == 0:
                state[s.name] = "done"
                to_record.append(s)
                log(f"[cluster] done  {s.name} in {seconds:.0f} s")
            elif run.preempted(s):
                state[s.name] = "preempted"
                log(f"[cluster] preempted {s.name} after {seconds:.0f} s: checkpointed; `cluster submit` again resumes it")
            else:
                state[s.name], failed = "failed", True
                log(f"[cluster] FAILED {s.name} (exit {proc.returncode}) after {seconds:.0f} s: see {run.log(s)}")
    return {k: ("skipped" if v == "pending" else v) for k, v in state.items()}
