"""A run's state on the (shared) file system: ``.cluster/<run>/`` beside dvc.yaml.

``run.json`` (backend, stages in DAG order, job ids), ``jobs/<stage>.sh`` (the script a slot or a
SLURM job executes), ``logs/<stage>.log`` (appended across requeues), ``exit/<stage>`` (written by
the script when the stage's command returns: its exit status), ``preempt/<stage>`` (the flag the
script raises on USR1/TERM: training checkpoints and stops) and ``recorded/<stage>`` (written once
``dvc commit`` recorded the stage). Files, not a database: a compute node and the login node both
see them, and a crashed scheduler leaves a state that ``collect`` can finish.
"""

from __future__ import annotations

import json
import os
import shlex
import time

from xstilts import io, preemption
from xstilts.cluster.dag import Stage

ROOT = ".cluster"


def _write_text(path: str, text: str) -> None:
    with io.atomic_path(path) as tmp, open(tmp, "w") as f:
        f.write(text)


def _safe(name: str) -> str:
    return name.replace("@", "__").replace("/", "_")


class Run:
    def __init__(self, path: str):
        self.path = os.path.abspath(path)

    # ---- creation / lookup -------------------------------------------------------------------
    @classmethod
    def create(cls, root: str, backend: str, stages: list[Stage]) -> Run:
        run = cls(os.path.join(root, ROOT, time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}"))
        for sub in ("jobs", "logs", "exit", "recorded", "preempt"):
            os.makedirs(os.path.join(run.path, sub), exist_ok=True)
        run.save({"backend": backend, "root": os.path.abspath(root), "stages": [vars(s) | {"after": list(s.after), "outs": list(s.outs)} for s in stages], "jobs": {}})
        _write_text(os.path.join(root, ROOT, "latest"), os.path.basename(run.path) + "\n")
        return run

    @classmethod
    def latest(cls, root: str) -> Run:
        marker = os.path.join(root, ROOT, "latest")
        if not os.path.exists(marker):
            raise FileNotFoundError(f"{marker}: no cluster run here yet (run `xstilts.cli cluster submit` first)")
        return cls(os.path.join(root, ROOT, open(marker).read().strip()))

    def load(self) -> dict:
        with open(os.path.join(self.path, "run.json")) as f:
            return json.load(f)

    def save(self, state: dict) -> None:
        io.write_json(os.path.join(self.path, "run.json"), state)

    def stages(self) -> list[Stage]:
        return [Stage(s["name"], s["cmd"], s["wdir"], tuple(s["after"]), tuple(s["outs"])) for s in self.load()["stages"]]

    # ---- per-stage files ---------------------------------------------------------------------
    def script(self, stage: Stage) -> str:
        return os.path.join(self.path, "jobs", _safe(stage.name) + ".sh")

    def log(self, stage: Stage) -> str:
        return os.path.join(self.path, "logs", _safe(stage.name) + ".log")

    def exit_status(self, stage: Stage) -> int | None:
        path = os.path.join(self.path, "exit", _safe(stage.name))
        return int(open(path).read()) if os.path.exists(path) else None

    def preempt_flag(self, stage: Stage) -> str:
        """Created by the job script on USR1/TERM; training checkpoints and stops when it exists."""
        return os.path.join(self.path, "preempt", _safe(stage.name))

    def preempted(self, stage: Stage) -> bool:
        """Stopped on a signal with a checkpoint (the engine's acknowledgement of the flag)."""
        return os.path.exists(self.preempt_flag(stage) + ".checkpointed")

    def recorded(self, stage: Stage) -> bool:
        return os.path.exists(os.path.join(self.path, "recorded", _safe(stage.name)))

    def mark_recorded(self, stage: Stage) -> None:
        _write_text(os.path.join(self.path, "recorded", _safe(stage.name)), time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()) + "\n")

    def write_script(self, stage: Stage, header: list[str] = ()) -> str:
        """The stage as a bash script: remove its outs (as ``dvc repro`` does), run its command,
        write its exit status. A requeued job runs it again from the top; the training engine
        resumes from its checkpoint (``checkpoints/``, outside every out)."""
        q = shlex.quote
        exit_file = os.path.join(self.path, "exit", _safe(stage.name))
        flag = self.preempt_flag(stage)
        lines = ["#!/bin/bash", *header,  # no `set -u`: the stage command runs in the shell DVC would give it
                 f"echo \"[xstilts cluster] {stage.name}: start $(date -u +%FT%TZ) on $(hostname) job ${{SLURM_JOB_ID:-local}} restart ${{SLURM_RESTART_COUNT:-0}}\"",
                 f"cd {q(stage.wdir)} || exit 1",
                 f"rm -f {q(exit_file)} {q(flag)} {q(flag + '.checkpointed')} {q(flag + '.requeue')}",
                 # preemption: USR1 (sbatch --signal=B:USR1@grace) or TERM raises the flag that training
                 # checks at every step (xstilts.preemption); the command runs in the background so
                 # that the trap runs at once, and `wait` resumes until the command has really ended
                 f"export {preemption.ENV}={q(flag)}",
                 # USR1 is the job's own warning before its time limit: it requeues itself once checkpointed.
                 # TERM means SLURM has decided (scancel, `scontrol requeue`, preemption): checkpoint, never
                 # requeue here (a cancelled job must stay cancelled; a requeue is already under way)
                 f"trap 'echo \"[xstilts cluster] {stage.name}: signal: checkpoint at the next step\"; touch {q(flag)} {q(flag + '.requeue')}' USR1",
                 f"trap 'echo \"[xstilts cluster] {stage.name}: signal: checkpoint at the next step\"; touch {q(flag)}' TERM"]
        if stage.outs:
            lines.append("rm -rf -- " + " ".join(q(o) for o in stage.outs))
        lines += [f"( {stage.cmd} ) &", "child=$!",
                  'while true; do wait "$child"; rc=$?; kill -0 "$child" 2>/dev/null || break; done',
                  f"if [ \"$rc\" -ne 0 ] && [ -e {q(flag + '.checkpointed')} ]; then",  # stopped with a checkpoint: run again
                  f"  echo \"[xstilts cluster] {stage.name}: preempted (exit $rc) $(date -u +%FT%TZ)\"",
                  f'  if [ -n "$SLURM_JOB_ID" ] && [ -e {q(flag + ".requeue")} ]; then scontrol requeue "$SLURM_JOB_ID"; fi',
                  "  exit $rc",
                  "fi",
                  # killed by the signal without a checkpoint (a time limit, scancel): no exit status,
                  # so `cluster status` shows SLURM's account of it (TIMEOUT, CANCELLED, ...)
                  f"if [ \"$rc\" -ne 0 ] && [ -e {q(flag)} ]; then echo \"[xstilts cluster] {stage.name}: stopped by a signal (exit $rc)\"; exit $rc; fi",
                  f"echo $rc > {q(exit_file)}.tmp && mv {q(exit_file)}.tmp {q(exit_file)}",
                  f"echo \"[xstilts cluster] {stage.name}: exit $rc $(date -u +%FT%TZ)\"", "exit $rc", ""]
        path = self.script(stage)
        _write_text(path, "\n".join(lines))
        os.chmod(path, 0o755)
        return path
