"""MLQA (XTREME): extractive QA in 7 languages; zero-shot from SQuAD v1.1.

``google/xtreme`` ``MLQA.{context_lang}.{question_lang}``: XTREME scores only the diagonal,
so we read ``MLQA.{lang}.{lang}``. ``answers`` keys come in the order {answer_start, text}
here (read by key). Scored with MLQA's language-specific answer normalisation.
"""

from __future__ import annotations

from xstilts.tasks._common import hub_split, read_squad_schema
from xstilts.tasks.base import SPAN, RowStore, SpanExample, Task

REPO = "google/xtreme"
SPLITS = {"dev": "validation", "test": "test"}
LANGUAGES = ("ar", "de", "en", "es", "hi", "vi", "zh")


def config(lang: str, question_lang: str | None = None) -> str:
    return f"MLQA.{lang}.{question_lang or lang}"


def read(store: RowStore, split: str, lang: str) -> list[SpanExample]:
    return read_squad_schema(store, REPO, config(lang), hub_split("mlqa", SPLITS, split))


TASK = Task(
    name="mlqa",
    version=1,
    format=SPAN,
    metric="mlqa",
    languages=LANGUAGES,
    read=read,
    splits=SPLITS,
    role="target",
    train_task="squad_v1",
    max_seq_length=384,
    source=f"{REPO} (MLQA.{{lang}}.{{lang}})",
    license="CC BY-SA 3.0",
    notes="Diagonal configs only (context and question in the same language).",
)
