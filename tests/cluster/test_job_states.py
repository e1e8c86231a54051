"""How `cluster status` names the way SLURM ended a job, from sacct (or scontrol without
accounting), against stand-in SLURM commands: the states a one-node test SLURM cannot produce
(OUT_OF_MEMORY, NODE_FAIL, PREEMPTED). TIMEOUT runs on the real SLURM in test_slurm.py."""

import os
import stat
import sys

import pytest

from xstilts.cluster import cli, slurm
from xstilts.cluster.dag import Stage
from xstilts.cluster.ledger import Run

SACCT_LINES = {"101": "101|OUT_OF_MEMORY|0:125|None", "102": "102|NODE_FAIL|1:0|None", "103": "103|CANCELLED by 0|0:15|None", "104": "104|FAILED|2:0|NonZeroExitCode"}


def fake_slurm(bin_dir, sacct: str | None, scontrol: dict[str, str] | None = None) -> None:
    """squeue knows no job; sacct prints the given lines (or fails as with accounting disabled)."""
    bin_dir.mkdir(exist_ok=True)
    scripts = {"squeue": "exit 0"}
    scripts["sacct"] = f"cat <<'EOF'\n{sacct}\nEOF" if sacct is not None else "echo 'sacct: error: Slurm accounting storage is disabled' >&2; exit 1"
    cases = "".join(f'  {jid}) echo "{line}";;\n' for jid, line in (scontrol or {}).items())
    scripts["scontrol"] = f'case "${{@: -1}}" in\n{cases}  *) echo "slurm_load_jobs error: Invalid job id specified" >&2; exit 1;;\nesac'
    for name, body in scripts.items():
        path = bin_dir / name
        path.write_text(f"#!/bin/bash\n{body}\n")
        path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def run(tmp_path, monkeypatch):
    stages = [Stage(n, "true", str(tmp_path), (), ()) for n in ("oom", "node", "cancelled", "failed", "ghost")]
    r = Run.create(str(tmp_path), "slurm", stages)
    state = r.load()
    state["jobs"] = {"oom": "101", "node": "102", "cancelled": "103", "failed": "104", "ghost": "105"}
    r.save(state)
    with open(r.log(stages[0]), "w") as f:
        f.write("".join(f"line {i}\n" for i in range(10)) + "slurmstepd: error: Detected 1 oom_kill event\n")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    return r


def test_states_by_name_with_exit_code_from_sacct(run, tmp_path):
    fake_slurm(tmp_path / "bin", "\n".join(SACCT_LINES.values()))
    st = slurm.status(run)
    assert st == {"oom": "OUT_OF_MEMORY (exit 0:125)", "node": "NODE_FAIL (exit 1:0)", "cancelled": "CANCELLED (exit 0:15)",
                  "failed": "FAILED (exit 2:0, NonZeroExitCode)", "ghost": "lost (not in squeue, no exit status and unknown to sacct/scontrol)"}


def test_without_accounting_scontrol_answers(run, tmp_path):
    fake_slurm(tmp_path / "bin", None, {"101": "JobId=101 JobName=x JobState=OUT_OF_MEMORY Reason=OutOfMemory ExitCode=0:125",
                                        "102": "JobId=102 JobState=PREEMPTED Reason=None ExitCode=0:0"})
    st = slurm.status(run)
    assert st["oom"] == "OUT_OF_MEMORY (exit 0:125, OutOfMemory)"
    assert st["node"] == "PREEMPTED"  # requeued by SLURM: still active, not an end
    assert st["failed"].startswith("lost")


def test_status_prints_the_log_tail_under_a_stage_slurm_ended(run, tmp_path, capsys):
    fake_slurm(tmp_path / "bin", "\n".join(SACCT_LINES.values()))
    cli._print_status(slurm.status(run), run)
    out = capsys.readouterr().out.splitlines()
    i = next(k for k, line in enumerate(out) if line.startswith("oom "))
    assert [line.split("| ", 1)[1] for line in out[i + 1:i + 6]] == ["line 6", "line 7", "line 8", "line 9", "slurmstepd: error: Detected 1 oom_kill event"]
    assert "line 5" not in "\n".join(out)
