"""RQ3: NLI vs QA as the English intermediate task, across target tasks.

Grid (one run): ``none``, an NLI setting (MNLI), a QA setting (SQuAD), and NLI+QA, at an equal
optimiser-step budget (``intermediate.optim.max_steps``: the size-matched control), on targets of
every category (classification, tagging, QA).

Tests (zero-shot average with each target's official metric; paired bootstrap over shared test
examples, stratified by language):

* per target, Delta(NLI - QA); Holm over the *transfer* targets (neither intermediate task is the
  target's own training data), the confirmatory family; overlapping targets are reported with BH only;
* per target and condition, the gain over ``none`` (BH; descriptive, drawn in the heatmap).

Figure ``rq3_nli_vs_qa``: (A) heatmap condition x target of the gain over none (hatched:
continued training), (B) Delta(NLI - QA) per target with its 95% CI (* Holm-significant).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from xstilts.config import ConfigError
from xstilts.studies import common
from xstilts.tasks import TASKS


def _opts(options: dict) -> dict:
    return {"targets": options.get("targets"), "baseline": options.get("baseline", "none"), "nli": options.get("nli"), "qa": options.get("qa"), "both": options.get("both")}


def check(options: dict, arms: dict) -> None:
    params = common.one_arm(arms, options)
    o = _opts(options)
    if not o["nli"] or not o["qa"]:
        raise ConfigError("nli / qa: name the NLI and the QA setting")
    common.need_settings(params, [s for s in (o["baseline"], o["nli"], o["qa"], o["both"]) if s], "settings")
    common.need_targets(params, o["targets"] or params.target.tasks, "targets")


def analyse(arms: dict, options: dict, out_dir: str, title: str = "RQ3") -> dict:
    arm = common.one_arm(arms, options)
    o = _opts(options)
    nb, a = common.n_boot(options), common.alpha(options)
    settings = arm.params.intermediate.settings
    targets = o["targets"] or arm.params.target.tasks
    conds = {"NLI": o["nli"], "QA": o["qa"], **({"NLI+QA": o["both"]} if o["both"] else {})}
    gains, diffs = [], []
    for target in targets:
        langs = arm.langs(target)
        comps = {s: arm.components(s, target, langs) for s in [o["baseline"], *conds.values()]}
        flags = {c: common.analysis.overlap_flag(settings[s], target) for c, s in conds.items()}
        for cond, s in conds.items():
            res = common.contrast([comps[s], comps[o["baseline"]]], [1, -1], langs, n_boot=nb, seed=0, alpha=a)
            gains.append({"target": target, "category": TASKS[target].format, "condition": cond, "setting": s, "overlap": flags[cond], "score": res.score_a + common.zero_shot_score(comps[o["baseline"]]),
                          "gain": res.estimate, "ci_low": res.ci_low, "ci_high": res.ci_high, "p_value": res.p_value})
        res = common.contrast([comps[o["nli"]], comps[o["qa"]]], [1, -1], langs, n_boot=nb, seed=0, alpha=a)
        transfer = flags["NLI"] == "transfer" and flags["QA"] == "transfer"
        diffs.append({"target": target, "category": TASKS[target].format, "metric": TASKS[target].metric, "nli_minus_qa": res.estimate, "ci_low": res.ci_low, "ci_high": res.ci_high,
                      "p_value": res.p_value, "confirmatory": transfer, "overlap": "" if transfer else f"NLI {flags['NLI']}, QA {flags['QA']}"})
    gains = common.adjust(pd.DataFrame(gains), a, family=None)
    gains["p_holm"] = np.nan  # descriptive: BH only
    gains["significant"] = gains.p_bh < a
    diffs = pd.DataFrame(diffs)
    diffs = common.adjust(diffs, a, family=diffs.confirmatory)
    fig = _figure(gains, diffs, conds)
    md = _markdown(title, arm, conds, gains, diffs)
    paths = common.write_outputs(out_dir, "rq3_nli_vs_qa", md, {"rq3_gains": gains, "rq3_nli_vs_qa": diffs}, fig)
    return {"paths": paths, "gains": gains, "diffs": diffs}


def _figure(gains, diffs, conds):
    plt, sns = common.plt_setup()
    targets = list(diffs.target)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(4 + 1.3 * len(targets), 3.4), gridspec_kw={"width_ratios": [1.4, 1]})
    g = gains.pivot(index="condition", columns="target", values="gain").reindex(index=list(conds), columns=targets)
    star = gains.pivot(index="condition", columns="target", values="significant").reindex_like(g).fillna(False).to_numpy(dtype=bool)
    annot = g.round(1).astype(str) + np.where(star, "*", "")
    lim = max(1.0, float(np.nanmax(np.abs(g.to_numpy()))))
    sns.heatmap(g, annot=annot, fmt="", cmap="RdBu", center=0, vmin=-lim, vmax=lim, ax=ax1, cbar_kws={"label": "gain over none"})
    flags = gains.pivot(index="condition", columns="target", values="overlap").reindex_like(g)
    for i, c in enumerate(g.index):
        for j, t in enumerate(g.columns):
            if flags.loc[c, t] == "continued-training":
                ax1.add_patch(plt.Rectangle((j, i), 1, 1, fill=False, hatch="//", edgecolor="grey", lw=0))
    ax1.set_title("A: gain over none (* BH; hatched: continued training)")
    ax1.set_xlabel("")
    y = np.arange(len(diffs))
    colors = ["tab:blue" if c else "tab:grey" for c in diffs.confirmatory]
    for yi, (_, r), color in zip(y, diffs.iterrows(), colors):
        ax2.errorbar([r.nli_minus_qa], [yi], xerr=np.clip([[r.nli_minus_qa - r.ci_low], [r.ci_high - r.nli_minus_qa]], 0, None), fmt="o", color=color, capsize=3)
    for yi, (d, sig) in enumerate(zip(diffs.nli_minus_qa, diffs.significant)):
        if sig:
            ax2.annotate("*", (d, yi), textcoords="offset points", xytext=(0, 4), ha="center")
    ax2.axvline(0, color="black", lw=0.8)
    ax2.set_yticks(y, targets)
    ax2.invert_yaxis()
    ax2.set_xlabel("NLI - QA (95% CI)")
    ax2.set_title("B: NLI vs QA (grey: overlap, descriptive)")
    fig.suptitle("RQ3: NLI vs QA intermediate tasks")
    fig.tight_layout()
    return fig


def _markdown(title, arm, conds, gains, diffs) -> str:
    d = diffs.assign(p_value=diffs.p_value.map(common.fmt_p), p_holm=diffs.p_holm.map(common.fmt_p), p_bh=diffs.p_bh.map(common.fmt_p))
    g = gains.assign(p_value=gains.p_value.map(common.fmt_p), p_bh=gains.p_bh.map(common.fmt_p)).drop(columns=["p_holm"])
    return "\n".join([f"# {title}", "", f"Arm `{arm.name}`; conditions {conds}; seeds {arm.params.target.seeds}. Zero-shot language averages (English excluded), each target's official metric.", "",
                      "## NLI - QA per target (Holm over the confirmatory = transfer targets)", "", d.round(2).to_markdown(index=False), "",
                      "## Gain over none (descriptive, BH)", "", g.round(2).to_markdown(index=False), ""])
