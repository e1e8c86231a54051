"""COPA (SuperGLUE): English causal reasoning, 2 choices. The English training data of XCOPA.

``aps/super_glue`` ``copa``: label ClassLabel[choice1, choice2], -1 on test (-> HIDDEN).
Not one of the paper's nine intermediate tasks.
"""

from __future__ import annotations

from xstilts.tasks.tables import choice_task, copa_table

TABLE = copa_table(name="copa", repo="aps/super_glue", config="copa", splits={"train": "train", "dev": "validation", "test": "test"},
                   example_id="copa-{split}-{row[idx]}", english_only=True)

TASK = choice_task(
    TABLE,
    version=1,
    languages=("en",),
    labels=("choice1", "choice2"),
    role="intermediate",
    source="aps/super_glue (copa)",
    license="COPA: BSD 2-Clause (unverified)",
    notes="English training task of XCOPA (XTREME-R); test labels withheld (-1 -> HIDDEN).",
)

# Split sizes for `xstilts.cli plan` in the paper profile (xstilts/planner.py). Source: SuperGLUE
# (Wang et al. 2019, Table 1): COPA train 400, dev 100, test 500. mean_tokens (both choices) ASSUMED.
PAPER_SIZES = {"copa": {"train": {"en": 400}, "dev": {"en": 100}, "test": {"en": 500}, "choices": 2, "mean_tokens": 2 * 20}}
