"""XNLI (XTREME): 3-way NLI in 15 languages; zero-shot from English MNLI.

``google/xtreme`` config ``XNLI`` holds all 15 languages in one table (column ``language``,
2-letter code): we filter on it. ``gold_label`` is the label *string*. There is no train split:
the English training data is MNLI (task ``mnli``); translate-train data is ``mnli_translated``.
"""

from __future__ import annotations

from xstilts.tasks._common import NLI_INDEX, NLI_LABELS
from xstilts.tasks.tables import PairTable, pair_task

LANGUAGES = ("ar", "bg", "de", "el", "en", "es", "fr", "hi", "ru", "sw", "th", "tr", "ur", "vi", "zh")
TABLE = PairTable(
    name="xnli", repo="google/xtreme", config="XNLI", splits={"dev": "validation", "test": "test"},
    columns=("language", "sentence1", "sentence2", "gold_label"), language_column="language", text=("sentence1", "sentence2"),
    label="gold_label", label_ids=NLI_INDEX, example_id="xnli-{lang}-{split}-{i}",
)

TASK = pair_task(
    TABLE,
    version=1,
    languages=LANGUAGES,
    labels=NLI_LABELS,
    train_task="mnli",
    source="google/xtreme (XNLI); English train: nyu-mll/glue mnli",
    license="CC BY-NC 4.0",
    notes="One config for all languages, filtered on `language`; gold_label strings mapped to the MNLI label order.",
)


# Split sizes for `xstilts.cli plan` in the paper profile (xstilts/planner.py): examples per split and
# language, and mean XLM-R tokens per feature (ASSUMED: no measured length in
# ../shared/research; a guess from typical lengths, to be replaced by a measurement). Source: google/xtreme XNLI, 15 x 2,490 / 5,010 (datasets.md §1a).
_DEV, _TEST = 2490, 5010  # per language (15 languages)
PAPER_SIZES = {"xnli": {"dev": {lang: _DEV for lang in LANGUAGES}, "test": {lang: _TEST for lang in LANGUAGES}, "mean_tokens": 50}}
