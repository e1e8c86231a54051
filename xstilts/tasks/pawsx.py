"""PAWS-X (XTREME): paraphrase identification in 7 languages.

``google/xtreme`` ``PAWS-X.{lang}``; ``label`` is the *string* "0"/"1". The English train split
is the original PAWS train; the train split of every other language is XTREME's machine
translation of it, i.e. ``read(store, "train", "de")`` is PAWS-X translate-train data
(see xstilts/tasks/translated.py). Zero-shot training uses ``lang="en"``.
"""

from __future__ import annotations

from xstilts.tasks._common import fetch, hub_split, pair_examples
from xstilts.tasks.base import PAIR, PairExample, RowStore, Task

REPO = "google/xtreme"
COLUMNS = ("sentence1", "sentence2", "label")
SPLITS = {"train": "train", "dev": "validation", "test": "test"}
LABELS = ("0", "1")  # 1 = paraphrase
LANGUAGES = ("de", "en", "es", "fr", "ja", "ko", "zh")


def config(lang: str) -> str:
    return f"PAWS-X.{lang}"


def read(store: RowStore, split: str, lang: str) -> list[PairExample]:
    rows, at = fetch(store, REPO, config(lang), hub_split("pawsx", SPLITS, split), COLUMNS)
    return pair_examples(rows, at, "sentence1", "sentence2", "label", {s: i for i, s in enumerate(LABELS)},
                         ids=lambda i, _row: f"pawsx-{lang}-{split}-{i}")


TASK = Task(
    name="pawsx",
    version=1,
    format=PAIR,
    metric="accuracy",
    languages=LANGUAGES,
    read=read,
    splits=SPLITS,
    labels=LABELS,
    role="target",
    train_task="pawsx",
    max_seq_length=256,
    source=f"{REPO} (PAWS-X.{{lang}})",
    license="PAWS-X terms: free for any purpose, attribute Google",
    notes="label strings '0'/'1'; non-English train splits are machine-translated (translate-train).",
)
