"""The embedded reference run's verification outputs, committed in the repository (issue 16).

A fresh clone verifies the published claims offline, without training: ``reference/`` is a DVC
remote folder (``.dvc/config``: remote ``reference``) holding only the verification outputs of
the committed ``dvc.lock`` (metrics, per-example test predictions, tables, figures, claims, the
report; never model weights, features or executed notebooks), within a 10 MB budget.

    python tools/reference.py publish   # maintainer, after the final `dvc repro` (make publish-reference)
    python tools/reference.py verify    # anyone: dvc pull of those outputs + verify (make verify)
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's xstilts, whatever the venv's editable install points at
REMOTE = "reference"  # .dvc/config: url = ../reference (relative to .dvc/)
TARGETS = "targets.txt"  # reference/targets.txt: the published paths, for `dvc pull`
BUDGET = 10 * 2**20
VERIFICATION_STAGES = ("phase3", "retrieval", "analysis", "verify", "report")  # phase3@<setting>-<group> included
PHASE3_FILES = ("*/metrics.json", "*/seed*/predictions/test.*.jsonl")  # inside each phase-3 folder
# Byte-deterministic on a rerun of the same code and params (what CI compares with dvc.lock):
# everything published except PDFs (creation dates) and phase-3 metrics.json (training seconds).
NOT_DETERMINISTIC = ("*.pdf", "outputs/phase3/*/metrics.json", "outputs/phase1/metrics.json")
# Outside the verification stages, published for the README's determinism figures (final phase-1 MLM loss).
EXTRA_OUTS = ("outputs/phase1/metrics.json",)
MACHINE = "machine.json"  # reference/machine.json: the CPU that published the run (README "Determinism")


class ReferenceError(RuntimeError):
    pass


def dvc(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    exe = shutil.which("dvc", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    res = subprocess.run([exe or "dvc", *args], cwd=cwd, capture_output=True, text=True)
    if res.returncode != 0:
        raise ReferenceError(f"dvc {' '.join(args[:3])} ... failed (exit {res.returncode}):\n{(res.stdout + res.stderr)[-3000:]}")
    return res


def lock_outs(lock: dict) -> dict[str, dict]:
    """Verification outputs recorded in a dvc.lock: path -> its lock entry (md5, size, nfiles)."""
    outs = {}
    for stage, entry in lock.get("stages", {}).items():
        if stage.split("@")[0] not in VERIFICATION_STAGES:
            continue
        for out in entry.get("outs", []):
            if not out["path"].startswith("outputs/notebooks/"):  # executed notebooks: not evidence
                outs[out["path"]] = out
    return outs


def extra_outs(lock: dict) -> dict[str, dict]:
    """The EXTRA_OUTS a dvc.lock records (a run without phase 1, e.g. a test's fake one, has none)."""
    return {out["path"]: out for entry in lock.get("stages", {}).values() for out in entry.get("outs", []) if out["path"] in EXTRA_OUTS}


def machine() -> dict:
    """The CPU publishing the run, as /proc/cpuinfo names it (platform's answer elsewhere)."""
    import platform
    from datetime import datetime, timezone

    cpu = ""
    with contextlib.suppress(OSError):
        cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), "")
    return {"cpu": cpu or platform.processor() or platform.machine(), "cpus": os.cpu_count(), "arch": platform.machine(),
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d")}


def published_files(root: Path, lock: dict, seeds: str = "all") -> list[str]:
    """The files to publish, from the workspace: whole verification outputs, but only metrics and
    test predictions inside phase-3 folders (``seeds='first'``: of the first seed only)."""
    files = []
    for path in sorted(lock_outs(lock) | extra_outs(lock)):
        full = root / path
        if not full.exists():
            raise ReferenceError(f"{path} (in dvc.lock) is not in the workspace: run `dvc repro` (or `dvc checkout`) first")
        if full.is_dir() and path.startswith("outputs/phase3/"):
            rel = sorted(str(p.relative_to(full)) for p in full.rglob("*") if p.is_file())
            keep = [r for r in rel if any(fnmatch.fnmatch(r, pat) for pat in PHASE3_FILES)]  # <target>/...
            if seeds == "first":
                seed_dirs = {r.split("/")[1] for r in keep if r.count("/") > 1}
                first = min(seed_dirs, key=lambda d: int(d[len("seed"):]), default=None)
                keep = [r for r in keep if r.count("/") == 1 or r.split("/")[1] == first]
            files += [f"{path}/{r}" for r in keep]
        else:
            files.append(path)
    return files


def size_of(root: Path, paths: list[str]) -> int:
    total = 0
    for rel in paths:
        p = root / rel
        total += sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) if p.is_dir() else p.stat().st_size
    return total


