"""RQ1: does training on more English intermediate tasks (nested subsets) beat a single task?

Grid (one run): ``none``, every single task, and one or more *chains* of nested multi-task
settings (k = 1, 2, 4, ... tasks; a quality ordering and an ordering that avoids the target's own
training data), all at an equal optimiser-step budget (``intermediate.optim.max_steps``). Targets:
XTREME-R classification (XNLI, XCOPA), scored by accuracy (official); macro-F1 from the saved
predictions is reported beside it (seed_refs.md §0.3).

Tests (zero-shot language average, test-set variance; paired stratified bootstrap over shared
examples, :func:`common.contrast`):

* per target, the least-squares slope of accuracy on log2 k over the chain settings (Holm over
  targets: the confirmatory family);
* per chain and target, the largest subset vs the best single task (chosen on the English dev score
  of phase 3's early stopping, which is not part of the zero-shot average) and vs the mean single task (Holm over these).

Figure ``rq1_num_tasks``: accuracy vs k (log2) per target, one line per chain, the single-task
min-max band at k = 1, the no-intermediate baseline dashed, error bars = range over seeds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from xstilts.config import ConfigError
from xstilts.studies import common
from xstilts.tasks import TASKS


def _opts(options: dict, params) -> dict:
    settings = params.intermediate.settings
    chains = options.get("chains") or {}
    singles = options.get("singles") or [s for s, tasks in settings.items() if len(tasks) == 1]
    return {"targets": options.get("targets", ["xnli", "xcopa"]), "baseline": options.get("baseline", "none"), "chains": chains, "singles": singles}


def check(options: dict, arms: dict) -> None:
    params = common.one_arm(arms, options)
    o = _opts(options, params)
    if not o["chains"]:
        raise ConfigError("chains: name at least one chain of nested settings, e.g. {A: [mnli, mnli_squad, four]}")
    common.need_targets(params, o["targets"], "targets")
    common.need_settings(params, [o["baseline"], *o["singles"]], "singles/baseline")
    for name, chain in o["chains"].items():
        common.need_settings(params, chain, f"chains.{name}")
        tasks = [set(params.intermediate.settings[s]) for s in chain]
        for small, big, s in zip(tasks, tasks[1:], chain[1:]):
            if not (small < big):
                raise ConfigError(f"chains.{name}: {s!r} does not strictly contain the previous setting (nested subsets)")
    ks = {len(params.intermediate.settings[s]) for c in o["chains"].values() for s in c}
    if len(ks) < 2:
        raise ConfigError("chains: need at least two different subset sizes k for a slope")


def analyse(arms: dict, options: dict, out_dir: str, title: str = "RQ1") -> dict:
    arm = common.one_arm(arms, options)
    o = _opts(options, arm.params)
    settings = arm.params.intermediate.settings
    nb, a = common.n_boot(options), common.alpha(options)
    chain_settings = list(dict.fromkeys(s for c in o["chains"].values() for s in c))
    rows, tests = [], []
    for target in o["targets"]:
        langs = arm.langs(target)
        comps = {s: arm.components(s, target, langs) for s in dict.fromkeys([o["baseline"], *o["singles"], *chain_settings])}
        for s, c in comps.items():
            per_seed = arm.zero_shot_per_seed(s, target)
            rows.append({"target": target, "setting": s, "k": len(settings[s]), "tasks": "+".join(settings[s]), "overlap": common.analysis.overlap_flag(settings[s], target),
                         "accuracy": common.zero_shot_score(c), "seed_min": per_seed.min(), "seed_max": per_seed.max(),
                         "macro_f1": common.zero_shot_macro_f1(arm, s, target), "english": arm.english_score(s, target)})
        table = pd.DataFrame([r for r in rows if r["target"] == target]).set_index("setting")
        # slope of accuracy on log2 k over the chains' settings
        x = np.log2([len(settings[s]) for s in chain_settings])
        w = (x - x.mean()) / ((x - x.mean()) ** 2).sum()
        res = common.contrast([comps[s] for s in chain_settings], w, langs, n_boot=nb, seed=0, alpha=a)
        tests.append(_row(target, "slope per doubling of k", "chains", res, "slope", any(table.loc[s, "overlap"] != "transfer" for s in chain_settings)))
        best = table.loc[o["singles"], "english"].idxmax()
        for name, chain in o["chains"].items():
            top = chain[-1]
            res = common.contrast([comps[top], comps[best]], [1, -1], langs, n_boot=nb, seed=0, alpha=a)
            tests.append(_row(target, f"{top} - best single ({best})", name, res, "contrast", table.loc[top, "overlap"] != "transfer" or table.loc[best, "overlap"] != "transfer"))
            w_mean = [1.0] + [-1.0 / len(o["singles"])] * len(o["singles"])
            res = common.contrast([comps[top], *[comps[s] for s in o["singles"]]], w_mean, langs, n_boot=nb, seed=0, alpha=a)
            tests.append(_row(target, f"{top} - mean single", name, res, "contrast", any(table.loc[s, "overlap"] != "transfer" for s in [top, *o["singles"]])))
    scores = pd.DataFrame(rows)
    tests = pd.DataFrame(tests)
    parts = [common.adjust(g, a) for _, g in tests.groupby("family", sort=False)]
    tests = pd.concat(parts).reset_index(drop=True)
    fig = _figure(scores, o)
    md = _markdown(title, scores, tests, o, arm)
    paths = common.write_outputs(out_dir, "rq1_num_tasks", md, {"rq1_scores": scores, "rq1_tests": tests}, fig)
    return {"paths": paths, "scores": scores, "tests": tests}


def _row(target, test, chain, res, family, overlap) -> dict:
    return {"target": target, "test": test, "chain": chain, "family": family, "estimate": res.estimate, "ci_low": res.ci_low, "ci_high": res.ci_high, "p_value": res.p_value, "continued_training": bool(overlap)}


def _figure(scores: pd.DataFrame, o: dict):
    plt, sns = common.plt_setup()
    targets = o["targets"]
    fig, axes = plt.subplots(1, len(targets), figsize=(4.2 * len(targets), 3.4), squeeze=False)
    palette = sns.color_palette("deep", len(o["chains"]))
    for ax, target in zip(axes[0], targets):
        t = scores[scores.target == target].set_index("setting")
        singles = t.loc[o["singles"], "accuracy"]
        ax.axhspan(singles.min(), singles.max(), xmin=0, xmax=1, color="grey", alpha=0.15, label="single tasks (min-max)")
        ax.scatter(np.ones(len(singles)), singles, color="grey", s=12, zorder=3)
        ax.axhline(t.loc[o["baseline"], "accuracy"], color="black", ls="--", lw=1, label=f"{o['baseline']} (no intermediate)")
        for color, (name, chain) in zip(palette, o["chains"].items()):
            c = t.loc[chain]
            ax.errorbar(c.k, c.accuracy, yerr=[(c.accuracy - c.seed_min).clip(lower=0), (c.seed_max - c.accuracy).clip(lower=0)], marker="o", color=color, capsize=3, label=f"chain {name}")
        ax.set_xscale("log", base=2)
        ks = sorted(t.k[t.k > 0].unique())
        ax.set_xticks(ks, [str(k) for k in ks])
        ax.set_xlabel("intermediate tasks k (log2)")
        ax.set_ylabel("zero-shot accuracy")
        ax.set_title(f"{target} ({TASKS[target].metric})")
    axes[0][-1].legend(fontsize=7, loc="best")
    fig.suptitle("RQ1: number of English intermediate tasks (bars: range over seeds)")
    fig.tight_layout()
    return fig


def _markdown(title, scores, tests, o, arm) -> str:
    lines = [f"# {title}", "", f"Arm `{arm.name}`; seeds {arm.params.target.seeds}; zero-shot average over {', '.join(arm.langs(o['targets'][0]))} (English excluded).", "",
             "## Scores (accuracy = official metric; macro-F1 from saved predictions)", "",
             scores.round(2).to_markdown(index=False), "",
             "## Tests", "",
             "Paired bootstrap over shared test examples, stratified by language (test-set variance only; seeds are averaged per example). "
             "`slope`: least-squares accuracy change per doubling of k over the chains' settings (Holm over targets). "
             "`contrast`: largest subset vs the best single task (picked on the English dev score) and vs the mean single task (Holm over these). "
             "`continued_training`: a compared setting contains the target's own training task, which is not intermediate-task transfer.", "",
             tests.assign(p_value=tests.p_value.map(common.fmt_p), p_holm=tests.p_holm.map(common.fmt_p), p_bh=tests.p_bh.map(common.fmt_p)).round(2).to_markdown(index=False), ""]
    return "\n".join(lines)
