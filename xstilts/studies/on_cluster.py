"""A study's arms through the cluster backends: ``study run <rq> --backend local|slurm``.

Each arm gets its own workspace (:mod:`xstilts.studies.workspace`: the queue's experiment, kept),
DVC plans the arm's stages up to its analysis stage (:func:`xstilts.cluster.dag.plan`), and the
stages of every arm go to one scheduler: the local backend's slots, shared by all arms
(:func:`xstilts.cluster.local.run_many`), or SLURM, one job per stage, ``afterok`` within an arm
and nothing between arms, so SLURM runs the arms side by side as far as its resources allow. Each
arm's ``cluster:`` params give its jobs' resources (an arm may override them).

Arms share nothing but the DVC cache. The queue reuses a stage across arms only where ``dvc.lock``
or DVC's run cache already holds it when the arm gets there; here the outs ``dvc.lock`` vouches for
are checked out as the queue does, but the run cache is not consulted, so a stage two arms compute
with the same parameters (RQ5's phase 1 per model size) runs in each arm. Results are the same.

An arm is collected only when DVC says its workspace is up to date up to the analysis stage (every
out is what ``dvc.lock`` records for the arm's current code and params), and the arms replace
``<out>/<study>/arms/`` only all together (:func:`runner.install_arms`): a failed arm is reported
by name, with the stage that failed, how, and its log, and nothing is collected, so a table never
mixes this run's arms with an earlier run's or with stale outs. The finished arms stay recorded in
their workspaces; ``study run`` again runs only what is not.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

from xstilts import config, io
from xstilts.cluster import cli as cluster_cli
from xstilts.cluster import dag, local, record, resources, slurm
from xstilts.cluster.ledger import Run
from xstilts.studies import common, runner, workspace

BACKENDS = ("local", "slurm")
LEDGER = "study-run.json"  # <out>/<study>/workspaces/: which cluster run each arm's workspace got


class ArmsNotReady(RuntimeError):
    """Some arms failed or are still running: nothing was collected."""


@dataclass
class ArmState:
    arm: str
    workspace: str
    complete: bool
    pending: list[str] = field(default_factory=list)  # stages still queued or running
    problems: list[str] = field(default_factory=list)  # report lines: which stage, how it ended, its log


def ledger_path(out_root: str, study: str) -> str:
    return os.path.join(out_root, study, "workspaces", LEDGER)


def load_ledger(out_root: str, study: str) -> dict:
    path = ledger_path(out_root, study)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: study {study} has not run on a cluster backend here (`study run {study} --backend local|slurm`)")
    return io.read_json(path)


def _arm_log(log, arm: str):
    return lambda msg: log(msg.replace("[cluster] ", f"[cluster] {arm}: ", 1))


def _run_of(ws: str, run_id: str | None) -> Run | None:
    return Run(os.path.join(ws, ".cluster", run_id)) if run_id else None


def _scheduler_alive(run: Run) -> bool:
    import socket

    state = run.load()
    return state["backend"] == "local" and state.get("scheduler_host") == socket.gethostname() and bool(state.get("scheduler_pid")) and cluster_cli._alive(state["scheduler_pid"])


def record_finished(ws: str, run: Run, log=print) -> dict[str, str]:
    """Let DVC record what a run finished but did not record yet (a SLURM run nobody collected, a
    local scheduler that died); returns the run's stage states."""
    if run.load()["backend"] == "slurm":
        return slurm.collect(ws, run, wait=False, log=log)
    if not _scheduler_alive(run):
        for s in run.stages():
            if run.exit_status(s) == 0 and not run.recorded(s) and all(run.recorded(u) for u in run.stages() if u.name in s.after):
                record.commit(ws, run, s)
                log(f"[cluster] recorded {s.name} in dvc.lock")
    return cluster_cli.local_status(run)


def submit(preset: common.Preset, backend: str, params_path: str = "params.yaml", out_root: str = runner.OUT_ROOT,
           slots: int = 2, gpus: str | None = None, log=print) -> dict:
    """Validate every arm, then :func:`submit_arms` with each arm's ``-S`` overrides (its queue
    command's); every workspace's params.yaml must equal the validated merge."""
    base = runner.base_params(params_path)
    common.validate(preset, base)  # every arm, before any workspace is touched
    arms = preset.arms(base.get("profile", "embedded"))
    overrides = {arm: common.arm_set_args(preset, base, arm)[1::2] for arm in arms}
    expected = {arm: common.arm_params(preset, base, arm)[0] for arm in arms}
    return submit_arms(preset.name, overrides, backend, out_root=out_root, slots=slots, gpus=gpus, expected=expected, log=log)


