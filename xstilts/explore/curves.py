"""Training curves as the stages log them (``curve.json``: named lists of {step, ...} records; the
one curve format of all three phases), as DataFrames, as figures, as the per-series CSV files that
`dvc plots` reads, and as a one-row-per-run summary beside the run's full progress log."""

from __future__ import annotations

import os

import pandas as pd
from matplotlib.figure import Figure

from xstilts import io


def read_curve(path: str) -> dict[str, pd.DataFrame]:
    """{series name: DataFrame of its records} for one ``curve.json``; empty series are dropped
    (the baseline setting trains nothing and logs an empty loss list)."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"no training curve at {path}: has the stage run?")
    data = io.read_json(path)
    return {name: pd.DataFrame(records) for name, records in data.items() if records}


def seed_mean(curves: list[pd.DataFrame], value: str) -> pd.DataFrame:
    """Mean of ``value`` over seeds at each step (seeds of one target share the step grid)."""
    frames = [c[["step", value]] for c in curves if len(c)]
    if not frames:
        return pd.DataFrame(columns=["step", value])
    return pd.concat(frames).groupby("step", as_index=False)[value].mean()


def line_figure(panels: dict[str, dict[str, pd.DataFrame]], y: dict[str, str], title: str = "", width: float = 4.0) -> Figure:
    """One panel per entry of ``panels`` ({panel title: {line label: frame}}), plotting
    ``y[panel]`` against step; a single point is drawn as a marker."""
    fig = Figure(figsize=(width * len(panels), 2.8), dpi=80, layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (name, lines) in zip(axes, panels.items()):
        for label, frame in lines.items():
            ax.plot(frame["step"], frame[y[name]], marker="o" if len(frame) < 3 else None, label=label)
        ax.set_title(name)
        ax.set_xlabel("step")
        ax.set_ylabel(y[name])
        if len(lines) > 1:
            ax.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    return fig


def write_plot_tables(series: dict[str, pd.DataFrame], out_dir: str) -> list[str]:
    """``out_dir/<name>.csv`` per non-empty series (x = step), for `dvc plots`. A series without
    records is not written: DVC cannot plot a file without data points. ``out_dir`` is emptied
    first, so a series that is gone does not linger."""
    os.makedirs(out_dir, exist_ok=True)
    for old in os.listdir(out_dir):
        if old.endswith(".csv"):
            os.remove(os.path.join(out_dir, old))
    paths = []
    for name, frame in series.items():
        if len(frame) == 0:
            continue
        path = os.path.join(out_dir, f"{name}.csv")
        with io.atomic_path(path) as tmp:
            frame.to_csv(tmp, index=False)
        paths.append(path)
    return paths


TRAIN_LOG = "train.log"  # xstilts.pipeline.TRAIN_LOG: not imported, explore reads only what the stages wrote


def run_summary(runs: dict[str, tuple[str, dict]], loss: str = "loss") -> pd.DataFrame:
    """One row per training run instead of its progress lines: optimiser steps, training seconds,
    the last logged value of the ``loss`` series, the best dev score (its ``dev`` series; None
    without one) and the file that holds the run's full progress log.

    ``runs``: {run name: (the folder holding its curve.json and train.log, its record in the
    stage's metrics.json: ``steps``, ``seconds``)}."""
    rows = []
    for name, (run_dir, stats) in runs.items():
        curve = read_curve(os.path.join(run_dir, "curve.json"))
        log = os.path.join(run_dir, TRAIN_LOG)
        rows.append({"run": name, "steps": stats.get("steps", 0), "seconds": stats.get("seconds"),
                     "final_loss": round(float(curve[loss]["loss"].iloc[-1]), 4) if loss in curve else None,
                     "best_dev": round(float(curve["dev"]["score"].max()), 2) if "dev" in curve else None,
                     "log": log if os.path.exists(log) and os.path.getsize(log) else None})
    return pd.DataFrame(rows, columns=["run", "steps", "seconds", "final_loss", "best_dev", "log"]).set_index("run")
