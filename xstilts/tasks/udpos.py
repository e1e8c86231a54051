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
from xstilts.tasks._common import hub_split, language_name, tag_sequences
from xstilts.tasks.base import TAGGING, RowStore, TagExample, Task
from xstilts.tasks.sources import HubSource, route

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
TAG_NAMES = {XTREME_R_REPO: UPOS}  # sources whose pos_tags may be UPOS strings rather than ClassLabel ints


def source(lang: str) -> HubSource:
    return route(lang, SOURCES)


def config(lang: str) -> str:
    return source(lang).config(lang)


def read(store: RowStore, split: str, lang: str) -> list[TagExample]:
    hub_split("udpos", SPLITS, split)
    src = source(lang)
    if src is XTREME and ((split == "dev" and lang in NO_DEV) or (split == "train" and lang in NO_TRAIN)):
        raise MissingDataError(f"udpos has no {split} split for {lang!r} ({config(lang)}): XTREME evaluates it on test only")
    rows, at = src.fetch(store, "udpos", split, lang, COLUMNS)
    sequences = tag_sequences(rows, at, "tokens", "pos_tags", len(UPOS), names=TAG_NAMES.get(src.repo, ()))
    return [TagExample(id=f"udpos-{lang}-{split}-{i}", tokens=toks, tags=tags) for i, (toks, tags) in enumerate(sequences)]


TASK = Task(
    name="udpos",
    version=1,
    format=TAGGING,
    metric="f1",
    languages=LANGUAGES,
    read=read,
    splits=SPLITS,
    labels=UPOS,
    role="target",
    train_task="udpos",
    max_seq_length=256,
    test_only=NO_DEV + XTREME_R_ONLY,
    source=f"{REPO} (udpos.{{LanguageName}}, UD v2.5); XTREME-R lt pl uk wo ro (UD 2.7, test only) from {XTREME_R_REPO} ({{lang}}; unofficial)",
    license="Universal Dependencies: per treebank (mostly CC BY-SA, some CC BY-NC-SA)",
    notes="metric f1 = seqeval F1 as in XTREME/jiant (not token accuracy); kk/th/tl/yo have no dev split; XTREME-R's lt pl uk wo ro: test only.",
)
