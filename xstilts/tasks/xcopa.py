"""XCOPA (XTREME-R): causal commonsense reasoning in 11 languages, 2 choices.

``cambridgeltl/xcopa`` ``{lang}``: validation (100) and test (500) per language. The question
('cause' / 'effect') is kept in ChoiceExample.question. XTREME-R fine-tunes on SIQA and then on
English COPA; SIQA is outside this project's data, so the English training task is ``copa``.
"""

from __future__ import annotations

from xstilts.tasks.tables import choice_task, copa_table

LANGUAGES = ("et", "ht", "id", "it", "qu", "sw", "ta", "th", "tr", "vi", "zh")
TABLE = copa_table(name="xcopa", repo="cambridgeltl/xcopa", config=lambda lang: lang, splits={"dev": "validation", "test": "test"},
                   example_id="xcopa-{lang}-{split}-{row[idx]}")

TASK = choice_task(
    TABLE,
    version=1,
    languages=LANGUAGES,
    labels=("choice1", "choice2"),
    train_task="copa",
    source="cambridgeltl/xcopa ({lang})",
    license="CC BY 4.0",
    notes="XTREME-R task (not in the nine XTREME tasks). XTREME-R trains on SIQA then COPA; we train on COPA only.",
)

# Split sizes for `xstilts.cli plan` in the paper profile (xstilts/planner.py). Source:
# cambridgeltl/xcopa, validation 100 / test 500 per language (datasets.md §1b). mean_tokens ASSUMED.
PAPER_SIZES = {"xcopa": {"dev": {lang: 100 for lang in LANGUAGES}, "test": {lang: 500 for lang in LANGUAGES}, "choices": 2, "mean_tokens": 2 * 22}}
