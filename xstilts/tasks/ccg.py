"""CCG supertagging on CCGbank: English token tagging. Intermediate task.

CCGbank is LDC2005T13 (licensed by the LDC, derived from the Penn Treebank WSJ): xstilts never
downloads, ships or mirrors it. Put it, in jiant's CCG format, in the ``ccgbank`` local folder
(``LocalStore(root).local_dir("ccgbank")`` = ``<root>/ccgbank``, or ``data.local_dirs.ccgbank``
in params.yaml for the Hub profile):

    ccg.train.tsv  ccg.dev.tsv  ccg.test.tsv   one sentence a line: text<TAB>tags, both
                                               space-separated, one supertag per token
    tags_to_id.json                            {"supertag": id, ...}, ids 0..n-1

(standard split: WSJ sections 02-21 train, 00 dev, 23 test). The label set (1,363 supertags in
jiant) comes from tags_to_id.json, so ``TASK.labels`` is empty: use :func:`labels`.
A line with no tags column gives HIDDEN tags; a tag missing from tags_to_id.json is a SchemaError.
"""

from __future__ import annotations

import json
import os

from xstilts.stores import MissingDataError
from xstilts.tasks._common import english_only, hub_split
from xstilts.tasks.base import HIDDEN, TAGGING, RowStore, SchemaError, TagExample, Task

LOCAL_NAME = "ccgbank"
SPLITS = {"train": "train", "dev": "dev", "test": "test"}
TAGS_FILE = "tags_to_id.json"

HOW_TO = (
    "CCGbank (LDC2005T13) is licensed by the Linguistic Data Consortium and is never downloaded by xstilts. "
    "If you hold an LDC licence, convert it to jiant's CCG format and put ccg.train.tsv, ccg.dev.tsv, ccg.test.tsv "
    "(text<TAB>tags, space-separated, one supertag per token) and tags_to_id.json in {where} "
    "(for the Hub profile set data.local_dirs.ccgbank in params.yaml); otherwise leave ccg out of the intermediate tasks."
)


def _dir(store: RowStore) -> str:
    try:
        folder = store.local_dir(LOCAL_NAME)
    except MissingDataError as err:
        raise MissingDataError(f"{err}\n{HOW_TO.format(where='a local folder')}") from None
    return folder


def _path(store: RowStore, filename: str) -> str:
    folder = _dir(store)
    path = os.path.join(folder, filename)
    if not os.path.isfile(path):
        raise MissingDataError(f"CCG data file {path} is missing.\n{HOW_TO.format(where=folder)}")
    return path


def tags_to_id(store: RowStore) -> dict[str, int]:
    path = _path(store, TAGS_FILE)
    with open(path, encoding="utf-8") as f:
        mapping = json.load(f)
    if not isinstance(mapping, dict) or sorted(mapping.values()) != list(range(len(mapping))):
        raise SchemaError(f"dataset ccgbank file {path}: {TAGS_FILE} must map each tag to a distinct id 0..n-1")
    return mapping


def labels(store: RowStore) -> tuple[str, ...]:
    """The supertag set, in id order (the label index order of TagExample.tags)."""
    mapping = tags_to_id(store)
    return tuple(sorted(mapping, key=mapping.__getitem__))


def read(store: RowStore, split: str, lang: str = "en") -> list[TagExample]:
    english_only("ccg", lang)
    name = f"ccg.{hub_split('ccg', SPLITS, split)}.tsv"
    path = _path(store, name)
    mapping = tags_to_id(store)
    at = f"dataset ccgbank file {name} split {split!r}"
    out = []
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            line = line.rstrip("\r\n")
            if not line.strip() or (i == 0 and line == "text\ttags"):
                continue
            fields = line.split("\t")
            if len(fields) > 2:
                raise SchemaError(f"{at}: line {i + 1} has {len(fields)} tab-separated columns, expected 2 (text, tags)")
            tokens = fields[0].split()
            if len(fields) == 1 or not fields[1].strip():
                tags = [HIDDEN] * len(tokens)
            else:
                raw = fields[1].split()
                if len(raw) != len(tokens):
                    raise SchemaError(f"{at}: line {i + 1} has {len(tokens)} tokens in column 'text' but {len(raw)} in column 'tags'")
                unknown = [t for t in raw if t not in mapping]
                if unknown:
                    raise SchemaError(f"{at}: column 'tags' line {i + 1} has supertag(s) {unknown} not in {TAGS_FILE}")
                tags = [mapping[t] for t in raw]
            out.append(TagExample(id=f"ccg-{split}-{len(out)}", tokens=tokens, tags=tags))
    return out


TASK = Task(
    name="ccg",
    version=1,
    format=TAGGING,
    metric="token_accuracy",
    languages=("en",),
    read=read,
    splits=SPLITS,
    labels=(),
    role="intermediate",
    max_seq_length=256,
    source="CCGbank LDC2005T13 (local folder ccgbank/, jiant CCG format; never downloaded)",
    license="LDC2005T13: LDC licence required, not redistributable",
    notes="labels come from tags_to_id.json (xstilts.tasks.ccg.labels(store)); jiant scores CCG by token accuracy.",
)


# Split sizes for `xstilts.cli plan` in the paper profile (xstilts/planner.py): examples per split and
# language, and mean XLM-R tokens per feature (ASSUMED: no measured length in
# ../shared/research; a guess from typical lengths, to be replaced by a measurement). Source: CCGbank sections 02-21 / 00 / 23 (Hockenmaier & Steedman 2007); train 38,015 as in
# tests/test_training_plan.py; dev/test sentence counts are the standard split's, UNVERIFIED here.
PAPER_SIZES = {"ccg": {"train": {"en": 38015}, "dev": {"en": 1913}, "test": {"en": 2407}, "mean_tokens": 35}}
