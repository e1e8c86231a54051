"""The verify stage's files: ``claims.csv``, ``claims.md`` and ``metrics.json`` (counts per status)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from xstilts.verify.rules import STATUSES


def summary(df: pd.DataFrame, profile: str | None = None, references=None) -> dict:
    counts = {s: int((df.status == s).sum()) for s in STATUSES}
    out = {"counts": counts, "total": int(len(df))}
    for col in ("kind", "role"):
        out[f"by_{col}"] = {k: {s: int(((df[col] == k) & (df.status == s)).sum()) for s in STATUSES} for k in sorted(set(df[col]))}
    if profile:
        out["profile"] = profile
    if references is not None:
        out["references_version"] = references.version
    if df.attrs.get("protocol_deviations"):
        out["protocol_deviations"] = df.attrs["protocol_deviations"]
    return out


def _md_escape(x) -> str:
    return str(x).replace("|", "\\|").replace("\n", " ")


def to_markdown(df: pd.DataFrame) -> str:
    cols = ["id", "status", "role", "evidence", "claim", "average", "reference", "observed", "reason"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in df.iterrows():
        lines.append("| " + " | ".join(_md_escape(r[c]) for c in cols) + " |")
    return "\n".join(lines) + "\n"


def write(df: pd.DataFrame, out_dir: str, profile: str | None = None, references=None) -> dict:
    from xstilts import io

    os.makedirs(out_dir, exist_ok=True)
    with io.atomic_path(os.path.join(out_dir, "claims.csv")) as tmp:
        df.to_csv(tmp, index=False)
    counts = summary(df, profile, references)
    head = f"# Claims vs published figures ({profile or 'unknown'} profile)\n\n" + ", ".join(f"{n} {s}" for s, n in counts["counts"].items()) + "\n\n"
    with io.atomic_path(os.path.join(out_dir, "claims.md")) as tmp:
        Path(tmp).write_text(head + to_markdown(df))
    io.write_json(os.path.join(out_dir, "metrics.json"), counts)
    return counts
