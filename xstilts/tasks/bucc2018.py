"""BUCC 2018 (XTREME): parallel-sentence mining from comparable corpora, {de,fr,ru,zh}-en.

``google/xtreme`` ``bucc18.*`` holds only the gold pairs (no distractors), which cannot give the
mining F1, so we read ``mteb/BUCC`` ``{lang}-en``: one row per split holding the whole corpus,
``sentence1`` (the {lang} side), ``sentence2`` (English) and ``gold``, a list of [i, j] positions
into sentence1 / sentence2 that are **1-based** (mteb's own BUCC loader subtracts 1); we convert
them to 0-based. One BitextExample per language and split; duplicate sentences are
kept as they are (the bucc_f1 metric de-duplicates by text, as XTREME does). XTREME calls the
BUCC "sample" set dev (Hub ``validation``) and the BUCC "training" set test. No training data:
the intermediate-task encoder is evaluated directly.
"""

from __future__ import annotations

from xstilts.tasks._common import fetch, hub_split
from xstilts.tasks.base import BITEXT, BitextExample, RowStore, SchemaError, Task

REPO = "mteb/BUCC"
COLUMNS = ("sentence1", "sentence2", "gold")
SPLITS = {"dev": "validation", "test": "test"}
GOLD_INDEX_BASE = 1  # mteb/BUCC gold positions are 1-based
LANGUAGES = ("de", "fr", "ru", "zh")


def config(lang: str) -> str:
    return f"{lang}-en"


def read(store: RowStore, split: str, lang: str) -> list[BitextExample]:
    rows, at = fetch(store, REPO, config(lang), hub_split("bucc2018", SPLITS, split), COLUMNS)
    sources: list[str] = []
    targets: list[str] = []
    gold: list[tuple[int, int]] = []
    for r, row in enumerate(rows):  # one row in mteb/BUCC; several rows are concatenated
        src, trg = list(row["sentence1"]), list(row["sentence2"])
        for k, pair in enumerate(row["gold"]):
            if len(pair) != 2:
                raise SchemaError(f"{at}: column 'gold' row {r} entry {k} is {pair!r}, expected [i, j]")
            i, j = int(pair[0]) - GOLD_INDEX_BASE, int(pair[1]) - GOLD_INDEX_BASE
            if not (0 <= i < len(src) and 0 <= j < len(trg)):
                raise SchemaError(f"{at}: column 'gold' row {r} entry {k} = {list(pair)} is out of range for 1-based positions "
                                  f"(sentence1 has {len(src)}, sentence2 has {len(trg)} sentences)")
            gold.append((len(sources) + i, len(targets) + j))
        sources += src
        targets += trg
    return [BitextExample(id=f"bucc2018-{lang}-{split}", sources=sources, targets=targets, gold=gold)]


TASK = Task(
    name="bucc2018",
    version=1,
    format=BITEXT,
    metric="bucc_f1",
    languages=LANGUAGES,
    read=read,
    splits=SPLITS,
    role="target",
    train_task=None,
    max_seq_length=512,
    source=f"{REPO} ({{lang}}-en)",
    license="mteb/BUCC card: CC BY-SA 4.0; BUCC: LIMSI research-use terms",
    notes="Sources = {lang} side, targets = English; Hub gold is 1-based, ours 0-based; no de-duplication here (the metric does it).",
)


# Split sizes for `xstilts.cli plan` in the paper profile (xstilts/planner.py): examples per split and
# language, and mean XLM-R tokens per feature (ASSUMED: no measured length in
# ../shared/research; a guess from typical lengths, to be replaced by a measurement). Source: google/xtreme bucc18.* gold pairs (datasets.md §1a); corpus sizes assumed (below).
# The mteb/BUCC corpora's sentence counts are UNKNOWN here (datasets.md gives only the gold pairs:
# dev de 1,038 fr 929 ru 2,374 zh 257; test 9,580 / 9,086 / 14,435 / 1,899). ASSUMED: each side
# of a corpus holds 40x its gold pairs (BUCC hides the pairs among mostly unpaired sentences).
_GOLD = {"dev": {"de": 1038, "fr": 929, "ru": 2374, "zh": 257}, "test": {"de": 9580, "fr": 9086, "ru": 14435, "zh": 1899}}
PAPER_SIZES = {"bucc2018": {split: {lang: 40 * n for lang, n in g.items()} for split, g in _GOLD.items()} | {"sentences_per_example": 2, "mean_tokens": 40}}
