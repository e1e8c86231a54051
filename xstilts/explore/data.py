"""The benchmark: which datasets, where they come from under which licence, how big each split
is, and what an example looks like in every language."""

from __future__ import annotations

import dataclasses

import pandas as pd

from xstilts.tasks import TASKS, with_labels
from xstilts.tasks import base as tb

WIDTH = 70  # characters of a long text field shown in a table cell


def dataset_card(task_names: list[str]) -> pd.DataFrame:
    """One row per task: its role in the paper, format, metric, number of languages, source, licence."""
    rows = []
    for name in task_names:
        task = TASKS[name]
        rows.append({"task": name, "role": task.role, "format": task.format, "metric": task.metric,
                     "languages": len(task.languages), "source": task.source, "license": task.license or "see source"})
    return pd.DataFrame(rows).set_index("task")


def benchmark_files(manifest: dict) -> pd.DataFrame:
    """The benchmark stage's manifest as a table: the embedded benchmark's files and row counts,
    or, for the Hub, each pinned repository and revision (nothing is downloaded at that stage)."""
    if "tasks" in manifest:
        rows = [{"task": task, "file": f["path"], "split": f.get("split", ""), "rows": f["rows"]} for task, files in manifest["tasks"].items() for f in files]
        return pd.DataFrame(rows)
    revisions = manifest.get("revisions", {})
    return pd.DataFrame([{"repo": repo, "revision": rev} for repo, rev in sorted(revisions.items())], columns=["repo", "revision"])


def split_sizes(summary: dict) -> pd.DataFrame:
    """Examples per (task, split) and language, from the features stage's ``summary.json``
    (keys ``<task>/<split>.<lang>``); blank where a split is not used in that language."""
    rows = []
    for key, counts in summary.items():
        task, rest = key.split("/", 1)
        split, lang = rest.split(".", 1)
        rows.append({"task": task, "split": split, "lang": lang, "examples": counts["examples"]})
    if not rows:
        return pd.DataFrame()
    table = pd.DataFrame(rows).pivot_table(index=["task", "split"], columns="lang", values="examples", aggfunc="sum")
    langs = sorted(table.columns, key=lambda lang: (lang != "en", lang))  # English first: it is the training language
    return table[langs].astype("Int64")


def shorten(value) -> str:
    text = " ".join(value) if isinstance(value, list) and all(isinstance(v, str) for v in value) else str(value)
    return text if len(text) <= WIDTH else text[: WIDTH - 1] + "…"


def example_fields(task: tb.Task, example) -> dict[str, str]:
    """An example's fields as short strings, labels by name (tags as ``token/TAG``)."""
    if isinstance(example, tb.TagExample):
        names = task.labels
        tagged = [f"{tok}/{names[t] if 0 <= t < len(names) else '?'}" for tok, t in zip(example.tokens, example.tags)]
        return {"tokens/tags": shorten(tagged)}
    if isinstance(example, tb.BitextExample):
        i, j = example.gold[0] if example.gold else (0, None)
        return {"source": shorten(example.sources[i]), "gold target": shorten(example.targets[j]) if j is not None else "(none)"}
    fields = {}
    for f in dataclasses.fields(example):
        value = getattr(example, f.name)
        if f.name in ("id", "answers_start", "source_ids", "target_ids"):
            continue
        if f.name == "label":
            value = task.labels[value] if task.labels and 0 <= value < len(task.labels) else ("(hidden)" if value == tb.HIDDEN else value)
        fields[f.name] = shorten(value)
    return fields


def examples_across_languages(params, task_name: str, split: str = "test", index: int = 0, store=None) -> pd.DataFrame:
    """Example ``index`` of one task split in each of its configured languages, side by side
    (XTREME's evaluation sets are translations of each other: the same index, the same example)."""
    from xstilts import pipeline, plan

    store = store or pipeline.store_for(params)
    task = with_labels(task_name, store)
    languages = plan.languages_for(params, task)
    rows = {}
    for lang in languages:
        examples = task.load(store, split, lang)
        if index < len(examples):
            rows[lang] = example_fields(task, examples[index])
    if not rows:
        raise ValueError(f"{task_name} {split}: no example {index} in any of {languages}")
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis(f"{task_name} {split}[{index}]")


def benchmark_tasks(manifest: dict) -> list[str]:
    """The registered tasks the benchmark stage provides: those the embedded benchmark wrote, or,
    for the Hub (where nothing is written at that stage), every registered task."""
    if "tasks" in manifest:
        return sorted(t for t in manifest["tasks"] if t in TASKS)
    return sorted(TASKS)
