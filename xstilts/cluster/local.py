"""The local backend: N slots on one machine, each stage started as soon as its upstream is done.

A slot is a GPU (``CUDA_VISIBLE_DEVICES=<id>`` for the stage's processes) or, without GPUs, a CPU
slot. Finished stages are recorded by DVC (``record.commit``) one at a time, after the next ready
stages have started, so a commit never leaves a slot idle.

One scheduler can drive several workspaces at once (a study's arms, each its own checkout with its
own ``.cluster/`` run): they share the slots, and a stage that fails stops only its own workspace's
downstream stages.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass

from xstilts.cluster import record
from xstilts.cluster.dag import Stage
from xstilts.cluster.ledger import Run


def slots_for(n: int | None, gpus: str | None) -> list[str | None]:
    """``gpus="0,1,2"``: one slot per listed GPU; else ``n`` CPU slots (CUDA hidden)."""
    if gpus:
        return [g.strip() for g in gpus.split(",") if g.strip()]
    if not n or n < 1:
        raise ValueError(f"--slots: need at least 1, got {n}")
    return [None] * n


@dataclass
class Workspace:
    """One checkout's run: ``label`` prefixes its stages in the log (a study arm's name)."""

    root: str
    run: Run
    label: str | None = None

    def name(self, stage: str) -> str:
        return stage if self.label is None else f"{self.label}: {stage}"


def run(root: str, run: Run, slots: list[str | None], log=print, poll: float = 0.5) -> dict[str, str]:
    """Run every stage of ``run``; returns stage -> done | failed | preempted | skipped (upstream
    failed or stopped)."""
    return run_many([Workspace(root, run)], slots, log=log, poll=poll)[0]


def run_many(workspaces: list[Workspace], slots: list[str | None], log=print, poll: float = 0.5) -> list[dict[str, str]]:
    """Run every stage of every workspace on the shared ``slots``; one result per workspace (as
    :func:`run`'s).

    SIGTERM to the scheduler (a local preemption: a shutdown, a `kill`) starts nothing more and
    passes USR1 to each running stage's job script, whose trap asks its training to checkpoint at
    the next step and stop (xstilts.preemption); the scheduler returns once they have. A new
    `cluster submit` runs them again and training resumes from the checkpoints."""
    for ws in workspaces:  # `submit` waits for a live scheduler
        ws.run.save({**ws.run.load(), "scheduler_pid": os.getpid(), "scheduler_host": socket.gethostname()})
    running: dict[tuple[int, str], tuple[subprocess.Popen, int, float]] = {}
    stopping: list[int] = []

    def preempt(signum, frame):
        stopping.append(signum)
        for (i, name), (proc, _, _) in running.items():
            log(f"[cluster] SIGTERM: asking {workspaces[i].name(name)} to checkpoint and stop")
            proc.send_signal(signal.SIGUSR1)  # the script only: papermill and the kernel die of USR1

    old = signal.signal(signal.SIGTERM, preempt) if threading.current_thread() is threading.main_thread() else None
    try:
        return _schedule(workspaces, slots, running, stopping, log, poll)
    finally:
        if old is not None:
            signal.signal(signal.SIGTERM, old)
        for ws in workspaces:  # ended: a later submit or collect in this same process must not wait for it
            ws.run.save({**ws.run.load(), "scheduler_pid": None})


def _interleaved(workspaces: list[Workspace]) -> list[tuple[int, Stage]]:
    """Every (workspace, stage), the workspaces' i-th stages side by side: with fewer slots than
    ready stages, the arms advance together rather than one arm after the other."""
    per = [ws.run.stages() for ws in workspaces]
    return [(i, stages[k]) for k in range(max(map(len, per), default=0)) for i, stages in enumerate(per) if k < len(stages)]


def _schedule(workspaces, slots, running, stopping, log, poll) -> list[dict[str, str]]:
    order = _interleaved(workspaces)
    state = {(i, s.name): ("done" if workspaces[i].run.recorded(s) else "pending") for i, s in order}
    free = list(range(len(slots)))
    failed: set[int] = set()  # workspaces with a failed stage: only their running stages drain
    to_record: list[tuple[int, Stage]] = []
    while True:
        # start what is ready, unless its workspace has a failure
        for i, s in order:
            if stopping or not free:
                break
            ws = workspaces[i]
            if i not in failed and state[i, s.name] == "pending" and all(state[i, u] == "done" for u in s.after):
                slot = free.pop(0)
                env = {**os.environ, "CUDA_VISIBLE_DEVICES": slots[slot] if slots[slot] is not None else ""}
                with open(ws.run.log(s), "a") as out:
                    proc = subprocess.Popen(["bash", ws.run.write_script(s)], cwd=ws.root, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
                running[i, s.name] = (proc, slot, time.perf_counter())
                state[i, s.name] = "running"
                log(f"[cluster] start {ws.name(s.name)} (slot {slot}{'' if slots[slot] is None else ', GPU ' + slots[slot]})")
        # then record what finished (downstream stages need the files, not the dvc.lock entry)
        for i, s in to_record:
            ws = workspaces[i]
            try:
                record.commit(ws.root, ws.run, s)
                log(f"[cluster] recorded {ws.name(s.name)} in dvc.lock")
            except RuntimeError as err:
                state[i, s.name] = "failed"
                failed.add(i)
                log(f"[cluster] FAILED to record {ws.name(s.name)}: {err}")
        to_record = []
        if not running:
            break
        time.sleep(poll)
        for i, s in order:
            if (i, s.name) not in running or running[i, s.name][0].poll() is None:
                continue
            ws = workspaces[i]
            proc, slot, start = running.pop((i, s.name))
            free.append(slot)
            seconds = time.perf_counter() - start
            if proc.returncode == 0:
                state[i, s.name] = "done"
                to_record.append((i, s))
                log(f"[cluster] done  {ws.name(s.name)} in {seconds:.0f} s")
            elif ws.run.preempted(s):
                state[i, s.name] = "preempted"
                log(f"[cluster] preempted {ws.name(s.name)} after {seconds:.0f} s: checkpointed; `cluster submit` again resumes it")
            else:
                state[i, s.name] = "failed"
                failed.add(i)
                log(f"[cluster] FAILED {ws.name(s.name)} (exit {proc.returncode}) after {seconds:.0f} s: see {ws.run.log(s)}")
    return [{s.name: ("skipped" if state[i, s.name] == "pending" else state[i, s.name]) for s in ws.run.stages()} for i, ws in enumerate(workspaces)]
