"""QQP (GLUE): English duplicate-question detection. Intermediate task."""

from __future__ import annotations

from xstilts.tasks._common import class_ids
from xstilts.tasks.tables import PairTable, pair_task

LABELS = ("not_duplicate", "duplicate")  # ClassLabel order
TABLE = PairTable(
    name="qqp", repo="nyu-mll/glue", config="qqp", splits={"train": "train", "dev": "validation", "test": "test"},
    columns=("question1", "question2", "label", "idx"), text=("question1", "question2"), label="label",
    label_ids=class_ids(len(LABELS)), example_id="qqp-{split}-{row[idx]}", english_only=True,
)

TASK = pair_task(
    TABLE,
    version=1,
    languages=("en",),
    labels=LABELS,
    role="intermediate",
    source="nyu-mll/glue (qqp)",
    license="Quora dataset terms (non-commercial research)",
    notes="Scored by accuracy; GLUE/jiant report the mean of accuracy and F1 of the 'duplicate' class (only Phase-2 "
          "early stopping uses it). Test labels withheld (-1 -> HIDDEN).",
)


# Split sizes for `xstilts.cli plan` in the paper profile (xstilts/planner.py): examples per split and
# language, and mean XLM-R tokens per feature (ASSUMED: no measured length in
# ../shared/research; a guess from typical lengths, to be replaced by a measurement). Source: GLUE QQP card (datasets.md §1c).
PAPER_SIZES = {"qqp": {"train": {"en": 363846}, "dev": {"en": 40430}, "test": {"en": 390965}, "mean_tokens": 35}}