def submit_arms(study: str, overrides: dict[str, list[str]], backend: str, out_root: str = runner.OUT_ROOT, slots: int = 2,
                gpus: str | None = None, expected: dict[str, dict] | None = None, target: str = common.ARM_TARGET, log=print) -> dict:
    """Prepare a workspace per arm (``overrides``: arm -> Hydra overrides of params.yaml) in the
    repository at the cwd, plan each arm's stages up to ``target`` and hand them to ``backend``;
    ``local`` runs them (every arm on the shared slots) and returns when they have ended, ``slurm``
    returns once submitted. Returns the study's ledger (arm -> workspace, cluster run)."""
    if backend not in BACKENDS:
        raise ValueError(f"--backend: {backend!r} (cluster backends: {list(BACKENDS)})")
    root = os.getcwd()
    workspace.check_root(root)
    paths = {arm: os.path.abspath(workspace.path(out_root, study, arm)) for arm in overrides}
    for arm, ws in paths.items():  # an arm's previous jobs may still write into outs a new run removes
        try:
            prev = Run.latest(ws)
        except FileNotFoundError:
            continue
        record_finished(ws, prev, log=_arm_log(log, arm))
        busy = cluster_cli.unfinished_business(ws)
        if busy:
            raise ArmsNotReady(f"study {study}: arm {arm}: {busy}")
    for arm, ws in paths.items():
        workspace.prepare(root, ws, overrides[arm], target)
        got = config.load_yaml(os.path.join(ws, workspace.PARAMS))
        if expected is not None and got != expected[arm]:  # DVC's override code and the validated merge must agree
            raise RuntimeError(f"{ws}/params.yaml: DVC applied arm {arm!r}'s overrides differently from the validated params")
    plans = {arm: dag.plan(ws, [target]) for arm, ws in paths.items()}
    clusters = {arm: resources.load(os.path.join(ws, workspace.PARAMS)) for arm, ws in paths.items()} if backend == "slurm" else {}
    runs = {arm: (Run.create(paths[arm], backend, stages) if stages else None) for arm, stages in plans.items()}
    ledger = {"study": study, "backend": backend, "target": target,
              "arms": {arm: {"workspace": paths[arm], "run": os.path.basename(r.path) if r else None} for arm, r in runs.items()}}
    io.write_json(ledger_path(out_root, study), ledger)
    for arm, r in runs.items():
        log(f"[study] {study} arm {arm}: " + (f"{len(plans[arm])} stages ({', '.join(s.name for s in plans[arm])})" if r else "up to date, nothing to run"))
    todo = [(arm, r) for arm, r in runs.items() if r is not None]
    if backend == "slurm":
        kinds = dag.kinds(root)
        for arm, r in todo:
            slurm.submit(paths[arm], r, clusters[arm], kinds, log=_arm_log(log, arm))
    elif todo:
        start = time.perf_counter()
        results = local.run_many([local.Workspace(paths[arm], r, arm) for arm, r in todo], local.slots_for(slots, gpus), log=log)
        for (arm, _), res in zip(todo, results):
            log(f"[study] {study} arm {arm}: {sum(v == 'done' for v in res.values())}/{len(res)} stages done")
        log(f"[study] {study}: local backend finished in {time.perf_counter() - start:.0f} s")
    return ledger


def wait(ledger: dict, poll: float = 5.0, timeout: float | None = None, log=print) -> None:
    """Record each arm's finished SLURM jobs as they end, until no job of the study is left."""
    start = time.monotonic()
    while True:
        active = {}
        for arm, entry in ledger["arms"].items():
            run = _run_of(entry["workspace"], entry["run"])
            if run is None:
                continue
            st = record_finished(entry["workspace"], run, log=_arm_log(log, arm))
            busy = [n for n, v in st.items() if v.split(" ")[0] in slurm.ACTIVE]
            if busy:
                active[arm] = busy
        if not active:
            return
        if timeout is not None and time.monotonic() - start > timeout:
            raise TimeoutError(f"study {ledger['study']}: still waiting after {timeout:.0f} s for {active}")
        time.sleep(poll)


def arm_states(ledger: dict) -> dict[str, ArmState]:
    """Per arm: complete (DVC says its workspace is up to date to the target), still running, or
    what went wrong: the stage(s) that ended badly with their state, log and its last lines, then
    the stages that could not run because of them."""
    states = {}
    for arm, entry in ledger["arms"].items():
        ws, run = entry["workspace"], _run_of(entry["workspace"], entry["run"])
        st = (slurm.status(run) if run.load()["backend"] == "slurm" else cluster_cli.local_status(run)) if run else {}
        if run is not None and _scheduler_alive(run):
            pending = [n for n, v in st.items() if v != "recorded"]
        else:
            pending = [n for n, v in st.items() if v.split(" ")[0] in slurm.ACTIVE]
        if pending:
            states[arm] = ArmState(arm, ws, False, pending=pending)
            continue
        remaining = dag.plan(ws, [ledger["target"]])
        state = ArmState(arm, ws, not remaining)
        if remaining:
            stages = {s.name: s for s in run.stages()} if run else {}
            causes = [n for n, v in st.items() if v != "recorded" and all(st.get(u) == "recorded" for u in stages[n].after)]
            for n in causes:
                state.problems.append(f"stage {n}: {st[n]}; log {run.log(stages[n])}")
                state.problems += [f"  | {line}" for line in slurm.log_tail(run, stages[n])]
            blocked = [n for n, v in st.items() if v != "recorded" and n not in causes]
            if blocked:
                state.problems.append(f"not run because of it: {', '.join(blocked)}")
            if not causes:  # the run ended well, yet DVC wants stages again: something changed since
                state.problems.append(f"not up to date: {', '.join(s.name for s in remaining)} (code, params or inputs changed since its run)")
        states[arm] = state
    return states


