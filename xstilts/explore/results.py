"""The results: the setting x target table, what the significance tests say in words, and each
of the paper's claims with its verdict and the evidence behind it."""

from __future__ import annotations

import os

import pandas as pd


def zero_shot_table(results: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """Setting x target: zero-shot score (mean over seeds of the non-English average), baseline first."""
    table = results.pivot(index="setting", columns="task", values="zero_shot")
    order = sorted(table.index, key=lambda s: (s != baseline, s))
    return table.loc[order].round(1)


def reading(row, alpha: float) -> str:
    """One comparison with the baseline in words: direction, size, interval and Holm-adjusted p."""
    ci = f"{100 * (1 - alpha):.0f}% CI [{row.ci_low:+.2f}, {row.ci_high:+.2f}]"  # the bootstrap's interval is at 1 - alpha
    if row.significant:
        verdict = f"significant {'gain' if row.gain > 0 else 'loss'}"
    else:
        verdict = "no significant difference"
    note = " (the intermediate task is the target's own training data)" if row.overlap == "continued-training" else ""
    return f"{verdict}: {row.gain:+.2f} points, {ci}, Holm p = {row.p_holm:.3g} {'<' if row.p_holm < alpha else '>='} {alpha}{note}"


def significance_reading(significance: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """The significance table (paired bootstrap over test examples, Holm across comparisons) with
    a sentence per row saying what it means."""
    if significance.empty:
        return significance.assign(reading=pd.Series(dtype=str))
    cols = ["setting", "task", "score", "baseline", "gain", "ci_low", "ci_high", "p_holm", "significant"]
    out = significance[cols].copy()
    out["reading"] = [reading(r, alpha) for r in significance.itertuples()]
    return out.round({"score": 2, "baseline": 2, "gain": 2, "ci_low": 2, "ci_high": 2, "p_holm": 4})


def claims(verify_dir: str) -> pd.DataFrame:
    """Each claim of the paper checked by the verify stage: verdict, what it rests on, what we observed."""
    df = pd.read_csv(os.path.join(verify_dir, "claims.csv"), keep_default_na=False)
    return df[["id", "role", "claim", "status", "evidence", "reference", "observed", "reason"]]


def verdict_counts(claims_table: pd.DataFrame) -> pd.DataFrame:
    """Claims per role and verdict."""
    return claims_table.pivot_table(index="role", columns="status", values="id", aggfunc="count", fill_value=0)
