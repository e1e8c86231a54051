"""The table-driven readers (xstilts/tasks/tables.py) on rows held in memory: ids from the template,
language filtering, withheld labels, choice layouts, language routes and the Task each table builds."""

from __future__ import annotations

import pytest

from xstilts.stores import MissingDataError
from xstilts.tasks import TASKS
from xstilts.tasks.base import CHOICE, HIDDEN, PAIR, SPAN, TAGGING, ChoiceExample, PairExample, SchemaError, TagExample
from xstilts.tasks.language_routes import HubSource
from xstilts.tasks.tables import (
    ChoiceColumns,
    ChoiceList,
    ChoiceTable,
    LabelledChoices,
    PairTable,
    SpanTable,
    TagTable,
    choice_task,
    copa_table,
    pair_task,
    span_task,
)


class Rows:
    """A row store over {(repo, config, split): rows}."""

    def __init__(self, tables: dict):
        self.tables = tables

    def rows(self, repo, config, split):
        return self.tables[(repo, config, split)]


NLI = dict(name="toy", repo="o/nli", config="all", splits={"dev": "validation"}, columns=("lang", "a", "b", "y", "k"),
           text=("a", "b"), label="y", label_ids={"yes": 0, "no": 1})
ROWS = [{"lang": lang, "a": f"a{n}", "b": f"b{n}", "y": y, "k": f"k{n}"}
        for n, (lang, y) in enumerate([("en", "yes"), ("de", "no"), ("de", ""), ("de", "yes")])]


def test_pair_table_ids_language_filter_and_withheld_labels():
    store = Rows({("o/nli", "all", "validation"): ROWS})
    table = PairTable(**NLI, language_column="lang", example_id="toy-{lang}-{split}-{i}-{row[k]}")
    assert table.read(store, "dev", "de") == [PairExample("toy-de-dev-0-k1", "a1", "b1", 1), PairExample("toy-de-dev-1-k2", "a2", "b2", HIDDEN),
                                              PairExample("toy-de-dev-2-k3", "a3", "b3", 0)]
    with pytest.raises(MissingDataError, match=r"no rows with lang == 'fr'; languages present: \['de', 'en'\]"):
        table.read(store, "dev", "fr")
    kept = PairTable(**NLI, example_id="{i}", drop_hidden=True).read(store, "dev", "en")
    assert [e.id for e in kept] == ["0", "1", "3"]  # ids stay positions in the Hub split
    with pytest.raises(KeyError, match="task toy has no 'train' split"):
        table.read(store, "train", "de")
    with pytest.raises(ValueError, match="task toy is English-only"):
        PairTable(**NLI, english_only=True).read(store, "dev", "de")
    bad = Rows({("o/nli", "all", "validation"): [{**ROWS[0], "y": "maybe"}]})
    with pytest.raises(SchemaError, match="dataset o/nli config 'all' split 'validation' \\(language 'en'\\): column 'y' row 0 has unexpected label 'maybe'"):
        table.read(bad, "dev", "en")


def choice_rows(**row):
    return Rows({("o/mc", "default", "train"): [row]})


MC = dict(name="mc", repo="o/mc", config="default", splits={"train": "train"}, label="y", example_id="mc-{row[id]}")


