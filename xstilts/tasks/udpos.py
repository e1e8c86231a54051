"""UD-POS (XTREME): universal POS tagging, UD v2.5, all treebanks of a language merged.

``google/xtreme`` configs are named by English language name (``udpos.German``): we map our
ISO code through xstilts.languages. ``pos_tags`` are ClassLabel ints in the 17-UPOS order below,
which is our label order. Kazakh has train+test only; Tagalog, Thai and Yoruba test only.
The Hub conversion keeps UD's syntactic words and drops multi-word-token lines, whereas XTREME
keeps fused surface forms: token counts differ for fr, de, es, it, pt, ar, he, tr, fa, ...
(datasets.md §2.2), so scores are close to XTREME's but not byte-identical.

XTREME-R adds lt, pl, uk, wo, ro from UD 2.7 (``LANGUAGES_R``). google/xtreme does not have them;
they are read from ``XTREME_R_REPO`` = ``izhx/xtreme-r-udpos``, an unofficial parquet mirror of
XTREME-R's UD-POS. What ``../shared/research/datasets.md`` §1b documents ([V] Hub page): configs
are ISO codes (``af`` ... ``zh`` plus the new ones); ``en`` has train/dev/test, every other
language test only; licence "ud-2.7". Only the five XTREME-R languages are routed there: the 33
XTREME languages keep UD v2.5 from google/xtreme, so their scores stay comparable with XTREME.

Not documented there, so defaults checked at read time rather than claims: the split name
``test`` (the mirror's Hub pages show ``<lang>/test.parquet`` files and README ``configs`` paths
``<lang>/test*``), the columns ``tokens`` / ``pos_tags`` (as in google/xtreme) and the tag encoding:
ClassLabel ints are taken in the 17-UPOS order below (as in google/xtreme), UPOS strings are
mapped by name; mixed, unknown or out-of-range tags are a SchemaError naming dataset, split and
column. ``data.repos`` in params.yaml can point the reader at another copy of the same schema.
"""

from __future__ import annotations

from xstilts.stores import MissingDataError
from xstilts.tasks._common import hub_split, language_name
from xstilts.tasks.base import RowStore, TagExample
from xstilts.tasks.language_routes import HubSource, route
from xstilts.tasks.tables import TagTable, tagging_task

REPO = "google/xtreme"
XTREME_R_REPO = "izhx/xtreme-r-udpos"  # unofficial mirror (datasets.md §1b); a default, see data.repos
COLUMNS = ("tokens", "pos_tags")
SPLITS = {"train": "train", "dev": "validation", "test": "test"}
UPOS = ("ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X")
LANGUAGES = ("af", "ar", "bg", "de", "el", "en", "es", "et", "eu", "fa", "fi", "fr", "he", "hi", "hu", "id", "it", "ja",
             "kk", "ko", "mr", "nl", "pt", "ru", "ta", "te", "th", "tl", "tr", "ur", "vi", "yo", "zh")
NO_DEV = ("kk", "th", "tl", "yo")  # evaluated on test only
NO_TRAIN = ("th", "tl", "yo")
XTREME_R_ONLY = ("lt", "pl", "uk", "wo", "ro")  # UD 2.7, test only in the mirror
LANGUAGES_R = LANGUAGES + XTREME_R_ONLY

XTREME = HubSource(REPO, lambda lang: f"udpos.{language_name(lang)}", SPLITS)
XTREME_R = HubSource(XTREME_R_REPO, lambda lang: lang, {"test": "test"}, XTREME_R_ONLY)
SOURCES = (XTREME_R, XTREME)
TABLE = TagTable(name="udpos", splits=SPLITS, routes=SOURCES, columns=COLUMNS, tokens="tokens", tags="pos_tags", labels=UPOS,
                 named_tags=(XTREME_R_REPO,),  # the mirror's pos_tags may be UPOS strings rather than ClassLabel ints
                 example_id="udpos-{lang}-{split}-{i}")


def source(lang: str) -> HubSource:
    return route(lang, SOURCES)


def config(lang: str) -> str:
    return source(lang).config(lang)


def read(store: RowStore, split: str, lang: str) -> list[TagExample]:
    hub_split("udpos", SPLITS, split)
    src = source(lang)
    if src is XTREME and ((split == "dev" and lang in NO_DEV) or (split == "train" and lang in NO_TRAIN)):
        raise MissingDataError(f"udpos has no {split} split for {lang!r} ({config(lang)}): XTREME evaluates it on test only")
    return TABLE.read(store, split, lang)


TASK = tagging_task(
    TABLE,
    version=1,
    languages=LANGUAGES,
    read=read,
    train_task="udpos",
    test_only=NO_DEV + XTREME_R_ONLY,
    no_train=NO_TRAIN + XTREME_R_ONLY,
    source=f"{REPO} (udpos.{{LanguageName}}, UD v2.5); XTREME-R lt pl uk wo ro (UD 2.7, test only) from {XTREME_R_REPO} ({{lang}}; unofficial)",
    license="Universal Dependencies: per treebank (mostly CC BY-SA, some CC BY-NC-SA)",
    notes="metric f1 = seqeval F1 as in XTREME/jiant (not token accuracy); kk/th/tl/yo have no dev split; XTREME-R's lt pl uk wo ro: test only.",
)


# Split sizes for `xstilts.cli plan` in the paper profile (xstilts/planner.py): examples per split and
# language, and mean XLM-R tokens per feature (ASSUMED: no measured length in
# ../shared/research; a guess from typical lengths, to be replaced by a measurement). Source: google/xtreme udpos dataset_infos.json (datasets.md §2.3).
_UD = {  # train / dev / test; 0 = no such split
    "af": (1315, 194, 425), "ar": (6075, 909, 1680), "eu": (5396, 1798, 1799), "bg": (8907, 1115, 1116), "nl": (18051, 1394, 1471),
    "en": (21253, 3974, 5440), "et": (25749, 3125, 3760), "fi": (27198, 3239, 4422), "fr": (47308, 5979, 9465), "de": (166849, 19233, 22458),
    "el": (28152, 2559, 2809), "he": (5241, 484, 491), "hi": (13304, 1659, 2684), "hu": (910, 441, 449), "id": (4477, 559, 1557),
    "it": (29685, 2278, 3518), "ja": (7125, 511, 2372), "ko": (27410, 3016, 4276), "zh": (18998, 3038, 5528), "mr": (373, 46, 47),
    "fa": (4798, 599, 600), "pt": (17992, 1770, 2681), "ru": (67435, 9960, 11336), "es": (28492, 3054, 3147), "ta": (400, 80, 120),
    "te": (1051, 131, 146), "tr": (3664, 988, 4785), "ur": (4043, 552, 535), "vi": (1400, 800, 800), "kk": (31, 0, 1047),
    "tl": (0, 0, 55), "th": (0, 0, 1000), "yo": (0, 0, 100),
}
PAPER_SIZES = {"udpos": {split: {lang: n[i] for lang, n in _UD.items() if n[i]} for i, split in enumerate(("train", "dev", "test"))} | {"mean_tokens": 30}}
