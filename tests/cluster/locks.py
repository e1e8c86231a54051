"""dvc.lock comparison: what a scheduled run recorded against a serial ``dvc repro``."""

import yaml


def load(repo) -> dict:
    return yaml.safe_load((repo / "dvc.lock").read_text())["stages"]


def differences(a, b, volatile=()) -> list[str]:
    """Differences between two repositories' dvc.lock (stage order aside): stage sets, cmds,
    params, deps and outs with their hashes; paths in ``volatile`` are compared by path only."""
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
                if any(path == v or path.startswith(v.rstrip("/") + "/") for v in volatile):
                    continue
                if ea[path] != eb[path]:
                    diffs.append(f"{name}.{key}[{path}]: {ea[path]} != {eb[path]}")
    return diffs
