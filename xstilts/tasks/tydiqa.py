"""TyDiQA-GoldP (XTREME): extractive QA in 9 languages.

``google/xtreme`` ``tydiqa`` is one config with every language mixed; the language is the id
prefix, the full lowercase English name (``english-...``, ``arabic-...``). We filter on it.

Training data: XTREME's zero-shot protocol fine-tunes on the *English* GoldP train only, which
is our default (``read(store, "train", "en")``: ids starting ``english-``). jiant's download
script instead writes the full 9-language GoldP train into every ``tydiqa_{lang}`` train file,
so a jiant "tydiqa_en" run is multilingual; pass ``lang="all"`` to get that. Evaluation is on
GoldP dev (Hub ``validation``), which is XTREME's test set: our dev and test both read it.
"""

from __future__ import annotations

from xstilts.stores import MissingDataError
from xstilts.tasks._common import language_name, span_examples
from xstilts.tasks.base import RowStore, SpanExample
from xstilts.tasks.tables import SpanTable, span_task

LANGUAGES = ("ar", "bn", "en", "fi", "id", "ko", "ru", "sw", "te")
ALL = "all"  # jiant's multilingual training set
TABLE = SpanTable(name="tydiqa", repo="google/xtreme", config="tydiqa", splits={"train": "train", "dev": "validation", "test": "validation"})


def id_prefix(lang: str) -> str:
    return language_name(lang).lower() + "-"


def read(store: RowStore, split: str, lang: str) -> list[SpanExample]:
    rows, at = TABLE.rows(store, split, lang)
    if lang == ALL:
        return span_examples(rows, at)
    prefix = id_prefix(lang)
    mine = [r for r in rows if str(r["id"]).startswith(prefix)]
    if rows and not mine:
        present = sorted({str(r["id"]).split("-", 1)[0] for r in rows})
        raise MissingDataError(f"{at} has no rows whose id starts with {prefix!r}; id prefixes present: {present}")
    return span_examples(mine, f"{at} (id prefix {prefix!r})")


TASK = span_task(
    TABLE,
    version=1,
    metric="squad",
    languages=LANGUAGES,
    read=read,
    train_task="tydiqa",
    source="google/xtreme (tydiqa, GoldP)",
    license="Apache 2.0",
    notes="Language = id prefix. Train defaults to English-only (XTREME zero-shot); lang='all' = jiant's multilingual train. dev and test both = GoldP dev.",
)


# Split sizes for `xstilts.cli plan` in the paper profile (xstilts/planner.py): examples per split and
# language, and mean XLM-R tokens per feature (ASSUMED: no measured length in
# ../shared/research; a guess from typical lengths, to be replaced by a measurement). Source: google/xtreme tydiqa (datasets.md §1a; per-language dev sizes [I]).
# train: the English GoldP train (our default, ids ``english-``): 3,696 is UNVERIFIED (datasets.md
# §4 notes it is from memory); full 9-language train 49,881. Test = GoldP dev, per language.
PAPER_SIZES = {"tydiqa": {"train": {"en": 3696}, "dev": {"en": 440},
                          "test": {"ar": 921, "bn": 113, "en": 440, "fi": 782, "id": 565, "ko": 276, "ru": 812, "sw": 499, "te": 669},
                          "windows": 1.1, "mean_tokens": 220}}
