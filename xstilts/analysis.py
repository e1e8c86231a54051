"""Results table, significance tests against the no-intermediate baseline, and figures.

Every trainable target metric is a ratio of sums over test examples (accuracy = correct / n;
SQuAD/MLQA (EM+F1)/2 = sum of per-question scores / n; seqeval micro-F1 = 2 * correct entities /
(predicted + gold entities)). Storing each example's (numerator, denominator) lets the paired
bootstrap recompute the official corpus-level metric on every resample, exactly and fast.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from xstilts import io, layout
from xstilts.metrics.aggregate import language_score
from xstilts.tasks import TASKS, overlap
from xstilts.tasks import base as tb


# ---- collecting results ---------------------------------------------------------------------


def collect_scores(phase3: dict[tuple[str, str], dict], retrieval_metrics: dict | None = None) -> pd.DataFrame:
    """One row per (setting, target, seed, split, language) with the task's XTREME language score
    (``metrics.aggregate.language_score``: (EM+F1)/2 for QA, F1, accuracy or mAP@20).

    ``phase3``: (setting, target) -> metrics.json, as :func:`xstilts.layout.read_phase3_metrics`
    returns them for the current params (never a recursive search: stale folders stay out)."""
    rows = []
    for m in phase3.values():
        for seed, run in m["seeds"].items():
            for split, per_lang in run["scores"].items():
                for lang, scores in per_lang.items():
                    if scores is None:  # hidden labels: listed by unscored_cells, never dropped silently
                        continue
                    rows.append({"setting": m["setting"], "task": m["target"], "seed": int(seed), "split": split, "lang": lang, "score": language_score(scores, m["target"])})
    for setting, per_task in (retrieval_metrics or {}).items():
        for task, per_lang in per_task.items():
            for lang, scores in per_lang.items():
                rows.append({"setting": setting, "task": task, "seed": 0, "split": "test", "lang": lang, "score": language_score(scores, task)})
    return pd.DataFrame(rows, columns=["setting", "task", "seed", "split", "lang", "score"])


def unscored_cells(phase3: dict[tuple[str, str], dict]) -> pd.DataFrame:
    """(task, split, language) cells evaluated without a score (labels hidden, e.g. a test split
    whose labels the dataset withholds), with the settings concerned: these languages are left out
    of that split's averages, which the results notes say."""
    cells: dict[tuple[str, str, str], set] = {}
    for m in phase3.values():
        for run in m["seeds"].values():
            for split, per_lang in run["scores"].items():
                for lang, scores in per_lang.items():
                    if scores is None:
                        cells.setdefault((m["target"], split, lang), set()).add(m["setting"])
    rows = [{"task": t, "split": sp, "lang": lang, "settings": " ".join(sorted(s)), "reason": "no gold labels (hidden): not in the averages"}
            for (t, sp, lang), s in sorted(cells.items())]
    return pd.DataFrame(rows, columns=["task", "split", "lang", "settings", "reason"])


def unscored_note(unscored: pd.DataFrame) -> str:
    if unscored.empty:
        return ""
    cells = "; ".join(f"{r.task} {r.split} {r.lang}" for r in unscored.itertuples())
    return f"Left out of the averages (no gold labels): {cells}.\n"


def chance_levels(phase3: dict[tuple[str, str], dict], retrieval_metrics: dict | None = None) -> pd.DataFrame:
    """Chance level per (task, language) on the test split, from the phase-3 / retrieval outputs."""
    rows = {}
    for m in phase3.values():
        for lang, value in m.get("chance", {}).get("test", {}).items():
            rows[(m["target"], lang)] = value
    for per_task in (retrieval_metrics or {}).values():
        for task, per_lang in per_task.items():
            for lang, scores in per_lang.items():
                rows[(task, lang)] = scores.get("chance", 0.0)
    return pd.DataFrame([{"task": t, "lang": lang, "chance": v} for (t, lang), v in sorted(rows.items())], columns=["task", "lang", "chance"])


def results_table(scores: pd.DataFrame, baseline: str, split: str = "test") -> pd.DataFrame:
    """Setting x task: mean over seeds of the language average (XTREME: all languages, the plain mean
    of ``metrics.aggregate.task_average``) and of the
    zero-shot average (non-English languages only), with the gain over the baseline and the
    intermediate/target overlap flag."""
    df = scores[scores.split == split]
    per_seed = df.groupby(["setting", "task", "seed"]).agg(avg=("score", "mean")).reset_index()
    zs = df[df.lang != "en"].groupby(["setting", "task", "seed"]).agg(zero_shot=("score", "mean")).reset_index()
    per_seed = per_seed.merge(zs, on=["setting", "task", "seed"], how="left")
    table = per_seed.groupby(["setting", "task"]).agg(avg=("avg", "mean"), zero_shot=("zero_shot", "mean"), seeds=("seed", "nunique")).reset_index()
    base = table[table.setting == baseline].set_index("task")
    table["gain"] = table.apply(lambda r: r.zero_shot - base.zero_shot.get(r.task, np.nan), axis=1)
    return table


