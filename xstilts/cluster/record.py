"""DVC's side of a scheduled run: record a finished stage with ``dvc commit -f <stage>``.

``dvc commit -f`` hashes the stage's deps, params and outs, caches the outs and writes the stage's
``dvc.lock`` entry: what ``dvc repro`` writes after running the command itself (DVC 3.x,
``repo/commit.py``: ``stage.save`` + ``stage.commit`` + ``dump_stages``). DVC holds the repository
lock while it does so, so commits go one at a time, under our own file lock as well, which also
keeps a ``collect`` and a local scheduler from racing.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from contextlib import contextmanager

from xstilts.cluster.ledger import ROOT, Run
from xstilts.cluster.dag import Stage


def dvc() -> str:
    local = os.path.join(os.path.dirname(sys.executable), "dvc")
    return local if os.path.exists(local) else "dvc"


@contextmanager
def commit_lock(root: str):
    os.makedirs(os.path.join(root, ROOT), exist_ok=True)
    with open(os.path.join(root, ROOT, "commit.lock"), "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def commit(root: str, run: Run, stage: Stage) -> None:
    """Record ``stage`` in dvc.lock and the cache; raise with DVC's message if it refuses."""
    with commit_lock(root):
        res = subprocess.run([dvc(), "commit", "-f", stage.name], cwd=root, capture_output=True, text=True)
        if res.returncode != 0:
            raise RuntimeError(f"dvc commit -f {stage.name} failed (exit {res.returncode}): {res.stderr.strip()[-2000:]}")
        run.mark_recorded(stage)
