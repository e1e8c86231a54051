"""RQ2: multilingual vs English-only intermediate data, and the spread of zero-shot accuracy over
low-resource languages.

Grid (one run): C0 ``none``; C1 an English intermediate task; C2 the same task with its machine
translations into *donor* languages added (``intermediate.translated_settings``), donors disjoint
from the evaluated low-resource languages so that evaluation stays zero-shot. Low-resource =
resource class <= 2 (Joshi; the synthetic qc, qd). Equal optimiser steps for C1 and C2.

Cells are (target, low-resource language) pairs, pooled over targets; each cell's value is its
transfer gap, ``score(lang) - mean score of the target's other (higher-resource) languages`` per
seed, English included where the target tests it (XCOPA does not), which puts tasks on one scale.

Tests:

* primary: within-cell swap permutation test of SD(C2) - SD(C1) across the cells
  (:func:`stats.cross_language_dispersion_test`, centred; conservative below ~12 cells);
* Pitman-Morgan paired-variance test on the same cells (secondary);
* per cell, the mean difference C2 - C1 (paired bootstrap over that language's test examples,
  Benjamini-Hochberg over cells);
* with >= 3 seeds, Brown-Forsythe on the per-seed scores of C1 vs C2 in each cell (BH).

Figure ``rq2_multilingual``: (A) each cell's transfer gap per condition with its seed range;
(B) the cross-cell SD per condition.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from xstilts import languages, stats
from xstilts.config import ConfigError
from xstilts.studies import common


def _opts(options: dict) -> dict:
    return {"targets": options.get("targets", ["xnli", "xcopa"]), "baseline": options.get("baseline", "none"),
            "english": options.get("english"), "multilingual": options.get("multilingual"),
            "max_class": int(options.get("low_resource_max_class", languages.LOW_RESOURCE_MAX_CLASS))}


def _low(arm_or_params, target: str, max_class: int) -> list[str]:
    from xstilts.plan import languages_for
    from xstilts.tasks import TASKS

    params = getattr(arm_or_params, "params", arm_or_params)
    return [lang for lang in languages_for(params, TASKS[target]) if lang != "en" and languages.get(lang).resource_class <= max_class]


def check(options: dict, arms: dict) -> None:
    params = common.one_arm(arms, options)
    o = _opts(options)
    if not o["english"] or not o["multilingual"]:
        raise ConfigError("english / multilingual: name the English-only and the multilingual setting")
    common.need_settings(params, [o["baseline"], o["english"], o["multilingual"]], "settings")
    common.need_targets(params, o["targets"], "targets")
    if o["multilingual"] not in params.intermediate.translated_settings + params.intermediate.mlm_settings:
        raise ConfigError(f"multilingual: {o['multilingual']!r} is in neither intermediate.translated_settings nor intermediate.mlm_settings")
    cells = sum(len(_low(params, t, o["max_class"])) for t in o["targets"])
    if cells < 3:
        raise ConfigError(f"targets: only {cells} low-resource (target, language) cells; the dispersion test needs >= 3")


def analyse(arms: dict, options: dict, out_dir: str, title: str = "RQ2") -> dict:
    arm = common.one_arm(arms, options)
    o = _opts(options)
    nb, a = common.n_boot(options), common.alpha(options)
    conds = {"C0": o["baseline"], "C1": o["english"], "C2": o["multilingual"]}
    donors = [lang for lang in arm.params.intermediate.translated_languages if lang != "en"]
    rows, cell_tests = [], []
    for target in o["targets"]:
        low = _low(arm, target, o["max_class"])
        for cond, setting in conds.items():
            s = arm.seed_scores(setting, target)
            high = s[~s.lang.isin(low)].groupby("seed").score.mean()  # English (where tested) and the other high-resource languages
            for lang in low:
                per_seed = s[s.lang == lang].set_index("seed").score
                floor = arm.degenerate(o["english"], target, lang) and arm.degenerate(o["multilingual"], target, lang)
                gap = per_seed - high.reindex(per_seed.index)
                rows.append({"target": target, "lang": lang, "cell": f"{target}:{lang}", "condition": cond, "setting": setting, "score": per_seed.mean(),
                             "gap": gap.mean(), "gap_min": gap.min(), "gap_max": gap.max(), "translate_train": lang in donors, "floor": floor})
        for lang in low:
            c1, c2 = arm.components(o["english"], target, [lang]), arm.components(o["multilingual"], target, [lang])
            res = common.contrast([c2, c1], [1, -1], [lang], n_boot=nb, seed=0, alpha=a)
            row = {"target": target, "lang": lang, "test": "mean C2 - C1", "estimate": res.estimate, "ci_low": res.ci_low, "ci_high": res.ci_high, "p_value": res.p_value}
            cell_tests.append(row)
            s1 = arm.seed_scores(o["english"], target)
            s2 = arm.seed_scores(o["multilingual"], target)
            x1, x2 = s1[s1.lang == lang].score.to_numpy(), s2[s2.lang == lang].score.to_numpy()
            if min(len(x1), len(x2)) >= 3:
                bf = stats.brown_forsythe(x1, x2)
                cell_tests.append({"target": target, "lang": lang, "test": "Brown-Forsythe across seeds (C1 vs C2)", "estimate": float(np.std(x2, ddof=1) - np.std(x1, ddof=1)), "ci_low": np.nan, "ci_high": np.nan, "p_value": bf.p_value})
    cells = pd.DataFrame(rows)
    # Cells where both C1 and C2 predict one constant output in every seed (a model at its floor:
    # majority class, no entity) say nothing about spread; they are listed and left out.
    used = cells[~cells.floor & ~cells.translate_train]
    wide = used.pivot(index="cell", columns="condition", values="gap")
    if len(wide) >= 3:
        disp = stats.cross_language_dispersion_test(wide["C2"].to_numpy(), wide["C1"].to_numpy(), n_perm=10_000, seed=0)
        pm = stats.pitman_morgan(wide["C2"].to_numpy(), wide["C1"].to_numpy())
        primary = pd.DataFrame([
            {"test": "SD(C2) - SD(C1) across cells (within-cell swap permutation)", "estimate": disp.estimate, "p_value": disp.p_value, "n_cells": len(wide), "method": disp.method},
            {"test": "Var(C2) / Var(C1) (Pitman-Morgan)", "estimate": pm.estimate, "p_value": pm.p_value, "n_cells": len(wide), "method": pm.method},
        ])
    else:
        primary = pd.DataFrame([{"test": "SD(C2) - SD(C1) across cells", "estimate": np.nan, "p_value": np.nan, "n_cells": len(wide),
                                 "method": f"not run: {len(wide)} informative cells (< 3) after leaving out floor / translate-train cells"}])
    sd = {c: float(g.gap.std(ddof=1)) for c, g in used.groupby("condition")}
    cell_tests = pd.DataFrame(cell_tests)
    cell_tests = pd.concat([common.adjust(g, a, family=pd.Series(False, index=g.index)) for _, g in cell_tests.groupby("test", sort=False)]).reset_index(drop=True)
    fig = _figure(cells, sd)
    md = _markdown(title, arm, o, donors, cells, primary, sd, cell_tests)
    paths = common.write_outputs(out_dir, "rq2_multilingual", md, {"rq2_cells": cells, "rq2_dispersion": primary, "rq2_cell_tests": cell_tests}, fig)
    return {"paths": paths, "cells": cells, "primary": primary, "cell_tests": cell_tests, "sd": sd}


def _figure(cells: pd.DataFrame, sd: dict):
    plt, sns = common.plt_setup()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.4), gridspec_kw={"width_ratios": [2.2, 1]})
    order = list(dict.fromkeys(cells.cell))
    conds = list(dict.fromkeys(cells.condition))
    pal = dict(zip(conds, sns.color_palette("deep", len(conds))))
    for i, cond in enumerate(conds):
        c = cells[cells.condition == cond].set_index("cell").loc[order]
        x = np.arange(len(order)) + (i - (len(conds) - 1) / 2) * 0.18
        ax1.errorbar(x, c.gap, yerr=[(c.gap - c.gap_min).clip(lower=0), (c.gap_max - c.gap).clip(lower=0)], fmt="o", color=pal[cond], capsize=2, label=f"{cond} ({c.setting.iloc[0]})")
    floor = cells.groupby("cell").floor.all()
    ax1.set_xticks(np.arange(len(order)), [f"{c} (floor, left out)" if floor[c] else c for c in order], rotation=30, ha="right")
    ax1.axhline(0, color="black", lw=0.8)
    ax1.set_ylabel("gap to the higher-resource languages")
    ax1.set_title("A: low-resource cells (bars: seed range)")
    ax1.legend(fontsize=7)
    ax2.bar(list(sd), list(sd.values()), color=[pal[c] for c in sd])
    ax2.set_ylabel("SD of the gap across cells")
    ax2.set_title("B: spread over informative cells")
    fig.suptitle("RQ2: multilingual vs English-only intermediate data")
    fig.tight_layout()
    return fig


def _markdown(title, arm, o, donors, cells, primary, sd, cell_tests) -> str:
    lead = (f"# {title}\n\nArm `{arm.name}`; C0 = `{o['baseline']}`, C1 = `{o['english']}` (English only), C2 = `{o['multilingual']}` "
            f"(+ machine translations into {donors or 'no language'}). Low-resource: class <= {o['max_class']}. "
            "A cell whose language is a donor would be translate-train, not zero-shot (column `translate_train`); "
            "`floor`: C1 and C2 predict one constant output in every seed there. Both kinds are left out of the spread test.\n")
    p = primary.assign(p_value=primary.p_value.map(common.fmt_p))
    t = cell_tests.assign(p_value=cell_tests.p_value.map(common.fmt_p), p_bh=cell_tests.p_bh.map(common.fmt_p)).drop(columns=["p_holm", "significant"])
    return "\n".join([lead, "## Cells (seed means; gap = score - mean of the target's higher-resource languages)", "", cells.round(2).to_markdown(index=False), "",
                      "## Spread across cells (primary)", "", "SD per condition: " + ", ".join(f"{k} {v:.2f}" for k, v in sd.items()), "",
                      p.round(3).to_markdown(index=False), "",
                      "## Per cell (exploratory, Benjamini-Hochberg)", "", t.round(2).to_markdown(index=False), ""])
