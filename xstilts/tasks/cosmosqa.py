"""Cosmos QA: English 4-way reading-comprehension multiple choice. Intermediate task.

``allenai/cosmos_qa`` still ships a loading script: HubStore retries on ``refs/convert/parquet``
(data_dir=default). choices = answer0..answer3; label int32, -1 on test (-> HIDDEN).
"""

from __future__ import annotations

from xstilts.tasks._common import class_ids
from xstilts.tasks.tables import ChoiceColumns, ChoiceTable, choice_task

ANSWERS = ("answer0", "answer1", "answer2", "answer3")
TABLE = ChoiceTable(
    name="cosmosqa", repo="allenai/cosmos_qa", config="default", splits={"train": "train", "dev": "validation", "test": "test"},
    columns=("id", "context", "question", *ANSWERS, "label"), context="context", question="question", choices=ChoiceColumns(ANSWERS),
    label="label", label_ids=class_ids(len(ANSWERS)), example_id="{row[id]}", english_only=True,
)

TASK = choice_task(
    TABLE,
    version=1,
    languages=("en",),
    labels=ANSWERS,
    role="intermediate",
    source="allenai/cosmos_qa (default; script repo: read from refs/convert/parquet)",
    license="CC BY 4.0",
    notes="test labels withheld (-1 -> HIDDEN).",
)


# Split sizes for `xstilts.cli plan` in the paper profile (xstilts/planner.py): examples per split and
# language, and mean XLM-R tokens per feature (ASSUMED: no measured length in
# ../shared/research; a guess from typical lengths, to be replaced by a measurement). Source: allenai/cosmos_qa card (datasets.md §1c). mean_tokens counts all 4 choices of a feature.
PAPER_SIZES = {"cosmosqa": {"train": {"en": 25262}, "dev": {"en": 2985}, "test": {"en": 6963}, "choices": 4, "mean_tokens": 4 * 110}}
