"""CommonsenseQA: English 5-way commonsense multiple choice. Intermediate task.

``choices`` is a dict of lists {label: ["A".."E"], text: [...]}; ``answerKey`` is the letter
of the gold choice, "" on test (-> HIDDEN). The label index is the position of answerKey in
``choices.label``. There is no passage: the question goes in ``question``, ``context`` is "".
"""

from __future__ import annotations

from xstilts.tasks._common import english_only, fetch, hub_split, require_keys
from xstilts.tasks.base import CHOICE, ChoiceExample, RowStore, SchemaError, Task, map_labels

REPO, CONFIG = "tau/commonsense_qa", "default"
COLUMNS = ("id", "question", "choices", "answerKey")
SPLITS = {"train": "train", "dev": "validation", "test": "test"}
LETTERS = ("A", "B", "C", "D", "E")


def read(store: RowStore, split: str, lang: str = "en") -> list[ChoiceExample]:
    english_only("commonsenseqa", lang)
    rows, at = fetch(store, REPO, CONFIG, hub_split("commonsenseqa", SPLITS, split), COLUMNS)
    for i, row in enumerate(rows):
        require_keys(row["choices"], ("label", "text"), at, "choices", i)
        if list(row["choices"]["label"]) != list(LETTERS):
            raise SchemaError(f"{at}: column 'choices' row {i} has labels {row['choices']['label']}, expected {list(LETTERS)}")
    labels = map_labels([r["answerKey"] for r in rows], {letter: k for k, letter in enumerate(LETTERS)}, at, "answerKey")
    return [ChoiceExample(id=str(r["id"]), context="", question=r["question"], choices=list(r["choices"]["text"]), label=y)
            for r, y in zip(rows, labels)]


TASK = Task(
    name="commonsenseqa",
    version=1,
    format=CHOICE,
    metric="accuracy",
    languages=("en",),
    read=read,
    splits=SPLITS,
    labels=LETTERS,
    role="intermediate",
    max_seq_length=256,
    source=f"{REPO} ({CONFIG})",
    license="MIT",
    notes="label = index of answerKey in choices.label; context empty, question in `question`; test answerKey '' -> HIDDEN.",
)


# Split sizes for `xstilts.cli plan` in the paper profile (xstilts/planner.py): examples per split and
# language, and mean XLM-R tokens per feature (ASSUMED: no measured length in
# ../shared/research; a guess from typical lengths, to be replaced by a measurement). Source: tau/commonsense_qa card (datasets.md §1c). mean_tokens counts all 5 choices of a feature.
PAPER_SIZES = {"commonsenseqa": {"train": {"en": 9741}, "dev": {"en": 1221}, "test": {"en": 1140}, "choices": 5, "mean_tokens": 5 * 22}}
