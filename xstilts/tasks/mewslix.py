"""Mewsli-X (XTREME-R): entity linking as retrieval. A mention in a WikiNews article in one of
11 languages must retrieve its WikiData entity, each entity represented by a Wikipedia
description (in some language), scored by mAP@20 (= MRR@20: one gold entity per mention).

Sources (no official Hub repo; the official route rebuilds the data from dumps with
google-research's ``get-mewsli-x.sh``):

* mentions: ``izhx/mewsli-x`` (unofficial), config ``{lang}`` (validation, test), one row per
  WikiNews context in Mewsli-X's ``ContextualMentions`` schema: ``context`` {document_title,
  document_url, document_id, language, text, sentence_spans [{start, end}], section_title} and
  ``mentions`` [{example_id, mention_span {start, end, text}, entity_id}]; single-mention rows
  (``context`` + ``mention``) are read too. English fine-tuning pairs: config
  ``wikipedia_pairs`` (train, validation), rows {contextual_mention, entity}.
* candidate entities: ``candidate_entities.jsonl`` (Mewsli-X ``Entity`` lines: entity_id, title,
  description, sentence_spans, description_language, description_url) in the local folder
  ``mewslix`` (``<root>/mewslix/`` or ``data.local_dirs.mewslix``): izhx/mewsli-x ships it only
  as ``candidate_entities.jsonl.tar.gz``, which is not a dataset config; extract it there.

One BitextExample per language and split: sources = mention queries, targets = entity
descriptions, gold = (mention, its entity). A query is the sentence holding the mention, the
mention wrapped in "{ }" (literal braces in the text become parentheses) and the mention string
prepended ("Smith: ... { Smith } ..."), the XTREME-R baseline's format; an entity is its
description sentences joined. For ``train`` the targets are the entities of the pairs
themselves (de-duplicated by entity_id), not the full candidate set.
"""

from __future__ import annotations

import json
import os
import re

from xstilts.stores import MissingDataError
from xstilts.tasks._common import fetch, hub_split, require_keys
from xstilts.tasks.base import BITEXT, BitextExample, RowStore, SchemaError, Task

REPO = "izhx/mewsli-x"
PAIRS_CONFIG = "wikipedia_pairs"
LOCAL_NAME = "mewslix"
CANDIDATES_FILE = "candidate_entities.jsonl"
SPLITS = {"train": "train", "dev": "validation", "test": "test"}
LANGUAGES = ("ar", "de", "en", "es", "fa", "ja", "pl", "ro", "ta", "tr", "uk")
_BRACES = re.compile(r"\{(.*?)\}")


def _clean(text: str) -> str:
    return " ".join(text.split())


def mention_query(context: dict, span: dict, at: str, row: int) -> str:
    text = context["text"]
    start, end = int(span["start"]), int(span["end"])
    if text[start:end] != span["text"]:
        raise SchemaError(f"{at}: column 'mentions' row {row}: mention_span text {span['text']!r} != context text[{start}:{end}] {text[start:end]!r}")
    lo, hi = 0, len(text)
    for s in context.get("sentence_spans") or []:
        if s["start"] <= start and end <= s["end"]:
            lo, hi = s["start"], s["end"]
            break
    left = _BRACES.sub(r"(\1)", text[lo:start])
    right = _BRACES.sub(r"(\1)", text[end:hi])
    return _clean(f"{span['text']}: {left} {{ {span['text']} }} {right}")


def entity_text(entity: dict) -> str:
    desc = entity["description"]
    spans = entity.get("sentence_spans") or []
    return _clean(" ".join(desc[s["start"]:s["end"]] for s in spans) if spans else desc)


