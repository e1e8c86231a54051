"""The SLURM backend: one ``sbatch`` job per DVC stage, chained with ``--dependency=afterok``.

Every job runs from the repository on a file system the login node and the compute nodes share
(outs, ``checkpoints/`` and ``.cluster/`` all live there). Jobs are submitted ``--requeue``: a
preempted or requeued job starts its script again and the training engine resumes from the newest
checkpoint in ``checkpoints/`` (set ``engine.checkpoint_every``; docs/engine.md). Nothing is
recorded by DVC on the compute nodes: ``collect`` runs ``dvc commit`` per finished stage, in DAG
order, where the user submitted from.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass

from xstilts.cluster import record, resources
from xstilts.cluster.ledger import Run
from xstilts.config import ClusterConfig


# job states in which a stage's command may still run (again): its exit file is not final yet
ACTIVE = {"PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESIZING", "SIGNALING", "STAGE_OUT", "PREEMPTED"}


def _sh(cmd: list[str]) -> str:
    if shutil.which(cmd[0]) is None:
        raise FileNotFoundError(f"{cmd[0]}: not on PATH (the SLURM client tools are needed on this machine)")
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed (exit {res.returncode}): {res.stderr.strip()}")
    return res.stdout


def submit(root: str, run: Run, cluster: ClusterConfig, kinds: set[str], log=print) -> dict[str, str]:
    """sbatch every stage of ``run`` (upstream first); returns stage -> job id."""
    state = run.load()
    jobs: dict[str, str] = state["jobs"]
    for s in run.stages():
        r = resources.for_stage(cluster, s.kind, kinds)
        header = [f"#SBATCH --job-name=xstilts:{s.name}", f"#SBATCH --output={run.log(s)}", "#SBATCH --open-mode=append",
                  "#SBATCH --requeue", f"#SBATCH --chdir={root}"] + [f"#SBATCH {f}" for f in resources.sbatch_flags(r, cluster.partition)]
        cmd = ["sbatch", "--parsable"]
        if s.after:
            cmd += ["--dependency=afterok:" + ":".join(jobs[u] for u in s.after), "--kill-on-invalid-dep=yes"]
        jobs[s.name] = _sh(cmd + [run.write_script(s, header)]).strip().split(";")[0]
        run.save(state)  # after every job: a failure halfway leaves the ids of what was submitted
        log(f"[cluster] {s.name}: job {jobs[s.name]} ({r.gpus} GPU, {r.cpus} CPU, {r.mem}, {r.hours} h)" + (f" after {', '.join(s.after)}" if s.after else ""))
    return jobs


def queue_states(job_ids: list[str]) -> dict[str, str]:
    """Job id -> SLURM state (PENDING, RUNNING, ...) for jobs still known to squeue."""
    if not job_ids:
        return {}
    out = _sh(["squeue", "-h", "-j", ",".join(job_ids), "-o", "%i|%T|%r"])
    states = {}
    for line in out.splitlines():
        jid, st, reason = line.split("|")
        states[jid] = st if reason in ("None", "") else f"{st} ({reason})"
    return states


@dataclass(frozen=True)
class JobEnd:
    """How SLURM says a job ended: its state by name (TIMEOUT, OUT_OF_MEMORY, NODE_FAIL, PREEMPTED,
    FAILED, CANCELLED, ...), the exit code as ``code:signal`` and the reason, where SLURM gives one."""

    state: str
    exit_code: str
    reason: str = ""

    def describe(self) -> str:
        why = f", {self.reason}" if self.reason and self.reason != "None" else ""
        return f"{self.state} (exit {self.exit_code}{why})"


def _sacct(job_ids: list[str]) -> dict[str, JobEnd] | None:
    """From the accounting database (what a real cluster has); None when accounting is disabled."""
    if shutil.which("sacct") is None:
        return None
    res = subprocess.run(["sacct", "-n", "-P", "-X", "-j", ",".join(job_ids), "-o", "JobIDRaw,State,ExitCode,Reason"], capture_output=True, text=True)
    if res.returncode != 0:  # "Slurm accounting storage is disabled", or no slurmdbd answering
        return None
    ends = {}
    for line in res.stdout.splitlines():
        jid, state, code, reason = (line.split("|") + ["", "", ""])[:4]
        ends[jid] = JobEnd(state.split(" ")[0], code, reason)  # "CANCELLED by 0" -> CANCELLED
    return ends


def _scontrol(job_ids: list[str]) -> dict[str, JobEnd]:
    """slurmctld's memory of a finished job (MinJobAge, 300 s by default): the fallback without accounting."""
    ends = {}
    for jid in job_ids:
        res = subprocess.run(["scontrol", "show", "job", "-o", jid], capture_output=True, text=True)
        fields = dict(f.split("=", 1) for f in res.stdout.split() if "=" in f) if res.returncode == 0 else {}
        if "JobState" in fields:
            ends[jid] = JobEnd(fields["JobState"], fields.get("ExitCode", "?"), fields.get("Reason", ""))
    return ends


