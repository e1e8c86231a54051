"""The verify stage (``run``) and its command line (``python -m xstilts.verify``, ``xstilts verify``)."""

from __future__ import annotations

import argparse
import os
import sys

from xstilts import references as refs_mod
from xstilts.verify.claims import verify
from xstilts.verify.outputs import to_markdown, write
from xstilts.verify.results import params_info, load_results
from xstilts.verify.rules import NOT_REPRODUCED


def run(results_dir: str, out_dir: str, params=None, references=None, profile: str | None = None) -> dict:
    """The verify stage: compare, write claims.csv / claims.md / metrics.json."""
    refs = refs_mod.load(None if references is None else str(references)) if not isinstance(references, refs_mod.References) else references
    info = params_info(params)
    profile = profile or info.get("profile")
    df = verify(results_dir, refs, profile, params)
    profile = profile or load_results(results_dir, params).profile
    counts = write(df, out_dir, profile, refs)
    return {"claims": df, "metrics": counts}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="xstilts verify", description="Compare outputs with the published figures in references.yaml.")
    p.add_argument("--results", default="outputs", help="outputs root (with analysis/ and phase3/) [outputs]")
    p.add_argument("--params", default="params.yaml", help="params file: baseline, settings, profile [params.yaml]")
    p.add_argument("--references", default=None, help="references file [the packaged xstilts/references.yaml]")
    p.add_argument("--profile", choices=["embedded", "paper"], default=None, help="override the params profile")
    p.add_argument("--out", default="outputs/verify", help="output folder [outputs/verify]")
    p.add_argument("--strict", action="store_true", help="exit 1 when a scored claim is not reproduced")
    args = p.parse_args(argv)
    from xstilts import config

    try:
        params = config.load(args.params) if os.path.exists(args.params) else None
        out = run(args.results, args.out, params, args.references, args.profile)
    except (refs_mod.ReferencesError, config.ConfigError, FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    df = out["claims"]
    print(to_markdown(df[["id", "status", "role", "evidence", "claim", "average", "reference", "observed", "reason"]]))
    print(", ".join(f"{n} {s}" for s, n in out["metrics"]["counts"].items()), f"-> {args.out}/claims.csv")
    if args.strict and ((df.status == NOT_REPRODUCED) & (df.role != "context")).any():
        return 1
    return 0

