"""Tatoeba (XTREME): sentence retrieval, 36 languages paired with English.

``google/xtreme`` ``tatoeba.{iso3}``: a single ``validation`` split of up to 1,000 aligned
pairs (row i of the source side translates row i of the English side), so gold = identity.
Strings keep the raw file's trailing newline, which we strip. Both our dev and test read it
(jiant: one split used as val and test). No training data.

XTREME-R adds az, lt, pl, uk, ro (``aze lit pol ukr ron``, ``LANGUAGES_R``), which google/xtreme
does not have. They are read from ``MTEB_REPO`` = ``mteb/tatoeba-bitext-mining``, configs
``{iso3}-eng`` (``aze-eng``, ``lit-eng``, ...): the copy ``../shared/research/datasets.md`` names
for them (§1a "Alt", §1b, marked [I]). Only the five XTREME-R languages are routed there; the 36
XTREME languages keep google/xtreme.

The mteb schema is not in datasets.md. What the reader assumes, as defaults checked at read time,
from mteb's own Tatoeba task definition (embeddings-benchmark/mteb, TatoebaBitextMining: pair
``{iso3}-eng`` lists the {iso3} side first, evaluates split ``test``, reference LASER's
``data/tatoeba/v1``, the same files google/xtreme was built from; its bitext tasks read columns
``sentence1`` / ``sentence2``; it pins revision 69e8f12da6e31d59addadda9a9c8a2e601a0e282):
one split, ``test``, serving our dev and test as google/xtreme's ``validation`` does;
``sentence1`` = the {iso3} side, ``sentence2`` = English; rows aligned. So both sources give
XTREME's sides (sources = the {iso3} sentences, targets = English, gold = identity); scoring then
searches from the English side, as XTREME's ``evaluate_retrieval.py`` does
(``xstilts.metrics.retrieval.tatoeba_accuracy``). Not verified against the Hub from here. ``data.repos`` in params.yaml can point the
reader at another copy, ``data.revisions`` pin it.
"""

from __future__ import annotations

from xstilts import languages
from xstilts.tasks._common import hub_split
from xstilts.tasks.base import BITEXT, BitextExample, RowStore, SchemaError, Task
from xstilts.tasks.language_routes import HubSource, route

REPO = "google/xtreme"
MTEB_REPO = "mteb/tatoeba-bitext-mining"  # datasets.md §1a alt / §1b [I]; a default, see data.repos
COLUMNS = ("source_sentence", "target_sentence", "source_lang", "target_lang")
MTEB_COLUMNS = ("sentence1", "sentence2")  # (the {iso3} side, the English side)
SPLITS = {"dev": "validation", "test": "validation"}
LANGUAGES = ("af", "ar", "bg", "bn", "de", "el", "es", "et", "eu", "fa", "fi", "fr", "he", "hi", "hu", "id", "it", "ja",
             "jv", "ka", "kk", "ko", "ml", "mr", "nl", "pt", "ru", "sw", "ta", "te", "th", "tl", "tr", "ur", "vi", "zh")
MTEB_ONLY = ("az", "lt", "pl", "uk", "ro")
LANGUAGES_R = LANGUAGES + MTEB_ONLY


def _iso3(lang: str) -> str:
    return languages.get(lang).iso3


XTREME = HubSource(REPO, lambda lang: f"tatoeba.{_iso3(lang)}", SPLITS)
MTEB = HubSource(MTEB_REPO, lambda lang: f"{_iso3(lang)}-eng", {"dev": "test", "test": "test"}, MTEB_ONLY)
SOURCES = (MTEB, XTREME)


def source(lang: str) -> HubSource:
    return route(lang, SOURCES)


def config(lang: str) -> str:
    return source(lang).config(lang)


def _strip(s: str) -> str:
    return s[:-1] if s.endswith("\n") else s


def _text(row: dict, column: str, i: int, at: str) -> str:
    value = row[column]
    if not isinstance(value, str):
        raise SchemaError(f"{at}: column {column!r} row {i} should be a string, got {type(value).__name__}")
    return _strip(value)


def _xtreme_pairs(rows: list[dict], at: str, lang: str) -> list[tuple[str, str]]:
    """google/xtreme: source/target columns, with language columns that must say {iso3} / eng."""
    iso3 = _iso3(lang)
    for i, row in enumerate(rows):
        if row["source_lang"] != iso3:
            raise SchemaError(f"{at}: column 'source_lang' row {i} is {row['source_lang']!r}, expected {iso3!r}")
        if row["target_lang"] != "eng":
            raise SchemaError(f"{at}: column 'target_lang' row {i} is {row['target_lang']!r}, expected 'eng'")
    return [(_text(r, "source_sentence", i, at), _text(r, "target_sentence", i, at)) for i, r in enumerate(rows)]


def _mteb_pairs(rows: list[dict], at: str, lang: str) -> list[tuple[str, str]]:
    """mteb: sentence1 = the {iso3} side, sentence2 = English; no language columns to check."""
    src, eng = MTEB_COLUMNS
    return [(_text(r, src, i, at), _text(r, eng, i, at)) for i, r in enumerate(rows)]


SCHEMAS = {REPO: (COLUMNS, _xtreme_pairs), MTEB_REPO: (MTEB_COLUMNS, _mteb_pairs)}  # repo -> (columns, row reader)


def read(store: RowStore, split: str, lang: str) -> list[BitextExample]:
    hub_split("tatoeba", SPLITS, split)
    src = source(lang)
    columns, pairs_of = SCHEMAS[src.repo]
    rows, at = src.fetch(store, "tatoeba", split, lang, columns)
    pairs = pairs_of(rows, at, lang)
    return [BitextExample(
        id=f"tatoeba-{lang}",
        sources=[s for s, _ in pairs],
        targets=[t for _, t in pairs],
        gold=[(i, i) for i in range(len(pairs))],
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
    source=f"{REPO} (tatoeba.{{iso3}}); XTREME-R az lt pl uk ro from {MTEB_REPO} ({{iso3}}-eng)",
    license="CC BY 2.0 FR",
    notes="Trailing '\\n' stripped; gold = identity (rows aligned); dev and test both read the single validation split "
          "(mteb: its test split); non-English side retrieves English in both sources.",
)


# Split sizes for `xstilts.cli plan` in the paper profile (xstilts/planner.py): examples per split and
# language, and mean XLM-R tokens per feature (ASSUMED: no measured length in
# ../shared/research; a guess from typical lengths, to be replaced by a measurement). Source: google/xtreme tatoeba.* (datasets.md §1a).
_SHORT = {"jv": 205, "ka": 746, "kk": 575, "ml": 687, "sw": 390, "ta": 307, "te": 234, "th": 548}
# pairs per language (each pair embeds two sentences)
PAPER_SIZES = {"tatoeba": {"test": {lang: _SHORT.get(lang, 1000) for lang in LANGUAGES}, "sentences_per_example": 2, "mean_tokens": 15}}
