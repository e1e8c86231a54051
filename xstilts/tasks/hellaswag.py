"""HellaSwag: English 4-way sentence-ending completion. Intermediate task.

``Rowan/hellaswag`` still ships a loading script on ``main``: HubStore retries on its
``refs/convert/parquet`` branch (data_dir=default). context = ``ctx`` (= ctx_a + " " + ctx_b),
choices = the 4 ``endings``; ``label`` is a string "0".."3", "" on test (-> HIDDEN).
"""

from __future__ import annotations

from xstilts.tasks.tables import ChoiceList, ChoiceTable, choice_task

N_CHOICES = 4
LABELS = tuple(str(i) for i in range(N_CHOICES))
TABLE = ChoiceTable(
    name="hellaswag", repo="Rowan/hellaswag", config="default", splits={"train": "train", "dev": "validation", "test": "test"},
    columns=("ind", "ctx", "endings", "label"), context="ctx", choices=ChoiceList("endings", N_CHOICES),
    label="label", label_ids={s: i for i, s in enumerate(LABELS)}, example_id="hellaswag-{split}-{row[ind]}", english_only=True,
)

TASK = choice_task(
    TABLE,
    version=1,
    languages=("en",),
    labels=LABELS,
    role="intermediate",
    source="Rowan/hellaswag (default; script repo: read from refs/convert/parquet)",
    license="MIT",
    notes="context = ctx; test labels withheld ('' -> HIDDEN).",
)


# Split sizes for `xstilts.cli plan` in the paper profile (xstilts/planner.py): examples per split and
# language, and mean XLM-R tokens per feature (ASSUMED: no measured length in
# ../shared/research; a guess from typical lengths, to be replaced by a measurement). Source: Rowan/hellaswag card (datasets.md §1c). mean_tokens counts all 4 choices of a feature.
PAPER_SIZES = {"hellaswag": {"train": {"en": 39905}, "dev": {"en": 10042}, "test": {"en": 10003}, "choices": 4, "mean_tokens": 4 * 60}}
