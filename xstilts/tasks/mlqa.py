"""MLQA (XTREME): extractive QA in 7 languages; zero-shot from SQuAD v1.1.

``google/xtreme`` ``MLQA.{context_lang}.{question_lang}``: XTREME scores only the diagonal,
so we read ``MLQA.{lang}.{lang}``. ``answers`` keys come in the order {answer_start, text}
here (read by key). Scored with MLQA's language-specific answer normalisation.
"""

from __future__ import annotations

from xstilts.tasks.tables import SpanTable, span_task

LANGUAGES = ("ar", "de", "en", "es", "hi", "vi", "zh")
TABLE = SpanTable(name="mlqa", repo="google/xtreme", config=lambda lang: f"MLQA.{lang}.{lang}", splits={"dev": "validation", "test": "test"})

TASK = span_task(
    TABLE,
    version=1,
    metric="mlqa",
    languages=LANGUAGES,
    train_task="squad_v1",
    source="google/xtreme (MLQA.{lang}.{lang})",
    license="CC BY-SA 3.0",
    notes="Diagonal configs only (context and question in the same language).",
)


# Split sizes for `xstilts.cli plan` in the paper profile (xstilts/planner.py): examples per split and
# language, and mean XLM-R tokens per feature (ASSUMED: no measured length in
# ../shared/research; a guess from typical lengths, to be replaced by a measurement). Source: google/xtreme MLQA.xx.xx (datasets.md §1a).
# dev / test per language: en, de, ar from datasets.md §1a; es, hi, vi, zh UNKNOWN here, ASSUMED 510 / 5,200
# (the mean of the known non-English ones).
_MLQA = {"en": (1148, 11590), "de": (512, 4517), "ar": (517, 5335), **{lang: (510, 5200) for lang in ("es", "hi", "vi", "zh")}}
PAPER_SIZES = {"mlqa": {"dev": {lang: n[0] for lang, n in _MLQA.items()}, "test": {lang: n[1] for lang, n in _MLQA.items()}, "windows": 1.03, "mean_tokens": 200}}
