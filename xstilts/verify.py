"""Claim-by-claim comparison of our results with the published figures (``references.yaml``).

``verify(results_dir, references, profile)`` returns one row per reference with a status:

* ``reproduced`` / ``not reproduced``: the rule was evaluated on our results;
* ``not run``: it could not or must not be evaluated (numeric figures on the embedded synthetic
  benchmark, settings that were not run, context-only entries), with the reason.

Numeric references are published numbers and apply only to the paper profile on the real data.
Directional references (who ranks first, which tasks gain most, signs of differences) are
checked on whatever results exist: on the embedded benchmark they are the analogue of the claim.

Inputs: ``<results_dir>/analysis/{results,scores,significance}.csv`` (the analysis stage) and,
for metrics other than a task's major score (F1 alone for QA), ``<results_dir>/phase3/*/*/metrics.json``.
Outputs (``write``): ``claims.csv``, ``claims.md`` and ``metrics.json`` (counts per status).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from xstilts import references as refs_mod
from xstilts.metrics import aggregate

STATUSES = ("reproduced", "not reproduced", "not run")
REPRODUCED, NOT_REPRODUCED, NOT_RUN = STATUSES
EMBEDDED_REASON = "embedded profile: synthetic benchmark, not comparable to published numbers"
COLUMNS = ["id", "kind", "role", "evidence", "claim", "split", "reference", "observed", "tolerance", "status", "reason", "source"]
RETRIEVAL_TASKS = ("bucc2018", "tatoeba")


class Missing(Exception):
    """The results needed by a rule are not there: the claim is 'not run' with this reason."""


# ---- our results -----------------------------------------------------------------------------


@dataclass
class Results:
    analysis_dir: str
    phase3_dir: str
    results: pd.DataFrame
    scores: pd.DataFrame
    significance: pd.DataFrame
    baseline: str = "none"
    settings: dict[str, list[str]] = field(default_factory=dict)
    mlm_settings: list[str] = field(default_factory=list)
    translated_settings: list[str] = field(default_factory=list)
    profile: str | None = None
    params: object = field(default=None, repr=False)
    _phase3: dict = field(default_factory=dict, repr=False)

    # -- setting groups
    def ran(self) -> list[str]:
        return sorted(set(self.results.setting))

    def tasks_of(self, setting: str) -> list[str]:
        if setting in self.settings:
            return list(self.settings[setting])
        return [] if setting == self.baseline else [setting]  # no params: a setting named after its task

    def variants(self) -> set[str]:
        return set(self.mlm_settings) | set(self.translated_settings)

    def single_task(self) -> list[str]:
        return [s for s in self.ran() if s != self.baseline and s not in self.variants() and len(self.tasks_of(s)) == 1]

    def multi_task(self) -> list[str]:
        return [s for s in self.ran() if s != self.baseline and s not in self.variants() and len(self.tasks_of(s)) > 1]

    def non_baseline(self) -> list[str]:
        return [s for s in self.ran() if s != self.baseline]

    # -- tables
    def table(self, split: str = "test") -> pd.DataFrame:
        if split == "test":
            return self.results
        from xstilts.analysis import results_table

        return results_table(self.scores, self.baseline, split=split)

    def has_split(self, task: str, split: str) -> bool:
        return bool(((self.scores.task == task) & (self.scores.split == split)).any())

    def phase3_metric(self, setting: str, task: str) -> dict | None:
        """The phase-3 metrics.json of (setting, task) at the path the params define (see
        :mod:`xstilts.layout`); a folder left by other params is never read. None without params."""
        if self.params is None:
            return None
        if (setting, task) not in self._phase3:
            from xstilts import layout

            out = next((o for o in layout.phase3_outputs(self.params, self.phase3_dir) if (o.setting, o.target) == (setting, task)), None)
            if out is None:
                raise Missing(f"setting {setting!r}, target {task!r} is not in the current params")
            try:
                self._phase3[(setting, task)] = layout.read_target_metrics(self.params, out)
            except (layout.MissingResultsError, layout.StaleResultsError) as err:
                raise Missing(str(err)) from None
        return self._phase3[(setting, task)]

    def metric_avg(self, setting: str, task: str, metric: str | None, split: str = "test") -> float:
        """Mean over seeds of the language average (all languages) of one metric."""
        m, why = None, "no params say where it lies"
        if metric:
            try:
                m = self.phase3_metric(setting, task)
            except Missing as err:
                why = str(err)
        if metric and m is not None:
            per_seed = []
            for run in m["seeds"].values():
                vals = [s[metric] for s in run["scores"].get(split, {}).values() if s and metric in s]
                if vals:
                    per_seed.append(float(np.mean(vals)))
            if per_seed:
                return float(np.mean(per_seed))
        from xstilts.tasks import TASKS

        if metric and TASKS[task].format == "span_qa" and metric != "em_f1_avg":
            raise Missing(f"{task} {metric} needs the phase-3 metrics.json of {setting!r} under {self.phase3_dir} (the analysis tables hold (EM+F1)/2 only): {why}")
        row = self.table(split)
        row = row[(row.setting == setting) & (row.task == task)]
        if row.empty or pd.isna(row.avg.iloc[0]):
            raise Missing(f"no {split} results for setting {setting!r} on {task}")
        return float(row.avg.iloc[0])


def _params_info(params) -> dict:
    if params is None:
        return {}
    if isinstance(params, (str, Path)):
        from xstilts import config

        params = config.load(str(params))
    return {
        "baseline": params.analysis.baseline,
        "settings": {k: list(v) for k, v in params.intermediate.settings.items()},
        "mlm_settings": list(params.intermediate.mlm_settings),
        "translated_settings": list(params.intermediate.translated_settings),
        "profile": params.profile,
        "params": params,
    }


def _read_csv(path: str, required: bool) -> pd.DataFrame:
    if not os.path.exists(path):
        if required:
            raise FileNotFoundError(f"{path} not found: run the analysis stage first (dvc repro analysis), or dvc pull")
        return pd.DataFrame()
    try:
        return pd.read_csv(path)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()


def load_results(results_dir: str, params=None) -> Results:
    """``results_dir`` is the outputs root (holding analysis/ and phase3/) or the analysis folder itself.

    ``params`` (a Params, a params file, or None) says which setting is the baseline and which are
    multi-task / MLM / translated; without it the resolved params saved by phase 1 are used, and
    failing that, setting names are read as the intermediate task they train on."""
    root = Path(results_dir)
    analysis_dir = root / "analysis" if (root / "analysis" / "results.csv").exists() else root
    phase3_dir = analysis_dir.parent / "phase3"
    info = _params_info(params)
    if not info:
        resolved = analysis_dir.parent / "phase1" / "params.resolved.json"
        if resolved.exists():
            from xstilts import config

            info = _params_info(config.from_dict(json.loads(resolved.read_text())["params"]))
    tables = {"results": _read_csv(str(analysis_dir / "results.csv"), required=True),
              "scores": _read_csv(str(analysis_dir / "scores.csv"), required=True),
              "significance": _read_csv(str(analysis_dir / "significance.csv"), required=False)}
    if info.get("params") is not None:  # only the settings the params define, never leftovers
        from xstilts import layout

        tables = {name: layout.keep_current(df, info["params"], str(analysis_dir / f"{name}.csv")) for name, df in tables.items()}
    return Results(analysis_dir=str(analysis_dir), phase3_dir=str(phase3_dir), **tables, **info)


# ---- rules -----------------------------------------------------------------------------------
# Each returns (status, observed, reason); raising Missing makes the claim "not run".


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
    setting = _setting(res, ref.rule["setting"])
    s = res.scores
    s = s[(s.setting == setting) & (s.task == ref.task) & (s.split == "test")]
    ours = s.groupby("lang").score.mean()
    common = sorted(set(ours.index) & set(ref.values))
    if not common:
        raise Missing(f"no {ref.task} results for setting {setting!r} in the reference languages")
    ref_vals = pd.Series({k: ref.values[k] * ref.scale for k in common})
    diffs = ours[common] - ref_vals
    mean_ours, mean_ref = float(ours[common].mean()), float(ref_vals.mean())
    observed = (f"{setting} {ref.task} mean over {len(common)}/{len(ref.values)} languages: ours {mean_ours:.2f} vs {mean_ref:.2f}; "
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


RULES = {name[len("rule_"):]: fn for name, fn in globals().items() if name.startswith("rule_")}


# ---- verify ------------------------------------------------------------------------------------


def _reference_text(ref) -> str:
    if ref.values:
        vals = ", ".join(f"{k} {v:g}" for k, v in ref.values.items())
        return f"{vals} ({ref.unit})"
    r = ref.rule
    if r["type"] == "top_families":
        return "top-ranked: " + ", ".join(r["families"])
    if r["type"] == "largest_gain_tasks":
        return "largest mean gains: " + ", ".join(r["tasks"])
    if r["type"] == "moderate_gain":
        return f"0 < gain on {', '.join(r['tasks'])} < gain on {', '.join(r.get('below_tasks', []))}"
    if r["type"] == "multi_vs_best_single":
        return f"0 < multi - best single <= {r['small']}"
    if r["type"] == "variant_not_consistently_better":
        return f"no {r['variants'][:-len('_settings')]} variant better on every target"
    if r["type"] == "best_per_target_gain":
        return "best per target > baseline"
    return ""


def _tolerance_text(ref) -> str:
    if not ref.tolerance:
        return ""
    return f"±{ref.tolerance['abs']:g} ({ref.tolerance.get('applies_to', '')})"


def verify(results_dir: str, references=None, profile: str | None = None, params=None) -> pd.DataFrame:
    """One row per reference: status in {reproduced, not reproduced, not run} and the reason.

    ``references``: a References, a path, or None (the packaged references.yaml).
    ``profile``: 'embedded' or 'paper'; None = the profile of ``params`` / the resolved params.
    """
    if references is None or isinstance(references, (str, Path)):
        references = refs_mod.load(None if references is None else str(references))
    res = load_results(results_dir, params)
    profile = profile or res.profile
    if profile is None:
        raise ValueError("profile unknown: pass profile='embedded' or 'paper' (or params)")
    deviations = protocol_deviations(results_dir)
    rows = []
    for ref in references:
        row = {"id": ref.id, "kind": ref.kind, "role": ref.role, "evidence": ref.evidence, "claim": ref.claim, "split": ref.split,
               "reference": _reference_text(ref), "observed": "", "tolerance": _tolerance_text(ref), "source": ref.source_text()}
        if ref.kind == "numeric" and profile != "paper":
            row.update(status=NOT_RUN, reason=EMBEDDED_REASON if profile == "embedded" else f"{profile} profile: numeric references apply to the paper profile only")
            rows.append(row)
            continue
        try:
            status, observed, reason = RULES[ref.rule["type"]](ref, res)
        except Missing as why:
            status, observed, reason = NOT_RUN, "", f"not run: {why}"
        if not ref.scored:
            reason = f"context only ({ref.context_reason})" + (f"; would be: {status}, {reason}" if status != NOT_RUN else "")
            status = NOT_RUN
        for task, note in deviations.items():  # e.g. BUCC without its sample set: the score is not XTREME's protocol
            if task in str(ref.rule) or task in str(getattr(ref, "task", "")):
                reason = f"{reason}; {task}: {note}" if reason else f"{task}: {note}"
        row.update(status=status, observed=observed, reason=reason)
        rows.append(row)
    df = pd.DataFrame(rows, columns=COLUMNS)
    df.attrs["protocol_deviations"] = deviations
    return df


def protocol_deviations(results_dir: str) -> dict[str, str]:
    """Retrieval tasks scored outside XTREME's protocol (outputs/retrieval/protocol.json): task -> note."""
    path = Path(results_dir) / "retrieval" / "protocol.json"
    if not path.exists():
        path = Path(results_dir).parent / "retrieval" / "protocol.json"
    if not path.exists():
        return {}
    return {task: f"protocol deviation ({p['note']})" for task, p in json.loads(path.read_text()).items() if p.get("deviation")}


