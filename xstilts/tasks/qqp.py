"""QQP (GLUE): English duplicate-question detection. Intermediate task."""

from __future__ import annotations

from xstilts.tasks._common import class_ids, english_only, fetch, hub_split, pair_examples
from xstilts.tasks.base import PAIR, PairExample, RowStore, Task

REPO, CONFIG = "nyu-mll/glue", "qqp"
LABELS = ("not_duplicate", "duplicate")  # ClassLabel order
COLUMNS = ("question1", "question2", "label", "idx")
SPLITS = {"train": "train", "dev": "validation", "test": "test"}


def read(store: RowStore, split: str, lang: str = "en") -> list[PairExample]:
    english_only("qqp", lang)
    rows, at = fetch(store, REPO, CONFIG, hub_split("qqp", SPLITS, split), COLUMNS)
    return pair_examples(rows, at, "question1", "question2", "label", class_ids(len(LABELS)), ids=lambda _i, r: f"qqp-{split}-{r['idx']}")


TASK = Task(
    name="qqp",
    version=1,
    format=PAIR,
    metric="accuracy",
    languages=("en",),
    read=read,
    splits=SPLITS,
    labels=LABELS,
    role="intermediate",
    max_seq_length=256,
    source=f"{REPO} ({CONFIG})",
    license="Quora dataset terms (non-commercial research)",
    notes="Scored by accuracy; GLUE/jiant report the mean of accuracy and F1 of the 'duplicate' class (only Phase-2 "
          "early stopping uses it). Test labels withheld (-1 -> HIDDEN).",
)


# Split sizes for `xstilts.cli plan` in the paper profile (xstilts/planner.py): examples per split and
# language, and mean XLM-R tokens per feature (ASSUMED: no measured length in
# ../shared/research; a guess from typical lengths, to be replaced by a measurement). Source: GLUE QQP card (datasets.md §1c).
PAPER_SIZES = {"qqp": {"train": {"en": 363846}, "dev": {"en": 40430}, "test": {"en": 390965}, "mean_tokens": 35}}
