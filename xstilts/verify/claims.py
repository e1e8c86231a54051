"""Claim-by-claim comparison of our results with the published figures (``references.yaml``).

``verify(results_dir, references, profile)`` returns one row per reference with a status:

* ``reproduced`` / ``not reproduced``: the rule was evaluated on our results;
* ``not run``: it could not or must not be evaluated (numeric figures on the embedded synthetic
  benchmark, settings that were not run, context-only entries), with the reason.

Numeric references are published numbers and apply only to the paper profile on the real data.
Directional references (who ranks first, which tasks gain most, signs of differences) are
checked on whatever results exist: on the embedded benchmark they are the analogue of the claim.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from xstilts import references as refs_mod
from xstilts.verify.results import Missing, load_results, protocol_deviations
from xstilts.verify.rules import AVERAGES, NOT_RUN, RULES

EMBEDDED_REASON = "embedded profile: synthetic benchmark, not comparable to published numbers"
COLUMNS = ["id", "kind", "role", "evidence", "claim", "split", "average", "reference", "observed", "tolerance", "status", "reason", "source"]


def _reference_text(ref) -> str:
    if ref.values:
        vals = ", ".join(f"{k} {v:g}" for k, v in ref.values.items())
        return f"{vals} ({ref.unit})"
    r = ref.rule
    if r["type"] == "top_families":
        return "top-ranked: " + ", ".join(r["families"])
    if r["type"] == "largest_gain_tasks":
        return "largest mean gains: " + ", ".join(r["tasks"])
    if r["type"] == "moderate_gain":
        return f"0 < gain on {', '.join(r['tasks'])} < gain on {', '.join(r.get('below_tasks', []))}"
    if r["type"] == "multi_vs_best_single":
        return f"0 < multi - best single <= {r['small']}"
    if r["type"] == "variant_not_consistently_better":
        return f"no {r['variants'][:-len('_settings')]} variant better on every target"
    if r["type"] == "best_per_target_gain":
        return "best per target > baseline"
    return ""


def _tolerance_text(ref) -> str:
    if not ref.tolerance:
        return ""
    return f"±{ref.tolerance['abs']:g} ({ref.tolerance.get('applies_to', '')})"


def verify(results_dir: str, references=None, profile: str | None = None, params=None) -> pd.DataFrame:
    """One row per reference: status in {reproduced, not reproduced, not run} and the reason.

    ``references``: a References, a path, or None (the packaged references.yaml).
    ``profile``: 'embedded' or 'paper'; None = the profile of ``params`` / the resolved params.
    """
    if references is None or isinstance(references, (str, Path)):
        references = refs_mod.load(None if references is None else str(references))
    res = load_results(results_dir, params)
    profile = profile or res.profile
    if profile is None:
        raise ValueError("profile unknown: pass profile='embedded' or 'paper' (or params)")
    deviations = protocol_deviations(results_dir)
    rows = []
    for ref in references:
        row = {"id": ref.id, "kind": ref.kind, "role": ref.role, "evidence": ref.evidence, "claim": ref.claim, "split": ref.split,
               "average": AVERAGES[ref.rule["type"]], "reference": _reference_text(ref), "observed": "", "tolerance": _tolerance_text(ref), "source": ref.source_text()}
        if ref.kind == "numeric" and profile != "paper":
            row.update(status=NOT_RUN, reason=EMBEDDED_REASON if profile == "embedded" else f"{profile} profile: numeric references apply to the paper profile only")
            rows.append(row)
            continue
        try:
            status, observed, reason = RULES[ref.rule["type"]](ref, res)
        except Missing as why:
            status, observed, reason = NOT_RUN, "", f"not run: {why}"
        if not ref.scored:
            reason = f"context only ({ref.context_reason})" + (f"; would be: {status}, {reason}" if status != NOT_RUN else "")
            status = NOT_RUN
        for task, note in deviations.items():  # e.g. BUCC without its sample set: the score is not XTREME's protocol
            if task in str(ref.rule) or task in str(getattr(ref, "task", "")):
                reason = f"{reason}; {task}: {note}" if reason else f"{task}: {note}"
        row.update(status=status, observed=observed, reason=reason)
        rows.append(row)
    df = pd.DataFrame(rows, columns=COLUMNS)
    df.attrs["protocol_deviations"] = deviations
    return df