def results_markdown(table: pd.DataFrame) -> str:
    """Setting x task zero-shot averages; cells where the intermediate task is the target's own
    training data are marked (continued training is not intermediate-task transfer)."""
    marks = {"continued-training": " (c)", "translate-train": " (t)"}
    cells = table.assign(cell=[f"{v:.1f}{marks.get(f, '')}" if v == v else "" for v, f in zip(table.zero_shot, table.overlap)])
    md = cells.pivot(index="setting", columns="task", values="cell").fillna("").to_markdown()
    return md + "\n\n(c) continued training: the intermediate task is the target's own English training data; (t) translate-train.\n"


def overlap_flag(setting_tasks: list[str], target: str) -> str:
    flags = {overlap(t, target) for t in setting_tasks}
    for flag in ("continued-training", "translate-train"):
        if flag in flags:
            return flag
    return "transfer"


# ---- per-example components for the paired bootstrap ----------------------------------------


def example_components(task: tb.Task, rows: list[dict], lang: str) -> np.ndarray:
    """(numerator, denominator) per example such that sum(num) / sum(den) * 100 is the metric."""
    if task.format in (tb.PAIR, tb.CHOICE) or task.name == "tatoeba":
        return np.array([[float(r["prediction"] == r["gold"]), 1.0] for r in rows])
    if task.format == tb.SPAN:
        from xstilts.metrics import mlqa, squad

        def qa(pred, golds):  # the metric's own per-question scores, so the bootstrap recomputes it exactly
            em, f1 = mlqa.question_scores(pred, golds, lang) if task.metric == "mlqa" else squad.question_scores(pred, golds)
            return (em + f1) / 2

        return np.array([[qa(r["prediction"], r["gold"]), 1.0] for r in rows])
    if task.format == tb.TAGGING:
        from xstilts.metrics.tagging import get_entities

        names = task.labels
        out = []
        for r in rows:
            pred = set(get_entities([names[t] for t in r["prediction"]]))
            gold = set(get_entities([names[t] for t in r["gold"]]))
            out.append([2.0 * len(pred & gold), float(len(pred) + len(gold))])
        return np.array(out)
    raise ValueError(f"no per-example decomposition for task {task.name}")


def _ratio_metric(components, _refs):
    """Vectorised: components has shape (m, n, 2); returns m scores in percent."""
    num, den = components[..., 0].sum(-1), components[..., 1].sum(-1)
    return 100.0 * num / np.maximum(den, 1e-12)


def seed_averaged_components(seed_dirs: list[str], task: tb.Task, split: str, lang: str) -> np.ndarray:
    """Average each example's components over seeds: the comparison is between seed-averaged systems."""
    comps = [example_components(task, io.read_jsonl(os.path.join(d, "predictions", f"{split}.{lang}.jsonl")), lang) for d in seed_dirs]
    return np.mean(comps, axis=0)


target_dir = layout.target_dir


