"""Cosmos QA: English 4-way reading-comprehension multiple choice. Intermediate task.

``allenai/cosmos_qa`` still ships a loading script: HubStore retries on ``refs/convert/parquet``
(data_dir=default). choices = answer0..answer3; label int32, -1 on test (-> HIDDEN).
"""

from __future__ import annotations

from xstilts.tasks._common import check_int_labels, english_only, fetch, hub_split
from xstilts.tasks.base import CHOICE, ChoiceExample, RowStore, Task

REPO, CONFIG = "allenai/cosmos_qa", "default"
ANSWERS = ("answer0", "answer1", "answer2", "answer3")
COLUMNS = ("id", "context", "question", *ANSWERS, "label")
SPLITS = {"train": "train", "dev": "validation", "test": "test"}


def read(store: RowStore, split: str, lang: str = "en") -> list[ChoiceExample]:
    english_only("cosmosqa", lang)
    rows, at = fetch(store, REPO, CONFIG, hub_split("cosmosqa", SPLITS, split), COLUMNS)
    labels = check_int_labels([r["label"] for r in rows], len(ANSWERS), at, "label")
    return [ChoiceExample(id=str(r["id"]), context=r["context"], question=r["question"], choices=[r[a] for a in ANSWERS], label=y)
            for r, y in zip(rows, labels)]


TASK = Task(
    name="cosmosqa",
    version=1,
    format=CHOICE,
    metric="accuracy",
    languages=("en",),
    read=read,
    splits=SPLITS,
    labels=ANSWERS,
    role="intermediate",
    max_seq_length=256,
    source=f"{REPO} ({CONFIG}; script repo: read from refs/convert/parquet)",
    license="CC BY 4.0",
    notes="test labels withheld (-1 -> HIDDEN).",
)


# Split sizes for `xstilts.cli plan` in the paper profile (xstilts/planner.py): examples per split and
# language, and mean XLM-R tokens per feature (ASSUMED: no measured length in
# ../shared/research; a guess from typical lengths, to be replaced by a measurement). Source: allenai/cosmos_qa card (datasets.md §1c). mean_tokens counts all 4 choices of a feature.
PAPER_SIZES = {"cosmosqa": {"train": {"en": 25262}, "dev": {"en": 2985}, "test": {"en": 6963}, "choices": 4, "mean_tokens": 4 * 110}}
