"""HellaSwag: English 4-way sentence-ending completion. Intermediate task.

``Rowan/hellaswag`` still ships a loading script on ``main``: HubStore retries on its
``refs/convert/parquet`` branch (data_dir=default). context = ``ctx`` (= ctx_a + " " + ctx_b),
choices = the 4 ``endings``; ``label`` is a string "0".."3", "" on test (-> HIDDEN).
"""

from __future__ import annotations

from xstilts.tasks._common import english_only, fetch, hub_split
from xstilts.tasks.base import CHOICE, ChoiceExample, RowStore, SchemaError, Task, map_labels

REPO, CONFIG = "Rowan/hellaswag", "default"
COLUMNS = ("ind", "ctx", "endings", "label")
SPLITS = {"train": "train", "dev": "validation", "test": "test"}
N_CHOICES = 4
LABELS = tuple(str(i) for i in range(N_CHOICES))


def read(store: RowStore, split: str, lang: str = "en") -> list[ChoiceExample]:
    english_only("hellaswag", lang)
    rows, at = fetch(store, REPO, CONFIG, hub_split("hellaswag", SPLITS, split), COLUMNS)
    labels = map_labels([r["label"] for r in rows], {s: i for i, s in enumerate(LABELS)}, at, "label")
    out = []
    for i, (row, y) in enumerate(zip(rows, labels)):
        if len(row["endings"]) != N_CHOICES:
            raise SchemaError(f"{at}: column 'endings' row {i} has {len(row['endings'])} endings, expected {N_CHOICES}")
        out.append(ChoiceExample(id=f"hellaswag-{split}-{row['ind']}", context=row["ctx"], choices=list(row["endings"]), label=y))
    return out


TASK = Task(
    name="hellaswag",
    version=1,
    format=CHOICE,
    metric="accuracy",
    languages=("en",),
    read=read,
    splits=SPLITS,
    labels=LABELS,
    role="intermediate",
    max_seq_length=256,
    source=f"{REPO} ({CONFIG}; script repo: read from refs/convert/parquet)",
    license="MIT",
    notes="context = ctx; test labels withheld ('' -> HIDDEN).",
)


# Split sizes for `xstilts.cli plan` in the paper profile (xstilts/planner.py): examples per split and
# language, and mean XLM-R tokens per feature (ASSUMED: no measured length in
# ../shared/research; a guess from typical lengths, to be replaced by a measurement). Source: Rowan/hellaswag card (datasets.md §1c). mean_tokens counts all 4 choices of a feature.
PAPER_SIZES = {"hellaswag": {"train": {"en": 39905}, "dev": {"en": 10042}, "test": {"en": 10003}, "choices": 4, "mean_tokens": 4 * 60}}
