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
from xstilts.tasks._common import NLI_LABELS, class_ids, fetch, hub_split, pair_examples, read_squad_schema
from xstilts.tasks.base import PAIR, SPAN, PairExample, RowStore, SpanExample, Task

XNLI_REPO = "facebook/xnli"
MLQA_REPO = "facebook/mlqa"
SPLITS = {"train": "train"}
MNLI_LANGUAGES = ("ar", "bg", "de", "el", "en", "es", "fr", "hi", "ru", "sw", "th", "tr", "ur", "vi", "zh")
SQUAD_LANGUAGES = ("ar", "de", "es", "hi", "vi", "zh")


def read_mnli(store: RowStore, split: str, lang: str) -> list[PairExample]:
    rows, at = fetch(store, XNLI_REPO, lang, hub_split("mnli_translated", SPLITS, split), ("premise", "hypothesis", "label"))
    # facebook/xnli has no idx column: ids are positions in the Hub split
    return pair_examples(rows, at, "premise", "hypothesis", "label", class_ids(len(NLI_LABELS)),
                         ids=lambda i, _row: f"mnli_translated-{lang}-{split}-{i}")


def read_squad(store: RowStore, split: str, lang: str) -> list[SpanExample]:
    return read_squad_schema(store, MLQA_REPO, f"mlqa-translate-train.{lang}", hub_split("squad_translated", SPLITS, split),
                             id_prefix=f"{lang}-")


MNLI_TRANSLATED = Task(
    name="mnli_translated",
    version=1,
    format=PAIR,
    metric="accuracy",
    languages=MNLI_LANGUAGES,
    read=read_mnli,
    splits=SPLITS,
    labels=NLI_LABELS,
    role="intermediate",
    max_seq_length=256,
    source=f"{XNLI_REPO} ({{lang}}, train)",
    license="CC BY-NC 4.0 (XNLI)",
    notes="Machine-translated MNLI train (XTREME translate-train); train only, select models on English mnli dev.",
)

SQUAD_TRANSLATED = Task(
    name="squad_translated",
    version=1,
    format=SPAN,
    metric="squad",
    languages=SQUAD_LANGUAGES,
    read=read_squad,
    splits=SPLITS,
    role="intermediate",
    max_seq_length=384,
    source=f"{MLQA_REPO} (mlqa-translate-train.{{lang}})",
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
