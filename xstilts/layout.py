"""Which results the current params define, and where the pipeline writes them.

Analysis, verify, report and the leaderboard export read exactly these outputs, never whatever a
recursive search finds: after an embedded run and ``make use-paper``, or after a setting is removed
from params, the old folders are still on disk and must not be averaged into a table. An expected
output that is missing is an error naming it; an extra folder is ignored, with a note.

Layout (dvc.yaml): ``<phase3_root>/<setting>/<group>/<target>/{metrics.json, seed<k>/predictions/}``
for every setting of ``intermediate.settings`` and every ``target.groups`` entry, and
``<retrieval_dir>/metrics.json`` holding ``{setting: {task: {lang: scores}}}``.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

from xstilts import io


class MissingResultsError(FileNotFoundError):
    """An output the current params define is not on disk."""


class StaleResultsError(ValueError):
    """An output lies where the current params expect it, but was written by other params."""


@dataclass(frozen=True)
class TargetOutput:
    """One phase-3 result folder: ``<phase3_root>/<setting>/<group>/<target>``."""

    setting: str
    group: str
    target: str
    path: str

    @property
    def stage(self) -> str:
        return f"phase3@{self.setting}-{self.group}"  # the dvc.yaml matrix stage that writes it


def group_of(params, target: str) -> str:
    for group, targets in params.target.groups.items():
        if target in targets:
            return group
    raise KeyError(f"target {target!r} is in no target.groups entry ({sorted(params.target.groups)})")


def target_dir(phase3_root: str, params, setting: str, target: str) -> str:
    return os.path.join(phase3_root, setting, group_of(params, target), target)


def phase3_outputs(params, phase3_root: str) -> list[TargetOutput]:
    """Every (setting, target) folder the params define, settings and targets in params order."""
    return [TargetOutput(setting, group_of(params, target), target, target_dir(phase3_root, params, setting, target))
            for setting in params.intermediate.settings for target in params.target.tasks]


def unexpected_phase3(params, phase3_root: str) -> list[str]:
    """Folders under ``phase3_root`` that no current (setting, group, target) accounts for."""
    expected = {os.path.normpath(o.path) for o in phase3_outputs(params, phase3_root)}
    above = {os.path.dirname(p) for p in expected} | {os.path.dirname(os.path.dirname(p)) for p in expected}
    extra: list[str] = []

    def visit(folder: str) -> None:
        for name in sorted(os.listdir(folder)):
            path = os.path.normpath(os.path.join(folder, name))
            if not os.path.isdir(path) or path in expected:
                continue
            if path in above:
                visit(path)
            else:
                extra.append(path)

    if os.path.isdir(phase3_root):
        visit(phase3_root)
    return extra


def note(message: str) -> None:
    print(f"note: {message}", file=sys.stderr)


def note_unexpected(params, phase3_root: str) -> list[str]:
    extra = unexpected_phase3(params, phase3_root)
    if extra:
        note(f"ignored {len(extra)} folder(s) under {phase3_root} that the current params do not define (another profile or a removed setting): "
             + ", ".join(os.path.relpath(p, phase3_root) for p in extra))
    return extra


def read_target_metrics(params, out: TargetOutput) -> dict:
    """The phase-3 ``metrics.json`` of one expected folder, checked against the params."""
    from xstilts.plan import languages_for
    from xstilts.tasks import TASKS

    path = os.path.join(out.path, "metrics.json")
    if not os.path.isfile(path):
        raise MissingResultsError(f"{path} is missing: the current params define setting {out.setting!r}, target {out.target!r} "
                                  f"(group {out.group!r}); run `dvc repro {out.stage}`")
    m = io.read_json(path)
    if m.get("setting") != out.setting or m.get("target") != out.target:
        raise StaleResultsError(f"{path} holds setting {m.get('setting')!r}, target {m.get('target')!r}, not {out.setting!r}, {out.target!r}")
    seeds, want = sorted(m.get("seeds", {})), sorted(str(s) for s in params.target.seeds)
    if seeds != want:
        raise StaleResultsError(f"{path} has seeds {seeds}, the params' target.seeds are {want}: stale output, run `dvc repro {out.stage}`")
    langs = sorted(languages_for(params, TASKS[out.target]))
    for seed, run in m["seeds"].items():
        have = sorted({lang for per_lang in run["scores"].values() for lang in per_lang})
        if have != langs:
            raise StaleResultsError(f"{path} seed {seed} has languages {have}, the params define {langs}: stale output, run `dvc repro {out.stage}`")
    return m


def read_phase3_metrics(params, phase3_root: str) -> dict[tuple[str, str], dict]:
    """(setting, target) -> metrics.json for every output the params define; extras noted and ignored."""
    note_unexpected(params, phase3_root)
    return {(o.setting, o.target): read_target_metrics(params, o) for o in phase3_outputs(params, phase3_root)}


def seed_dirs(params, folder: str) -> list[str]:
    """``<folder>/seed<k>`` for the params' seeds (a leftover seed folder is not read)."""
    dirs = [os.path.join(folder, f"seed{s}") for s in params.target.seeds]
    missing = [d for d in dirs if not os.path.isdir(os.path.join(d, "predictions"))]
    if missing:
        raise MissingResultsError(f"no saved predictions in {', '.join(missing)} (target.seeds {list(params.target.seeds)})")
    return dirs


def read_retrieval_metrics(params, retrieval_dir: str) -> dict:
    """``{setting: {task: {lang: scores}}}`` for the params' settings and retrieval tasks only."""
    path = os.path.join(retrieval_dir, "metrics.json")
    if not os.path.isfile(path):
        raise MissingResultsError(f"{path} is missing: run `dvc repro retrieval`")
    from xstilts.plan import languages_for
    from xstilts.tasks import TASKS

    metrics = io.read_json(path)
    out, extra = {}, sorted(set(metrics) - set(params.intermediate.settings))
    for setting in params.intermediate.settings:
        for task in params.retrieval.tasks:
            langs = languages_for(params, TASKS[task])
            have = metrics.get(setting, {}).get(task, {})
            missing = [lang for lang in langs if lang not in have]
            if missing:
                raise MissingResultsError(f"{path} has no {task} results for setting {setting!r} in {', '.join(missing)}: run `dvc repro retrieval`")
            if langs:
                out.setdefault(setting, {})[task] = {lang: have[lang] for lang in langs}  # a stale language stays out
    if extra:
        note(f"ignored retrieval results of setting(s) {', '.join(extra)} in {path}: not in the current params")
    return out


def keep_current(df, params, what: str):
    """Rows of an analysis table whose setting the params define (others noted and dropped)."""
    if df.empty or "setting" not in df:
        return df
    extra = sorted(set(df.setting) - set(params.intermediate.settings))
    if extra:
        note(f"ignored rows of setting(s) {', '.join(map(str, extra))} in {what}: not in the current params")
    return df[df.setting.isin(list(params.intermediate.settings))].reset_index(drop=True)
