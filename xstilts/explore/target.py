"""Phase 3, target-task transfer: per target, the English dev curve that early stopping watched,
the score in every language beside its chance level, and predictions beside the gold answers."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from xstilts import io
from xstilts.explore.curves import line_figure, read_curve, run_summary, seed_mean, write_plot_tables
from xstilts.explore.data import shorten
from xstilts.metrics.aggregate import language_score
from xstilts.tasks import TASKS
from xstilts.tasks import base as tb


def _seed_dirs(target_dir: str) -> list[Path]:
    return sorted(Path(target_dir).glob("seed*"), key=lambda p: int(p.name[4:]))


def seed_curves(target_dir: str) -> dict[str, dict[str, pd.DataFrame]]:
    """{seed: {"loss": ..., "dev": ...}} from each seed's ``curve.json``."""
    return {p.name: read_curve(str(p / "curve.json")) for p in _seed_dirs(target_dir)}


def dev_curve(target_dir: str) -> Figure | pd.DataFrame:
    """The English dev score early stopping watched against step, one line per seed; a table
    (seed, step, score) when no seed has more than one point: a plot of lone points reads worse."""
    curves = _curves_or_fail(target_dir)
    dev = {s: c["dev"] for s, c in curves.items() if "dev" in c}
    if all(len(frame) <= 1 for frame in dev.values()):
        rows = [{"seed": s, "step": int(f["step"].iloc[0]), "score": round(float(f["score"].iloc[0]), 2)} for s, f in dev.items() if len(f)]
        return pd.DataFrame(rows, columns=["seed", "step", "score"]).set_index("seed")
    return line_figure({"English dev": dev}, {"English dev": "score"}, title=Path(target_dir).name)


def loss_curve(target_dir: str) -> Figure:
    """The training loss against step, one line per seed."""
    curves = _curves_or_fail(target_dir)
    return line_figure({"training loss": {s: c["loss"] for s, c in curves.items() if "loss" in c}}, {"training loss": "loss"}, title=Path(target_dir).name)


def training(target_dir: str) -> pd.DataFrame:
    """Each seed's run in one row (steps, seconds, final loss, best English dev; its full log)."""
    seeds = io.read_json(os.path.join(target_dir, "metrics.json"))["seeds"]
    return run_summary({p.name: (str(p), seeds[p.name[len("seed"):]]) for p in _seed_dirs(target_dir)})


def _curves_or_fail(target_dir: str) -> dict[str, dict[str, pd.DataFrame]]:
    curves = seed_curves(target_dir)
    if not curves:
        raise FileNotFoundError(f"no seed*/curve.json under {target_dir}: has phase 3 run?")
    return curves


def language_table(target_dir: str, split: str = "test") -> pd.DataFrame:
    """Per language: the major score's mean, min and max over seeds, the chance level, and whether
    the seed mean beats chance. English first (it is the training language, not zero-shot)."""
    m = io.read_json(os.path.join(target_dir, "metrics.json"))
    per_lang: dict[str, list[float]] = {}
    for run in m["seeds"].values():
        for lang, scores in run["scores"].get(split, {}).items():
            if scores:  # the analysis stage's score: XTREME's per-language score of the task
                per_lang.setdefault(lang, []).append(language_score(scores, m["target"]))
    chance = m.get("chance", {}).get(split, {})
    rows = []
    for lang in sorted(per_lang, key=lambda lang: (lang != "en", lang)):
        v = np.array(per_lang[lang])
        c = chance.get(lang)
        rows.append({"lang": lang, "seeds": len(v), "mean": round(v.mean(), 2), "min": round(v.min(), 2), "max": round(v.max(), 2),
                     "chance": c, "above_chance": bool(v.mean() > c) if c is not None else None})
    return pd.DataFrame(rows, columns=["lang", "seeds", "mean", "min", "max", "chance", "above_chance"]).set_index("lang")


def language_figure(table: pd.DataFrame, title: str = "") -> Figure:
    """Bars: seed-mean score per language, whiskers: seed range, red ticks: chance level."""
    fig = Figure(figsize=(min(0.6 * len(table) + 2.5, 14.0), 2.8), dpi=80, layout="constrained")  # PAN-X's 40 languages stay on a page
    ax = fig.subplots()
    x = np.arange(len(table))
    ax.bar(x, table["mean"], color=["tab:grey" if lang == "en" else "tab:blue" for lang in table.index])
    ax.errorbar(x, table["mean"], yerr=[table["mean"] - table["min"], table["max"] - table["mean"]], fmt="none", ecolor="black", capsize=3)
    if table["chance"].notna().any():
        ax.scatter(x, table["chance"], marker="_", s=500, linewidths=2, color="tab:red", label="chance", zorder=3)
        ax.legend(fontsize="small")
    ax.set_xticks(x, table.index)
    ax.set_ylabel("score")
    ax.set_title(title or "score per language (grey: English)")
    return fig


def _input_text(example) -> str:
    if isinstance(example, tb.PairExample):
        return shorten(f"{example.text_a} || {example.text_b}")
    if isinstance(example, tb.SpanExample):
        return shorten(example.question)
    if isinstance(example, tb.TagExample):
        return shorten(example.tokens)
    if isinstance(example, tb.ChoiceExample):
        return shorten(example.context)
    return shorten(example)


def _readable(task: tb.Task, value):
    """Label indices as names (NLI labels, NER/POS tags); QA answers as text."""
    names = task.labels
    if isinstance(value, list) and value and all(isinstance(v, int) for v in value) and names:
        return shorten([names[v] if 0 <= v < len(names) else "?" for v in value])
    if isinstance(value, int) and names:
        return names[value] if 0 <= value < len(names) else ("(hidden)" if value == tb.HIDDEN else value)
    if isinstance(value, list):
        return shorten(" | ".join(map(str, value)))
    return shorten(value)


def predictions(target_dir: str, task_name: str, examples: list, lang: str, n: int = 3, seed: int | None = None, split: str = "test") -> pd.DataFrame:
    """The first ``n`` predictions of one seed in one language beside the input and the gold
    (``examples``: the task's examples of that split and language, matched on id)."""
    task = TASKS[task_name]
    seed_dir = _seed_dirs(target_dir)[0] if seed is None else Path(target_dir) / f"seed{seed}"
    path = seed_dir / "predictions" / f"{split}.{lang}.jsonl"
    if not path.exists():
        raise FileNotFoundError(f"no predictions at {path}")
    by_id = {str(e.id): e for e in examples}
    rows = []
    for record in io.read_jsonl(str(path))[:n]:
        example = by_id.get(str(record["id"]))
        rows.append({"lang": lang, "input": _input_text(example) if example is not None else "(example not found)",
                     "prediction": _readable(task, record["prediction"]), "gold": _readable(task, record["gold"]),
                     "correct": record["prediction"] == record["gold"] or (isinstance(record["gold"], list) and record["prediction"] in record["gold"])})
    return pd.DataFrame(rows, columns=["lang", "input", "prediction", "gold", "correct"])


def plot_tables(target_dir: str, plots_dir: str) -> list[str]:
    """Seed-mean training loss and English dev score as ``plots_dir/{loss,dev}.csv`` for `dvc plots`."""
    curves = list(seed_curves(target_dir).values())
    return write_plot_tables({"loss": seed_mean([c.get("loss", pd.DataFrame()) for c in curves], "loss"),
                              "dev": seed_mean([c.get("dev", pd.DataFrame()) for c in curves], "score")}, plots_dir)
