"""Helpers shared by the task readers: fetching rows with a schema check, label and key checks,
and the row -> example conversions several tasks have in common (SQuAD-schema rows, token tags;
one NLI label set for MNLI, ANLI+, XNLI and translated MNLI). The readers declared as tables
(xstilts/tasks/tables.py) are built from these.

Everything here works on rows in the Hub schema, as returned by any row store.
"""

from __future__ import annotations

import numbers
from typing import Mapping, Sequence

from xstilts import languages
from xstilts.tasks.base import HIDDEN, RowStore, SchemaError, SpanExample, require_columns

NLI_LABELS = ("entailment", "neutral", "contradiction")  # ClassLabel order of MNLI, SNLI, ANLI, XNLI
NLI_INDEX = {name: i for i, name in enumerate(NLI_LABELS)}


def where(repo: str, config: str, split: str) -> str:
    """How error messages name one split of one dataset config."""
    return f"dataset {repo} config {config!r} split {split!r}"


def hub_split(task: str, splits: Mapping[str, str], split: str) -> str:
    if split not in splits:
        raise KeyError(f"task {task} has no {split!r} split (has {sorted(splits)})")
    return splits[split]


def repo_read(store: RowStore, repo: str) -> str:
    """The repo a store actually reads for a reader's default ``repo`` (``data.repos`` may swap it)."""
    repo_for = getattr(store, "repo_for", None)
    return repo_for(repo) if repo_for is not None else repo


def fetch(store: RowStore, repo: str, config: str, split: str, columns: Sequence[str]) -> tuple[list[dict], str]:
    """Rows of one split, checked to carry ``columns``; returns (rows, where) for later error messages."""
    rows = store.rows(repo, config, split)
    at = where(repo_read(store, repo), config, split)
    require_columns(rows, columns, at)
    return rows, at


def require_keys(value, keys: Sequence[str], at: str, column: str, row: int) -> None:
    """A nested (dict) column such as SQuAD ``answers`` must carry ``keys``."""
    if not isinstance(value, dict):
        raise SchemaError(f"{at}: column {column!r} row {row} should be a dict with keys {list(keys)}, got {type(value).__name__}")
    missing = [k for k in keys if k not in value]
    if missing:
        raise SchemaError(f"{at}: column {column!r} row {row} lacks key(s) {missing}; has {sorted(value)}")


def english_only(task: str, lang: str) -> None:
    if lang != "en":
        raise ValueError(f"task {task} is English-only (asked for language {lang!r}); translated intermediate data is "
                         f"in the *_translated tasks (xstilts/tasks/translated.py)")


def language_name(code: str) -> str:
    """English language name as used by UD-POS config names (``udpos.German``)."""
    return languages.get(code).name


def class_ids(n: int) -> dict[int, int]:
    """Identity mapping for a ClassLabel column whose order is our label order (rows hold ints;
    map_labels turns -1, withheld, into HIDDEN)."""
    return {i: i for i in range(n)}


# ---- SQuAD-schema extractive QA ---------------------------------------------------------------

SQUAD_COLUMNS = ("id", "context", "question", "answers")


def span_example(row: dict, i: int, at: str, id_prefix: str = "") -> SpanExample:
    """One SQuAD-schema row -> SpanExample. ``answers`` is a dict of lists; its key order differs
    between repos ({text, answer_start} in squad/xquad, {answer_start, text} in xtreme MLQA), so
    it is read by key only. Unanswerable (SQuAD 2.0) rows have empty lists."""
    answers = row["answers"]
    require_keys(answers, ("text", "answer_start"), at, "answers", i)
    texts, starts = list(answers["text"]), list(answers["answer_start"])
    if len(texts) != len(starts):
        raise SchemaError(f"{at}: column 'answers' row {i} has {len(texts)} texts but {len(starts)} answer_start values")
    return SpanExample(
        id=f"{id_prefix}{row['id']}",
        context=row["context"],
        question=row["question"],
        answers_text=[str(t) for t in texts],
        answers_start=[int(s) for s in starts],
    )


def span_examples(rows: list[dict], at: str, id_prefix: str = "") -> list[SpanExample]:
    return [span_example(row, i, at, id_prefix) for i, row in enumerate(rows)]


# ---- token tagging ----------------------------------------------------------------------------


def tag_sequences(rows: list[dict], at: str, tokens: str, tags: str, n_labels: int,
                  names: Sequence[str] = ()) -> list[tuple[list[str], list[int]]]:
    """Token / tag-id sequences. Tags are ClassLabel ints 0..n_labels-1 (-1 per token -> HIDDEN).

    ``names``: for a repo that may store tags as strings, the label names in our order; a tag
    string is then mapped to its index. One split must use one encoding throughout (ints or
    names); mixing them, unknown names, out-of-range ids and token/tag length mismatches are
    SchemaErrors naming the dataset, split and column.
    """
    index = {name: i for i, name in enumerate(names)}
    out, encodings = [], set()
    for i, row in enumerate(rows):
        toks, values = list(row[tokens]), list(row[tags])
        if len(toks) != len(values):
            raise SchemaError(f"{at}: row {i} has {len(toks)} {tokens!r} but {len(values)} {tags!r}")
        ids, bad = [], []
        for t in values:
            if isinstance(t, str) and t in index:
                ids.append(index[t])
                encodings.add("names")
            elif isinstance(t, numbers.Integral) and not isinstance(t, bool) and (t == -1 or 0 <= t < n_labels):
                ids.append(HIDDEN if t == -1 else int(t))
                encodings.add("ids")
            else:
                bad.append(t)
        if bad:
            expected = f"0..{n_labels - 1} (or -1 = withheld)" + (f" or one of {list(names)}" if names else "")
            raise SchemaError(f"{at}: column {tags!r} row {i} has unexpected tag(s) {sorted({repr(t) for t in bad})}; expected {expected}")
        if len(encodings) > 1:
            raise SchemaError(f"{at}: column {tags!r} mixes tag names and ClassLabel ids (first mixed at row {i})")
        out.append((toks, ids))
    return out