def test_choice_layouts():
    columns = ChoiceTable(**MC, columns=("id", "q", "c0", "c1", "y"), question="q", choices=ChoiceColumns(("c0", "c1")), label_ids={0: 0, 1: 1})
    assert columns.read(choice_rows(id=7, q="why?", c0="x", c1="z", y=1), "train") == [ChoiceExample("mc-7", "", ["x", "z"], 1, "why?")]
    ending = ChoiceTable(**MC, columns=("id", "ctx", "ends", "y"), context="ctx", choices=ChoiceList("ends", 3), label_ids={"0": 0})
    with pytest.raises(SchemaError, match="column 'ends' row 0 has 2 ends, expected 3"):
        ending.read(choice_rows(id=1, ctx="c", ends=["a", "b"], y="0"), "train")
    lettered = ChoiceTable(**MC, columns=("id", "ch", "y"), choices=LabelledChoices("ch", ("A", "B")), label_ids={"A": 0, "B": 1})
    assert lettered.read(choice_rows(id="q1", ch={"label": ["A", "B"], "text": ["p", "r"]}, y="B"), "train")[0].choices == ["p", "r"]
    with pytest.raises(SchemaError, match=r"column 'ch' row 0 has labels \['B', 'A'\], expected \['A', 'B'\]"):  # before the bad label
        lettered.read(choice_rows(id="q1", ch={"label": ["B", "A"], "text": ["p", "r"]}, y="Z"), "train")


def test_copa_schema_checks_the_question():
    table = copa_table(name="c", repo="o/copa", config=lambda lang: lang, splits={"dev": "validation"}, example_id="c-{lang}-{row[idx]}")
    row = {"premise": "p", "choice1": "a", "choice2": "b", "question": "effect", "label": -1, "idx": 4}
    store = Rows({("o/copa", "et", "validation"): [row]})
    assert table.read(store, "dev", "et") == [ChoiceExample("c-et-4", "p", ["a", "b"], HIDDEN, "effect")]
    store.tables[("o/copa", "et", "validation")] = [{**row, "question": "why"}]
    with pytest.raises(SchemaError, match="column 'question' row 0 has unexpected value 'why'; expected 'cause' or 'effect'"):
        table.read(store, "dev", "et")


def test_routed_tags_read_each_language_where_it_lives_and_names_only_where_allowed():
    main = HubSource("o/main", lambda lang: f"tags.{lang}", {"test": "test"})
    extra = HubSource("o/extra", lambda lang: lang, {"test": "test"}, ("lt",))
    table = TagTable(name="tg", splits={"test": "test"}, routes=(extra, main), columns=("tokens", "tags"), tokens="tokens", tags="tags",
                     labels=("N", "V"), named_tags=("o/extra",), example_id="tg-{lang}-{i}")
    store = Rows({("o/extra", "lt", "test"): [{"tokens": ["a", "b"], "tags": ["V", "N"]}],
                  ("o/main", "tags.de", "test"): [{"tokens": ["c"], "tags": [1]}, {"tokens": ["d"], "tags": ["V"]}]})
    assert table.read(store, "test", "lt") == [TagExample("tg-lt-0", ["a", "b"], [1, 0])]
    with pytest.raises(SchemaError, match=r"dataset o/main config 'tags.de' split 'test': column 'tags' row 1 has unexpected tag\(s\) \[\"'V'\"\]"):
        table.read(store, "test", "de")  # the main repo stores ClassLabel ids only


def test_tasks_built_from_tables_take_their_format_defaults():
    pair = PairTable(**NLI)
    task = pair_task(pair, version=1, languages=("en",), labels=("yes", "no"))
    assert (task.name, task.format, task.metric, task.max_seq_length, task.read, task.splits) == ("toy", PAIR, "accuracy", 256, pair.read, pair.splits)
    span = span_task(SpanTable(name="qa", repo="o/qa", config="c", splits={"dev": "validation"}), version=1, metric="squad", languages=("en",))
    assert (span.format, span.max_seq_length) == (SPAN, 384)
    mc = choice_task(ChoiceTable(**MC, columns=("c0",), choices=ChoiceColumns(("c0",)), label_ids={}), version=1, languages=("en",), read=len)
    assert (mc.format, mc.read) == (CHOICE, len)  # a field given wins over the table's
    assert {TASKS[t].format for t in ("mnli", "qqp", "xnli", "pawsx", "mnli_translated")} == {PAIR}
    assert {TASKS[t].format for t in ("panx", "udpos")} == {TAGGING} and TASKS["panx"].labels[0] == "O"
