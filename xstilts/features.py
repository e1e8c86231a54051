"""The feature cache: every split the training and evaluation stages read, tokenized once by the
features stage (``pipeline.build_features``) and loaded back by phases 2 and 3.

Layout: ``<features_dir>/<task>/<split>.<lang>.parquet`` and ``keys.json``, which records per task
what shaped its features (task version, max length, tokenizer, feature code). Loading checks that
key: features built by other code or another tokenizer fail loudly (:class:`StaleFeaturesError`).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from xstilts import config as cfg
from xstilts import io
from xstilts.formats import format_for
from xstilts.plan import TRAIN, limit_train, max_length_for, needed_splits
from xstilts.tasks import TASKS, with_labels
from xstilts.tasks.base import Task

# Every module whose code shapes the cached features (reading, labelling, tokenizing, featurizing,
# writing): the key below hashes them, and dvc.yaml's features stage lists them.
# tests/test_pipeline_stages.py checks both cover every xstilts file the features stage runs.
FEATURE_CODE = ("pipeline.py", "plan.py", "features.py", "io.py", "stores.py", "hub.py", "languages.py", "tokenization.py", "formats", "tasks")


def feature_code_files() -> set[str]:
    """The files of FEATURE_CODE, repo-relative (``xstilts/...``)."""
    root = Path(__file__).parent
    files = set()
    for entry in FEATURE_CODE:
        path = root / entry
        files |= set(path.rglob("*.py")) if path.is_dir() else {path}
    return {str(p.relative_to(root.parent)) for p in files}


def _code_fingerprint() -> str:
    """Hash of the feature-shaping code, so a changed featuriser invalidates cached features."""
    h = hashlib.sha256()
    root = Path(__file__).parent.parent
    for rel in sorted(feature_code_files()):
        h.update(rel.encode() + b"\0" + (root / rel).read_bytes())
    return h.hexdigest()[:16]


def features_key(tokenizer_dir: str, task: Task, max_length: int) -> dict:
    tok_hash = hashlib.sha256(Path(tokenizer_dir, "tokenizer.json").read_bytes()).hexdigest()[:16]
    return {"task": task.name, "task_version": task.version, "max_length": max_length, "tokenizer": tok_hash, "code": _code_fingerprint()}


def write_features(params: cfg.Params, store, tokenizer_dir: str, out_dir: str) -> dict:
    """Featurize every split of :func:`plan.needed_splits` into ``out_dir`` with its keys; returns
    the summary (examples and features per split)."""
    from xstilts.tokenization import load_tokenizer

    tokenizer = load_tokenizer(tokenizer_dir)
    summary = {}
    for name, split, lang in needed_splits(params):
        task = with_labels(name, store)
        examples = task.load(store, split, lang)
        if split == TRAIN:
            examples = limit_train(params, examples)
        summary[f"{name}/{split}.{lang}"] = write_split_features(params, task, examples, tokenizer, split, lang, os.path.join(out_dir, name, f"{split}.{lang}.parquet"))
    key = {n: features_key(tokenizer_dir, TASKS[n], max_length_for(params, TASKS[n])) for n in sorted({n for n, _, _ in needed_splits(params)})}
    io.write_json(os.path.join(out_dir, "keys.json"), key)
    return summary


def featurize_split(params: cfg.Params, task: Task, examples: list, tokenizer, split: str, lang: str) -> tuple[list[dict], dict]:
    """Features of one split and its line in the stage's summary.json. QA training examples whose
    answer cannot be located are counted there ("dropped"), and fail the stage above
    span_qa.MAX_DROPPED_FRACTION of the split."""
    from xstilts.formats.span_qa import SpanQA, check_dropped

    fmt = format_for(task)
    feats = fmt.featurize(examples, tokenizer, max_length_for(params, task), train=split == TRAIN)
    entry = {"examples": len(examples), "features": len(feats)}
    if split == TRAIN and isinstance(fmt, SpanQA):
        entry["dropped"] = len(fmt.dropped)
        check_dropped(fmt.dropped, len(examples), f"task {task.name}, split {split}.{lang}")
    return feats, entry


# Examples featurised and written at a time. A featurised split as Python lists costs ~20 KB a
# feature at 256 tokens: ANLI+'s 1.1M training examples took the features stage to 21 GB and the
# OOM killer (make rehearse-scale, full size); a chunk bounds it at about 1 GB.
FEATURE_CHUNK = 50_000


def write_split_features(params: cfg.Params, task: Task, examples: list, tokenizer, split: str, lang: str, path: str) -> dict:
    """:func:`featurize_split`'s features written to ``path`` (parquet, atomically) a chunk of
    examples at a time, ``example_index`` still counting over the whole split; returns the
    summary line. The rows read back equal one ``featurize_split`` of the whole split."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from xstilts.formats.span_qa import SpanQA, check_dropped

    fmt = format_for(task)
    train = split == TRAIN
    entry, dropped, writer = {"examples": len(examples), "features": 0}, [], None
    with io.atomic_path(path) as tmp:
        try:
            for start in range(0, len(examples), FEATURE_CHUNK):
                feats = fmt.featurize(examples[start:start + FEATURE_CHUNK], tokenizer, max_length_for(params, task), train=train)
                if isinstance(fmt, SpanQA):
                    dropped += fmt.dropped
                for f in feats:
                    f["example_index"] += start
                entry["features"] += len(feats)
                if feats:
                    table = pa.Table.from_pylist(feats)
                    writer = writer or pq.ParquetWriter(tmp, table.schema)
                    writer.write_table(table.cast(writer.schema))
            if train and isinstance(fmt, SpanQA):
                entry["dropped"] = len(dropped)
                check_dropped(dropped, len(examples), f"task {task.name}, split {split}.{lang}")
        finally:
            if writer is not None:
                writer.close()
        if writer is None:
            pq.write_table(pa.table({}), tmp)
    return entry


class StaleFeaturesError(RuntimeError):
    pass


def load_features(params: cfg.Params, features_dir: str, tokenizer_dir: str, task: Task, split: str, lang: str) -> list[dict]:
    keys = io.read_json(os.path.join(features_dir, "keys.json"))
    expected = features_key(tokenizer_dir, task, max_length_for(params, task))
    if keys.get(task.name) != expected:
        raise StaleFeaturesError(f"cached features of {task.name} in {features_dir} were built with {keys.get(task.name)}, now {expected}: rebuild them (dvc repro features)")
    rows = io.read_rows(os.path.join(features_dir, task.name, f"{split}.{lang}.parquet"))
    return limit_train(params, rows) if split == TRAIN else rows
