"""The claim rules: one function per rule type of ``references.yaml`` (``references.RULES``).

Each takes (reference, :class:`~xstilts.verify.results.Results`) and returns
(status, observed, reason); raising :class:`~xstilts.verify.results.Missing` makes the claim
"not run" with that reason. ``RULES`` names every rule explicitly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from xstilts.metrics import aggregate
from xstilts.verify.results import Missing, Results

STATUSES = ("reproduced", "not reproduced", "not run")
REPRODUCED, NOT_REPRODUCED, NOT_RUN = STATUSES


def _fmt(x: float) -> str:
    return f"{x:+.2f}"


def _common_tasks(res: Results, settings: list[str], split: str = "test") -> list[str]:
    t = res.table(split)
    tasks = None
    for s in settings + [res.baseline]:
        have = set(t[(t.setting == s) & t.gain.notna()].task) if s != res.baseline else set(t[t.setting == s].task)
        tasks = have if tasks is None else tasks & have
    return sorted(tasks or [])


def _mean_gains(res: Results, settings: list[str], split: str = "test", exclude_overlap: bool = False) -> tuple[pd.Series, list[str]]:
    tasks = _common_tasks(res, settings, split)
    if not tasks:
        raise Missing(f"no target task has {split} results for every compared setting and the baseline {res.baseline!r}")
    t = res.table(split)
    t = t[t.setting.isin(settings) & t.task.isin(tasks)]
    if exclude_overlap and "overlap" in t:
        t = t[t.overlap != "continued-training"]
    return t.groupby("setting").gain.mean().reindex(settings), tasks


def _significant(res: Results, settings=None, tasks=None, positive=True) -> pd.DataFrame:
    sig = res.significance
    if sig.empty or "significant" not in sig:
        return pd.DataFrame(columns=["setting", "task", "gain"])
    sel = sig[sig.significant.astype(bool)]
    if positive:
        sel = sel[sel.gain > 0]
    if settings is not None:
        sel = sel[sel.setting.isin(settings)]
    if tasks is not None:
        sel = sel[sel.task.isin(tasks)]
    return sel


def rule_top_families(ref, res: Results):
    families: dict[str, list[str]] = ref.rule["families"]
    singles = res.single_task()
    if not singles:
        raise Missing("no single-task intermediate setting was run")
    member = {s: fam for fam, ms in families.items() for s in ms}

    def ranking(exclude_overlap):
        gains, tasks = _mean_gains(res, singles, exclude_overlap=exclude_overlap)
        fam_gain: dict[str, tuple[float, str]] = {}
        for s, g in gains.items():
            if pd.isna(g):
                continue
            fam = member.get(s, s)
            if fam not in fam_gain or g > fam_gain[fam][0]:
                fam_gain[fam] = (float(g), s)
        return sorted(fam_gain.items(), key=lambda kv: -kv[1][0]), tasks

    ranked, tasks = ranking(False)
    claimed = [f for f, _ in ranked if f in families]
    if not claimed:
        raise Missing(f"none of the claimed intermediate tasks ({', '.join(f'{f}: {m}' for f, m in families.items())}) was run")
    if len(claimed) == len(ranked):
        raise Missing("no other single-task setting was run to rank the claimed tasks against")
    top = [f for f, _ in ranked[: len(claimed)]]

    def show(r):
        return " > ".join(f"{f}{'' if s == f else f' ({s})'} {_fmt(g)}" for f, (g, s) in r)

    observed = f"mean zero-shot gain over {len(tasks)} tasks: {show(ranked)}"
    try:
        ranked_x, _ = ranking(True)
        observed += f"; without continued-training cells: {show(ranked_x)}"
    except Missing:
        pass
    ok = set(top) == set(claimed)
    missing = sorted(set(families) - set(claimed))
    reason = (f"the claimed tasks that were run ({', '.join(claimed)}) are the top {len(claimed)}" if ok
              else f"top {len(claimed)}: {', '.join(top)}; claimed: {', '.join(claimed)}")
    if missing:
        reason += f" (not run: {', '.join(missing)})"
    return (REPRODUCED if ok else NOT_REPRODUCED), observed, reason


def _task_mean_gains(res: Results) -> pd.Series:
    settings = res.non_baseline()
    if not settings:
        raise Missing("only the baseline setting was run")
    t = res.table()
    t = t[t.setting.isin(settings) & t.gain.notna()]
    if t.empty:
        raise Missing("no gains over the baseline in results.csv")
    return t.groupby("task").gain.mean().sort_values(ascending=False)


def rule_largest_gain_tasks(ref, res: Results):
    gains = _task_mean_gains(res)
    listed = list(ref.rule["tasks"])
    absent = [t for t in listed if t not in gains.index]
    if absent:
        raise Missing(f"no results for {', '.join(absent)}")
    others = gains.drop(listed)
    if others.empty:
        raise Missing("no other target task to compare with")
    observed = "mean gain per target over settings: " + ", ".join(f"{t} {_fmt(g)}" for t, g in gains.items())
    ok = gains[listed].min() > others.max()
    reason = (f"min over {', '.join(listed)} {_fmt(gains[listed].min())} > max over the other targets {_fmt(others.max())} ({others.idxmax()})" if ok
              else f"{others.idxmax()} gains {_fmt(others.max())} >= {gains[listed].idxmin()} {_fmt(gains[listed].min())}")
    return (REPRODUCED if ok else NOT_REPRODUCED), observed, reason


def rule_moderate_gain(ref, res: Results):
    r = ref.rule
    settings = res.non_baseline()
    t = res.table()
    t = t[t.setting.isin(settings) & t.gain.notna()]
    qa = t[t.task.isin(r["tasks"])]
    if qa.empty:
        raise Missing(f"no results for {', '.join(r['tasks'])}")
    mean_qa = float(qa.gain.mean())
    above = float(r.get("above", 0.0))
    checks = [mean_qa > above]
    notes = [f"QA mean gain {_fmt(mean_qa)} {'>' if checks[0] else '<='} {above:g}"]
    below = t[t.task.isin(r.get("below_tasks", []))]
    if r.get("below_tasks"):
        if below.empty:
            notes.append(f"upper bound not checked: no results for {', '.join(r['below_tasks'])}")
        else:
            mean_below = float(below.gain.mean())
            checks.append(mean_qa < mean_below)
            notes.append(f"{'<' if checks[-1] else '>='} retrieval mean gain {_fmt(mean_below)}")
    if r.get("require_significant"):
        if res.significance.empty:
            raise Missing("significance.csv is empty: no paired-bootstrap results for the QA targets")
        n_sig = len(_significant(res, settings, r["tasks"]))
        checks.append(n_sig > 0)
        notes.append(f"{n_sig} Holm-significant positive (setting, QA target) gains")
    observed = f"QA targets ({', '.join(sorted(set(qa.task)))}) mean gain {_fmt(mean_qa)} over {qa.setting.nunique()} settings"
    return (REPRODUCED if all(checks) else NOT_REPRODUCED), observed, "; ".join(notes)


def rule_multi_vs_best_single(ref, res: Results):
    multi, singles = res.multi_task(), res.single_task()
    if not multi:
        raise Missing("no multi-task setting was run")
    if not singles:
        raise Missing("no single-task setting was run to compare the multi-task setting with")
    gains, tasks = _mean_gains(res, multi + singles)
    best = gains[singles].idxmax()
    parts, oks = [], []
    for m in multi:
        diff = float(gains[m] - gains[best])
        oks.append(0 < diff <= ref.rule["small"])
        n_sig = len(_significant(res, [m]))
        parts.append(f"{m} {_fmt(gains[m])} vs best single {best} {_fmt(gains[best])}: difference {_fmt(diff)} ({n_sig} Holm-significant gains of {m} over the baseline)")
    ok = all(oks)
    reason = (f"0 < difference <= {ref.rule['small']} (small) for every multi-task setting" if ok
              else f"difference not in (0, {ref.rule['small']}]")
    return (REPRODUCED if ok else NOT_REPRODUCED), f"mean zero-shot gain over {len(tasks)} tasks: " + "; ".join(parts), reason + "; no paired test of multi vs best single (significance.csv compares with the baseline)"


def _counterpart(res: Results, variant: str, kind: str) -> str | None:
    from xstilts.tasks import TRANSLATION_OF

    tasks = res.tasks_of(variant)
    want = sorted(set(tasks)) if kind == "mlm_settings" else sorted({TRANSLATION_OF.get(t, t) for t in tasks})
    for s in res.ran():
        if s != variant and s not in res.variants() and sorted(set(res.tasks_of(s))) == want:
            return s
    return None


def rule_variant_not_consistently_better(ref, res: Results):
    kind = ref.rule["variants"]
    variants = [v for v in getattr(res, kind) if v in res.ran()]
    if not variants:
        raise Missing(f"no setting listed in intermediate.{kind} was run")
    t = res.table().set_index(["setting", "task"]).zero_shot
    parts, consistent, paired = [], [], 0
    for v in variants:
        c = _counterpart(res, v, kind)
        if c is None:
            parts.append(f"{v}: no English counterpart setting was run")
            continue
        tasks = sorted(set(t.loc[v].dropna().index) & set(t.loc[c].dropna().index))
        if not tasks:
            parts.append(f"{v} vs {c}: no common target")
            continue
        paired += 1
        diffs = np.array([t.loc[(v, k)] - t.loc[(c, k)] for k in tasks])
        wins = int((diffs > 0).sum())
        consistent.append(wins == len(tasks))
        parts.append(f"{v} vs {c}: better on {wins}/{len(tasks)} targets, mean difference {_fmt(float(diffs.mean()))}")
    if not paired:
        raise Missing("; ".join(parts))
    ok = not any(consistent)
    reason = "no variant is better on every target" if ok else "a variant is better on every target (consistently outperforms)"
    return (REPRODUCED if ok else NOT_REPRODUCED), "; ".join(parts), reason


def _best_per_target(res: Results, select_split: str = "dev") -> tuple[dict[str, str], list[str]]:
    """Best non-baseline setting per target, chosen on ``select_split`` (all-language average);
    on test where the task has no separate dev split (noted)."""
    settings = res.non_baseline()
    if not settings:
        raise Missing("only the baseline setting was run")
    test = res.table("test")
    chosen, notes = {}, []
    tasks = sorted(set(test[test.setting == res.baseline].task))
    sel_table = res.table(select_split) if select_split != "test" else test
    for task in tasks:
        use = sel_table if res.has_split(task, select_split) else test
        if use is not sel_table:
            notes.append(task)
        cand = use[(use.task == task) & use.setting.isin(settings)].dropna(subset=["avg"])
        if len(cand):
            chosen[task] = cand.loc[cand.avg.idxmax(), "setting"]
    if not chosen:
        raise Missing("no target task has results for both the baseline and another setting")
    return chosen, notes


def _xtreme_gain(res: Results, select_split: str):
    chosen, on_test = _best_per_target(res, select_split)
    test = res.table("test").set_index(["setting", "task"]).avg
    # metrics.aggregate.tasks_mean over all nine XTREME tasks is the XTREME score (xtreme_score)
    best = aggregate.tasks_mean({t: test[(s, t)] for t, s in chosen.items()}, sorted(chosen))
    base = aggregate.tasks_mean({t: test[(res.baseline, t)] for t in chosen}, sorted(chosen))
    n_sig = len(pd.concat([_significant(res, [s], [t]) for t, s in chosen.items()])) if len(chosen) else 0
    observed = (f"best per target: {', '.join(f'{t}={s}' for t, s in sorted(chosen.items()))}; "
                f"XTREME-style score {best:.2f} vs baseline {base:.2f} = {_fmt(best - base)} over {len(chosen)} tasks; "
                f"{n_sig} of the selected gains Holm-significant")
    if on_test:
        observed += f"; selected on test (no separate {select_split} split): {', '.join(on_test)}"
    return float(best - base), len(chosen), observed


def rule_best_per_target_gain(ref, res: Results):
    gain, n_tasks, observed = _xtreme_gain(res, ref.rule.get("select_split", "dev"))
    need = ref.rule.get("require_tasks")
    if need and n_tasks < need:
        raise Missing(f"only {n_tasks} of the {need} XTREME tasks have results: the XTREME score needs all")
    if ref.kind == "directional":
        ok = gain > 0
        return (REPRODUCED if ok else NOT_REPRODUCED), observed, f"gain {_fmt(gain)} {'>' if ok else '<='} 0"
    return _within(ref, {"gain": gain}, observed)


def _within(ref, ours: dict[str, float], observed: str):
    tol = float(ref.tolerance["abs"])
    parts, oks = [], []
    for key, published in ref.values.items():
        if key not in ours:
            continue
        diff = ours[key] - published * ref.scale
        oks.append(abs(diff) <= tol + 1e-9)
        parts.append(f"{key}: ours {ours[key]:.2f} vs {published * ref.scale:g} ({_fmt(diff)})")
    if not oks:
        raise Missing("nothing to compare")
    ok = all(oks)
    reason = ("; ".join(parts)) + (f"; all within ±{tol:g}" if ok else f"; outside ±{tol:g}")
    return (REPRODUCED if ok else NOT_REPRODUCED), observed, reason


def rule_count_single_task_settings(ref, res: Results):
    tasks = sorted({res.tasks_of(s)[0] for s in res.single_task()})
    return _within(ref, {"xstilts": float(len(tasks))}, f"{len(tasks)} single-task intermediate settings: {', '.join(tasks)}")


def rule_task_scores(ref, res: Results):
    chosen, on_test = _best_per_target(res, ref.rule.get("select_split", "dev"))
    if ref.task not in chosen:
        raise Missing(f"no results for {ref.task} (baseline and another setting)")
    ours, labels = {}, []
    for system, which in ref.comparison.items():
        setting = res.baseline if which == "baseline" else chosen[ref.task]
        ours[system] = res.metric_avg(setting, ref.task, ref.metric, "test")
        labels.append(f"{system} = our {setting}")
    observed = f"{ref.task} {ref.metric} (test, all languages): " + ", ".join(f"{l} {ours[s]:.2f}" for l, s in zip(labels, ours))
    if ref.task in on_test:
        observed += "; best setting selected on test (no separate dev split)"
    return _within(ref, ours, observed)


def _setting(res: Results, which: str) -> str:
    return res.baseline if which == "baseline" else which


def rule_per_language_scores(ref, res: Results):
    """Per-language scores against the reference's; ``retrieval_metric`` reads that key of the
    retrieval stage's metrics.json (e.g. BUCC's dev oracle F1) instead of the test score."""
    setting = _setting(res, ref.rule["setting"])
    key = ref.rule.get("retrieval_metric")
    if key:
        ours = res.retrieval_scores(setting, ref.task, key)
    else:
        s = res.scores
        s = s[(s.setting == setting) & (s.task == ref.task) & (s.split == "test")]
        ours = s.groupby("lang").score.mean()
    common = sorted(set(ours.index) & set(ref.values))
    if not common:
        raise Missing(f"no {ref.task} results for setting {setting!r} in the reference languages")
    ref_vals = pd.Series({k: ref.values[k] * ref.scale for k in common})
    diffs = ours[common] - ref_vals
    mean_ours, mean_ref = float(ours[common].mean()), float(ref_vals.mean())
    quantity = f"{ref.task} {key}" if key else f"{ref.task} test"
    observed = (f"{setting} {quantity} mean over {len(common)}/{len(ref.values)} languages: ours {mean_ours:.2f} vs {mean_ref:.2f}; "
                f"largest per-language difference {diffs.abs().idxmax()} {_fmt(float(diffs[diffs.abs().idxmax()]))}")
    tol = float(ref.tolerance["abs"])
    ok = abs(mean_ours - mean_ref) <= tol + 1e-9
    return (REPRODUCED if ok else NOT_REPRODUCED), observed, f"mean difference {_fmt(mean_ours - mean_ref)} {'within' if ok else 'outside'} ±{tol:g}"


def rule_setting_mean_gain(ref, res: Results):
    split = ref.rule.get("split", "test")
    members = [s for s in ref.rule["family"] if s in res.ran()]
    if not members:
        raise Missing(f"none of {ref.rule['family']} was run")
    gains, tasks = _mean_gains(res, members, split)
    best = gains.idxmax()
    observed = f"{best}: mean gain {_fmt(float(gains[best]))} over {len(tasks)} tasks ({split})"
    return _within(ref, {"gain": float(gains[best])}, observed)


def rule_category_scores(ref, res: Results):
    chosen, _ = _best_per_target(res)
    test = res.table("test").set_index(["setting", "task"]).avg
    categories = {cat: tuple(tasks) for cat, tasks in ref.rule["categories"].items()}
    # As XTREME's evaluate.py: a category is scored only when all its tasks have results.
    per_category = aggregate.category_scores({t: float(test[(s, t)]) for t, s in chosen.items()}, categories)
    ours = {cat: v for cat, v in per_category.items() if v is not None}
    if not ours:
        raise Missing("no category has results for all its tasks")
    if len(ours) == len(categories):
        ours["average"] = float(np.mean(list(ours.values())))  # the reference's mean of categories (not the XTREME score)
    return _within(ref, ours, "best per target, (EM+F1)/2 for QA: " + ", ".join(f"{k} {v:.2f}" for k, v in ours.items()))


def rule_none(ref, res: Results):
    raise Missing("no rule: not checkable against our results")


# Which language average each rule reads (shown per claim in claims.csv / claims.md). The gain rules
# use analysis' zero-shot average, non-English languages only (the paper's zero-shot transfer);
# claims quoted as XTREME scores use XTREME's evaluate.py average, all languages, English included.
ZERO_SHOT_AVERAGE = "zero-shot: non-English languages (analysis gain)"
XTREME_AVERAGE = "XTREME: all languages, English included (evaluate.py)"
AVERAGES = {
    "top_families": ZERO_SHOT_AVERAGE,
    "largest_gain_tasks": ZERO_SHOT_AVERAGE,
    "moderate_gain": ZERO_SHOT_AVERAGE,
    "multi_vs_best_single": ZERO_SHOT_AVERAGE,
    "variant_not_consistently_better": ZERO_SHOT_AVERAGE,
    "setting_mean_gain": ZERO_SHOT_AVERAGE,
    "best_per_target_gain": XTREME_AVERAGE,
    "task_scores": XTREME_AVERAGE,
    "category_scores": XTREME_AVERAGE,
    "per_language_scores": "none: per language, then the mean over the reference's languages",
    "count_single_task_settings": "none: a count",
    "none": "",
}

RULES = {
    "top_families": rule_top_families,
    "largest_gain_tasks": rule_largest_gain_tasks,
    "moderate_gain": rule_moderate_gain,
    "multi_vs_best_single": rule_multi_vs_best_single,
    "variant_not_consistently_better": rule_variant_not_consistently_better,
    "best_per_target_gain": rule_best_per_target_gain,
    "count_single_task_settings": rule_count_single_task_settings,
    "task_scores": rule_task_scores,
    "per_language_scores": rule_per_language_scores,
    "setting_mean_gain": rule_setting_mean_gain,
    "category_scores": rule_category_scores,
    "none": rule_none,
}
assert set(AVERAGES) == set(RULES), "every rule names the average it uses"
