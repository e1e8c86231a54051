"""ANLI+: ANLI rounds 1-3 + MNLI + SNLI, one 3-way NLI label set (jiant's "Full ANLI" recipe).

train = ANLI train_r1 + train_r2 + train_r3 + MNLI train + SNLI train, SNLI rows without a gold
label (-1) dropped. jiant trains the five as separate tasks with proportional sampling and one
shared NLI head; we concatenate them, which samples each example once per epoch exactly as
proportional sampling does in expectation. dev = ANLI dev_r1..r3 and test = ANLI test_r1..r3:
the adversarial rounds are the part of ANLI+ that is not already MNLI/SNLI, and MNLI dev is the
separate ``mnli`` task. ANLI, MNLI and SNLI share the ClassLabel order entailment, neutral,
contradiction, so the label ints concatenate as they are.
"""

from __future__ import annotations

from xstilts.tasks import mnli
from xstilts.tasks._common import NLI_LABELS, class_ids, english_only, hub_split
from xstilts.tasks.base import PAIR, PairExample, RowStore, Task
from xstilts.tasks.tables import PairTable

SPLITS = {
    "train": "train_r1+train_r2+train_r3 (+ nyu-mll/glue mnli train + stanfordnlp/snli train)",
    "dev": "dev_r1+dev_r2+dev_r3",
    "test": "test_r1+test_r2+test_r3",
}
NLI_IDS = class_ids(len(NLI_LABELS))
ANLI_ROUNDS = tuple(  # ANLI splits are named train_r1, dev_r1, test_r1, ...
    PairTable(name="anli_plus", repo="facebook/anli", config="plain_text", splits={split: f"{split}_{rnd}" for split in SPLITS},
              columns=("uid", "premise", "hypothesis", "label"), text=("premise", "hypothesis"), label="label",
              label_ids=NLI_IDS, example_id=f"anli-{rnd}-{{row[uid]}}")
    for rnd in ("r1", "r2", "r3"))
SNLI_TRAIN = PairTable(  # id = position in the Hub split, so ids stay stable whatever was dropped
    name="anli_plus", repo="stanfordnlp/snli", config="plain_text", splits={"train": "train"}, columns=("premise", "hypothesis", "label"),
    text=("premise", "hypothesis"), label="label", label_ids=NLI_IDS, example_id="snli-train-{i}", drop_hidden=True,
)


def read(store: RowStore, split: str, lang: str = "en") -> list[PairExample]:
    english_only("anli_plus", lang)
    hub_split("anli_plus", SPLITS, split)
    examples = [example for rnd in ANLI_ROUNDS for example in rnd.read(store, split)]
    if split == "train":
        examples += mnli.TABLE.read(store, "train")
        examples += SNLI_TRAIN.read(store, "train")
    return examples


TASK = Task(
    name="anli_plus",
    version=1,
    format=PAIR,
    metric="accuracy",
    languages=("en",),
    read=read,
    splits=SPLITS,
    labels=NLI_LABELS,
    role="intermediate",
    source="facebook/anli (plain_text) + nyu-mll/glue (mnli) + stanfordnlp/snli (plain_text)",
    license="ANLI CC BY-NC 4.0; MNLI mixed OANC / CC BY-SA 3.0; SNLI CC BY-SA 4.0",
    notes="train = ANLI r1-r3 + MNLI + SNLI train (SNLI -1 rows dropped); dev/test = ANLI r1-r3 dev/test only.",
)


# Split sizes for `xstilts.cli plan` in the paper profile (xstilts/planner.py): examples per split and
# language, and mean XLM-R tokens per feature (ASSUMED: no measured length in
# ../shared/research; a guess from typical lengths, to be replaced by a measurement). Source: facebook/anli, stanfordnlp/snli and GLUE MNLI cards (datasets.md §1c).
# train: jiant's five parts (ANLI r1-r3, MNLI, SNLI); SNLI's 550,152 less the 785 rows without a
# gold label (paper_spec.md §2.1 / tests/test_training_plan.py use 549,367). dev = ANLI r1-r3 dev.
PAPER_SIZES = {"anli_plus": {"train": {"en": 16946 + 45460 + 100459 + 392702 + 549367}, "dev": {"en": 1000 + 1000 + 1200}, "test": {"en": 1000 + 1000 + 1200},
                             "parts": {"anli-r1": 16946, "anli-r2": 45460, "anli-r3": 100459, "mnli": 392702, "snli": 549367}, "mean_tokens": 50}}
