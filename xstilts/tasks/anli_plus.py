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
from xstilts.tasks._common import NLI_LABELS, class_ids, english_only, fetch, hub_split, pair_examples
from xstilts.tasks.base import PAIR, PairExample, RowStore, Task

ANLI_REPO, ANLI_CONFIG = "facebook/anli", "plain_text"
SNLI_REPO, SNLI_CONFIG = "stanfordnlp/snli", "plain_text"
ROUNDS = ("r1", "r2", "r3")
ANLI_COLUMNS = ("uid", "premise", "hypothesis", "label")
SNLI_COLUMNS = ("premise", "hypothesis", "label")
SPLITS = {
    "train": "train_r1+train_r2+train_r3 (+ nyu-mll/glue mnli train + stanfordnlp/snli train)",
    "dev": "dev_r1+dev_r2+dev_r3",
    "test": "test_r1+test_r2+test_r3",
}
NLI_IDS = class_ids(len(NLI_LABELS))


def _anli(store: RowStore, prefix: str) -> list[PairExample]:
    out = []
    for rnd in ROUNDS:
        rows, at = fetch(store, ANLI_REPO, ANLI_CONFIG, f"{prefix}_{rnd}", ANLI_COLUMNS)
        out += pair_examples(rows, at, "premise", "hypothesis", "label", NLI_IDS, ids=lambda _i, r, rnd=rnd: f"anli-{rnd}-{r['uid']}")
    return out


def _snli_train(store: RowStore) -> list[PairExample]:
    rows, at = fetch(store, SNLI_REPO, SNLI_CONFIG, "train", SNLI_COLUMNS)
    # id = position in the Hub split, so ids stay stable whatever was dropped
    return pair_examples(rows, at, "premise", "hypothesis", "label", NLI_IDS, ids=lambda i, _r: f"snli-train-{i}", drop_hidden=True)


def read(store: RowStore, split: str, lang: str = "en") -> list[PairExample]:
    english_only("anli_plus", lang)
    hub_split("anli_plus", SPLITS, split)
    examples = _anli(store, split)  # ANLI splits are named train_r1, dev_r1, test_r1, ...
    if split == "train":
        examples += mnli.read(store, "train", "en")
        examples += _snli_train(store)
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
    max_seq_length=256,
    source=f"{ANLI_REPO} ({ANLI_CONFIG}) + nyu-mll/glue (mnli) + {SNLI_REPO} ({SNLI_CONFIG})",
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
