"""XQuAD (XTREME): SQuAD v1.1 dev translated into 10 languages (+ en); zero-shot from SQuAD v1.1.

``google/xtreme`` ``XQuAD.{lang}`` has a single ``validation`` split (1,190 questions), which is
XTREME's test set; jiant keeps it as "val". So both our dev and test read it. XTREME-R adds ro,
which only ``google/xquad`` (``xquad.ro``, same schema) has: the reader uses it for ro.
"""

from __future__ import annotations

from xstilts.tasks.language_routes import HubSource
from xstilts.tasks.tables import SpanTable, span_task

REPO, XQUAD_REPO = "google/xtreme", "google/xquad"
SPLITS = {"dev": "validation", "test": "validation"}
LANGUAGES = ("ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh")
XQUAD_ONLY = ("ro",)
LANGUAGES_R = LANGUAGES + XQUAD_ONLY


XTREME = HubSource(REPO, lambda lang: f"XQuAD.{lang}", SPLITS)
XQUAD = HubSource(XQUAD_REPO, lambda lang: f"xquad.{lang}", SPLITS, XQUAD_ONLY)
SOURCES = (XQUAD, XTREME)


TABLE = SpanTable(name="xquad", splits=SPLITS, routes=SOURCES)

TASK = span_task(
    TABLE,
    version=1,
    metric="squad",
    languages=LANGUAGES,
    train_task="squad_v1",
    source=f"{REPO} (XQuAD.{{lang}}); ro from {XQUAD_REPO}",
    license="CC BY-SA 4.0",
    notes="Only a validation split exists (XTREME's test set): dev and test both read it. Score = (EM+F1)/2 in the XTREME average.",
)


# Split sizes for `xstilts.cli plan` in the paper profile (xstilts/planner.py): examples per split and
# language, and mean XLM-R tokens per feature (ASSUMED: no measured length in
# ../shared/research; a guess from typical lengths, to be replaced by a measurement). Source: XQuAD, 1,190 question-answer pairs per language (Artetxe et al. 2020); the Hub's one
# validation split serves as dev and test (evaluated once).
PAPER_SIZES = {"xquad": {"test": {lang: 1190 for lang in LANGUAGES}, "windows": 1.03, "mean_tokens": 200}}
