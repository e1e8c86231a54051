"""PAN-X / WikiANN NER (XTREME): 40 languages, Rahimi et al. splits.

``google/xtreme`` ``PAN-X.{lang}``: ``ner_tags`` are ClassLabel ints in the order below (our
label order). XTREME-R's 8 extra languages (qu pl uk az lt pa gu ro) are not in google/xtreme:
for them the reader uses ``unimelb-nlp/wikiann`` ``{lang}``, which has the same splits, the same
tag ClassLabel and an extra ``spans`` column.
"""

from __future__ import annotations

from xstilts.tasks.language_routes import HubSource
from xstilts.tasks.tables import TagTable, tagging_task

REPO, WIKIANN_REPO = "google/xtreme", "unimelb-nlp/wikiann"
COLUMNS = ("tokens", "ner_tags")
SPLITS = {"train": "train", "dev": "validation", "test": "test"}
TAGS = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC")
LANGUAGES = ("af", "ar", "bg", "bn", "de", "el", "en", "es", "et", "eu", "fa", "fi", "fr", "he", "hi", "hu", "id", "it", "ja", "jv",
             "ka", "kk", "ko", "ml", "mr", "ms", "my", "nl", "pt", "ru", "sw", "ta", "te", "th", "tl", "tr", "ur", "vi", "yo", "zh")
WIKIANN_ONLY = ("qu", "pl", "uk", "az", "lt", "pa", "gu", "ro")
LANGUAGES_R = LANGUAGES + WIKIANN_ONLY


XTREME = HubSource(REPO, lambda lang: f"PAN-X.{lang}", SPLITS)
WIKIANN = HubSource(WIKIANN_REPO, lambda lang: lang, SPLITS, WIKIANN_ONLY)
SOURCES = (WIKIANN, XTREME)


TABLE = TagTable(name="panx", splits=SPLITS, routes=SOURCES, columns=COLUMNS, tokens="tokens", tags="ner_tags", labels=TAGS,
                 example_id="panx-{lang}-{split}-{i}")

TASK = tagging_task(
    TABLE,
    version=1,
    languages=LANGUAGES,
    train_task="panx",
    source=f"{REPO} (PAN-X.{{lang}}); XTREME-R extras from {WIKIANN_REPO}",
    license="WikiANN: unknown (card)",
    notes="metric f1 = seqeval entity F1.",
)


# Split sizes for `xstilts.cli plan` in the paper profile (xstilts/planner.py): examples per split and
# language, and mean XLM-R tokens per feature (ASSUMED: no measured length in
# ../shared/research; a guess from typical lengths, to be replaced by a measurement). Source: Rahimi et al. splits as in google/xtreme PAN-X (datasets.md §2.4).
_PANX = {  # train / dev / test
    **{lang: (20000, 10000, 10000) for lang in "ar bg de el en es fa fi fr he hu id it ja ko nl pt ru th tr vi zh".split()},
    "et": (15000, 10000, 10000), "eu": (10000, 10000, 10000), "ka": (10000, 10000, 10000), "af": (5000, 1000, 1000), "hi": (5000, 1000, 1000),
    **{lang: (10000, 1000, 1000) for lang in ("bn", "ml", "tl")}, "ms": (20000, 1000, 1000), "ur": (20000, 1000, 1000), "ta": (15000, 1000, 1000),
    "mr": (5000, 1000, 1000), **{lang: (1000, 1000, 1000) for lang in ("kk", "sw", "te")}, **{lang: (100, 100, 100) for lang in ("jv", "my", "yo")},
}
PAPER_SIZES = {"panx": {split: {lang: n[i] for lang, n in _PANX.items()} for i, split in enumerate(("train", "dev", "test"))} | {"mean_tokens": 15}}
