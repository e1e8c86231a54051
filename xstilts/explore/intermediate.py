"""Phase 2, English intermediate-task training: the task mixture one setting trains on (how often
each task is sampled, hence how many steps it gets), its loss curve and the tasks' own dev scores."""

from __future__ import annotations

import os

import pandas as pd
from matplotlib.figure import Figure

from xstilts.explore.curves import line_figure, read_curve, run_summary
from xstilts.formats import major_score


def mixture(metrics: dict, summary: dict) -> pd.DataFrame:
    """One row per task of the setting: English training examples (features stage summary),
    sampling probability, the steps that probability gives it, and its dev score after training.
    ``metrics`` is the phase-2 ``metrics.json``; the baseline setting has no rows."""
    probs = metrics.get("probabilities", {})
    steps = metrics.get("steps", 0)
    rows = []
    for task in metrics.get("tasks", []) + [t for t in probs if t not in metrics.get("tasks", [])]:
        scores = metrics.get(task)
        rows.append({"task": task, "train_examples": summary.get(f"{task}/train.en", {}).get("examples"),
                     "probability": round(probs.get(task, 0.0), 4), "steps": round(probs.get(task, 0.0) * steps),
                     "dev_score": round(major_score(scores), 2) if isinstance(scores, dict) and scores else None})
    return pd.DataFrame(rows, columns=["task", "train_examples", "probability", "steps", "dev_score"]).set_index("task")


def training(phase2_dir: str, metrics: dict) -> pd.DataFrame:
    """The setting's run in one row (steps, seconds, final loss; the full log in its train.log)."""
    return run_summary({metrics["setting"]: (phase2_dir, metrics)})


def loss_curve(phase2_dir: str) -> Figure | None:
    """The multi-task training loss against step; None for the baseline (nothing trains)."""
    curve = read_curve(os.path.join(phase2_dir, "curve.json"))
    if "loss" not in curve:
        return None
    return line_figure({"intermediate training": {"train": curve["loss"]}}, {"intermediate training": "loss"}, width=5.0)


def plot_tables(phase2_dir: str, plots_dir: str) -> list[str]:
    """The loss curve as ``plots_dir/loss.csv`` for `dvc plots` (none for the baseline)."""
    from xstilts.explore.curves import write_plot_tables

    curve = read_curve(os.path.join(phase2_dir, "curve.json"))
    return write_plot_tables({name: frame[["step", "loss"]] for name, frame in curve.items() if name == "loss"}, plots_dir)