def publish(root: Path = ROOT, budget: int = BUDGET) -> dict:
    """Push the verification outputs of the workspace's dvc.lock into reference/ (replaced whole)."""
    lock_path = root / "dvc.lock"
    if not lock_path.exists():
        raise ReferenceError("no dvc.lock: run the pipeline first (make repro)")
    lock = yaml.safe_load(lock_path.read_text())
    stages = sorted({s for s in lock.get("stages", {}) if s.split("@")[0] in VERIFICATION_STAGES})
    status = dvc("status", *stages, cwd=root).stdout
    if "up to date" not in status:
        raise ReferenceError(f"the workspace does not match dvc.lock for {', '.join(stages)}: finish `dvc repro` first\n{status[-2000:]}")
    for seeds in ("all", "first"):
        files = published_files(root, lock, seeds)
        size = size_of(root, files)
        if size <= budget:
            break
        print(f"{len(files)} files, {size / 2**20:.1f} MB with {'all seeds' if seeds == 'all' else 'the first seed'}'s test predictions: over the {budget / 2**20:.0f} MB budget")
    else:
        raise ReferenceError(f"the verification outputs take {size / 2**20:.1f} MB even with the first seed's predictions only (budget {budget / 2**20:.0f} MB)")
    remote = root / REMOTE
    fresh = Path(tempfile.mkdtemp(prefix="reference-", dir=root))
    try:  # push into an empty folder, then swap it in: objects of earlier runs never linger
        dvc("remote", "add", "--local", "--force", "publish-tmp", str(fresh), cwd=root)
        try:
            dvc("push", "-r", "publish-tmp", *files, cwd=root)
        finally:
            dvc("remote", "remove", "--local", "publish-tmp", cwd=root)
        (fresh / TARGETS).write_text("".join(f + "\n" for f in files))
        (fresh / MACHINE).write_text(json.dumps(machine(), indent=2) + "\n")
        (fresh / "README.md").write_text((remote / "README.md").read_text() if (remote / "README.md").exists() else README)
        stored = sum(f.stat().st_size for f in fresh.rglob("*") if f.is_file())
        if stored > budget:
            raise ReferenceError(f"reference/ would take {stored / 2**20:.1f} MB, over the {budget / 2**20:.0f} MB budget")
        old = root / f".{REMOTE}.old"
        if remote.exists():
            remote.rename(old)
        fresh.rename(remote)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(fresh, ignore_errors=True)
    import readme_results  # tools/: the README's result sections come from what was just published

    if readme_results.write(root):
        print("README.md: result sections rewritten from the published run (commit it too)")
    print(f"published {len(files)} files ({'all seeds' if seeds == 'all' else 'the first seed'}'s test predictions), {stored / 2**20:.2f} MB in {REMOTE}/")
    print("now commit them with the lock file:\n  git add -f dvc.lock reference README.md $(git ls-files --others --exclude-standard -- '*.gitignore')\n"
          "  git commit -m 'Reference run: dvc.lock and its verification outputs'")
    return {"files": files, "bytes": stored, "seeds": seeds}


README = """# The reference run's verification outputs (a DVC remote)

`make verify` pulls these offline and re-checks every claim (docs/artifacts.md);
`make publish-reference` (tools/reference.py) rewrites this folder after a new run.
`targets.txt` lists the published outputs; `files/md5/` is DVC's object store. Do not edit by hand.
"""


def pull(root: Path = ROOT) -> list[str]:
    listing = root / REMOTE / TARGETS
    if not listing.exists():
        raise ReferenceError(f"{listing} not found: no reference run is published in this commit (make publish-reference)")
    targets = listing.read_text().split()
    dvc_pull(root, targets)  # data paths only (dvc issue 11075: no mixed target kinds)
    return targets


