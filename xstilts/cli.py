"""Command line: `python -m xstilts.cli validate|use-profile|verify ...`."""

from __future__ import annotations

import argparse
import os
import shutil
import sys

from xstilts import config


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] in (["verify"], ["report"]):  # own parsers: xstilts/verify/cli.py, xstilts/report.py
        from xstilts import report, verify

        return (verify if argv[0] == "verify" else report).main(argv[1:])
    if argv[:1] == ["study"]:  # follow-up studies through the DVC experiment queue: xstilts/studies/runner.py
        from xstilts.studies import runner

        return runner.main(argv[1:])
    if argv[:1] == ["cluster"]:  # the DAG's independent stages on local slots or SLURM: xstilts/cluster/
        from xstilts.cluster import cli as cluster_cli

        return cluster_cli.main(argv[1:])
    if argv[:1] == ["plan"]:  # every run the params imply, priced in steps, FLOPs and GPU-hours: xstilts/planner.py
        from xstilts import planner

        return planner.main(argv[1:])
    parser = argparse.ArgumentParser(prog="xstilts")
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("validate", help="check a params file against the schema (no training)")
    v.add_argument("path", nargs="?", default="params.yaml")
    u = sub.add_parser("use-profile", help="validate a profile file and copy it to params.yaml")
    u.add_argument("path")
    u.add_argument("--overlay", help="a size-only overlay merged into the profile (configs/rehearsal.yaml; keys checked by xstilts.rehearsal.overlay)")
    pf = sub.add_parser("preflight", help="list the model, datasets and hand-supplied inputs the params need; check cache/mirror/Hub")
    pf.add_argument("path", nargs="?", default="params.yaml")
    pf.add_argument("--strict", action="store_true", help="also fail when something must still be downloaded (offline)")
    t = sub.add_parser("timings", help="wall time per stage, from the executed notebooks' papermill metadata")
    t.add_argument("folder", nargs="?", default="outputs/notebooks")
    sub.add_parser("verify", help="compare outputs with the published figures in xstilts/references.yaml (verify --help)")
    sub.add_parser("study", help="follow-up studies (configs/studies/): plan|run|collect|analyse|list <rq> (study --help)")
    sub.add_parser("cluster", help="run the pipeline's independent stages in parallel: submit|status|collect --backend local|slurm (cluster --help)")
    sub.add_parser("plan", help="every training/evaluation run the params imply, in steps, FLOPs, GPU-hours and disk (plan --help)")
    sub.add_parser("report", help="write paper/generated/*.tex from the metrics and build paper/report.pdf (report --help)")
    x = sub.add_parser("export-submission", help="XTREME / XTREME-R leaderboard folder from saved test predictions")
    x.add_argument("--setting", required=True, help="a phase-2 setting, or target=setting pairs separated by commas (best intermediate task per target)")
    x.add_argument("--seed", type=int, default=0)
    x.add_argument("--phase3", default="outputs/phase3")
    x.add_argument("--retrieval", default="outputs/retrieval")
    x.add_argument("--out", default="outputs/submission")
    x.add_argument("--params", default="params.yaml", help="only the settings, seeds and folders these params define are read [params.yaml]")
    x.add_argument("--benchmark", choices=["xtreme", "xtreme-r"], default="xtreme", help="the leaderboard's task and language set [xtreme]")
    x.add_argument("--allow-deviation", action="append", default=[], metavar="TASK",
                   help="export TASK although it was scored under a protocol deviation (the folder is marked DEVIATIONS.md); repeatable")
    args = parser.parse_args(argv)
    if args.command == "export-submission":
        from xstilts.submission import DeviationError, export_submission

        setting = dict(pair.split("=", 1) for pair in args.setting.split(",")) if "=" in args.setting else args.setting
        params = config.load(args.params) if os.path.exists(args.params) else None
        try:
            manifest = export_submission(args.phase3, args.retrieval, setting, args.out, seed=args.seed, params=params,
                                         benchmark=args.benchmark, allow_deviation=args.allow_deviation)
        except DeviationError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        marked = [t for t, e in manifest.items() if "deviation" in e]
        print(f"wrote {args.out} ({args.benchmark}): {', '.join(sorted(manifest))}"
              + (f"; protocol deviation in {', '.join(marked)}, marked in {args.out}/DEVIATIONS.md" if marked else ""))
        return 0
    if args.command == "preflight":
        from xstilts import preflight

        try:
            return preflight.main(args.path, strict=args.strict)
        except config.ConfigError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    if args.command == "timings":
        print(stage_timings(args.folder))
        return 0
    try:
        params = config.load(args.path)
        if args.command == "use-profile" and args.overlay:
            from xstilts.rehearsal import overlay

            params = overlay.write_composed(args.path, args.overlay, "params.yaml")
    except config.ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.command == "validate":
        missing = config.missing_inputs(params)
        for message in missing:
            print(f"error: {args.path}: {message}", file=sys.stderr)
        if missing:
            return 2
        print(f"{args.path}: ok (profile {params.profile}, {len(params.intermediate.settings)} intermediate settings, {len(params.target.tasks)} targets)")
    elif args.command == "use-profile" and args.overlay:
        print(f"params.yaml <- {args.path} + {args.overlay} (profile {params.profile})")
    elif args.command == "use-profile":
        shutil.copyfile(args.path, "params.yaml")
        print(f"params.yaml <- {args.path} (profile {params.profile})")
    return 0


def stage_timings(folder: str) -> str:
    """Markdown table of papermill's recorded duration per executed notebook, grouped by stage."""
    import json
    from collections import defaultdict
    from pathlib import Path

    per_stage: dict[str, list[float]] = defaultdict(list)
    for path in sorted(Path(folder).rglob("*.ipynb")):
        meta = json.loads(path.read_text()).get("metadata", {}).get("papermill", {})
        stage = path.parent.name if path.parent != Path(folder) else path.stem
        per_stage[stage].append(float(meta.get("duration") or 0.0))
    lines = ["| stage | notebooks | seconds |", "|---|---|---|"]
    for stage, times in per_stage.items():
        lines.append(f"| {stage} | {len(times)} | {sum(times):.0f} |")
    lines.append(f"| **total** | {sum(len(v) for v in per_stage.values())} | {sum(sum(v) for v in per_stage.values()):.0f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
