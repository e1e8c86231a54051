"""The published figures as data: load and validate ``references.yaml``.

Every entry is checked before ``verify`` uses it; a malformed entry stops with one message that
names the file, the entry and the field, e.g.
``references.yaml: references[3] (id 'xtreme_test_xnli'): tolerance.abs: expected a number >= 0, got 'two'``.
The file's schema is documented at its top.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import yaml

DEFAULT_PATH = os.path.join(os.path.dirname(__file__), "references.yaml")

KINDS = ("numeric", "directional")
ROLES = ("claim", "sanity", "context")
EVIDENCE = ("[V]", "[V-code]", "[V-2nd]", "[UNVERIFIED]", "[I]", "[U]")
UNVERIFIED_EVIDENCE = ("[UNVERIFIED]", "[I]", "[U]")  # never a pass/fail reference
SPLITS = ("test", "dev", "n/a")

# rule type -> (required parameters, optional parameters); xstilts/verify/rules.py implements each type.
RULES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "top_families": (("families",), ()),
    "largest_gain_tasks": (("tasks",), ()),
    "moderate_gain": (("tasks",), ("above", "below_tasks", "require_significant")),
    "multi_vs_best_single": (("small",), ()),
    "variant_not_consistently_better": (("variants",), ()),
    "best_per_target_gain": ((), ("select_split", "require_tasks")),
    "count_single_task_settings": ((), ()),
    "task_scores": ((), ("select_split",)),
    "per_language_scores": (("setting",), ("retrieval_metric",)),
    "setting_mean_gain": (("family",), ("split",)),
    "category_scores": (("setting", "categories"), ()),
    "none": ((), ()),
}

REQUIRED = ("id", "kind", "role", "claim", "evidence", "source", "split", "unit", "rule")
OPTIONAL = ("values", "scale", "comparison", "tolerance", "notes", "task", "metric", "context_reason")
TOP_LEVEL = ("version", "references", "paper", "not_included")


class ReferencesError(ValueError):
    pass


@dataclass(frozen=True)
class Reference:
    id: str
    kind: str
    role: str
    claim: str
    evidence: str
    source: dict
    split: str
    unit: str
    rule: dict
    values: dict = field(default_factory=dict)
    scale: float = 1.0
    comparison: dict = field(default_factory=dict)
    tolerance: dict = field(default_factory=dict)
    notes: str = ""
    task: str | None = None
    metric: str | None = None
    context_reason: str = ""

    @property
    def scored(self) -> bool:
        """Decides reproduced / not reproduced (claims and sanity references, never context)."""
        return self.role != "context"

    def source_text(self) -> str:
        s = self.source
        if "url" in s:
            return s["url"]
        if "repo" in s:
            return f"https://github.com/{s['repo']}/blob/{s.get('commit', 'HEAD')}/{s['path']}"
        return f"research: {s['research']}"


@dataclass(frozen=True)
class References:
    version: int
    entries: list[Reference]
    path: str
    paper: dict = field(default_factory=dict)
    not_included: list = field(default_factory=list)

    def __iter__(self):
        return iter(self.entries)

    def __len__(self):
        return len(self.entries)

    def get(self, ref_id: str) -> Reference:
        for r in self.entries:
            if r.id == ref_id:
                return r
        raise KeyError(ref_id)


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _check_entry(raw: Any, where: str) -> Reference:
    def fail(fld: str, msg: str):
        raise ReferencesError(f"{where}: {fld}: {msg}")

    if not isinstance(raw, dict):
        raise ReferencesError(f"{where}: expected a mapping, got {type(raw).__name__}")
    unknown = sorted(set(raw) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        fail(unknown[0], f"unknown field (allowed: {sorted(REQUIRED + OPTIONAL)})")
    for fld in REQUIRED:
        if fld not in raw or raw[fld] in (None, ""):
            fail(fld, "missing")
    for fld in ("id", "claim", "unit"):
        if not isinstance(raw[fld], str):
            fail(fld, f"expected a string, got {type(raw[fld]).__name__}")
    if not raw["id"].replace("_", "").isalnum() or raw["id"] != raw["id"].lower():
        fail("id", f"expected snake_case, got {raw['id']!r}")
    for fld, allowed in (("kind", KINDS), ("role", ROLES), ("evidence", EVIDENCE), ("split", SPLITS)):
        if raw[fld] not in allowed:
            fail(fld, f"{raw[fld]!r} is not one of {list(allowed)}")
    if raw["evidence"] in UNVERIFIED_EVIDENCE and raw["role"] != "context":
        fail("role", f"evidence {raw['evidence']} may only be used as role 'context' (never a pass/fail reference)")
    src = raw["source"]
    if not isinstance(src, dict):
        fail("source", f"expected a mapping, got {type(src).__name__}")
    if not ("url" in src or ("repo" in src and "path" in src) or "research" in src):
        fail("source", "needs a url, a repo and path, or a research-file location")
    rule = raw["rule"]
    if not isinstance(rule, dict) or "type" not in rule:
        fail("rule", "expected a mapping with a 'type'")
    if rule["type"] not in RULES:
        fail("rule.type", f"{rule['type']!r} is not one of {sorted(RULES)}")
    required, optional = RULES[rule["type"]]
    for p in required:
        if p not in rule:
            fail(f"rule.{p}", f"missing (rule type {rule['type']!r} needs {list(required)})")
    extra = sorted(set(rule) - {"type"} - set(required) - set(optional))
    if extra:
        fail(f"rule.{extra[0]}", f"unknown parameter for rule type {rule['type']!r} (allowed: {sorted(required + optional)})")
    values = raw.get("values", {})
    if not isinstance(values, dict):
        fail("values", f"expected a mapping, got {type(values).__name__}")
    for k, v in values.items():
        if not isinstance(k, str):
            fail("values", f"key {k!r} is not a string (YAML reads bare on/off/yes/no as booleans: quote it)")
        if not _is_number(v):
            fail(f"values.{k}", f"expected a number, got {v!r}")
    tol = raw.get("tolerance", {})
    if not isinstance(tol, dict):
        fail("tolerance", f"expected a mapping, got {type(tol).__name__}")
    if any(not isinstance(k, str) for k in tol):
        fail("tolerance", f"keys {sorted(map(str, tol))} must be strings (YAML reads bare on/off/yes/no as booleans)")
    if raw["kind"] == "numeric":
        if not values:
            fail("values", "a numeric reference needs at least one value")
        if "abs" not in tol:
            fail("tolerance.abs", "missing (a numeric reference states its tolerance)")
        if "applies_to" not in tol:
            fail("tolerance.applies_to", "missing (say what the tolerance applies to)")
    if "abs" in tol and not (_is_number(tol["abs"]) and tol["abs"] >= 0):
        fail("tolerance.abs", f"expected a number >= 0, got {tol['abs']!r}")
    if "scale" in raw and not (_is_number(raw["scale"]) and raw["scale"] > 0):
        fail("scale", f"expected a number > 0, got {raw['scale']!r}")
    if raw["role"] == "context" and not raw.get("context_reason"):
        fail("context_reason", "missing (say why a context entry is not scored)")
    if "task" in raw:
        from xstilts.tasks import TASKS

        if raw["task"] not in TASKS:
            fail("task", f"unknown task {raw['task']!r}")
    if "comparison" in raw and not isinstance(raw["comparison"], dict):
        fail("comparison", f"expected a mapping, got {type(raw['comparison']).__name__}")
    if rule["type"] == "task_scores":
        for fld in ("task", "metric", "comparison"):
            if fld not in raw:
                fail(fld, "missing (rule task_scores needs task, metric and comparison)")
        for system in values:
            if system not in raw["comparison"]:
                fail(f"comparison.{system}", "missing: which of our settings is compared with this value")
            if raw["comparison"][system] not in ("baseline", "best_per_target"):
                fail(f"comparison.{system}", f"{raw['comparison'][system]!r} is not 'baseline' or 'best_per_target'")
    if rule["type"] == "per_language_scores" and ("task" not in raw or "metric" not in raw):
        fail("task", "rule per_language_scores needs task and metric")
    return Reference(
        id=raw["id"], kind=raw["kind"], role=raw["role"], claim=raw["claim"].strip(), evidence=raw["evidence"],
        source=dict(src), split=raw["split"], unit=raw["unit"], rule=dict(rule), values=dict(values),
        scale=float(raw.get("scale", 1.0)), comparison=dict(raw.get("comparison", {})), tolerance=dict(tol),
        notes=str(raw.get("notes", "")).strip(), task=raw.get("task"), metric=raw.get("metric"),
        context_reason=str(raw.get("context_reason", "")).strip(),
    )


def validate(raw: Any, path: str = "references.yaml") -> References:
    name = os.path.basename(path)
    if not isinstance(raw, dict):
        raise ReferencesError(f"{name}: expected a mapping at the top level, got {type(raw).__name__}")
    unknown = sorted(set(raw) - set(TOP_LEVEL))
    if unknown:
        raise ReferencesError(f"{name}: {unknown[0]}: unknown top-level key (allowed: {list(TOP_LEVEL)})")
    if "version" not in raw:
        raise ReferencesError(f"{name}: version: missing (a top-level integer version is required)")
    if not isinstance(raw["version"], int) or isinstance(raw["version"], bool) or raw["version"] < 1:
        raise ReferencesError(f"{name}: version: expected a positive integer, got {raw['version']!r}")
    entries = raw.get("references")
    if not isinstance(entries, list) or not entries:
        raise ReferencesError(f"{name}: references: expected a non-empty list")
    out, seen = [], set()
    for i, entry in enumerate(entries):
        ident = entry.get("id") if isinstance(entry, dict) else None
        where = f"{name}: references[{i}]" + (f" (id {ident!r})" if ident else "")
        ref = _check_entry(entry, where)
        if ref.id in seen:
            raise ReferencesError(f"{where}: id: duplicate id {ref.id!r}")
        seen.add(ref.id)
        out.append(ref)
    return References(version=raw["version"], entries=out, path=path, paper=dict(raw.get("paper") or {}), not_included=list(raw.get("not_included") or []))


def load(path: str | None = None) -> References:
    path = path or DEFAULT_PATH
    try:
        with open(path) as f:
            raw = yaml.safe_load(f)
    except FileNotFoundError:
        raise ReferencesError(f"references file {path!r} not found") from None
    except yaml.YAMLError as err:
        raise ReferencesError(f"{os.path.basename(path)}: not valid YAML: {err}") from None
    return validate(raw, path)
