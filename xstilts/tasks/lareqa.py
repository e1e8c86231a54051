"""LAReQA (XTREME-R): language-agnostic answer-sentence retrieval over XQuAD-R, 11 languages.

A question in language L must retrieve, from a pool of the sentences of every context in all 11
languages, the sentences that hold its answer (one per language: XQuAD-R is parallel and shares
question ids across languages), scored by mAP@20. One BitextExample per query language:
sources = the questions in L, targets = the multilingual sentence pool, gold = (question,
answer sentence) for every language that has the question's id.

LOSSY, read this: ``google-research-datasets/xquad_r`` on the Hub drops ``sentence_breaks``,
which XTREME-R uses to cut each context into candidate sentences. We re-split contexts with
:func:`split_sentences` (a break after . ! ? or the CJK/Devanagari/Arabic full stops, followed
by whitespace, or directly after the CJK ones; Thai, which has no sentence punctuation, stays
one candidate per context). So the pool size, the candidate strings and hence mAP@20 differ from
XTREME-R's; the gold is the re-split sentence that contains the answer's start offset. XTREME-R
also encodes each candidate together with its context paragraph; targets here are the bare
sentences (``target_ids`` = "{lang}:{context index}:{sentence index}"). The raw JSON with
sentence_breaks (github.com/google-research-datasets/lareqa) would remove this loss.
"""

from __future__ import annotations

import re

from xstilts.tasks.base import BITEXT, BitextExample, RowStore, Task
from xstilts.tasks.tables import SpanTable

REPO = "google-research-datasets/xquad_r"
SPLITS = {"dev": "validation", "test": "validation"}
XQUAD_R = SpanTable(name="lareqa", repo=REPO, config=lambda lang: lang, splits=SPLITS)  # per language, SQuAD schema
LANGUAGES = ("ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh")
_BREAK = re.compile(r"(?<=[.!?\u0964\u06d4])\s+|(?<=[\u3002\uff01\uff1f])\s*")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans [start, end) of the sentences of ``text`` (whitespace between them excluded)."""
    spans, start = [], 0
    for m in _BREAK.finditer(text):
        if m.end() >= len(text):
            break
        if m.start() > start:
            spans.append((start, m.start()))
        start = m.end()
    end = len(text.rstrip())
    if end > start:
        spans.append((start, end))
    return spans


def read(store: RowStore, split: str, lang: str) -> list[BitextExample]:
    pool = LANGUAGES if lang in LANGUAGES else LANGUAGES + (lang,)
    targets: list[str] = []
    target_ids: list[str] = []
    answer_sentences: dict[str, list[int]] = {}  # question id -> target index of its answer, per language
    questions = []
    for pool_lang in pool:
        examples = XQUAD_R.read(store, split, pool_lang)
        where_context: dict[str, list[tuple[int, int, int]]] = {}  # context text -> [(start, end, target index)]
        for ex in examples:
            if ex.context not in where_context:
                c = len(where_context)
                spans = []
                for s, (a, b) in enumerate(split_sentences(ex.context)):
                    spans.append((a, b, len(targets)))
                    targets.append(ex.context[a:b])
                    target_ids.append(f"{pool_lang}:{c}:{s}")
                where_context[ex.context] = spans
            for start in ex.answers_start[:1]:
                hit = [t for a, b, t in where_context[ex.context] if a <= start < b]
                if hit:
                    answer_sentences.setdefault(ex.id, []).append(hit[0])
        if pool_lang == lang:
            questions = examples
    gold = [(i, t) for i, q in enumerate(questions) for t in answer_sentences.get(q.id, [])]
    return [BitextExample(
        id=f"lareqa-{lang}-{split}",
        sources=[q.question for q in questions],
        targets=targets,
        gold=gold,
        source_ids=[q.id for q in questions],
        target_ids=target_ids,
    )]


TASK = Task(
    name="lareqa",
    version=1,
    format=BITEXT,
    metric="map_at_20",
    languages=LANGUAGES,
    read=read,
    splits=SPLITS,
    role="target",
    train_task="squad_v1",
    max_seq_length=512,
    source=f"{REPO} ({{lang}})",
    license="CC BY-SA 4.0",
    notes="XTREME-R task. LOSSY: Hub xquad_r lacks sentence_breaks; candidates are re-split heuristically (see module docstring).",
)