def job_ends(job_ids: list[str]) -> dict[str, JobEnd]:
    """Job id -> how it ended, from ``sacct`` (or ``scontrol`` where accounting is off)."""
    if not job_ids:
        return {}
    ends = _sacct(job_ids)
    return ends if ends is not None else _scontrol(job_ids)


def log_tail(run: Run, stage, lines: int = 5) -> list[str]:
    """The last lines of a stage's job log (appended across requeues): what a failed job said last."""
    try:
        with open(run.log(stage), errors="replace") as f:
            return [line.rstrip("\n") for line in f.readlines()[-lines:]]
    except FileNotFoundError:
        return []


def status(run: Run) -> dict[str, str]:
    """Stage -> recorded | finished | failed (exit N) | <SLURM state> | <how SLURM ended it> | lost.

    A job that SLURM ended before the stage's command could write its exit status (out of time or
    memory, a lost node, cancelled) is shown by the state accounting gives, e.g.
    ``TIMEOUT (exit 0:0)``; "lost" only where SLURM knows nothing of it either."""
    jobs = run.load()["jobs"]
    live = queue_states(list(jobs.values()))
    out, unexplained = {}, []
    for s in run.stages():
        rc = run.exit_status(s)
        if run.recorded(s):
            out[s.name] = "recorded"
        elif live.get(jobs.get(s.name), "").split(" ")[0] in ACTIVE:  # a requeued job may still hold an old exit status
            out[s.name] = live[jobs[s.name]]
        elif rc is not None:
            out[s.name] = "finished" if rc == 0 else f"failed (exit {rc})"
        elif s.name in jobs:
            unexplained.append(s.name)
        else:
            out[s.name] = "not submitted"
    ends = job_ends([jobs[n] for n in unexplained])
    for name in unexplained:
        end = ends.get(jobs[name])
        if end is not None and end.state in ACTIVE:  # left squeue between the two queries: ask again next time
            out[name] = end.state
        else:
            out[name] = end.describe() if end else "lost (not in squeue, no exit status and unknown to sacct/scontrol)"
    return {s.name: out[s.name] for s in run.stages()}


# states in which SLURM ended a job itself: `cluster status` shows the job log's last lines for them
ENDED_BY_SLURM = {"TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "PREEMPTED", "FAILED", "CANCELLED", "BOOT_FAIL", "DEADLINE"}


def collect(root: str, run: Run, wait: bool = False, poll: float = 5.0, timeout: float | None = None, log=print) -> dict[str, str]:
    """``dvc commit`` each finished stage in DAG order; with ``wait``, until no job is left."""
    start = time.monotonic()
    while True:
        st = status(run)
        for s in run.stages():
            if st[s.name] == "finished" and all(st[u] == "recorded" for u in s.after):
                record.commit(root, run, s)
                st[s.name] = "recorded"
                log(f"[cluster] recorded {s.name} in dvc.lock")
        waiting = [n for n, v in st.items() if v.split(" ")[0] in ACTIVE]
        if not wait or not waiting:
            return st
        if timeout is not None and time.monotonic() - start > timeout:
            raise TimeoutError(f"cluster collect: still waiting after {timeout:.0f} s for {waiting}")
        time.sleep(poll)
