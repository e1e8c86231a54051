"""UD-POS (XTREME): universal POS tagging, UD v2.5, all treebanks of a language merged.

``google/xtreme`` configs are named by English language name (``udpos.German``): we map our
ISO code through xstilts.languages. ``pos_tags`` are ClassLabel ints in the 17-UPOS order below,
which is our label order. Kazakh has train+test only; Tagalog, Thai and Yoruba test only.
The Hub conversion keeps UD's syntactic words and drops multi-word-token lines, whereas XTREME
keeps fused surface forms: token counts differ for fr, de, es, it, pt, ar, he, tr, fa, ...
(datasets.md §2.2), so scores are close to XTREME's but not byte-identical.

XTREME-R adds lt, pl, uk, wo, ro from UD 2.7 (``LANGUAGES_R``); they are not in google/xtreme
and have no reader here (the only Hub copies are unofficial or script-based).
"""

from __future__ import annotations

from xstilts.stores import MissingDataError
from xstilts.tasks._common import fetch, hub_split, language_name, tag_sequences
from xstilts.tasks.base import TAGGING, RowStore, TagExample, Task

REPO = "google/xtreme"
COLUMNS = ("tokens", "pos_tags")
SPLITS = {"train": "train", "dev": "validation", "test": "test"}
UPOS = ("ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X")
LANGUAGES = ("af", "ar", "bg", "de", "el", "en", "es", "et", "eu", "fa", "fi", "fr", "he", "hi", "hu", "id", "it", "ja",
             "kk", "ko", "mr", "nl", "pt", "ru", "ta", "te", "th", "tl", "tr", "ur", "vi", "yo", "zh")
NO_DEV = ("kk", "th", "tl", "yo")  # evaluated on test only
NO_TRAIN = ("th", "tl", "yo")
LANGUAGES_R = LANGUAGES + ("lt", "pl", "uk", "wo", "ro")


def config(lang: str) -> str:
    return f"udpos.{language_name(lang)}"


def read(store: RowStore, split: str, lang: str) -> list[TagExample]:
    hub = hub_split("udpos", SPLITS, split)
    if (split == "dev" and lang in NO_DEV) or (split == "train" and lang in NO_TRAIN):
        raise MissingDataError(f"udpos has no {split} split for {lang!r} ({config(lang)}): XTREME evaluates it on test only")
    rows, at = fetch(store, REPO, config(lang), hub, COLUMNS)
    return [TagExample(id=f"udpos-{lang}-{split}-{i}", tokens=toks, tags=tags)
            for i, (toks, tags) in enumerate(tag_sequences(rows, at, "tokens", "pos_tags", len(UPOS)))]


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
    source=f"{REPO} (udpos.{{LanguageName}}, UD v2.5)",
    license="Universal Dependencies: per treebank (mostly CC BY-SA, some CC BY-NC-SA)",
    notes="metric f1 = seqeval F1 as in XTREME/jiant (not token accuracy); kk/th/tl/yo have no dev split.",
)
