"""Translate-train data: machine-translated English training sets (the paper's "translated
intermediate-task data" variant, and XTREME's translate-train baseline).

* ``mnli_translated``: XTREME's machine translation of the MNLI train set into the 14 XNLI
  languages, from ``facebook/xnli`` ``{lang}`` train (``en`` there is the original MNLI).
  Only train is exposed: facebook/xnli validation/test are the human-translated XNLI dev/test,
  i.e. target-task evaluation data, which must not be used to select intermediate models.
* ``squad_translated``: XTREME's translation of SQuAD v1.1 train, from ``facebook/mlqa``
  ``mlqa-translate-train.{lang}`` (ar de es hi vi zh), SQuAD schema.
* PAWS-X: the non-English train splits of ``google/xtreme`` ``PAWS-X.{lang}`` are already
  machine-translated, so translate-train PAWS-X is ``pawsx`` read with ``split="train"`` and a
  non-English ``lang``; there is no separate task.

``TRANSLATE_TRAIN`` maps each target task to the task (and its languages) that holds its
translate-train data.
"""

from __future__ import annotations

from xstilts.tasks import pawsx
from xstilts.tasks._common import NLI_LABELS, class_ids
from xstilts.tasks.tables import PairTable, SpanTable, pair_task, span_task

SPLITS = {"train": "train"}
MNLI_LANGUAGES = ("ar", "bg", "de", "el", "en", "es", "fr", "hi", "ru", "sw", "th", "tr", "ur", "vi", "zh")
SQUAD_LANGUAGES = ("ar", "de", "es", "hi", "vi", "zh")
MNLI_TABLE = PairTable(  # facebook/xnli has no idx column: ids are positions in the Hub split
    name="mnli_translated", repo="facebook/xnli", config=lambda lang: lang, splits=SPLITS, columns=("premise", "hypothesis", "label"),
    text=("premise", "hypothesis"), label="label", label_ids=class_ids(len(NLI_LABELS)), example_id="mnli_translated-{lang}-{split}-{i}",
)
SQUAD_TABLE = SpanTable(name="squad_translated", repo="facebook/mlqa", config=lambda lang: f"mlqa-translate-train.{lang}", splits=SPLITS,
                        id_prefix="{lang}-")

MNLI_TRANSLATED = pair_task(
    MNLI_TABLE,
    version=1,
    languages=MNLI_LANGUAGES,
    labels=NLI_LABELS,
    role="intermediate",
    source="facebook/xnli ({lang}, train)",
    license="CC BY-NC 4.0 (XNLI)",
    notes="Machine-translated MNLI train (XTREME translate-train); train only, select models on English mnli dev.",
)

SQUAD_TRANSLATED = span_task(
    SQUAD_TABLE,
    version=1,
    metric="squad",
    languages=SQUAD_LANGUAGES,
    role="intermediate",
    source="facebook/mlqa (mlqa-translate-train.{lang})",
    license="CC BY-SA 3.0 (MLQA)",
    notes="Machine-translated SQuAD v1.1 train (XTREME translate-train); train only.",
)

# target task -> (task holding its translate-train data, languages it has)
TRANSLATE_TRAIN = {
    "xnli": ("mnli_translated", MNLI_LANGUAGES),
    "xquad": ("squad_translated", SQUAD_LANGUAGES),
    "mlqa": ("squad_translated", SQUAD_LANGUAGES),
    "pawsx": ("pawsx", pawsx.LANGUAGES),
}


# Split sizes for `xstilts.cli plan` in the paper profile (xstilts/planner.py): examples per split and
# language, and mean XLM-R tokens per feature (ASSUMED: no measured length in
# ../shared/research; a guess from typical lengths, to be replaced by a measurement). Source: facebook/xnli card (datasets.md §1a); mlqa-translate-train sizes UNKNOWN here.
PAPER_SIZES = {
    "mnli_translated": {"train": {lang: 392702 for lang in MNLI_LANGUAGES}, "mean_tokens": 50},  # MT of the whole MNLI train (facebook/xnli card)
    "squad_translated": {"train": {lang: 87599 for lang in SQUAD_LANGUAGES}, "windows": 1.03, "mean_tokens": 190},  # ASSUMED: as SQuAD v1.1 (some answers are lost in translation)
}
