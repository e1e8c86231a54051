"""dvc.lock comparison: what a scheduled run recorded against a serial ``dvc repro``.

Two runs of the embedded pipeline write byte-identical weights, features, predictions and tables;
what differs is when things ran: ``"seconds"`` in metrics.json, papermill's execution log in the
executed notebooks, the speed and clock fields of a run's progress lines (``train.log``; a resumed
run's log also says so and repeats the steps after its checkpoint; on SLURM it holds only the
steps from the resume on, since the requeued script removes the stage's outs) and matplotlib's
``/CreationDate`` in PDFs. Hashes that differ are therefore checked file by file, and only those
kinds of difference are let through.
"""

import json
import re
from pathlib import Path

import yaml


def load(repo) -> dict:
    return yaml.safe_load((Path(repo) / "dvc.lock").read_text())["stages"]


def _drop_seconds(obj):
    if isinstance(obj, dict):
        return {k: _drop_seconds(v) for k, v in obj.items() if k != "seconds"}
    if isinstance(obj, list):
        return [_drop_seconds(v) for v in obj]
    return obj


_SPEED_AND_CLOCK = re.compile(r" \| [\d,]+ tok/s \|.*$")  # "| 41,210 tok/s | padding 3% | 12m40s elapsed, eta 1h22m"


def _progress(path: Path) -> set[str]:
    """A train.log's lines without their speed and clock fields, resume notices aside."""
    return {_SPEED_AND_CLOCK.sub("", line) for line in path.read_text().splitlines() if ": resuming from " not in line}


def _same_but_timing(a: Path, b: Path) -> bool:
    if a.read_bytes() == b.read_bytes():
        return True
    if a.suffix == ".json":
        return _drop_seconds(json.loads(a.read_text())) == _drop_seconds(json.loads(b.read_text()))
    if a.suffix == ".ipynb":  # the same notebook, executed: cells' sources equal, outputs hold timings
        return [c["source"] for c in json.loads(a.read_text())["cells"]] == [c["source"] for c in json.loads(b.read_text())["cells"]]
    if a.name == "train.log":  # a requeued job's script removes its outs: its log starts at the resume
        pa, pb = _progress(a), _progress(b)
        last = lambda p: p.read_text().splitlines()[-1:]  # noqa: E731
        resumed = [x for x, path in ((pa, a), (pb, b)) if ": resuming from " in path.read_text()]
        return pa == pb or (len(resumed) == 1 and (pa <= pb if resumed[0] is pa else pb <= pa)
                            and [_SPEED_AND_CLOCK.sub("", x) for x in last(a)] == [_SPEED_AND_CLOCK.sub("", x) for x in last(b)])
    if a.suffix == ".pdf":
        date = re.compile(rb"/CreationDate \(D:\d+Z?\)")
        return date.sub(b"", a.read_bytes()) == date.sub(b"", b.read_bytes())
    return False


def _unexplained(repo_a: Path, repo_b: Path, path: str) -> list[str]:
    a, b = repo_a / path, repo_b / path
    if a.is_file() and b.is_file():
        return [] if _same_but_timing(a, b) else [path]
    files_a = {p.relative_to(a) for p in a.rglob("*") if p.is_file()}
    files_b = {p.relative_to(b) for p in b.rglob("*") if p.is_file()}
    if files_a != files_b:
        return [f"{path}: files {sorted(map(str, files_a ^ files_b))} in one run only"]
    return [f"{path}/{f}" for f in sorted(files_a) if not _same_but_timing(a / f, b / f)]


def differences(a, b) -> list[str]:
    """Differences between two repositories' dvc.lock (stage order aside): stage sets, cmds,
    params, deps and outs; a hash that differs must be explained by timings in the files."""
    a, b = Path(a), Path(b)
    la, lb = load(a), load(b)
    diffs = [f"stages only in one lock: {sorted(set(la) ^ set(lb))}"] if set(la) != set(lb) else []
    for name in sorted(set(la) & set(lb)):
        sa, sb = la[name], lb[name]
        for key in ("cmd", "params"):
            if sa.get(key) != sb.get(key):
                diffs.append(f"{name}.{key}: {sa.get(key)!r} != {sb.get(key)!r}")
        for key in ("deps", "outs"):
            ea = {e["path"]: e for e in sa.get(key, [])}
            eb = {e["path"]: e for e in sb.get(key, [])}
            if set(ea) != set(eb):
                diffs.append(f"{name}.{key} paths: {sorted(ea)} != {sorted(eb)}")
                continue
            for path in ea:
                if ea[path] != eb[path]:
                    diffs += [f"{name}.{key}: {p} differs (hash {ea[path].get('md5')} vs {eb[path].get('md5')})" for p in _unexplained(a, b, path)]
    return diffs
