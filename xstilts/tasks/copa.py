"""COPA (SuperGLUE): English causal reasoning, 2 choices. The English training data of XCOPA.

``aps/super_glue`` ``copa``: label ClassLabel[choice1, choice2], -1 on test (-> HIDDEN).
Not one of the paper's nine intermediate tasks.
"""

from __future__ import annotations

from xstilts.tasks._common import COPA_COLUMNS, copa_examples, english_only, fetch, hub_split
from xstilts.tasks.base import CHOICE, ChoiceExample, RowStore, Task

REPO, CONFIG = "aps/super_glue", "copa"
SPLITS = {"train": "train", "dev": "validation", "test": "test"}


def read(store: RowStore, split: str, lang: str = "en") -> list[ChoiceExample]:
    english_only("copa", lang)
    rows, at = fetch(store, REPO, CONFIG, hub_split("copa", SPLITS, split), COPA_COLUMNS)
    return copa_examples(rows, at, f"copa-{split}-")


TASK = Task(
    name="copa",
    version=1,
    format=CHOICE,
    metric="accuracy",
    languages=("en",),
    read=read,
    splits=SPLITS,
    labels=("choice1", "choice2"),
    role="intermediate",
    max_seq_length=256,
    source=f"{REPO} ({CONFIG})",
    license="COPA: BSD 2-Clause (unverified)",
    notes="English training task of XCOPA (XTREME-R); test labels withheld (-1 -> HIDDEN).",
)

# Split sizes for `xstilts.cli plan` in the paper profile (xstilts/planner.py). Source: SuperGLUE
# (Wang et al. 2019, Table 1): COPA train 400, dev 100, test 500. mean_tokens (both choices) ASSUMED.
PAPER_SIZES = {"copa": {"train": {"en": 400}, "dev": {"en": 100}, "test": {"en": 500}, "choices": 2, "mean_tokens": 2 * 20}}
