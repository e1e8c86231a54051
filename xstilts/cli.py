"""Command line: `python -m xstilts.cli validate|use-profile|verify ...`."""

from __future__ import annotations

import argparse
import shutil
import sys

from xstilts import config


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="xstilts")
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("validate", help="check a params file against the schema (no training)")
    v.add_argument("path", nargs="?", default="params.yaml")
    u = sub.add_parser("use-profile", help="validate a profile file and copy it to params.yaml")
    u.add_argument("path")
    args = parser.parse_args(argv)
    try:
        params = config.load(args.path)
    except config.ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.command == "validate":
        print(f"{args.path}: ok (profile {params.profile}, {len(params.intermediate.settings)} intermediate settings, {len(params.target.tasks)} targets)")
    elif args.command == "use-profile":
        shutil.copyfile(args.path, "params.yaml")
        print(f"params.yaml <- {args.path} (profile {params.profile})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
