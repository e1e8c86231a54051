"""Preemption through the cluster backends: a training stage signalled mid-run checkpoints at the
next step, its job runs again (SLURM: requeued by its own script; local: the next `cluster
submit`), resumes there, and ends with the weights of a run never interrupted."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import torch
from safetensors.torch import load_file

from tests.cluster.toy import cluster, dvc
from tests.conftest import BIN, ROOT, run

WORKER = ROOT / "tests" / "test_engine_helpers.py"
CFG = {"settings": {"lr": 3e-3, "batch_size": 8, "grad_accum": 2, "max_steps": 40, "eval_every": 9, "patience": 100, "log_every": 1, "seed": 7},
       "heads": ["a", "b"], "dropout": 0.1, "out": "out", "checkpoint_dir": "checkpoints/train", "progress_file": "times/progress", "step_seconds": 0.2}
DVC_YAML = """stages:
  train:
    cmd: mkdir -p times && OMP_NUM_THREADS=1 {python} {worker} "$(cat cfg.json)"
    deps: [cfg.json]
    outs: [out]
"""


def make_training_repo(dest):
    """One DVC stage that trains the engine's toy model with checkpoints under checkpoints/."""
    dest.mkdir(parents=True)
    (dest / "dvc.yaml").write_text(DVC_YAML.format(python=BIN / "python", worker=WORKER))
    (dest / "cfg.json").write_text(json.dumps(CFG))
    (dest / "params.yaml").write_text("cluster:\n  default: {gpus: 0, cpus: 1, mem: 900M, hours: 0.5, grace: 60}\n")
    (dest / ".gitignore").write_text("/times/\n/.cluster/\n/checkpoints/\n")
    for cmd in (["git", "init", "-q"], [str(BIN / "dvc"), "init", "-q"], ["git", "add", "-A"], ["git", "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "toy"]):
        assert run(cmd, dest).returncode == 0
    return dest


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """The stage's training run to the end once, without checkpoints: its final weights."""
    d = tmp_path_factory.mktemp("uninterrupted")
    cfg = {**CFG, "out": str(d / "out"), "checkpoint_dir": None, "progress_file": None, "step_seconds": 0}
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    res = subprocess.run([sys.executable, str(WORKER), json.dumps(cfg)], env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return load_file(str(d / "out" / "weights.safetensors"))


def wait_for_step(repo, at_least, timeout=300):
    deadline, progress = time.monotonic() + timeout, repo / "times" / "progress"
    while not (progress.exists() and progress.read_text() and int(progress.read_text()) >= at_least):
        assert time.monotonic() < deadline, "the training stage never got that far"
        time.sleep(0.05)
    return int(progress.read_text())


def assert_resumed_where_it_stopped(repo, log, sent_at, reference):
    stopped = [int(n) for n in re.findall(r"preempted at step (\d+)/", log)]
    assert stopped and sent_at <= stopped[0] <= sent_at + 2, (sent_at, log[-3000:])
    result = json.loads((repo / "out" / "result.json").read_text())
    assert result["resumed_from"] == stopped[0] and result["steps"] == CFG["settings"]["max_steps"], result  # no step lost
    weights = load_file(str(repo / "out" / "weights.safetensors"))
    assert weights.keys() == reference.keys() and all(torch.equal(weights[k], reference[k]) for k in reference)


def stage_log(repo) -> str:
    return next((repo / ".cluster").glob("*/logs/train.log")).read_text()


def test_preempt_signal_on_slurm_requeues_and_resumes_to_identical_weights(slurm, tmp_path, uninterrupted):
    """What sbatch --signal=B:USR1@grace does before a time limit: USR1 to the batch shell."""
    repo = make_training_repo(tmp_path / "slurm")
    res = cluster(repo, "submit", "--backend", "slurm")
    assert res.returncode == 0, res.stdout + res.stderr
    job = json.loads(next((repo / ".cluster").glob("*/run.json")).read_text())["jobs"]["train"]
    script = next((repo / ".cluster").glob("*/jobs/train.sh")).read_text()
    assert "#SBATCH --signal=B:USR1@60" in script
    sent_at = wait_for_step(repo, 5)
    subprocess.run(["scancel", "--signal=USR1", "--batch", job], env=slurm, check=True)
    deadline = time.monotonic() + 120
    while "preempted (exit" not in stage_log(repo):  # checkpointed, and the script asked for a requeue
        assert time.monotonic() < deadline, stage_log(repo)[-3000:]
        time.sleep(0.2)
    time.sleep(1)
    subprocess.run(["scontrol", "update", f"JobId={job}", "StartTime=now"], env=slurm, check=True)  # SLURM holds a requeued job a while
    res = cluster(repo, "collect", "--backend", "slurm", "--wait", timeout=600)
    assert res.returncode == 0, res.stdout + res.stderr + stage_log(repo)[-3000:]
    log = stage_log(repo)
    assert "signal: checkpoint at the next step" in log and "restart 1" in log, log[-3000:]
    assert_resumed_where_it_stopped(repo, log, sent_at, uninterrupted)
    assert "up to date" in dvc(repo, "status").stdout


def test_preempt_sigterm_to_the_local_scheduler_then_submit_again_resumes(tmp_path, uninterrupted):
    repo = make_training_repo(tmp_path / "local")
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "PYTHONPATH": str(ROOT)}
    scheduler = subprocess.Popen([str(BIN / "python"), "-m", "xstilts.cli", "cluster", "submit", "--backend", "local"], cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    sent_at = wait_for_step(repo, 5)
    scheduler.send_signal(signal.SIGTERM)
    out = scheduler.communicate(timeout=300)[0]
    assert scheduler.returncode == 1 and "preempted train" in out, out
    status = cluster(repo, "status")
    assert "preempted (checkpointed" in status.stdout, status.stdout
    res = cluster(repo, "submit", "--backend", "local", timeout=600)
    assert res.returncode == 0, res.stdout + res.stderr
    log = "".join(p.read_text() for p in sorted((repo / ".cluster").glob("*/logs/train.log")))
    assert_resumed_where_it_stopped(repo, log, sent_at, uninterrupted)
    assert "up to date" in dvc(repo, "status").stdout
