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


# Split sizes for `xstilts.cli plan` in the paper profile (xstilts/planner.py): examples per split and
# language, and mean XLM-R tokens per feature (ASSUMED: no measured length in
# ../shared/research; a guess from typical lengths, to be replaced by a measurement). Source: google/xtreme PAWS-X (datasets.md §1a).
PAPER_SIZES = {"pawsx": {
    "train": {"en": 49175, **{lang: 49300 for lang in ("de", "es", "fr", "ja", "ko", "zh")}},  # non-English: "~49.2-49.4k" (MT), 49,300 ASSUMED
    "dev": {"en": 2000, "de": 2000, "es": 1961, "fr": 1988, "ja": 2000, "ko": 2000, "zh": 2000},
    "test": {"en": 2000, "de": 2000, "es": 2000, "fr": 2000, "ja": 2000, "ko": 1999, "zh": 2000},
    "mean_tokens": 60}}