def require_complete(ledger: dict, out_root: str = runner.OUT_ROOT) -> dict[str, ArmState]:
    """Every arm's state; raise :class:`ArmsNotReady` naming each arm that is still running or did
    not finish (its stage, how it ended, its log) unless every arm is complete."""
    study = ledger["study"]
    states = arm_states(ledger)
    pending = {a: s.pending for a, s in states.items() if s.pending}
    if pending:
        raise ArmsNotReady(f"study {study}: arms still running: " + "; ".join(f"{a} ({', '.join(p)})" for a, p in pending.items())
                           + f"\n`study collect {study} --backend {ledger['backend']} --wait` collects them when they have ended")
    failed = [s for s in states.values() if not s.complete]
    if failed:
        arms_dir = os.path.join(out_root, study, "arms")
        lines = [f"study {study}: {len(failed)} of {len(states)} arms did not finish; nothing collected ({arms_dir} is unchanged):"]
        for s in failed:
            lines.append(f"arm {s.arm} ({s.workspace}):")
            lines += [f"  {p}" for p in s.problems]
        done = [a for a, s in states.items() if s.complete]
        lines.append((f"finished arms ({', '.join(done)}) stay recorded in their workspaces; " if done else "")
                     + f"`study run {study} --backend {ledger['backend']}` again runs only what did not finish")
        raise ArmsNotReady("\n".join(lines))
    return states


def finish(preset: common.Preset, ledger: dict, params_path: str = "params.yaml", out_root: str = runner.OUT_ROOT, log=print) -> dict:
    """Collect every arm from its workspace and analyse, if and only if every arm is complete."""
    states = require_complete(ledger, out_root)

    def copy_arm(arm: str, dest: str) -> None:
        import shutil

        ws = ledger["arms"][arm]["workspace"]
        for src in runner.COLLECT:  # the queue route's files, from the workspace instead of an experiment commit
            path = os.path.join(ws, src)
            if not os.path.exists(path):
                continue
            target = os.path.join(dest, src.replace("outputs/", "", 1))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            (shutil.copytree if os.path.isdir(path) else shutil.copy2)(path, target)
        with open(os.path.join(dest, "workspace.txt"), "w") as f:
            f.write(f"{ledger['backend']} {ws} run {ledger['arms'][arm]['run'] or '(up to date)'}\n")

    runner.install_arms(os.path.join(out_root, preset.name, "arms"), list(ledger["arms"]), copy_arm)
    log(f"[study] {preset.name}: collected {len(states)} arms from their workspaces")
    return runner.analyse(preset, out_root=out_root, params_path=params_path)


def run(preset: common.Preset, backend: str, params_path: str = "params.yaml", out_root: str = runner.OUT_ROOT, slots: int = 2,
        gpus: str | None = None, wait_for_jobs: bool = True, poll: float = 5.0, timeout: float | None = None, log=print) -> dict:
    """``study run --backend``: submit (local: run) every arm, wait for SLURM, collect, analyse."""
    start = time.perf_counter()
    ledger = submit(preset, backend, params_path=params_path, out_root=out_root, slots=slots, gpus=gpus, log=log)
    if backend == "slurm":
        if not wait_for_jobs:
            log(f"[study] submitted; collect with: python -m xstilts.cli study collect {preset.name} --backend slurm --wait")
            return {"paths": [], "ledger": ledger}
        wait(ledger, poll=poll, timeout=timeout, log=log)
    result = finish(preset, ledger, params_path=params_path, out_root=out_root, log=log)
    result["seconds"] = time.perf_counter() - start
    return result


def collect(preset: common.Preset, backend: str, params_path: str = "params.yaml", out_root: str = runner.OUT_ROOT,
            wait_for_jobs: bool = False, poll: float = 5.0, timeout: float | None = None, log=print) -> dict:
    """``study collect --backend``: record what the arms' runs finished, then as :func:`finish`."""
    ledger = load_ledger(out_root, preset.name)
    if ledger["backend"] != backend:
        raise ArmsNotReady(f"study {preset.name}: its last cluster run used --backend {ledger['backend']}, not {backend}")
    if wait_for_jobs and backend == "slurm":
        wait(ledger, poll=poll, timeout=timeout, log=log)
    else:
        for arm, entry in ledger["arms"].items():
            if entry["run"]:
                record_finished(entry["workspace"], _run_of(entry["workspace"], entry["run"]), log=_arm_log(log, arm))
    return finish(preset, ledger, params_path=params_path, out_root=out_root, log=log)