def summary(df: pd.DataFrame, profile: str | None = None, references=None) -> dict:
    counts = {s: int((df.status == s).sum()) for s in STATUSES}
    out = {"counts": counts, "total": int(len(df))}
    for col in ("kind", "role"):
        out[f"by_{col}"] = {k: {s: int(((df[col] == k) & (df.status == s)).sum()) for s in STATUSES} for k in sorted(set(df[col]))}
    if profile:
        out["profile"] = profile
    if references is not None:
        out["references_version"] = references.version
    if df.attrs.get("protocol_deviations"):
        out["protocol_deviations"] = df.attrs["protocol_deviations"]
    return out


def _md_escape(x) -> str:
    return str(x).replace("|", "\\|").replace("\n", " ")


def to_markdown(df: pd.DataFrame) -> str:
    cols = ["id", "status", "role", "evidence", "claim", "reference", "observed", "reason"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in df.iterrows():
        lines.append("| " + " | ".join(_md_escape(r[c]) for c in cols) + " |")
    return "\n".join(lines) + "\n"


def write(df: pd.DataFrame, out_dir: str, profile: str | None = None, references=None) -> dict:
    from xstilts import io

    os.makedirs(out_dir, exist_ok=True)
    with io.atomic_path(os.path.join(out_dir, "claims.csv")) as tmp:
        df.to_csv(tmp, index=False)
    counts = summary(df, profile, references)
    head = f"# Claims vs published figures ({profile or 'unknown'} profile)\n\n" + ", ".join(f"{n} {s}" for s, n in counts["counts"].items()) + "\n\n"
    with io.atomic_path(os.path.join(out_dir, "claims.md")) as tmp:
        Path(tmp).write_text(head + to_markdown(df))
    io.write_json(os.path.join(out_dir, "metrics.json"), counts)
    return counts


def run(results_dir: str, out_dir: str, params=None, references=None, profile: str | None = None) -> dict:
    """The verify stage: compare, write claims.csv / claims.md / metrics.json."""
    refs = refs_mod.load(None if references is None else str(references)) if not isinstance(references, refs_mod.References) else references
    info = _params_info(params)
    profile = profile or info.get("profile")
    df = verify(results_dir, refs, profile, params)
    profile = profile or load_results(results_dir, params).profile
    counts = write(df, out_dir, profile, refs)
    return {"claims": df, "metrics": counts}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="xstilts verify", description="Compare outputs with the published figures in references.yaml.")
    p.add_argument("--results", default="outputs", help="outputs root (with analysis/ and phase3/) [outputs]")
    p.add_argument("--params", default="params.yaml", help="params file: baseline, settings, profile [params.yaml]")
    p.add_argument("--references", default=None, help="references file [the packaged xstilts/references.yaml]")
    p.add_argument("--profile", choices=["embedded", "paper"], default=None, help="override the params profile")
    p.add_argument("--out", default="outputs/verify", help="output folder [outputs/verify]")
    p.add_argument("--strict", action="store_true", help="exit 1 when a scored claim is not reproduced")
    args = p.parse_args(argv)
    from xstilts import config

    try:
        params = config.load(args.params) if os.path.exists(args.params) else None
        out = run(args.results, args.out, params, args.references, args.profile)
    except (refs_mod.ReferencesError, config.ConfigError, FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    df = out["claims"]
    print(to_markdown(df[["id", "status", "role", "evidence", "claim", "reference", "observed", "reason"]]))
    print(", ".join(f"{n} {s}" for s, n in out["metrics"]["counts"].items()), f"-> {args.out}/claims.csv")
    if args.strict and ((df.status == NOT_REPRODUCED) & (df.role != "context")).any():
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