def significance(params, phase3_root: str, split: str = "test", unscored: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each setting vs the baseline on each target: stratified paired bootstrap over test examples
    (languages = strata, macro average = the zero-shot language average), Holm and BH across all
    comparisons. English is excluded: the claim is about zero-shot transfer; so are ``unscored``
    cells (no gold labels), as in the results table."""
    from xstilts import stats
    from xstilts.plan import languages_for

    baseline = params.analysis.baseline
    rows = []
    for setting in params.intermediate.settings:
        if setting == baseline:
            continue
        for target in params.target.tasks:
            task = TASKS[target]
            hidden = set() if unscored is None else set(unscored[(unscored.task == target) & (unscored.split == split)].lang)
            langs = [lang for lang in languages_for(params, task) if lang != "en" and lang not in hidden]
            if not langs:  # a language subset may leave a target no zero-shot language (TyDi QA under [en, de])
                continue
            a_dirs, b_dirs = (layout.seed_dirs(params, target_dir(phase3_root, params, s, target)) for s in (setting, baseline))
            a = [seed_averaged_components(a_dirs, task, split, lang) for lang in langs]
            b = [seed_averaged_components(b_dirs, task, split, lang) for lang in langs]
            strata = np.concatenate([[lang] * len(x) for lang, x in zip(langs, a)])
            res = stats.paired_bootstrap(_ratio_metric, np.concatenate(a), np.concatenate(b), np.zeros(len(strata)), n_boot=params.analysis.n_boot, seed=params.analysis.seed, strata=strata, alpha=params.analysis.alpha, vectorized=True)
            rows.append({"setting": setting, "task": target, "overlap": overlap_flag(params.intermediate.settings[setting], target), "score": res.score_a, "baseline": res.score_b, "gain": res.estimate, "ci_low": res.ci_low, "ci_high": res.ci_high, "p_value": res.p_value})
    df = pd.DataFrame(rows)
    if len(df):
        df["p_holm"] = stats.holm(df.p_value.to_numpy())
        df["p_bh"] = stats.benjamini_hochberg(df.p_value.to_numpy())
        df["significant"] = df.p_holm < params.analysis.alpha
    return df


# ---- figures ------------------------------------------------------------------------------


def _save(fig, out_dir: str, name: str) -> list[str]:
    paths = []
    for ext in ("png", "pdf"):
        path = os.path.join(out_dir, f"{name}.{ext}")
        with io.atomic_path(path) as tmp:
            fig.savefig(tmp, format=ext, bbox_inches="tight", dpi=150)
        paths.append(path)
    return paths


def gain_heatmap(sig: pd.DataFrame, out_dir: str) -> list[str]:
    """Intermediate setting x target: zero-shot gain over the baseline; * = Holm-significant,
    hatched = the intermediate task is the target's own training data (continued training)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    gains = sig.pivot(index="setting", columns="task", values="gain")
    marks = sig.pivot(index="setting", columns="task", values="significant").reindex_like(gains)
    flags = sig.pivot(index="setting", columns="task", values="overlap").reindex_like(gains)
    annot = gains.round(1).astype(str) + np.where(marks.fillna(False).to_numpy(dtype=bool), "*", "")
    fig, ax = plt.subplots(figsize=(1.1 * gains.shape[1] + 2, 0.6 * gains.shape[0] + 1.5))
    lim = max(1.0, float(np.nanmax(np.abs(gains.to_numpy()))))
    sns.heatmap(gains, annot=annot, fmt="", cmap="RdBu", center=0, vmin=-lim, vmax=lim, ax=ax, cbar_kws={"label": "zero-shot gain over baseline"})
    for i, setting in enumerate(gains.index):
        for j, task in enumerate(gains.columns):
            if flags.loc[setting, task] == "continued-training":
                ax.add_patch(plt.Rectangle((j, i), 1, 1, fill=False, hatch="//", edgecolor="grey", lw=0))
    ax.set_title("Gain over no intermediate task (* Holm p < alpha; hatched: task overlap)")
    paths = _save(fig, out_dir, "gain_heatmap")
    plt.close(fig)
    return paths


def per_language_plot(scores: pd.DataFrame, out_dir: str, split: str = "test") -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    df = scores[scores.split == split]
    n_settings = df.setting.nunique()
    # 3 panels of 2.7 in per row at 150 dpi stay inside a 1400-pixel page; the legend (which colour
    # is which setting) goes above the panels in rows of at most 5, not to their right.
    grid = sns.catplot(data=df, x="lang", y="score", hue="setting", col="task", col_wrap=3, kind="point", errorbar=("pi", 100), sharey=False, height=2.25, aspect=1.2, dodge=0.4 if n_settings > 1 else False)
    grid.set_titles("{col_name}")
    title = "Zero-shot score per language (points: seed mean; bars: seed range); colour: intermediate setting"
    sns.move_legend(grid, "lower center", bbox_to_anchor=(0.5, 1.0), ncol=min(n_settings, 5), title=title, frameon=False)  # the legend's title is the figure's
    paths = _save(grid.figure, out_dir, "per_language")
    plt.close(grid.figure)
    return paths


def zero_shot_table(scores: pd.DataFrame, chance: pd.DataFrame, setting: str, split: str = "test") -> str:
    """Markdown: task x language, '<score> (<chance>)' for one setting, mean over seeds."""
    df = scores[(scores.setting == setting) & (scores.split == split)]
    mean = df.groupby(["task", "lang"]).score.mean()
    ch = chance.set_index(["task", "lang"]).chance if len(chance) else pd.Series(dtype=float)
    langs = sorted(df.lang.unique(), key=lambda lang: (lang != "en", lang))
    lines = ["| task | " + " | ".join(langs) + " |", "|---" * (len(langs) + 1) + "|"]
    for task in sorted(df.task.unique()):
        cells = []
        for lang in langs:
            if (task, lang) not in mean.index:
                cells.append("")
                continue
            c = ch.get((task, lang))
            cells.append(f"{mean[(task, lang)]:.1f}" + (f" ({c:.1f})" if c is not None and c == c else ""))
        lines.append(f"| {task} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def above_chance_by_seed(scores: pd.DataFrame, chance: pd.DataFrame, setting: str, split: str = "test") -> pd.DataFrame:
    """Per zero-shot (task, language) cell of one setting: seed count, mean, min and max score,
    chance level and the share of seeds scoring above chance. Single-seed transfer of a tiny
    model can land on either side of chance; this says how often it does."""
    df = scores[(scores.setting == setting) & (scores.split == split) & (scores.lang != "en")]
    ch = chance.set_index(["task", "lang"]).chance
    rows = []
    for (task, lang), g in df.groupby(["task", "lang"]):
        c = float(ch.get((task, lang), float("nan")))
        rows.append({"task": task, "lang": lang, "seeds": len(g), "mean": g.score.mean(), "min": g.score.min(), "max": g.score.max(),
                     "chance": c, "above": float((g.score > c).mean()) if c == c else float("nan")})
    return pd.DataFrame(rows, columns=["task", "lang", "seeds", "mean", "min", "max", "chance", "above"])


def seed_subsets_at_or_below_chance(scores: pd.DataFrame, chance: pd.DataFrame, setting: str, k: int, split: str = "test") -> tuple[int, int]:
    """How many of the k-seed subsets of one setting's seeds leave some zero-shot (task, language)
    cell's k-seed mean at or below chance, and how many subsets there are. It answers "how many
    seeds does a default need so that every cell comes out above chance?" from one many-seed run."""
    import itertools

    df = scores[(scores.setting == setting) & (scores.split == split) & (scores.lang != "en")]
    ch = chance.set_index(["task", "lang"]).chance
    table = df.pivot_table(index="seed", columns=["task", "lang"], values="score")
    if table.isna().any().any():
        raise ValueError(f"setting {setting!r}: not every (task, language) cell has a score for every seed {sorted(table.index)}")
    levels = np.array([float(ch.get(col, float("nan"))) for col in table.columns])
    keep = ~np.isnan(levels)  # a cell without a chance level cannot fail
    values, levels = table.to_numpy()[:, keep], levels[keep]
    subsets = list(itertools.combinations(range(len(table)), k))
    failing = sum(bool((values[list(c)].mean(axis=0) <= levels).any()) for c in subsets)
    return failing, len(subsets)


# ---- the analysis stage -----------------------------------------------------------------


def run(params, phase3_root: str, retrieval_dir: str, out_dir: str) -> dict:
    os.makedirs(out_dir, exist_ok=True)
    # exactly the outputs the params define: a folder left by another profile or setting is ignored
    phase3 = layout.read_phase3_metrics(params, phase3_root)
    retrieval_metrics = layout.read_retrieval_metrics(params, retrieval_dir) if retrieval_dir else {}
    scores = collect_scores(phase3, retrieval_metrics)
    unscored = unscored_cells(phase3)
    if len(unscored):
        print(unscored_note(unscored), end="")
    table = results_table(scores, params.analysis.baseline)
    table["overlap"] = [overlap_flag(params.intermediate.settings.get(s, []), t) for s, t in zip(table.setting, table.task)]
    sig = significance(params, phase3_root, unscored=unscored)
    chance = chance_levels(phase3, retrieval_metrics)
    for name, df in (("scores", scores), ("results", table), ("significance", sig), ("chance", chance)):
        with io.atomic_path(os.path.join(out_dir, f"{name}.csv")) as tmp:
            df.to_csv(tmp, index=False)
    with io.atomic_path(os.path.join(out_dir, "results.md")) as tmp:
        Path(tmp).write_text(results_markdown(table) + ("\n" + unscored_note(unscored) if len(unscored) else ""))
    with io.atomic_path(os.path.join(out_dir, "zero_shot.md")) as tmp:
        Path(tmp).write_text(zero_shot_table(scores, chance, params.analysis.baseline))
    figures = per_language_plot(scores, out_dir)
    if len(sig):
        figures += gain_heatmap(sig, out_dir)
    metrics = {
        "zero_shot": {s: {t: round(v, 2) for t, v in g.set_index("task").zero_shot.items() if v == v} for s, g in table.groupby("setting")},
        # Holm-significant comparisons with the baseline, split by sign (a loss is no gain)
        "significant_gains": int((sig.significant & (sig.gain > 0)).sum()) if len(sig) else 0,
        "significant_losses": int((sig.significant & (sig.gain < 0)).sum()) if len(sig) else 0,
        "comparisons": int(len(sig)),
        "unscored_cells": int(len(unscored)),  # (task, split, language) cells without gold labels, listed in results.md
    }
    io.write_json(os.path.join(out_dir, "metrics.json"), metrics)
    return {"metrics": metrics, "figures": figures, "table": table, "significance": sig}
