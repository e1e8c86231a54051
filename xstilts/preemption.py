"""Preemption: stop training at the next step boundary with a checkpoint, so a requeued job loses
at most the step in progress instead of everything since the last periodic checkpoint.

Two ways in, both checked once per optimiser step:
- a signal to the training process itself: SIGTERM (what SLURM sends every process of a job it
  cancels, preempts or times out, ``KillWait`` seconds before SIGKILL; what the local backend
  forwards) or SIGUSR1;
- a flag file named by ``XSTILTS_PREEMPT_FILE``, which the cluster job script creates when *it*
  gets the signal (``sbatch --signal=B:USR1@<grace>`` signals only the batch shell, and a stage's
  training runs in a notebook kernel that papermill starts in a process group of its own, which no
  signal to the shell's group reaches).
"""

from __future__ import annotations

import os
import signal
import threading

ENV = "XSTILTS_PREEMPT_FILE"
SIGNALS = (signal.SIGTERM, signal.SIGUSR1)


class Preempted(RuntimeError):
    """Training stopped on request after writing a checkpoint; running the stage again resumes it."""


class Watch:
    """Between ``start()`` and ``stop()``, records SIGTERM/SIGUSR1 instead of dying of them. An
    inactive watch (a run without checkpoints: nothing to resume from) changes nothing."""

    def __init__(self, active: bool = True):
        self.active = active
        self.signal: int | None = None
        self._old: dict[int, object] = {}

    def start(self) -> Watch:
        if self.active and threading.current_thread() is threading.main_thread():  # only the main thread may set handlers
            for sig in SIGNALS:
                self._old[sig] = signal.signal(sig, self._record)
        return self

    def stop(self) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)
        self._old.clear()

    def _record(self, signum, frame) -> None:
        self.signal = signum

    def acknowledge(self, checkpoint_path: str) -> None:
        """Tell the job script that training stopped *with a checkpoint* (``<flag>.checkpointed``):
        only then does it requeue the job; a command that died of the signal is not run again."""
        flag = os.environ.get(ENV)
        if flag:
            with open(flag + ".checkpointed", "w") as f:
                f.write(checkpoint_path + "\n")

    def requested(self) -> str | None:
        """Why training should stop now (a signal or the flag file), or None."""
        if not self.active:
            return None
        if self.signal is not None:
            return signal.Signals(self.signal).name
        flag = os.environ.get(ENV)
        if flag and os.path.exists(flag):
            return f"{flag} (the job's signal)"
        return None
