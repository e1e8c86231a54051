"""A study arm's own workspace, for the cluster backends: what the DVC queue gives an experiment.

``dvc exp run --queue -S ...`` runs an arm in a temporary clone of the last commit plus the
workspace's tracked changes, with the arm's ``-S`` overrides applied to ``params.yaml`` by DVC's own
Hydra code, and checks the outs that ``dvc.lock`` still vouches for out of the shared cache before
``dvc repro`` (DVC 3.x: ``BaseExecutor.reproduce`` runs ``dvc checkout --force --allow-missing``).
An arm workspace is the same, made to stay: a git worktree, detached at HEAD, in
``<out>/<study>/workspaces/<arm>/``, whose stages ``xstilts.cluster`` runs (locally or as SLURM
jobs on the shared file system) and records with ``dvc commit`` in the arm's own ``dvc.lock``.

The worktree holds a ``.dvc`` folder, so the main repository's DVC skips it as a sub-repository;
its ``.dvc/config.local`` points at the main repository's cache, so that recorded outs and the
checkouts go through one cache. Each arm has its own ``checkpoints/``: a requeued job resumes its
own arm's training, never another's.

Preparing an existing workspace again brings its code to the new HEAD plus tracked changes and
re-applies the arm's overrides, but keeps the arm's own ``dvc.lock``: DVC then re-runs exactly the
stages whose code, params or inputs changed (a failed arm: its failed stage and what follows).
"""

from __future__ import annotations

import os
import shutil
import subprocess

from xstilts import io
from xstilts.config import ConfigError

LOCK = "dvc.lock"
PARAMS = "params.yaml"


def _git(cwd: str, *args: str) -> str:
    res = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} (in {cwd}) failed: {res.stderr.strip()}")
    return res.stdout


def _dvc(cwd: str, *args: str) -> str:
    from xstilts.cluster.record import dvc

    res = subprocess.run([dvc(), *args], cwd=cwd, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"dvc {' '.join(args)} (in {cwd}) failed: {res.stderr.strip()[-2000:]}")
    return res.stdout


def path(out_root: str, study: str, arm: str) -> str:
    return os.path.join(out_root, study, "workspaces", arm)


def tracked_changes(root: str) -> list[str]:
    """Paths whose working-tree state differs from HEAD, staged or not (deleted ones included):
    what the queue stashes on top of the last commit. Untracked files are left out, as there."""
    out = _git(root, "diff", "--name-only", "--no-renames", "-z", "HEAD")
    return [p for p in out.split("\0") if p]


def check_root(root: str) -> str:
    """The repository's HEAD commit; ``root`` must be its git top level (a worktree is of the whole tree)."""
    top = os.path.realpath(_git(root, "rev-parse", "--show-toplevel").strip())
    if top != os.path.realpath(root):
        raise ConfigError(f"{root}: the study's arm workspaces need the DVC repository at the git top level ({top})")
    try:
        return _git(root, "rev-parse", "--verify", "HEAD^{commit}").strip()
    except RuntimeError:
        raise ConfigError(f"{root}: no commit yet; arm workspaces (like the DVC queue) start from the last commit") from None


def prepare(root: str, ws: str, overrides: list[str], target: str) -> str:
    """Create or bring up to date the arm workspace ``ws`` of the repository at ``root``: HEAD plus
    the tracked changes, ``params.yaml`` with ``overrides`` (Hydra override strings, the ``-S``
    values of the arm's queue command) applied by DVC, the outs ``dvc.lock`` still vouches for
    checked out from the cache up to ``target``. Returns the workspace's absolute path."""
    from dvc.utils.hydra import apply_overrides

    root, ws = os.path.abspath(root), os.path.abspath(ws)
    head = check_root(root)
    if os.path.exists(os.path.join(ws, ".git")):
        lock = _read(os.path.join(ws, LOCK))  # the arm's own record of its outs
        _git(ws, "checkout", "-q", "-f", "--detach", head)
    else:
        lock = _read(os.path.join(root, LOCK))  # the queue's start: the workspace's dvc.lock
        if os.path.exists(ws):
            raise RuntimeError(f"{ws}: exists but is not an arm workspace (no .git): move it away")
        os.makedirs(os.path.dirname(ws), exist_ok=True)
        _git(root, "worktree", "prune")  # a workspace deleted by hand leaves git's record of it behind
        _git(root, "worktree", "add", "-q", "--detach", ws, head)
    for rel in tracked_changes(root):
        if rel in (LOCK, PARAMS):
            continue
        src, dst = os.path.join(root, rel), os.path.join(ws, rel)
        if os.path.lexists(src):
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy2(src, dst, follow_symlinks=False)
        elif os.path.lexists(dst):
            os.remove(dst)
    _write(os.path.join(ws, LOCK), lock)
    shutil.copyfile(os.path.join(root, PARAMS), os.path.join(ws, PARAMS))
    if overrides:
        apply_overrides(os.path.join(ws, PARAMS), overrides)  # what the queue runs on the stashed params.yaml
    cache = _dvc(root, "cache", "dir").strip()
    _write(os.path.join(ws, ".dvc", "config.local"), f"[cache]\n    dir = {os.path.abspath(os.path.join(root, cache))}\n")
    _dvc(ws, "checkout", "-q", "--force", "--allow-missing", "--with-deps", target)
    return ws


def remove(root: str, ws: str) -> None:
    """Remove an arm workspace and git's record of it (its outs stay in the shared DVC cache)."""
    if os.path.exists(os.path.join(ws, ".git")):
        _git(root, "worktree", "remove", "--force", os.path.abspath(ws))
    shutil.rmtree(ws, ignore_errors=True)
    _git(root, "worktree", "prune")


def _read(p: str) -> str | None:
    return open(p).read() if os.path.exists(p) else None


def _write(p: str, text: str | None) -> None:
    if text is None:
        if os.path.exists(p):
            os.remove(p)
        return
    with io.atomic_path(p) as tmp, open(tmp, "w") as f:
        f.write(text)
