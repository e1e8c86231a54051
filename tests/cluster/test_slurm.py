"""The SLURM backend against a real SLURM (one node on localhost, started by the `slurm` fixture):
one job per stage with afterok dependencies, requeue, and `collect` recording what `dvc repro` would."""

import json
import re
import subprocess
import time

import pytest

from tests.cluster import locks
from tests.cluster.tiny import TARGET, make_tiny_repo
from tests.cluster.toy import assert_side_by_side_and_recorded_as_serial, cluster, dvc, make_toy_repo
from xstilts.cluster import resources
from xstilts.config import ConfigError

SMALL = {"default": {"gpus": 0, "cpus": 1, "mem": "300M", "hours": 0.5}}  # two jobs side by side on 2 CPUs


def with_cluster_params(repo, section: dict) -> None:
    """Add a cluster: section to the repo's params.yaml and commit it (no stage reads it)."""
    import yaml

    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["cluster"] = section
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qam", "cluster params"], cwd=repo, check=True)


def job_ids(repo) -> dict:
    latest = (repo / ".cluster" / "latest").read_text().strip()
    return json.loads((repo / ".cluster" / latest / "run.json").read_text())["jobs"]


def squeue_state(env, job) -> str:
    return subprocess.run(["squeue", "-h", "-j", job, "-o", "%T"], env=env, capture_output=True, text=True).stdout.strip()


# ---- the cluster: params section -----------------------------------------------------------------


@pytest.mark.parametrize("key,value,message", [
    ("mem", "8GB", "cluster.default.mem: '8GB' is not an sbatch --mem value"),
    ("hours", 0, "cluster.default.hours: must be positive"),
    ("gpus", -1, "cluster.default.gpus: must be 0 or more"),
    ("cpus", 0, "cluster.default.cpus: must be at least 1"),
])
def test_bad_resources_are_refused_naming_the_key(tmp_path, key, value, message):
    section = {"default": {**SMALL["default"], key: value}}
    (tmp_path / "params.yaml").write_text(json.dumps({"cluster": section}))
    with pytest.raises(ConfigError, match=re.escape(message)):
        resources.load(str(tmp_path / "params.yaml"))


def test_resources_per_stage_kind_and_unknown_kinds():
    cluster = resources.config._build(resources.ClusterConfig, {"partition": "gpu", "stages": {"phase2": {"gpus": 2, "cpus": 8, "mem": "64G", "hours": 24}}}, "cluster")
    r = resources.for_stage(cluster, "phase2", {"phase1", "phase2"})
    assert resources.sbatch_flags(r, cluster.partition) == ["--cpus-per-task=8", "--mem=64G", "--time=1440", "--signal=B:USR1@300", "--gres=gpu:2", "--partition=gpu"]
    assert resources.for_stage(cluster, "phase1", {"phase1", "phase2"}) == cluster.default
    with pytest.raises(ConfigError, match="cluster.stages.phase2: not a stage of dvc.yaml"):
        resources.for_stage(cluster, "phase1", {"phase1"})


def test_both_profiles_give_every_training_stage_its_resources():
    for path in ("params.yaml", "configs/paper.yaml"):
        c = resources.load(path)
        assert {"phase1", "phase2", "phase3", "retrieval"} <= set(c.stages), path
    assert resources.load("configs/paper.yaml").stages["phase2"].gpus == 1


# ---- jobs on a real SLURM --------------------------------------------------------------------


