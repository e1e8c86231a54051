"""Task definitions: what a task is, and the canonical example types per task format.

A task file (one per dataset, e.g. ``xnli.py``) declares a :class:`Task`: where its rows live
(Hub repo, config, split), how a row in the Hub schema maps to a canonical example of its
format, which languages it has and how it is scored. Everything after that (featurisation,
heads, decoding) is shared by all tasks of the same format, as in jiant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Protocol, Sequence

# Task formats. Each has one featuriser/head/decoder in xstilts.formats.
PAIR = "pair_classification"
CHOICE = "multiple_choice"
SPAN = "span_qa"
TAGGING = "tagging"
BITEXT = "bitext_retrieval"  # BUCC-style mining and Tatoeba-style retrieval: no training
MLM = "masked_lm"
FORMATS = (PAIR, CHOICE, SPAN, TAGGING, BITEXT, MLM)

HIDDEN = -1  # label of an example whose gold label is withheld (GLUE/XTREME test splits)


class SchemaError(ValueError):
    """A dataset does not have the schema its task expects (drifted Hub data, wrong file)."""


# ---- canonical examples ------------------------------------------------------------------


@dataclass
class PairExample:
    id: str
    text_a: str
    text_b: str
    label: int  # HIDDEN when withheld


@dataclass
class ChoiceExample:
    id: str
    context: str
    choices: list[str]
    label: int  # HIDDEN when withheld
    question: str = ""


@dataclass
class SpanExample:
    id: str
    context: str
    question: str
    answers_text: list[str]  # empty list = unanswerable (SQuAD v2.0)
    answers_start: list[int]  # character offsets into context


@dataclass
class TagExample:
    id: str
    tokens: list[str]
    tags: list[int]  # one per token; HIDDEN per token when withheld


@dataclass
class BitextExample:
    """One language pair of a retrieval task: source sentences in language L, targets in English.

    ``gold`` holds (source_index, target_index) pairs. For Tatoeba every source has exactly one
    gold target; for BUCC most sentences on both sides have none (non-parallel distractors).
    """

    id: str
    sources: list[str]
    targets: list[str]
    gold: list[tuple[int, int]]
    source_ids: list[str] = field(default_factory=list)
    target_ids: list[str] = field(default_factory=list)


# ---- where rows come from ----------------------------------------------------------------


class RowStore(Protocol):
    """Reads one split of one Hub dataset config as a list of row dicts (Hub schema)."""

    def rows(self, repo: str, config: str, split: str) -> list[dict]: ...


@dataclass(frozen=True)
class Task:
    name: str
    version: int  # bump when reading, preprocessing or scoring changes (shown in results)
    format: str
    metric: str  # key into xstilts.metrics (accuracy, f1, squad, mlqa, bucc_f1, tatoeba_accuracy, ...)
    languages: tuple[str, ...]  # every language the benchmark evaluates
    read: Callable[[RowStore, str, str], Sequence]  # (store, split, lang) -> examples
    splits: dict[str, str]  # our split name (train/dev/test) -> Hub split name
    labels: tuple[str, ...] = ()
    role: str = "target"  # "intermediate", "target" or "both"
    train_task: str | None = None  # target tasks: the task whose English train split fine-tunes it
    train_language: str = "en"
    max_seq_length: int = 256
    test_only: tuple[str, ...] = ()  # languages with a test split but no dev split (UD-POS th, tl, yo, kk, ...)
    no_train: tuple[str, ...] = ()  # languages without a train split: they stay zero-shot under target.regime in_language
    source: str = ""  # Hub repo id(s), for the README and provenance
    license: str = ""
    notes: str = ""

    def __post_init__(self):
        if self.format not in FORMATS:
            raise ValueError(f"task {self.name}: unknown format {self.format!r}")

    def load(self, store: RowStore, split: str, lang: str = "en") -> list:
        if split not in self.splits:
            raise KeyError(f"task {self.name} has no {split!r} split (has {sorted(self.splits)})")
        return list(self.read(store, split, lang))


def require_columns(rows: list[dict], columns: Sequence[str], where: str) -> None:
    """Fail with the dataset, split and column named when a Hub schema has drifted."""
    if not rows:
        return
    missing = [c for c in columns if c not in rows[0]]
    if missing:
        raise SchemaError(f"{where}: missing column(s) {missing}; found {sorted(rows[0])}")


def map_labels(values: Sequence, mapping: dict, where: str, column: str) -> list[int]:
    """Map raw label values to ints, withheld markers ("" / -1 / None) to HIDDEN; reject unknowns."""
    out = []
    for i, v in enumerate(values):
        if v in ("", None, -1):
            out.append(HIDDEN)
        elif v in mapping:
            out.append(mapping[v])
        else:
            raise SchemaError(f"{where}: column {column!r} row {i} has unexpected label {v!r}; expected one of {sorted(map(str, mapping))}")
    return out
