"""CommonsenseQA: English 5-way commonsense multiple choice. Intermediate task.

``choices`` is a dict of lists {label: ["A".."E"], text: [...]}; ``answerKey`` is the letter
of the gold choice, "" on test (-> HIDDEN). The label index is the position of answerKey in
``choices.label``. There is no passage: the question goes in ``question``, ``context`` is "".
"""

from __future__ import annotations

from xstilts.tasks.tables import ChoiceTable, LabelledChoices, choice_task

LETTERS = ("A", "B", "C", "D", "E")
TABLE = ChoiceTable(
    name="commonsenseqa", repo="tau/commonsense_qa", config="default", splits={"train": "train", "dev": "validation", "test": "test"},
    columns=("id", "question", "choices", "answerKey"), question="question", choices=LabelledChoices("choices", LETTERS),
    label="answerKey", label_ids={letter: k for k, letter in enumerate(LETTERS)}, example_id="{row[id]}", english_only=True,
)

TASK = choice_task(
    TABLE,
    version=1,
    languages=("en",),
    labels=LETTERS,
    role="intermediate",
    source="tau/commonsense_qa (default)",
    license="MIT",
    notes="label = index of answerKey in choices.label; context empty, question in `question`; test answerKey '' -> HIDDEN.",
)


# Split sizes for `xstilts.cli plan` in the paper profile (xstilts/planner.py): examples per split and
# language, and mean XLM-R tokens per feature (ASSUMED: no measured length in
# ../shared/research; a guess from typical lengths, to be replaced by a measurement). Source: tau/commonsense_qa card (datasets.md §1c). mean_tokens counts all 5 choices of a feature.
PAPER_SIZES = {"commonsenseqa": {"train": {"en": 9741}, "dev": {"en": 1221}, "test": {"en": 1140}, "choices": 5, "mean_tokens": 5 * 22}}
