"""Small synthetic `outputs/` folders (analysis tables, phase-3 metrics) for the verify and report tests.

Scores are built from a per-task base, a per-setting gain and a per-task gain multiplier, then run
through the real `analysis.results_table`, so the tables have exactly the analysis stage's
columns and arithmetic; nothing is trained.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from xstilts import analysis, layout

TRAINABLE = ["xnli", "pawsx", "udpos", "panx", "xquad", "mlqa", "tydiqa"]
RETRIEVAL = ["bucc2018", "tatoeba"]
BUCC_DEV_ORACLE_OFFSET = 1.0  # retrieval/metrics.json: BUCC dev oracle F1 = test F1 + this (a quantity the analysis tables lack)
QA = ["xquad", "mlqa", "tydiqa"]
NO_DEV = {"xquad", "tydiqa", "bucc2018", "tatoeba"}  # one Hub split serves dev and test

# Embedded-like defaults: the directional claims hold by construction.
GAINS = {"none": 0.0, "mnli": 2.5, "qqp": 0.5, "squad_v2": 2.0, "hellaswag": 3.0, "ccg": -0.5, "multi": 3.5}
MULT = {"xnli": 0.5, "pawsx": 0.5, "udpos": 0.3, "panx": 0.3, "xquad": 1.0, "mlqa": 1.0, "tydiqa": 1.0, "bucc2018": 4.0, "tatoeba": 3.0}
BASE = {"xnli": 60.0, "pawsx": 70.0, "udpos": 55.0, "panx": 50.0, "xquad": 40.0, "mlqa": 38.0, "tydiqa": 35.0, "bucc2018": 30.0, "tatoeba": 25.0}
QA_F1_OFFSET = 5.0  # phase-3 metrics: f1 = (EM+F1)/2 + 5, em = (EM+F1)/2 - 5


def settings_tasks_of(gains) -> dict[str, list[str]]:
    return {s: ([] if s == "none" else ["mnli", "qqp", "squad_v2", "hellaswag", "ccg"] if s == "multi" else [s]) for s in gains}


def params_for(params, gains=None):
    """``params`` whose intermediate settings are the fake's (analysis and verify read only the
    settings the params define)."""
    from xstilts import config

    raw = config.to_dict(params)
    raw["intermediate"]["settings"] = settings_tasks_of(gains or GAINS)
    return config.from_dict(raw)


def make_outputs(root: Path, gains=None, mult=None, base=None, langs=("en", "qa", "qb"), seeds=(0, 1), retrieval_langs=None,
                 lang_offsets=None, significant_above: float = 1.0, cell_gains=None, task_langs=None, settings_tasks=None, phase3_group: str | None = None, params=None) -> Path:
    """Write root/analysis/{scores,results,significance,chance}.csv, metrics.json and
    root/phase3/<setting>/<task>/metrics.json (or <setting>/<group>/<task>: ``phase3_group``, or
    each target's group in ``params``, the layout the pipeline writes); returns root.

    score(setting, task, lang) = base[task] + cell_gains.get((setting, task), gains[setting] * mult[task]) + offset(task, lang)
    (lang_offsets default: small symmetric spread, mean 0); task_langs overrides a task's languages."""
    gains, mult, base = gains or GAINS, mult or MULT, base or BASE
    retrieval_langs = retrieval_langs or [lang for lang in langs if lang != "en"]
    offsets, cells, task_langs = lang_offsets or {}, cell_gains or {}, task_langs or {}
    rows, phase3 = [], {}
    for setting, g in gains.items():
        for task in base:
            these_langs = task_langs.get(task) or (retrieval_langs if task in RETRIEVAL else langs)
            splits = ["test"] if task in NO_DEV else ["dev", "test"]
            task_seeds = [0] if task in RETRIEVAL else list(seeds)
            for seed in task_seeds:
                for split in splits:
                    for i, lang in enumerate(these_langs):
                        jitter = (0.1 * seed - 0.05) if task not in RETRIEVAL else 0.0
                        off = offsets.get((task, lang), (i - (len(these_langs) - 1) / 2) * 0.2)
                        score = base[task] + cells.get((setting, task), g * mult.get(task, 1.0)) + off + jitter
                        rows.append({"setting": setting, "task": task, "seed": seed, "split": split, "lang": lang, "score": score})
                        if task in TRAINABLE:
                            entry = {"em_f1_avg": score, "f1": score + QA_F1_OFFSET, "em": score - QA_F1_OFFSET} if task in QA else {"f1" if task in ("udpos", "panx") else "accuracy": score}
                            (phase3.setdefault((setting, task), {}).setdefault(str(seed), {}).setdefault(split, {}))[lang] = entry
    scores = pd.DataFrame(rows)
    table = analysis.results_table(scores, "none")
    settings_tasks = settings_tasks or settings_tasks_of(gains)
    table["overlap"] = [analysis.overlap_flag(settings_tasks.get(s, []), t) for s, t in zip(table.setting, table.task)]
    sig_rows = []
    for _, r in table[(table.setting != "none") & table.task.isin(TRAINABLE)].iterrows():
        base_zs = table[(table.setting == "none") & (table.task == r.task)].zero_shot.iloc[0]
        half = 0.8
        p = 0.001 if abs(r.gain) > significant_above else 0.4
        sig_rows.append({"setting": r.setting, "task": r.task, "overlap": r.overlap, "score": r.zero_shot, "baseline": base_zs, "gain": r.gain,
                         "ci_low": r.gain - half, "ci_high": r.gain + half, "p_value": p})
    sig = pd.DataFrame(sig_rows)
    sig["p_holm"] = np.minimum(1.0, sig.p_value * len(sig))
    sig["p_bh"] = sig.p_value
    sig["significant"] = sig.p_holm < 0.05
    a = root / "analysis"
    a.mkdir(parents=True, exist_ok=True)
    scores.to_csv(a / "scores.csv", index=False)
    table.to_csv(a / "results.csv", index=False)
    sig.to_csv(a / "significance.csv", index=False)
    pd.DataFrame([{"task": t, "lang": lang, "chance": 0.0} for t in base for lang in langs]).to_csv(a / "chance.csv", index=False)
    metrics = {"zero_shot": {s: {t: round(v, 2) for t, v in g.set_index("task").zero_shot.items()} for s, g in table.groupby("setting")},
               "significant_gains": int((sig.significant & (sig.gain > 0)).sum()), "significant_losses": int((sig.significant & (sig.gain < 0)).sum()),
               "comparisons": int(len(sig))}
    (a / "metrics.json").write_text(json.dumps(metrics))
    retrieval: dict = {}
    for r in rows:
        if r["task"] in RETRIEVAL and r["split"] == "test":
            entry = {"f1": r["score"], "dev_oracle_f1": r["score"] + BUCC_DEV_ORACLE_OFFSET} if r["task"] == "bucc2018" else {"accuracy": r["score"]}
            retrieval.setdefault(r["setting"], {}).setdefault(r["task"], {})[r["lang"]] = entry
    (root / "retrieval").mkdir(parents=True, exist_ok=True)
    (root / "retrieval" / "metrics.json").write_text(json.dumps(retrieval))
    for (setting, task), per_seed in phase3.items():
        group = layout.group_of(params, task) if params is not None else phase3_group
        d = root / "phase3" / setting / (group or "") / task  # the pipeline nests targets in their group folder
        d.mkdir(parents=True, exist_ok=True)
        (d / "metrics.json").write_text(json.dumps({"setting": setting, "target": task, "seeds": {s: {"scores": sc} for s, sc in per_seed.items()}}))
    return root


def make_figures(analysis_dir: Path) -> None:
    """Tiny real PDF/PNG figures with the analysis stage's file names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for name in ("gain_heatmap", "per_language"):
        fig, ax = plt.subplots(figsize=(2, 1.5))
        ax.plot([0, 1], [0, 1])
        for ext in ("pdf", "png"):
            fig.savefig(analysis_dir / f"{name}.{ext}")
        plt.close(fig)


def make_phase3(phase3_root: Path, params, correct=None, hidden=(), n: int = 20) -> Path:
    """Phase-3 folders as the pipeline writes them for classification targets: for every
    (setting, target) of ``params``, ``metrics.json`` and ``seed<k>/predictions/test.<lang>.jsonl``
    (n examples, label 0/1). ``correct(setting, target, seed, lang)`` -> examples right (default
    10 + 2 per setting index); ``hidden``: languages whose test labels are withheld (scores None)."""
    from xstilts.plan import languages_for
    from xstilts.tasks import TASKS

    correct = correct or (lambda setting, target, seed, lang: 10 + 2 * list(params.intermediate.settings).index(setting))
    for out in layout.phase3_outputs(params, str(phase3_root)):
        seeds = {}
        for seed in params.target.seeds:
            scores = {}
            for lang in languages_for(params, TASKS[out.target]):
                k = correct(out.setting, out.target, seed, lang)
                gold = [i % 2 for i in range(n)]
                rows = [{"id": f"{lang}-{i}", "prediction": g if i < k else 1 - g, "gold": None if lang in hidden else g} for i, g in enumerate(gold)]
                path = Path(out.path) / f"seed{seed}" / "predictions" / f"test.{lang}.jsonl"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text("".join(json.dumps(r) + "\n" for r in rows))
                scores[lang] = None if lang in hidden else {"accuracy": 100.0 * k / n}
            seeds[str(seed)] = {"scores": {"test": scores}, "seconds": 1.0}
        chance = {"test": {lang: 50.0 for lang in languages_for(params, TASKS[out.target]) if lang not in hidden}}
        (Path(out.path) / "metrics.json").write_text(json.dumps({"setting": out.setting, "target": out.target, "seeds": seeds, "chance": chance}))
    return phase3_root
