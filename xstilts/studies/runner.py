"""Run a study through DVC's experiment queue (or the cluster backends: on_cluster), collect each arm's results, analyse.

    python -m xstilts.cli study plan rq4          # validate every arm, print the queue commands
    python -m xstilts.cli study run rq4 -j 2      # queue one experiment per arm, run them (2 workers),
                                                  # collect, analyse into outputs/studies/rq4/
    python -m xstilts.cli study collect rq4       # collect + analyse finished experiments again
    python -m xstilts.cli study analyse rq4       # analyse already collected arms
    python -m xstilts.cli study run rq4 --backend local --slots 2   # arms as workspaces (on_cluster)

Each arm is ``dvc exp run --queue -n <study>-<arm> -S key=value ... analysis``: it runs in its own
temporary workspace, DVC's run cache skips stages already computed with the same parameters (the
benchmark; phase 1 when the arms share a model), and its outputs land in the shared DVC cache.
The collector reads each experiment's ``params.yaml``, ``outputs/phase3`` (per-seed metrics and
per-example predictions) and ``outputs/retrieval/metrics.json`` from that cache at the
experiment's commit (``dvc.api.DVCFileSystem``), so nothing in the workspace changes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from xstilts import config

from xstilts.config import ConfigError
from xstilts.studies import common

OUT_ROOT = "outputs/studies"
COLLECT = ["params.yaml", "outputs/phase3", "outputs/retrieval/metrics.json", "outputs/analysis/results.csv"]


def _dvc() -> str:
    local = Path(sys.executable).parent / "dvc"
    return str(local) if local.exists() else "dvc"


def _sh(cmd: list[str], check: bool = True, **kw) -> subprocess.CompletedProcess:
    res = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if check and res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({res.returncode}):\n{res.stdout[-3000:]}{res.stderr[-3000:]}")
    return res


def base_params(path: str = "params.yaml") -> dict:
    return config.load_yaml(path) or {}  # refuses duplicate keys


def plan(preset: common.Preset, params_path: str = "params.yaml") -> list[list[str]]:
    return common.queue_commands(preset, base_params(params_path), dvc=_dvc())


def queue_status(dvc: str) -> dict[str, str]:
    """Experiment name -> status (Queued, Running, Success, Failed) from ``dvc queue status``."""
    out = _sh([dvc, "queue", "status"], check=False).stdout
    status = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[-1] in ("Queued", "Running", "Success", "Failed"):
            status[parts[1]] = parts[-1]
    return status


def run(preset: common.Preset, jobs: int = 1, params_path: str = "params.yaml", out_root: str = OUT_ROOT, poll: float = 5.0, timeout: float | None = None, log=print) -> dict:
    """Queue every arm, run the queue with ``jobs`` workers, wait, collect and analyse."""
    dvc = _dvc()
    commands = plan(preset, params_path)  # validates every arm before anything is queued
    names = [cmd[cmd.index("-n") + 1] for cmd in commands]
    _sh([dvc, "exp", "remove", *names], check=False)  # a re-run replaces the study's experiments
    for cmd in commands:
        log("$ " + " ".join(cmd))
        _sh(cmd)
    start = time.perf_counter()
    log(f"$ {dvc} queue start -j {jobs}")
    _sh([dvc, "queue", "start", "-j", str(jobs)])
    while True:
        status = {n: s for n, s in queue_status(dvc).items() if n in names}
        pending = [n for n in names if status.get(n) in ("Queued", "Running")]
        if not pending:
            break
        if timeout is not None and time.perf_counter() - start > timeout:
            raise TimeoutError(f"study {preset.name}: still running after {timeout:.0f} s: {pending}")
        time.sleep(poll)
    seconds = time.perf_counter() - start
    failed = [n for n in names if status.get(n) == "Failed"]
    if failed:
        logs = "\n".join(_sh([dvc, "queue", "logs", n], check=False).stdout[-3000:] for n in failed)
        raise RuntimeError(f"study {preset.name}: experiment(s) failed: {failed}\n{logs}")
    log(f"queue finished in {seconds:.0f} s ({len(names)} arms, {jobs} workers)")
    result = collect(preset, out_root=out_root, params_path=params_path)
    result["queue_seconds"] = seconds
    return result


def experiment_refs(baseline: str | None = None) -> dict[str, str]:
    """Commit sha -> experiment name of the experiments based on ``baseline`` (default HEAD)."""
    baseline = baseline or _sh(["git", "rev-parse", "HEAD"]).stdout.strip()
    out = _sh(["git", "for-each-ref", "--format=%(objectname) %(refname)", f"refs/exps/{baseline[:2]}/{baseline[2:]}/"]).stdout
    return {line.split()[0]: line.split()[1].rsplit("/", 1)[-1] for line in out.splitlines() if line.strip()}


def collect(preset: common.Preset, out_root: str = OUT_ROOT, params_path: str = "params.yaml") -> dict:
    """Copy each arm's results from its experiment (DVC cache at the experiment's commit) into
    ``<out_root>/<study>/arms/<arm>/``, then analyse."""
    from dvc.api import DVCFileSystem

    profile = base_params(params_path).get("profile", "embedded")
    by_name = {name: sha for sha, name in experiment_refs().items()}
    arms = preset.arms(profile)
    missing = [common.exp_name(preset, arm) for arm in arms if common.exp_name(preset, arm) not in by_name]
    if missing:
        raise RuntimeError(f"no experiment {missing[0]!r} on this commit (have {sorted(by_name)}); run `study run {preset.name}`")

    def copy_arm(arm: str, dest: str) -> None:
        name = common.exp_name(preset, arm)
        fs = DVCFileSystem(".", rev=by_name[name])
        for src in COLLECT:
            if not fs.exists(src):
                continue
            target = os.path.join(dest, src.replace("outputs/", "", 1))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            fs.get(src, target, recursive=fs.isdir(src))
        (Path(dest) / "experiment.txt").write_text(f"{name} {by_name[name]}\n")

    install_arms(os.path.join(out_root, preset.name, "arms"), arms, copy_arm)
    return analyse(preset, out_root=out_root, params_path=params_path)


def install_arms(arms_dir: str, arms: list[str], copy_arm) -> None:
    """``copy_arm(arm, dest)`` for every arm into a staging folder, then the whole set replaces
    ``arms_dir`` at once: a collection that fails halfway leaves the previous set as it was, and
    the study's tables never see one run's arms beside another's."""
    staging = f"{arms_dir}.tmp-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        for arm in arms:
            dest = os.path.join(staging, arm)
            os.makedirs(dest)
            copy_arm(arm, dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    old = f"{arms_dir}.old-{os.getpid()}"
    if os.path.exists(arms_dir):
        os.replace(arms_dir, old)
    os.replace(staging, arms_dir)
    shutil.rmtree(old, ignore_errors=True)


def analyse(preset: common.Preset, out_root: str = OUT_ROOT, params_path: str = "params.yaml") -> dict:
    from xstilts.studies import STUDIES

    profile = base_params(params_path).get("profile", "embedded")
    out_dir = os.path.join(out_root, preset.name)
    arms = common.load_arms(os.path.join(out_dir, "arms"), preset.arms(profile))
    return STUDIES[preset.study].analyse(arms, preset.options(profile), out_dir, title=preset.title)


def main(argv: list[str]) -> int:
    import argparse

    from xstilts.studies import on_cluster

    parser = argparse.ArgumentParser(prog="xstilts study", description="follow-up studies (configs/studies/*.yaml) through the DVC experiment queue or the cluster backends")
    parser.add_argument("action", choices=["plan", "run", "collect", "analyse", "list"])
    parser.add_argument("study", nargs="?", help="preset name (rq1 ... rq5) or a preset file")
    parser.add_argument("--backend", choices=["queue", *on_cluster.BACKENDS], default="queue",
                        help="queue: one DVC experiment per arm; local|slurm: one workspace per arm, its stages through `xstilts.cli cluster`'s scheduler")
    parser.add_argument("-j", "--jobs", type=int, default=1, help="queue: parallel queue workers (one per GPU on a multi-GPU machine)")
    parser.add_argument("--slots", type=int, default=2, help="local: parallel CPU slots, shared by every arm's stages")
    parser.add_argument("--gpus", default=None, help="local: one slot per GPU, e.g. 0,1,2,3")
    parser.add_argument("--no-wait", action="store_true", help="run --backend slurm: return once the jobs are submitted (then `study collect --backend slurm --wait`)")
    parser.add_argument("--wait", action="store_true", help="collect --backend slurm: record the arms' jobs until none is left, then collect")
    parser.add_argument("--params", default="params.yaml", help="the params file the arms' overrides apply to (its profile picks the preset section)")
    parser.add_argument("--out", default=OUT_ROOT)
    args = parser.parse_args(argv)
    if args.action == "list":
        for path in sorted(Path(common.PRESET_DIR).glob("*.yaml")):
            p = common.load_preset(str(path))
            print(f"{p.name}: {p.title} ({path})")
        return 0
    if not args.study:
        parser.error("which study? (rq1 ... rq5, or a preset file)")
    try:
        preset = common.load_preset(args.study)
        if args.action == "plan":
            for cmd in plan(preset, args.params):
                print(" ".join(_quote(c) for c in cmd))
            print(f"{_dvc()} queue start -j {args.jobs}")
            return 0
        if args.action == "run" and args.backend == "queue":
            result = run(preset, jobs=args.jobs, params_path=args.params, out_root=args.out)
        elif args.action == "run":
            result = on_cluster.run(preset, args.backend, params_path=args.params, out_root=args.out, slots=args.slots, gpus=args.gpus, wait_for_jobs=not args.no_wait)
        elif args.action == "collect" and args.backend == "queue":
            result = collect(preset, out_root=args.out, params_path=args.params)
        elif args.action == "collect":
            result = on_cluster.collect(preset, args.backend, params_path=args.params, out_root=args.out, wait_for_jobs=args.wait)
        else:
            result = analyse(preset, out_root=args.out, params_path=args.params)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except (on_cluster.ArmsNotReady, FileNotFoundError) as err:  # failed or unfinished arms; nothing to collect yet
        print(f"error: {err}", file=sys.stderr)
        return 1
    if result.get("ledger"):
        return 0
    print(f"wrote {os.path.join(args.out, preset.name)}: {', '.join(os.path.basename(p) for p in result.get('paths', []))}")
    return 0


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)
