"""XNLI (XTREME): 3-way NLI in 15 languages; zero-shot from English MNLI.

``google/xtreme`` config ``XNLI`` holds all 15 languages in one table (column ``language``,
2-letter code): we filter on it. ``gold_label`` is the label *string*. There is no train split:
the English training data is MNLI (task ``mnli``); translate-train data is ``mnli_translated``.
"""

from __future__ import annotations

from xstilts.stores import MissingDataError
from xstilts.tasks._common import NLI_INDEX, NLI_LABELS, fetch, hub_split, pair_examples
from xstilts.tasks.base import PAIR, PairExample, RowStore, Task

REPO, CONFIG = "google/xtreme", "XNLI"
COLUMNS = ("language", "sentence1", "sentence2", "gold_label")
SPLITS = {"dev": "validation", "test": "test"}
LANGUAGES = ("ar", "bg", "de", "el", "en", "es", "fr", "hi", "ru", "sw", "th", "tr", "ur", "vi", "zh")


def read(store: RowStore, split: str, lang: str) -> list[PairExample]:
    hub = hub_split("xnli", SPLITS, split)
    rows, at = fetch(store, REPO, CONFIG, hub, COLUMNS)
    mine = [r for r in rows if r["language"] == lang]
    if rows and not mine:
        raise MissingDataError(f"{at} has no rows with language == {lang!r}; languages present: {sorted({r['language'] for r in rows})}")
    return pair_examples(mine, f"{at} (language {lang!r})", "sentence1", "sentence2", "gold_label", NLI_INDEX,
                         ids=lambda i, _row: f"xnli-{lang}-{split}-{i}")


TASK = Task(
    name="xnli",
    version=1,
    format=PAIR,
    metric="accuracy",
    languages=LANGUAGES,
    read=read,
    splits=SPLITS,
    labels=NLI_LABELS,
    role="target",
    train_task="mnli",
    max_seq_length=256,
    source=f"{REPO} ({CONFIG}); English train: nyu-mll/glue mnli",
    license="CC BY-NC 4.0",
    notes="One config for all languages, filtered on `language`; gold_label strings mapped to the MNLI label order.",
)


# Split sizes for `xstilts.cli plan` in the paper profile (xstilts/planner.py): examples per split and
# language, and mean XLM-R tokens per feature (ASSUMED: no measured length in
# ../shared/research; a guess from typical lengths, to be replaced by a measurement). Source: google/xtreme XNLI, 15 x 2,490 / 5,010 (datasets.md §1a).
_DEV, _TEST = 2490, 5010  # per language (15 languages)
PAPER_SIZES = {"xnli": {"dev": {lang: _DEV for lang in LANGUAGES}, "test": {lang: _TEST for lang in LANGUAGES}, "mean_tokens": 50}}
