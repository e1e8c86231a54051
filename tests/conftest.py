import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

# Tests never touch the network: the Hub is offline for every test, whatever the caller's env.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout


def dvc_out_paths(root: Path) -> list[str]:
    """The outputs dvc.yaml declares (outs, metrics, plots), templated ones left out."""
    import yaml

    spec = yaml.safe_load((root / "dvc.yaml").read_text())
    paths = []
    for stage in spec.get("stages", {}).values():
        stage = stage.get("do", stage)
        for kind in ("outs", "metrics", "plots"):
            for entry in stage.get(kind, []):
                path = next(iter(entry)) if isinstance(entry, dict) else entry
                if "${" not in path:
                    paths.append(path.rstrip("/"))
    return paths


def is_run_leftover(rel: str, outs: list[str]) -> bool:
    """What the user's own `dvc repro` / `make study` leaves in a checkout: dvc.lock, DVC's
    .gitignore entries, any declared output."""
    return rel == "dvc.lock" or Path(rel).name == ".gitignore" or any(rel == o or rel.startswith(o + "/") for o in outs)


# What the committed reference run adds to the source (issue 16): a checkout before any run has none of it.
REFERENCE_RUN = ("dvc.lock", "paper/.gitignore", "reference/")


def tracked_copy(dest: Path, root: Path = ROOT, before_any_run: bool = False) -> None:
    """The source as the developer has it (tracked files as on disk, new files not yet added), but
    none of what the user's own runs left in the checkout (issue 16): dvc.lock is the committed
    one, if any, and untracked .gitignore files and outputs stay behind. `before_any_run` also
    leaves out the committed reference run (REFERENCE_RUN), for tests that record their own."""
    outs = dvc_out_paths(root)
    tracked = _git(root, "ls-files", "-c").split()
    untracked = [rel for rel in _git(root, "ls-files", "-o", "--exclude-standard").split() if not is_run_leftover(rel, outs)]
    for rel in tracked + untracked:
        src, out = root / rel, dest / rel
        if before_any_run and any(rel == p or (p.endswith("/") and rel.startswith(p)) for p in REFERENCE_RUN):
            continue
        if rel == "dvc.lock":  # a user's run rewrites it: the committed one, if any
            committed = subprocess.run(["git", "show", "HEAD:dvc.lock"], cwd=root, capture_output=True, text=True)
            if committed.returncode == 0:
                out.write_text(committed.stdout)
        elif src.is_file():
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, out)


def run(cmd, cwd, **kw):
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(cwd)}
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, **kw)


@pytest.fixture(scope="session")
def repro(tmp_path_factory):
    """The embedded `dvc repro`, once per session, in a git copy of the working tree: (repo, seconds, stdout)."""
    repo = tmp_path_factory.mktemp("repo")
    tracked_copy(repo)
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "copy"]):
        subprocess.run(cmd, cwd=repo, check=True, capture_output=True)
    start = time.perf_counter()
    res = run([str(BIN / "dvc"), "repro"], repo)
    seconds = time.perf_counter() - start
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-4000:]
    return repo, seconds, res.stdout




# ---- the paper rehearsal, started in the background ------------------------------------------
# `make rehearse` (tests/test_rehearsal.py) is the suite's longest test (about 22 min here) and runs
# one thread per stage; started as soon as collection selects it, it overlaps the other tests
# instead of adding its whole duration to the suite's wall time (CI stops at 90 minutes).
REHEARSAL_TEST = "test_make_rehearse_runs_every_stage_of_the_paper_profile"


def start_rehearsal(workdir: Path) -> subprocess.Popen:
    log = open(workdir / "runner.log", "w")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(["nice", "-n", "5", sys.executable, "-m", "xstilts.rehearsal.runner", "--workdir", str(workdir)],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def pytest_collection_finish(session):
    if not session.config.option.collectonly and any(item.name == REHEARSAL_TEST for item in session.items):
        import tempfile

        workdir = Path(tempfile.mkdtemp(prefix="xstilts-rehearsal-"))
        session.config.stash[_REHEARSAL] = (start_rehearsal(workdir), workdir)


def pytest_sessionfinish(session):
    proc, workdir = session.config.stash.get(_REHEARSAL, (None, None))
    if proc is not None:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)


_REHEARSAL = pytest.StashKey()


@pytest.fixture
def rehearsal(request, tmp_path):
    """The background rehearsal (process, workdir); started here when collection did not start it."""
    started = request.config.stash.get(_REHEARSAL, None)
    return started if started is not None else (start_rehearsal(tmp_path), tmp_path)
