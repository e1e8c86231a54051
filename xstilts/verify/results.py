"""Our results as the claim rules read them: the analysis tables, the phase-3 metrics and the
params that say which setting is the baseline and which are multi-task / MLM / translated.

Inputs: ``<results_dir>/analysis/{results,scores,significance}.csv`` (the analysis stage) and,
for metrics other than a task's major score (F1 alone for QA), ``<results_dir>/phase3/*/*/metrics.json``;
``retrieval/protocol.json`` for retrieval scores outside XTREME's protocol, and
``retrieval/metrics.json`` for a retrieval score other than the task's major one (BUCC's dev
oracle F1, the quantity jiant reports).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd


class Missing(Exception):
    """The results needed by a rule are not there: the claim is 'not run' with this reason."""


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

    def retrieval_scores(self, setting: str, task: str, key: str) -> pd.Series:
        """{lang: score ``key``} of (setting, task) from the retrieval stage's metrics.json."""
        path = Path(self.analysis_dir).parent / "retrieval" / "metrics.json"
        if not path.exists():
            raise Missing(f"{path} is missing (run the retrieval stage): {task} {key} is read from it")
        per_lang = json.loads(path.read_text()).get(setting, {}).get(task, {})
        have = {lang: float(sc[key]) for lang, sc in per_lang.items() if isinstance(sc, dict) and key in sc}
        if not have:
            raise Missing(f"{path} has no {task} {key!r} for setting {setting!r} (written by the current retrieval stage: re-run it)")
        return pd.Series(have, dtype=float)

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


def params_info(params) -> dict:
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
    info = params_info(params)
    if not info:
        resolved = analysis_dir.parent / "phase1" / "params.resolved.json"
        if resolved.exists():
            from xstilts import config

            info = params_info(config.from_dict(json.loads(resolved.read_text())["params"]))
    tables = {"results": _read_csv(str(analysis_dir / "results.csv"), required=True),
              "scores": _read_csv(str(analysis_dir / "scores.csv"), required=True),
              "significance": _read_csv(str(analysis_dir / "significance.csv"), required=False)}
    if info.get("params") is not None:  # only the settings the params define, never leftovers
        from xstilts import layout

        tables = {name: layout.keep_current(df, info["params"], str(analysis_dir / f"{name}.csv")) for name, df in tables.items()}
    return Results(analysis_dir=str(analysis_dir), phase3_dir=str(phase3_dir), **tables, **info)



def protocol_deviations(results_dir: str) -> dict[str, str]:
    """Retrieval tasks scored outside XTREME's protocol (outputs/retrieval/protocol.json): task -> note."""
    path = Path(results_dir) / "retrieval" / "protocol.json"
    if not path.exists():
        path = Path(results_dir).parent / "retrieval" / "protocol.json"
    if not path.exists():
        return {}
    return {task: f"protocol deviation ({p['note']})" for task, p in json.loads(path.read_text()).items() if p.get("deviation")}
