"""MNLI (GLUE): English 3-way NLI. Intermediate task, and the English training data of XNLI."""

from __future__ import annotations

from xstilts.tasks._common import NLI_LABELS, class_ids, english_only, fetch, hub_split, pair_examples
from xstilts.tasks.base import PAIR, PairExample, RowStore, Task

REPO, CONFIG = "nyu-mll/glue", "mnli"
COLUMNS = ("premise", "hypothesis", "label", "idx")
SPLITS = {"train": "train", "dev": "validation_matched", "test": "test_matched"}


def read(store: RowStore, split: str, lang: str = "en") -> list[PairExample]:
    english_only("mnli", lang)
    hub = hub_split("mnli", SPLITS, split)
    rows, at = fetch(store, REPO, CONFIG, hub, COLUMNS)
    return pair_examples(rows, at, "premise", "hypothesis", "label", class_ids(len(NLI_LABELS)), ids=lambda _i, r: f"mnli-{split}-{r['idx']}")


TASK = Task(
    name="mnli",
    version=1,
    format=PAIR,
    metric="accuracy",
    languages=("en",),
    read=read,
    splits=SPLITS,
    labels=NLI_LABELS,
    role="intermediate",
    max_seq_length=256,
    source=f"{REPO} ({CONFIG})",
    license="mixed: OANC (free) and CC BY-SA 3.0 genres (MultiNLI card)",
    notes="dev = validation_matched, test = test_matched (labels withheld: -1 -> HIDDEN).",
)


# Split sizes for `xstilts.cli plan` in the paper profile (xstilts/planner.py): examples per split and
# language, and mean XLM-R tokens per feature (ASSUMED: no measured length in
# ../shared/research; a guess from typical lengths, to be replaced by a measurement). Source: MultiNLI card / GLUE (datasets.md §1c).
PAPER_SIZES = {"mnli": {"train": {"en": 392702}, "dev": {"en": 9815}, "test": {"en": 9796}, "mean_tokens": 45}}
