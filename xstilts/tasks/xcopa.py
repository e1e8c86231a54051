"""XCOPA (XTREME-R): causal commonsense reasoning in 11 languages, 2 choices.

``cambridgeltl/xcopa`` ``{lang}``: validation (100) and test (500) per language. The question
('cause' / 'effect') is kept in ChoiceExample.question. XTREME-R fine-tunes on SIQA and then on
English COPA; SIQA is outside this project's data, so the English training task is ``copa``.
"""

from __future__ import annotations

from xstilts.tasks._common import COPA_COLUMNS, copa_examples, fetch, hub_split
from xstilts.tasks.base import CHOICE, ChoiceExample, RowStore, Task

REPO = "cambridgeltl/xcopa"
SPLITS = {"dev": "validation", "test": "test"}
LANGUAGES = ("et", "ht", "id", "it", "qu", "sw", "ta", "th", "tr", "vi", "zh")


def read(store: RowStore, split: str, lang: str) -> list[ChoiceExample]:
    rows, at = fetch(store, REPO, lang, hub_split("xcopa", SPLITS, split), COPA_COLUMNS)
    return copa_examples(rows, at, f"xcopa-{lang}-{split}-")


TASK = Task(
    name="xcopa",
    version=1,
    format=CHOICE,
    metric="accuracy",
    languages=LANGUAGES,
    read=read,
    splits=SPLITS,
    labels=("choice1", "choice2"),
    role="target",
    train_task="copa",
    max_seq_length=256,
    source=f"{REPO} ({{lang}})",
    license="CC BY 4.0",
    notes="XTREME-R task (not in the nine XTREME tasks). XTREME-R trains on SIQA then COPA; we train on COPA only.",
)

# Split sizes for `xstilts.cli plan` in the paper profile (xstilts/planner.py). Source:
# cambridgeltl/xcopa, validation 100 / test 500 per language (datasets.md §1b). mean_tokens ASSUMED.
PAPER_SIZES = {"xcopa": {"dev": {lang: 100 for lang in LANGUAGES}, "test": {lang: 500 for lang in LANGUAGES}, "choices": 2, "mean_tokens": 2 * 22}}
