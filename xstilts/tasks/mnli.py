"""MNLI (GLUE): English 3-way NLI. Intermediate task, and the English training data of XNLI."""

from __future__ import annotations

from xstilts.tasks._common import NLI_LABELS, class_ids
from xstilts.tasks.tables import PairTable, pair_task

TABLE = PairTable(
    name="mnli", repo="nyu-mll/glue", config="mnli", splits={"train": "train", "dev": "validation_matched", "test": "test_matched"},
    columns=("premise", "hypothesis", "label", "idx"), text=("premise", "hypothesis"), label="label",
    label_ids=class_ids(len(NLI_LABELS)), example_id="mnli-{split}-{row[idx]}", english_only=True,
)

TASK = pair_task(
    TABLE,
    version=1,
    languages=("en",),
    labels=NLI_LABELS,
    role="intermediate",
    source="nyu-mll/glue (mnli)",
    license="mixed: OANC (free) and CC BY-SA 3.0 genres (MultiNLI card)",
    notes="dev = validation_matched, test = test_matched (labels withheld: -1 -> HIDDEN).",
)


# Split sizes for `xstilts.cli plan` in the paper profile (xstilts/planner.py): examples per split and
# language, and mean XLM-R tokens per feature (ASSUMED: no measured length in
# ../shared/research; a guess from typical lengths, to be replaced by a measurement). Source: MultiNLI card / GLUE (datasets.md §1c).
PAPER_SIZES = {"mnli": {"train": {"en": 392702}, "dev": {"en": 9815}, "test": {"en": 9796}, "mean_tokens": 45}}
