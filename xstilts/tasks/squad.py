"""SQuAD v1.1 and v2.0: English extractive QA. Intermediate tasks; v1.1 train is also the English
training data of XQuAD, MLQA and (XTREME-R) LAReQA. v2.0 train contains every v1.1 train
question plus unanswerable ones (``answers.text == []``)."""

from __future__ import annotations

from xstilts.tasks.tables import SpanTable, span_task

SPLITS = {"train": "train", "dev": "validation"}  # no public test set


def _intermediate(name: str, repo: str, config: str, **fields):
    """An English intermediate SQuAD task read from ``repo`` ``config``."""
    table = SpanTable(name=name, repo=repo, config=config, splits=SPLITS, english_only=True)
    return span_task(table, version=1, metric="squad", languages=("en",), role="intermediate", source=f"{repo} ({config})",
                     license="CC BY-SA 4.0", **fields)


SQUAD_V1 = _intermediate(
    "squad_v1", "rajpurkar/squad", "plain_text",
    notes="dev = validation (the official v1.1 dev set); there is no test split.",
)

SQUAD_V2 = _intermediate(
    "squad_v2", "rajpurkar/squad_v2", "squad_v2",
    notes="Unanswerable questions have empty answers (version_2_with_negative: the span_qa format decodes null answers for "
          "squad_v2, and the squad metric scores an empty gold list as no-answer); dev = validation; no test split.",
)


# Split sizes for `xstilts.cli plan` in the paper profile (xstilts/planner.py): examples per split and
# language, and mean XLM-R tokens per feature (ASSUMED: no measured length in
# ../shared/research; a guess from typical lengths, to be replaced by a measurement). Source: rajpurkar/squad and squad_v2 cards (datasets.md §1c).
PAPER_SIZES = {  # windows: features per example at 384 tokens, stride 128 (ASSUMED, like mean_tokens)
    "squad_v1": {"train": {"en": 87599}, "dev": {"en": 10570}, "windows": 1.03, "mean_tokens": 180},
    "squad_v2": {"train": {"en": 130319}, "dev": {"en": 11873}, "windows": 1.03, "mean_tokens": 180},
}
