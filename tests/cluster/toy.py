"""A four-stage DVC pipeline (a -> b, c -> d) that runs in seconds: the scheduler's own tests."""

import os
import subprocess
from pathlib import Path

from tests.cluster import locks
from tests.conftest import BIN, ROOT, run

# b and c both need only a: two slots run them side by side (each records when it ran in times/,
# outside every out, so the test can see the overlap). c's out is a directory, d reads a param.
DVC_YAML = """stages:
  a:
    cmd: mkdir -p times && python3 -c "import yaml; print(yaml.safe_load(open('params.yaml'))['n'])" > a.txt
    params: [n]
    outs: [a.txt]
  b:
    cmd: echo "$CUDA_VISIBLE_DEVICES" > times/b.gpu && date +%s.%N > times/b.start && sleep {sleep} && cat a.txt a.txt > b.txt && date +%s.%N > times/b.end
    deps: [a.txt]
    outs: [b.txt]
  c:
    cmd: echo "$CUDA_VISIBLE_DEVICES" > times/c.gpu && date +%s.%N > times/c.start && sleep {sleep} && mkdir -p c && cp a.txt c/x && echo c > c/y && date +%s.%N > times/c.end
    deps: [a.txt]
    outs: [c]
  d:
    cmd: cat b.txt c/x > d.txt && python3 -c "import json; json.dump(dict(lines=3), open('d.json', 'w'))"
    deps: [b.txt, c]
    params: [label]
    outs: [d.txt]
    metrics: [d.json]
"""


def make_toy_repo(dest: Path, sleep: float = 2, fail: str | None = None) -> Path:
    dest.mkdir(parents=True)
    text = DVC_YAML.format(sleep=sleep)
    if fail:  # make one stage's command fail
        text = text.replace(f"  {fail}:\n    cmd: ", f"  {fail}:\n    cmd: exit 3 && ")
    (dest / "dvc.yaml").write_text(text)
    (dest / "params.yaml").write_text("n: 7\nlabel: toy\n")
    (dest / ".gitignore").write_text("/times/\n/.cluster/\n")
    return init_toy_repo(dest)


def init_toy_repo(dest: Path) -> Path:
    """``dest``'s files as the first commit of a new git + DVC repository."""
    for cmd in (["git", "init", "-q"], [str(BIN / "dvc"), "init", "-q"], ["git", "add", "-A"], ["git", "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "toy"]):
        res = run(cmd, dest)
        assert res.returncode == 0, res.stderr
    return dest


def cluster(repo, *args, **kw):
    """``xstilts.cli cluster`` in ``repo``, importing this checkout's xstilts (the toy repo has none)."""
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "PYTHONPATH": str(repo if (repo / "xstilts").is_dir() else ROOT)}
    return subprocess.run([str(BIN / "python"), "-m", "xstilts.cli", "cluster", *args], cwd=repo, env=env, capture_output=True, text=True, **kw)


def dvc(repo, *args):
    return run([str(BIN / "dvc"), *args], repo)


def assert_side_by_side_and_recorded_as_serial(serial: Path, repo: Path) -> None:
    """b and c overlapped in time; dvc.lock equals the serial repro's; `dvc status` is clean."""
    t = {f.name: float(f.read_text()) for f in (repo / "times").iterdir() if f.suffix != ".gpu"}
    assert max(t["b.start"], t["c.start"]) < min(t["b.end"], t["c.end"]), f"b and c did not run side by side: {t}"
    assert locks.differences(serial, repo) == []
    status = dvc(repo, "status")
    assert status.returncode == 0 and "up to date" in status.stdout, status.stdout