def dvc_pull(root: Path, targets: list[str]) -> None:
    """``dvc pull -r reference <targets>``, in this process, reading dvc.yaml and dvc.lock once.

    DVC re-parses dvc.yaml, dvc.lock and params.yaml for every path target, to check whether it is
    a stage name (dvc issues 2308, 10703): for the 232 published files, twice each (fetch, then
    checkout), that was minutes of CPU in `make verify` (2 min 29 s on an idle machine). Here
    DVC's file loader is memoized for the duration of this one pull, which rewrites neither file:
    the workspace and the cache end up the same as after the command line's pull."""
    import dvc.dvcfile
    from dvc.exceptions import DvcException
    from dvc.repo import Repo

    load_file, loaded = dvc.dvcfile.load_file, {}

    def load_once(repo, path, **kwargs):
        if kwargs:
            return load_file(repo, path, **kwargs)
        key = (id(repo), os.fspath(path))
        if key not in loaded:
            loaded[key] = load_file(repo, path)
        return loaded[key]

    dvc.dvcfile.load_file = load_once
    try:
        with contextlib.chdir(root), Repo(str(root)) as repo:  # DVC reads targets from the working directory
            repo.pull(targets=targets, remote=REMOTE)
    except DvcException as err:
        raise ReferenceError(f"dvc pull -r {REMOTE} <{len(targets)} targets of {REMOTE}/{TARGETS}> failed: {err}") from err
    finally:
        dvc.dvcfile.load_file = load_file


def verify(root: Path = ROOT) -> int:
    """Pull, re-run the claim checks on the pulled tables and compare with the reference's verdicts."""
    import pandas as pd

    from xstilts import verify as v

    pull(root)
    reference = pd.read_csv(root / "outputs" / "verify" / "claims.csv")
    with tempfile.TemporaryDirectory() as out:
        code = v.main(["--results", str(root / "outputs"), "--params", str(root / "params.yaml"), "--out", out])
        if code:
            return code
        ours = pd.read_csv(Path(out) / "claims.csv")
    diff = ours.merge(reference, on="id", how="outer", suffixes=("", "_reference"))
    diff = diff[diff.status != diff.status_reference]
    if len(diff):
        print("verdicts differ from the reference run's outputs/verify/claims.csv:\n" + diff[["id", "status", "status_reference"]].to_string(index=False))
        return 1
    print(f"all {len(ours)} verdicts equal the reference run's (outputs/verify/claims.csv)")
    return 0


# ---- CI: does the committed reference still match what the code produces? ---------------------


def _dir_manifest(md5: str, stores: list[Path]) -> list[dict]:
    name = md5[:2] + "/" + md5[2:]
    for store in stores:
        path = store / "files" / "md5" / name
        if path.exists():
            return json.loads(path.read_text())
    raise ReferenceError(f"directory manifest {md5} is in none of {', '.join(map(str, stores))}")


def file_hashes(lock: dict, stores: list[Path], published: list[str] | None = None) -> dict[str, str]:
    """path -> md5 of every byte-deterministic published file a dvc.lock records (a directory
    output's files from its manifest in ``stores``: DVC caches or remotes)."""
    hashes = {}
    for path, out in (lock_outs(lock) | extra_outs(lock)).items():
        if out["md5"].endswith(".dir"):
            hashes |= {f"{path}/{e['relpath']}": e["md5"] for e in _dir_manifest(out["md5"], stores)}
        else:
            hashes[path] = out["md5"]
    keep = set(published) if published is not None else None
    return {p: h for p, h in hashes.items()
            if not any(fnmatch.fnmatch(p, pat) for pat in NOT_DETERMINISTIC)
            and (keep is None or p in keep or any(p.startswith(k + "/") for k in keep))}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="tools/reference.py", description=__doc__.split("\n\n")[0])
    p.add_argument("command", choices=["publish", "pull", "verify"])
    args = p.parse_args(argv)
    try:
        if args.command == "publish":
            publish()
        elif args.command == "pull":
            print("\n".join(pull()))
        else:
            return verify()
    except ReferenceError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
