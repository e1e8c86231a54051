"""Tasks that differ only in data: one Hub table each, declared, read by one reader per format.

A :class:`HubTable` says where a task's rows live (repo and config, or language routes when its
languages are spread over several repos; our split -> the repo's split; the columns that must be
there) and how an example id is made. :class:`PairTable`, :class:`ChoiceTable`,
:class:`SpanTable` and :class:`TagTable` add which columns hold the texts, choices, answers or
tags, and the label map. A task file declares its table and builds its :class:`Task` from it
(``pair_task``, ``choice_task``, ``span_task``, ``tagging_task``), so its reader is ``table.read``:
MNLI, QQP, XNLI, PAWS-X, translated MNLI; CommonsenseQA, Cosmos QA, HellaSwag, COPA, XCOPA;
SQuAD v1.1 / v2.0, MLQA, XQuAD, translated SQuAD; PAN-X, UD-POS. A task with logic of its own
keeps it in its file and reads its rows through a table where one fits (ANLI+'s parts, UD-POS's
missing splits, TyDiQA's language filter, LAReQA's pool); CCG, BUCC, Tatoeba and Mewsli-X read
their own formats.

``example_id`` is a ``str.format`` template over ``split``, ``lang``, ``i`` (the row's position
among the rows read) and ``row`` (``{row[idx]}`` = the row's ``idx`` column).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

from xstilts.stores import MissingDataError
from xstilts.tasks._common import SQUAD_COLUMNS, class_ids, english_only, fetch, hub_split, require_keys, span_examples, tag_sequences
from xstilts.tasks.base import (
    CHOICE,
    HIDDEN,
    PAIR,
    SPAN,
    TAGGING,
    ChoiceExample,
    PairExample,
    RowStore,
    SchemaError,
    SpanExample,
    TagExample,
    Task,
    map_labels,
)
from xstilts.tasks.language_routes import HubSource, route


@dataclass(frozen=True, kw_only=True)
class HubTable:
    name: str  # the task's name, as error messages give it
    splits: Mapping[str, str]  # our split -> the repo's split
    columns: tuple[str, ...]  # must be present; a missing one is a SchemaError listing them in this order
    repo: str = ""  # the default repo id; a store may read another copy (``data.repos``)
    config: str | Callable[[str], str] = ""  # the config, or our language code -> the repo's config name
    routes: tuple[HubSource, ...] = ()  # languages spread over several repos: each is read where route() sends it
    example_id: str = ""  # str.format template (module docstring)
    english_only: bool = False

    def rows(self, store: RowStore, split: str, lang: str) -> tuple[list[dict], str]:
        """The rows of ``split`` in ``lang``, checked to carry ``columns``; (rows, where) for error messages."""
        if self.english_only:
            english_only(self.name, lang)
        hub = hub_split(self.name, self.splits, split)
        if self.routes:
            return route(lang, self.routes).fetch(store, self.name, split, lang, self.columns)
        config = self.config(lang) if callable(self.config) else self.config
        return fetch(store, self.repo, config, hub, self.columns)

    def repo_of(self, lang: str) -> str:
        """The default repo id ``lang`` is read from."""
        return route(lang, self.routes).repo if self.routes else self.repo

    def ids(self, split: str, lang: str) -> Callable[[int, dict], str]:
        return lambda i, row: self.example_id.format(split=split, lang=lang, i=i, row=row)


def table_task(table: HubTable, **fields) -> Task:
    """The Task that reads ``table``: its name, reader and splits are the table's unless ``fields`` give them."""
    return Task(**{"name": table.name, "read": table.read, "splits": table.splits, **fields})


# ---- sentence pairs ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class PairTable(HubTable):
    text: tuple[str, str]  # the columns of text_a and text_b
    label: str
    label_ids: Mapping  # raw label value -> our label index
    language_column: str = ""  # one table holds every language: keep the rows whose column is ``lang``
    drop_hidden: bool = False  # leave out rows without a gold label (SNLI train)

    def read(self, store: RowStore, split: str, lang: str = "en") -> list[PairExample]:
        rows, at = self.rows(store, split, lang)
        if self.language_column:
            rows, at = _in_language(rows, at, self.language_column, lang)
        labels = map_labels([r[self.label] for r in rows], self.label_ids, at, self.label)
        ids, (text_a, text_b) = self.ids(split, lang), self.text
        return [PairExample(id=ids(i, row), text_a=row[text_a], text_b=row[text_b], label=y)
                for i, (row, y) in enumerate(zip(rows, labels)) if not (self.drop_hidden and y == HIDDEN)]


def _in_language(rows: list[dict], at: str, column: str, lang: str) -> tuple[list[dict], str]:
    mine = [r for r in rows if r[column] == lang]
    if rows and not mine:
        raise MissingDataError(f"{at} has no rows with {column} == {lang!r}; languages present: {sorted({r[column] for r in rows})}")
    return mine, f"{at} (language {lang!r})"


def pair_task(table: PairTable, **fields) -> Task:
    """The sentence-pair classification Task that reads ``table``, scored by accuracy."""
    return table_task(table, format=PAIR, metric="accuracy", **fields)


# ---- multiple choice --------------------------------------------------------------------------


