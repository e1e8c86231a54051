"""``python -m xstilts.cli cluster submit|status|collect --backend local|slurm [targets...]``."""

from __future__ import annotations

import argparse
import os
import socket
import time

from xstilts.cluster import dag, local, record, resources, slurm
from xstilts.cluster.ledger import Run


def _print_status(st: dict[str, str], run: Run | None = None) -> None:
    """One line per stage; under a stage that SLURM ended (TIMEOUT, OUT_OF_MEMORY, ...) or whose
    command failed, the last lines of its job log."""
    width = max(map(len, st), default=0)
    stages = {s.name: s for s in run.stages()} if run is not None else {}
    for name, v in st.items():
        print(f"{name:<{width}}  {v}")
        if name in stages and (v.split(" ")[0] in slurm.ENDED_BY_SLURM or v.startswith("failed")):
            for line in slurm.log_tail(run, stages[name]):
                print(f"{'':<{width}}  | {line}")


def local_status(run: Run) -> dict[str, str]:
    out = {}
    for s in run.stages():
        rc = run.exit_status(s)
        if rc is None and run.preempted(s):
            out[s.name] = "preempted (checkpointed: `cluster submit` again resumes it)"
        else:
            out[s.name] = "recorded" if run.recorded(s) else "not finished" if rc is None else "finished" if rc == 0 else f"failed (exit {rc})"
    return out


def unfinished_business(root: str) -> str | None:
    """Why a new run must not start yet: the previous run's jobs may still write into outs that a
    new run would remove first, and results not yet recorded by DVC would be lost."""
    try:
        prev = Run.latest(root)
    except FileNotFoundError:
        return None
    state = prev.load()
    if state["backend"] == "slurm":
        st = slurm.status(prev)
        active = [n for n, v in st.items() if v.split(" ")[0] in slurm.ACTIVE]
        if active:
            return f"run {os.path.basename(prev.path)} still has jobs queued or running: {active} (wait, or scancel them)"
    else:
        pid, host = state.get("scheduler_pid"), state.get("scheduler_host")
        if pid and host == socket.gethostname() and _alive(pid):
            return f"run {os.path.basename(prev.path)}: its local scheduler (pid {pid}) is still running"
        st = local_status(prev)
    unrecorded = [n for n, v in st.items() if v == "finished"]
    if unrecorded:
        return f"run {os.path.basename(prev.path)} finished {unrecorded} but DVC has not recorded them: run `cluster collect` first"
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="xstilts cluster", description="run the DVC pipeline's independent stages in parallel, locally or on SLURM")
    p.add_argument("action", choices=["submit", "status", "collect"])
    p.add_argument("targets", nargs="*", help="dvc.yaml stages to reproduce (default: all), with everything upstream that changed")
    p.add_argument("--backend", choices=["local", "slurm"], default="local")
    p.add_argument("--slots", type=int, default=2, help="local: parallel CPU slots")
    p.add_argument("--gpus", default=None, help="local: one slot per GPU, e.g. 0,1,2,3 (sets CUDA_VISIBLE_DEVICES per stage)")
    p.add_argument("--force", action="store_true", help="run the stages even if DVC says they are up to date")
    p.add_argument("--params", default="params.yaml")
    p.add_argument("--wait", action="store_true", help="collect: keep recording until every job has left the queue")
    args = p.parse_args(argv)
    root = os.getcwd()

    if args.action == "submit":
        cluster = resources.load(args.params) if args.backend == "slurm" else None  # checked before anything runs
        busy = unfinished_business(root)
        if busy:
            print(f"[cluster] not submitting: {busy}")
            return 1
        stages = dag.plan(root, args.targets, force=args.force)
        if not stages:
            print("[cluster] every stage is up to date: nothing to run")
            return 0
        run = Run.create(root, args.backend, stages)
        print(f"[cluster] {len(stages)} stages, state in {os.path.relpath(run.path)}")
        if args.backend == "slurm":
            slurm.submit(root, run, cluster, dag.kinds(root))
            print("[cluster] submitted; record the results with: python -m xstilts.cli cluster collect --backend slurm --wait")
            return 0
        start = time.perf_counter()
        result = local.run(root, run, local.slots_for(args.slots, args.gpus))
        print(f"[cluster] {sum(v == 'done' for v in result.values())}/{len(result)} stages done in {time.perf_counter() - start:.0f} s")
        return 0 if all(v == "done" for v in result.values()) else 1

    run = Run.latest(root)
    backend = run.load()["backend"]
    if args.action == "status":
        st = slurm.status(run) if backend == "slurm" else local_status(run)
    elif backend == "slurm":
        st = slurm.collect(root, run, wait=args.wait)
    else:  # a local run whose scheduler died: record what finished
        for s in run.stages():
            if run.exit_status(s) == 0 and not run.recorded(s):
                record.commit(root, run, s)
        st = local_status(run)
    _print_status(st, run)
    return 0 if args.action == "status" or all(v == "recorded" for v in st.values()) else 1
