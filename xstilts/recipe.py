"""The recipe table of docs/recipe.md: jiant's X-STILTs value, the key that holds ours, and why
they differ where they do. :func:`problems` holds a configuration to the table."""

from __future__ import annotations

import os
from dataclasses import dataclass

import yaml

COLUMNS = ("item", "jiant", "source", "key", "paper", "embedded", "departure", "reason", "test")
CODE = "—"  # the key cell of a row whose behaviour lives in code
PENDING = "pending:"  # a code row whose test another branch supplies


class RecipeError(ValueError):
    pass


@dataclass(frozen=True)
class Row:
    item: str
    jiant: str
    source: str
    key: str
    paper: str
    embedded: str
    departure: bool
    reason: str
    test: str
    line: int

    def paper_value(self):
        return yaml.safe_load(self.paper) if self.paper else None


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def parse(path: str) -> list[Row]:
    """The rows of the table whose header is :data:`COLUMNS`; a malformed row is refused by line."""
    rows, header = [], None
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    for n, line in enumerate(lines, 1):
        if not line.startswith("|"):
            continue
        cells = _cells(line)
        if header is None:
            if tuple(cells) == COLUMNS:
                header = n
            continue
        if set("".join(cells)) <= set("-: "):
            continue  # the separator row
        if len(cells) != len(COLUMNS):
            raise RecipeError(f"{path}:{n}: {len(cells)} cells, the table has {len(COLUMNS)} ({line[:60]}...)")
        c = dict(zip(COLUMNS, cells))
        if c["departure"] not in ("yes", "no"):
            raise RecipeError(f"{path}:{n}: departure must be yes or no, not {c['departure']!r}")
        try:
            yaml.safe_load(c["paper"]) if c["paper"] else None
        except yaml.YAMLError as e:
            raise RecipeError(f"{path}:{n}: paper value {c['paper']!r} is not YAML: {e}") from e
        rows.append(Row(**{**c, "departure": c["departure"] == "yes"}, line=n))
    if header is None:
        raise RecipeError(f"{path}: no table with the columns {' | '.join(COLUMNS)}")
    return rows


def lookup(raw: dict, key: str):
    obj = raw
    for part in key.split("."):
        if not isinstance(obj, dict) or part not in obj:
            raise KeyError(key)
        obj = obj[part]
    return obj


def problems(rows: list[Row], raw: dict, root: str = ".") -> list[str]:
    """Every disagreement between the table and ``raw`` (configs/paper.yaml loaded, as a dict): a key row's
    value, a departure without a reason, a code row without a test that exists."""
    out = []
    for r in rows:
        where = f"docs/recipe.md:{r.line} ({r.item})"
        if r.departure and not r.reason:
            out.append(f"{where}: a departure without a reason")
        if r.key == CODE:
            if not r.test:
                out.append(f"{where}: a code row names no test")
            elif not r.test.startswith(PENDING):
                path, _, name = r.test.partition("::")
                file = os.path.join(root, path)
                if not name or not os.path.isfile(file) or f"def {name}(" not in open(file, encoding="utf-8").read():
                    out.append(f"{where}: test {r.test!r} does not exist")
            continue
        try:
            ours = lookup(raw, r.key)
        except KeyError:
            out.append(f"{where}: key {r.key!r} is not in the configuration")
            continue
        if ours != r.paper_value():
            out.append(f"{where}: {r.key} is {ours!r} in the configuration, the table says {r.paper_value()!r}")
    return out