@dataclass(frozen=True)
class ChoiceColumns:
    """One column per choice (Cosmos QA ``answer0..3``, COPA ``choice1, choice2``)."""

    columns: tuple[str, ...]

    def check(self, rows: list[dict], at: str) -> None:
        pass

    def of(self, row: dict, i: int, at: str) -> list[str]:
        return [row[c] for c in self.columns]


@dataclass(frozen=True)
class ChoiceList:
    """One list column holding exactly ``n`` choices (HellaSwag ``endings``)."""

    column: str
    n: int

    def check(self, rows: list[dict], at: str) -> None:
        pass

    def of(self, row: dict, i: int, at: str) -> list[str]:
        if len(row[self.column]) != self.n:
            raise SchemaError(f"{at}: column {self.column!r} row {i} has {len(row[self.column])} {self.column}, expected {self.n}")
        return list(row[self.column])


@dataclass(frozen=True)
class LabelledChoices:
    """One dict-of-lists column {label: [...], text: [...]} whose labels are always ``labels`` (CommonsenseQA);
    every row is checked before any label is read."""

    column: str
    labels: tuple[str, ...]

    def check(self, rows: list[dict], at: str) -> None:
        for i, row in enumerate(rows):
            require_keys(row[self.column], ("label", "text"), at, self.column, i)
            if list(row[self.column]["label"]) != list(self.labels):
                raise SchemaError(f"{at}: column {self.column!r} row {i} has labels {row[self.column]['label']}, expected {list(self.labels)}")

    def of(self, row: dict, i: int, at: str) -> list[str]:
        return list(row[self.column]["text"])


@dataclass(frozen=True, kw_only=True)
class ChoiceTable(HubTable):
    choices: ChoiceColumns | ChoiceList | LabelledChoices
    label: str
    label_ids: Mapping  # raw label value -> index of the gold choice
    context: str = ""  # the passage column; "" = no passage
    question: str = ""  # the question column; "" = none
    questions: tuple[str, ...] = ()  # the values the question column may hold (COPA: cause, effect); () = any

    def read(self, store: RowStore, split: str, lang: str = "en") -> list[ChoiceExample]:
        rows, at = self.rows(store, split, lang)
        self.choices.check(rows, at)
        labels = map_labels([r[self.label] for r in rows], self.label_ids, at, self.label)
        ids, out = self.ids(split, lang), []
        for i, (row, y) in enumerate(zip(rows, labels)):
            choices = self.choices.of(row, i, at)
            question = row[self.question] if self.question else ""
            if self.questions and question not in self.questions:
                raise SchemaError(f"{at}: column {self.question!r} row {i} has unexpected value {question!r}; "
                                  f"expected {' or '.join(map(repr, self.questions))}")
            out.append(ChoiceExample(id=ids(i, row), context=row[self.context] if self.context else "", choices=choices, label=y,
                                     question=question))
        return out


def copa_table(**where) -> ChoiceTable:
    """A table in COPA's schema (COPA, XCOPA): premise, choice1 / choice2, question 'cause' or 'effect'
    (kept in ``question``: the featuriser phrases it), label 0-1 (-1 -> HIDDEN)."""
    return ChoiceTable(**where, columns=("premise", "choice1", "choice2", "question", "label", "idx"), context="premise",
                       question="question", questions=("cause", "effect"), choices=ChoiceColumns(("choice1", "choice2")),
                       label="label", label_ids=class_ids(2))


def choice_task(table: ChoiceTable, **fields) -> Task:
    """The multiple-choice Task that reads ``table``, scored by accuracy."""
    return table_task(table, format=CHOICE, metric="accuracy", **fields)


# ---- SQuAD-schema extractive QA ---------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SpanTable(HubTable):
    columns: tuple[str, ...] = SQUAD_COLUMNS
    id_prefix: str = ""  # str.format template over lang, put before the row's id

    def read(self, store: RowStore, split: str, lang: str = "en") -> list[SpanExample]:
        rows, at = self.rows(store, split, lang)
        return span_examples(rows, at, self.id_prefix.format(lang=lang))


def span_task(table: SpanTable, **fields) -> Task:
    """The extractive-QA Task that reads ``table`` (windows of up to 384 tokens)."""
    return table_task(table, format=SPAN, max_seq_length=384, **fields)


# ---- token tagging ----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class TagTable(HubTable):
    tokens: str
    tags: str  # ClassLabel ints in ``labels`` order
    labels: tuple[str, ...]
    named_tags: tuple[str, ...] = ()  # default repo ids whose tags may be label names rather than ints

    def read(self, store: RowStore, split: str, lang: str = "en") -> list[TagExample]:
        rows, at = self.rows(store, split, lang)
        names = self.labels if self.repo_of(lang) in self.named_tags else ()
        sequences = tag_sequences(rows, at, self.tokens, self.tags, len(self.labels), names=names)
        ids = self.ids(split, lang)
        return [TagExample(id=ids(i, row), tokens=toks, tags=tags) for i, (row, (toks, tags)) in enumerate(zip(rows, sequences))]


def tagging_task(table: TagTable, **fields) -> Task:
    """The token-tagging Task that reads ``table``, its labels the table's, scored by seqeval F1."""
    return table_task(table, format=TAGGING, metric="f1", labels=table.labels, **fields)
