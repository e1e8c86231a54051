"""A tiny embedded study (RQ4 shrunk to two tiny model sizes) through `study run --backend slurm` on
the real one-node SLURM (the `slurm` fixture) and through `--backend local`: one workspace per arm,
the arms' jobs side by side, and the collected arms and the study's tables equal between the two."""

import json
import os
import re
import subprocess
import time
from datetime import datetime
from pathlib import Path

import pytest

from tests.cluster import locks
from tests.cluster.test_slurm import with_cluster_params
from tests.cluster.tiny import make_tiny_study_repo
from tests.conftest import BIN

ONE_THREAD = {"engine.num_threads": 1, "engine.parallel_runs": 1}  # one core per slot / job


def study(repo: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "PYTHONPATH": str(repo), "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    return subprocess.Popen([str(BIN / "python"), "-m", "xstilts.cli", "study", *args], cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def intervals(ws: Path) -> list[tuple[float, float]]:
    """(start, end) of each stage from its job log's first start and last exit line."""
    stamp = r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)"
    out = []
    for log in ws.glob(".cluster/*/logs/*.log"):
        text = log.read_text()
        start, end = re.search(r": start " + stamp, text), re.findall(r": exit 0 " + stamp, text)
        if start and end:
            t = [datetime.strptime(x, "%Y-%m-%dT%H:%M:%SZ").timestamp() for x in (start.group(1), end[-1])]
            out.append((t[0], t[1]))
    return out


@pytest.mark.slow
def test_tiny_study_through_slurm_collects_what_the_local_backend_collects(slurm, tmp_path):
    on_slurm, on_local = make_tiny_study_repo(tmp_path / "slurm", ONE_THREAD), make_tiny_study_repo(tmp_path / "local", ONE_THREAD)
    for repo in (on_slurm, on_local):  # the same params.yaml in both (the local backend ignores `cluster:`)
        with_cluster_params(repo, {"default": {"gpus": 0, "cpus": 1, "mem": "900M", "hours": 1}})
    start = time.perf_counter()
    procs = {"slurm": study(on_slurm, "run", "rq4", "--backend", "slurm"), "local": study(on_local, "run", "rq4", "--backend", "local", "--slots", "2")}
    outs = {k: p.communicate(timeout=1500)[0] for k, p in procs.items()}
    seconds = time.perf_counter() - start
    for k, p in procs.items():
        assert p.returncode == 0, f"{k}:\n{outs[k][-5000:]}"
    print(f"tiny rq4 study, both backends side by side: {seconds:.0f} s")
    out = {k: repo / "outputs" / "studies" / "rq4" for k, repo in (("slurm", on_slurm), ("local", on_local))}

    # SLURM ran every stage of both arms as jobs, each arm in its own workspace, arms side by side
    ledger = json.loads((out["slurm"] / "workspaces" / "study-run.json").read_text())
    assert ledger["backend"] == "slurm" and set(ledger["arms"]) == {"small", "large"}
    jobs = {}
    for arm, entry in ledger["arms"].items():
        ws = Path(entry["workspace"])
        assert ws == out["slurm"] / "workspaces" / arm
        jobs[arm] = json.loads((ws / ".cluster" / entry["run"] / "run.json").read_text())["jobs"]
        assert {"benchmark", "phase1", "analysis"} <= set(jobs[arm]), jobs[arm]
    shown = subprocess.run(["sacct", "-n", "-X", "-P", "-o", "JobIDRaw,State", "-j", ",".join(j for js in jobs.values() for j in js.values())], env=slurm, capture_output=True, text=True).stdout
    assert shown.count("COMPLETED") == sum(map(len, jobs.values())), shown
    small, large = intervals(out["slurm"] / "workspaces" / "small"), intervals(out["slurm"] / "workspaces" / "large")
    assert any(a0 < b1 and b0 < a1 for a0, a1 in small for b0, b1 in large), "no stage of one arm ran beside one of the other"

    # the same arms and the same tables as the local backend's
    for arm, hidden in (("small", 32), ("large", 48)):
        a, b = out["slurm"] / "arms" / arm, out["local"] / "arms" / arm
        files = sorted(str(p.relative_to(a)) for p in a.rglob("*") if p.is_file())
        assert files == sorted(str(p.relative_to(b)) for p in b.rglob("*") if p.is_file())
        assert "params.yaml" in files and any(f.endswith("seed0/predictions/test.qc.jsonl") for f in files), files
        assert [f for f in files if f != "workspace.txt" and not locks._same_but_timing(a / f, b / f)] == []
        assert f"hidden_size: {hidden}" in (a / "params.yaml").read_text()
    tables = sorted(p.name for p in out["slurm"].glob("*.csv")) + ["results.md"]
    assert "rq4_did.csv" in tables
    for name in tables:
        assert (out["slurm"] / name).read_bytes() == (out["local"] / name).read_bytes(), name

    # collecting again from the workspaces (what `study collect` does after `--no-wait`) gives the same
    again = study(on_slurm, "collect", "rq4", "--backend", "slurm", "--wait")
    text = again.communicate(timeout=600)[0]
    assert again.returncode == 0, text
    assert (out["slurm"] / "rq4_did.csv").read_bytes() == (out["local"] / "rq4_did.csv").read_bytes()
