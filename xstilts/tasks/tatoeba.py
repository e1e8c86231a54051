"""Tatoeba (XTREME): sentence retrieval, 36 languages paired with English.

``google/xtreme`` ``tatoeba.{iso3}``: a single ``validation`` split of up to 1,000 aligned
pairs (row i of the source side translates row i of the English side), so gold = identity.
Strings keep the raw file's trailing newline, which we strip. Both our dev and test read it
(jiant: one split used as val and test). No training data. XTREME-R adds az, lt, pl, uk, ro
(``LANGUAGES_R``), which are not in google/xtreme and have no reader here.
"""

from __future__ import annotations

from xstilts import languages
from xstilts.tasks._common import fetch, hub_split
from xstilts.tasks.base import BITEXT, BitextExample, RowStore, SchemaError, Task

REPO = "google/xtreme"
COLUMNS = ("source_sentence", "target_sentence", "source_lang", "target_lang")
SPLITS = {"dev": "validation", "test": "validation"}
LANGUAGES = ("af", "ar", "bg", "bn", "de", "el", "es", "et", "eu", "fa", "fi", "fr", "he", "hi", "hu", "id", "it", "ja",
             "jv", "ka", "kk", "ko", "ml", "mr", "nl", "pt", "ru", "sw", "ta", "te", "th", "tl", "tr", "ur", "vi", "zh")
LANGUAGES_R = LANGUAGES + ("az", "lt", "pl", "uk", "ro")


def config(lang: str) -> str:
    return f"tatoeba.{languages.get(lang).iso3}"


def _strip(s: str) -> str:
    return s[:-1] if s.endswith("\n") else s


def read(store: RowStore, split: str, lang: str) -> list[BitextExample]:
    rows, at = fetch(store, REPO, config(lang), hub_split("tatoeba", SPLITS, split), COLUMNS)
    iso3 = languages.get(lang).iso3
    for i, row in enumerate(rows):
        if row["source_lang"] != iso3:
            raise SchemaError(f"{at}: column 'source_lang' row {i} is {row['source_lang']!r}, expected {iso3!r}")
        if row["target_lang"] != "eng":
            raise SchemaError(f"{at}: column 'target_lang' row {i} is {row['target_lang']!r}, expected 'eng'")
    return [BitextExample(
        id=f"tatoeba-{lang}",
        sources=[_strip(r["source_sentence"]) for r in rows],
        targets=[_strip(r["target_sentence"]) for r in rows],
        gold=[(i, i) for i in range(len(rows))],
    )]


TASK = Task(
    name="tatoeba",
    version=1,
    format=BITEXT,
    metric="tatoeba_accuracy",
    languages=LANGUAGES,
    read=read,
    splits=SPLITS,
    role="target",
    train_task=None,
    max_seq_length=512,
    source=f"{REPO} (tatoeba.{{iso3}})",
    license="CC BY 2.0 FR",
    notes="Trailing '\\n' stripped; gold = identity (rows aligned); dev and test both read the single validation split.",
)