def _candidates(store: RowStore) -> list[dict]:
    try:
        folder = store.local_dir(LOCAL_NAME)
    except MissingDataError as err:
        raise MissingDataError(f"{err}\nMewsli-X candidate entities: extract {CANDIDATES_FILE} from izhx/mewsli-x's "
                               f"candidate_entities.jsonl.tar.gz into that folder") from None
    path = os.path.join(folder, CANDIDATES_FILE)
    if not os.path.isfile(path):
        raise MissingDataError(f"Mewsli-X candidate set {path} is missing: extract {CANDIDATES_FILE} from izhx/mewsli-x's "
                               f"candidate_entities.jsonl.tar.gz (or build it with google-research's get-mewsli-x.sh) into {folder}")
    with open(path, encoding="utf-8") as f:
        entities = [json.loads(line) for line in f if line.strip()]
    for i, e in enumerate(entities):
        require_keys(e, ("entity_id", "description"), f"dataset mewslix file {path}", "entity", i)
    return entities


def _mentions(rows: list[dict], at: str) -> list[tuple[str, str, str]]:
    """(example_id, query text, gold entity_id) for every mention of the rows."""
    out = []
    for i, row in enumerate(rows):
        if "mentions" in row:
            context, mentions = row["context"], row["mentions"]
        elif "mention" in row:
            context, mentions = row["context"], [row["mention"]]
        else:
            raise SchemaError(f"{at}: row {i} has neither column 'mentions' nor 'mention'; found {sorted(row)}")
        require_keys(context, ("text",), at, "context", i)
        for m in mentions:
            require_keys(m, ("example_id", "mention_span", "entity_id"), at, "mentions", i)
            out.append((str(m["example_id"]), mention_query(context, m["mention_span"], at, i), str(m["entity_id"])))
    return out


def _example(name: str, mentions: list[tuple[str, str, str]], entities: list[dict], at: str) -> BitextExample:
    index = {}
    for k, e in enumerate(entities):
        index.setdefault(str(e["entity_id"]), k)
    gold = []
    for i, (_, _, entity_id) in enumerate(mentions):
        if entity_id not in index:
            raise SchemaError(f"{at}: column 'entity_id' value {entity_id!r} (mention {i}) is not in the candidate set")
        gold.append((i, index[entity_id]))
    return BitextExample(
        id=name,
        sources=[q for _, q, _ in mentions],
        targets=[entity_text(e) for e in entities],
        gold=gold,
        source_ids=[m for m, _, _ in mentions],
        target_ids=[str(e["entity_id"]) for e in entities],
    )


def read(store: RowStore, split: str, lang: str) -> list[BitextExample]:
    hub = hub_split("mewslix", SPLITS, split)
    if split == "train":  # English Wikipedia mention-entity pairs
        rows, at = fetch(store, REPO, PAIRS_CONFIG, hub, ("contextual_mention", "entity"))
        mentions, entities, seen = [], [], set()
        for i, row in enumerate(rows):
            cm = row["contextual_mention"]
            require_keys(cm, ("context", "mention"), at, "contextual_mention", i)
            mentions += _mentions([cm], at)
            require_keys(row["entity"], ("entity_id", "description"), at, "entity", i)
            eid = str(row["entity"]["entity_id"])
            if eid not in seen:
                seen.add(eid)
                entities.append(row["entity"])
        return [_example(f"mewslix-{PAIRS_CONFIG}-{split}", mentions, entities, at)]
    rows, at = fetch(store, REPO, lang, hub, ("context",))
    return [_example(f"mewslix-{lang}-{split}", _mentions(rows, at), _candidates(store), at)]


TASK = Task(
    name="mewslix",
    version=1,
    format=BITEXT,
    metric="map_at_20",
    languages=LANGUAGES,
    read=read,
    splits=SPLITS,
    role="target",
    train_task="mewslix",
    max_seq_length=512,
    source=f"{REPO} ({{lang}}, {PAIRS_CONFIG}; unofficial) + local {LOCAL_NAME}/{CANDIDATES_FILE}",
    license="WikiNews CC BY 2.5 + Wikipedia CC BY-SA; izhx mirror card: apache-2.0",
    notes="XTREME-R task. Unofficial Hub mirror, schema [inferred from Mewsli-X's schema.py]; candidates from a local file; train = English Wikipedia pairs (lang ignored).",
)
