"""PAWS-X (XTREME): paraphrase identification in 7 languages.

``google/xtreme`` ``PAWS-X.{lang}``; ``label`` is the *string* "0"/"1". The English train split
is the original PAWS train; the train split of every other language is XTREME's machine
translation of it, i.e. ``read(store, "train", "de")`` is PAWS-X translate-train data
(see xstilts/tasks/translated.py). Zero-shot training uses ``lang="en"``.
"""

from __future__ import annotations

from xstilts.tasks.tables import PairTable, pair_task

LABELS = ("0", "1")  # 1 = paraphrase
LANGUAGES = ("de", "en", "es", "fr", "ja", "ko", "zh")
TABLE = PairTable(
    name="pawsx", repo="google/xtreme", config=lambda lang: f"PAWS-X.{lang}", splits={"train": "train", "dev": "validation", "test": "test"},
    columns=("sentence1", "sentence2", "label"), text=("sentence1", "sentence2"), label="label",
    label_ids={s: i for i, s in enumerate(LABELS)}, example_id="pawsx-{lang}-{split}-{i}",
)

TASK = pair_task(
    TABLE,
    version=1,
    languages=LANGUAGES,
    labels=LABELS,
    train_task="pawsx",
    source="google/xtreme (PAWS-X.{lang})",
    license="PAWS-X terms: free for any purpose, attribute Google",
    notes="label strings '0'/'1'; non-English train splits are machine-translated (translate-train).",
)


# Split sizes for `xstilts.cli plan` in the paper profile (xstilts/planner.py): examples per split and
# language, and mean XLM-R tokens per feature (ASSUMED: no measured length in
# ../shared/research; a guess from typical lengths, to be replaced by a measurement). Source: google/xtreme PAWS-X (datasets.md §1a).
PAPER_SIZES = {"pawsx": {
    "train": {"en": 49175, **{lang: 49300 for lang in ("de", "es", "fr", "ja", "ko", "zh")}},  # non-English: "~49.2-49.4k" (MT), 49,300 ASSUMED
    "dev": {"en": 2000, "de": 2000, "es": 1961, "fr": 1988, "ja": 2000, "ko": 2000, "zh": 2000},
    "test": {"en": 2000, "de": 2000, "es": 2000, "fr": 2000, "ja": 2000, "ko": 1999, "zh": 2000},
    "mean_tokens": 60}}