def test_toy_pipeline_as_slurm_jobs_records_what_dvc_repro_records(slurm, tmp_path):
    serial, repo = make_toy_repo(tmp_path / "serial", sleep=0), make_toy_repo(tmp_path / "slurm", sleep=3)
    serial.joinpath("dvc.yaml").write_text(repo.joinpath("dvc.yaml").read_text())  # same cmds (sleep 3)
    with_cluster_params(repo, SMALL)
    with_cluster_params(serial, SMALL)
    assert dvc(serial, "repro").returncode == 0
    res = cluster(repo, "submit", "--backend", "slurm")
    assert res.returncode == 0, res.stdout + res.stderr
    jobs = job_ids(repo)
    again = cluster(repo, "submit", "--backend", "slurm", "--force")  # would remove the outs the jobs write
    assert again.returncode == 1 and "still has jobs queued or running" in again.stdout, again.stdout
    assert job_ids(repo) == jobs
    deps = subprocess.run(["scontrol", "show", "job", jobs["d"]], env=slurm, capture_output=True, text=True).stdout
    assert f"afterok:{jobs['b']}" in deps and f"afterok:{jobs['c']}" in deps, deps
    res = cluster(repo, "collect", "--backend", "slurm", "--wait", timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    assert_side_by_side_and_recorded_as_serial(serial, repo)


def test_a_requeued_job_runs_again_and_its_result_is_recorded(slurm, tmp_path):
    serial, repo = make_toy_repo(tmp_path / "serial", sleep=6), make_toy_repo(tmp_path / "slurm", sleep=6)
    with_cluster_params(repo, SMALL)
    with_cluster_params(serial, SMALL)
    assert dvc(serial, "repro").returncode == 0
    assert cluster(repo, "submit", "--backend", "slurm").returncode == 0
    b = job_ids(repo)["b"]
    deadline = time.monotonic() + 120
    while not (repo / "times" / "b.start").exists():  # b is sleeping: kill it mid-stage
        assert time.monotonic() < deadline, "stage b never started"
        time.sleep(0.2)
    subprocess.run(["scontrol", "requeue", b], env=slurm, check=True)
    time.sleep(1)
    # SLURM holds a requeued job for a while (BeginTime); a preempted job would wait its turn
    subprocess.run(["scontrol", "update", f"JobId={b}", "StartTime=now"], env=slurm, check=True)
    res = cluster(repo, "collect", "--backend", "slurm", "--wait", timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    log = next((repo / ".cluster").glob("*/logs/b.log")).read_text()
    assert "restart 0" in log and "restart 1" in log and "DUE TO JOB REQUEUE" in log, log
    assert locks.differences(serial, repo) == []
    assert "up to date" in dvc(repo, "status").stdout



def test_a_failed_job_cancels_its_downstream_and_collect_records_the_rest(slurm, tmp_path):
    repo = make_toy_repo(tmp_path / "slurm", sleep=0, fail="c")
    with_cluster_params(repo, SMALL)
    assert cluster(repo, "submit", "--backend", "slurm").returncode == 0
    res = cluster(repo, "collect", "--backend", "slurm", "--wait", timeout=300)
    assert res.returncode == 1, res.stdout + res.stderr
    st = dict(line.split(None, 1) for line in res.stdout.strip().splitlines() if not line.startswith("["))
    assert st["a"] == "recorded" and st["b"] == "recorded" and st["c"] == "failed (exit 3)" and st["d"].startswith("CANCELLED"), st
    assert set(locks.load(repo)) == {"a", "b"}

@pytest.mark.slow
def test_a_job_past_its_time_limit_shows_as_timeout_with_its_log(slurm, tmp_path):
    """SLURM kills a stage at its time limit before the stage can write an exit status: `cluster
    status` names the state accounting records (TIMEOUT, from sacct), the exit code and the job
    log's last lines, not "lost"; its downstream stage shows as cancelled by its dependency."""
    repo = make_toy_repo(tmp_path / "slurm", sleep=600)
    with_cluster_params(repo, {"default": {**SMALL["default"], "hours": 1 / 60}})  # --time=1 (minute)
    assert cluster(repo, "submit", "--backend", "slurm").returncode == 0
    res = cluster(repo, "collect", "--backend", "slurm", "--wait", timeout=400)
    assert res.returncode == 1, res.stdout + res.stderr
    res = cluster(repo, "status", "--backend", "slurm")
    lines = res.stdout.splitlines()
    st = {line.split(None, 1)[0]: line.split(None, 1)[1] for line in lines if not line.startswith((" ", "["))}
    assert st["a"] == "recorded" and st["b"].startswith("TIMEOUT (exit ") and st["c"].startswith("TIMEOUT (exit "), res.stdout
    assert st["d"].startswith("CANCELLED"), res.stdout
    b_tail = lines[lines.index(next(line for line in lines if line.startswith("b "))) + 1:]
    assert any("DUE TO TIME LIMIT" in line for line in b_tail), res.stdout


@pytest.mark.slow
def test_tiny_embedded_pipeline_through_slurm_with_phase1_requeued_mid_run(slurm, serial_tiny, tmp_path):
    """The tiny embedded pipeline as SLURM jobs; phase 1 is requeued after its first checkpoint
    (as a preemption would), resumes from it, and `collect` records a dvc.lock equal to a serial
    `dvc repro`'s, with `dvc status` clean."""
    serial, serial_seconds = serial_tiny
    repo = make_tiny_repo(tmp_path / "slurm")
    with_cluster_params(repo, {"default": {"gpus": 0, "cpus": 1, "mem": "900M", "hours": 1}})
    start = time.perf_counter()
    res = cluster(repo, "submit", TARGET, "--backend", "slurm")
    assert res.returncode == 0, res.stdout + res.stderr
    phase1 = job_ids(repo)["phase1"]
    deadline = time.monotonic() + 900
    while not list((repo / "checkpoints" / "phase1").glob("step-*")):
        assert time.monotonic() < deadline and squeue_state(slurm, phase1) in ("PENDING", "RUNNING"), "phase 1 never wrote a checkpoint"
        time.sleep(0.2)
    subprocess.run(["scontrol", "requeue", phase1], env=slurm, check=True)
    time.sleep(1)
    subprocess.run(["scontrol", "update", f"JobId={phase1}", "StartTime=now"], env=slurm, check=True)
    res = cluster(repo, "collect", "--backend", "slurm", "--wait", timeout=1800)
    seconds = time.perf_counter() - start
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    log = next((repo / ".cluster").glob("*/logs/phase1.log")).read_text()
    assert "restart 1" in log and "DUE TO JOB REQUEUE" in log, log[-3000:]
    progress = (repo / "outputs" / "phase1" / "train.log").read_text()  # the run's progress lines (the notebook shows a summary)
    resumed = re.search(r"resuming from checkpoints/phase1/step-(\d+)", progress)
    assert resumed, "the requeued phase 1 did not resume from its checkpoint"
    print(f"tiny embedded pipeline: serial dvc repro {serial_seconds:.0f} s, SLURM (1 node, 2 CPUs, one requeue) {seconds:.0f} s; phase 1 resumed at step {int(resumed.group(1))}")
    assert locks.differences(serial, repo) == []
    status = dvc(repo, "status", TARGET)
    assert status.returncode == 0 and "changed" not in status.stdout, status.stdout


def test_validate_checks_the_cluster_section_but_outputs_never_see_it(tmp_path):
    """`validate` refuses a bad cluster: section naming the key; the resolved params that every
    stage writes next to its outputs leave it out, so resources never change an output's bytes."""
    import yaml

    from xstilts import config

    raw = yaml.safe_load(open("params.yaml"))
    assert "cluster" in raw and "cluster" not in config.to_dict(config.from_dict(raw))
    raw["cluster"]["stages"]["phase2"]["hours"] = "two"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError, match=r"params.yaml: cluster.stages.phase2.hours: expected float, got str 'two'"):
        config.load(str(tmp_path / "params.yaml"))
