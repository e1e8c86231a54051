"""pyproject.toml declares what the package imports, and the locks pin exactly that tree, with hashes (issue 23)."""

from __future__ import annotations

import ast
import hashlib
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LOCKS = ("requirements.lock", "requirements-cuda.lock")
ROOT_MARK = "xstilts (pyproject.toml)"  # how uv names the project in a lock's `# via` comments
CPU_TORCH = Path("/opt/wheels/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl")  # pip's find-links here


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(spec: str) -> str:
    return norm(re.match(r"[A-Za-z0-9._-]+", spec).group(0))


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def declared(group: str | None = None) -> set[str]:
    project = pyproject()["project"]
    specs = project["dependencies"] if group is None else project["optional-dependencies"][group]
    return {requirement_name(s) for s in specs}


def commented(names: set[str]) -> dict[str, str]:
    """Declared names whose pyproject line carries a `# reason` comment."""
    reasons = {}
    for line in (ROOT / "pyproject.toml").read_text().splitlines():
        m = re.match(r'\s*"([A-Za-z0-9._-]+)[^"]*",?\s*#\s*(.+)', line)
        if m and norm(m[1]) in names:
            reasons[norm(m[1])] = m[2]
    return reasons


def imported_distributions(folder: str) -> dict[str, set[str]]:
    """Distribution -> files of ``folder`` importing it (third-party top-level imports only)."""
    dists, found = packages_distributions(), {}
    local = {p.stem for p in (ROOT / folder).rglob("*.py")} | {"xstilts", "tests", "benchmarks", "reference", "readme_results"}
    for path in (ROOT / folder).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                tops = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                tops = [node.module.split(".")[0]]
            else:
                continue
            for top in tops:
                if top in sys.stdlib_module_names or top in local:
                    continue
                assert top in dists, f"{path.relative_to(ROOT)} imports {top}, which no installed distribution provides"
                for dist in dists[top]:
                    found.setdefault(norm(dist), set()).add(str(path.relative_to(ROOT)))
    return found


def lock_entries(name: str) -> dict[str, dict]:
    """package -> {version, hashes, via} of a uv lock (its `# via` comments name the requirers)."""
    entries, current, in_via = {}, None, False
    for line in (ROOT / name).read_text().splitlines():
        if m := re.match(r"([A-Za-z0-9._-]+)==(\S+)", line):
            current = entries.setdefault(norm(m[1]), {"version": m[2], "hashes": [], "via": set()})
            in_via = False
        elif m := re.match(r"\s+--hash=sha256:([0-9a-f]{64})", line):
            current["hashes"].append(m[1])
        elif m := re.match(r"\s+# via(?: (.+))?$", line):
            in_via = m[1] is None
            if m[1]:
                current["via"].add(m[1].strip())
        elif in_via and (m := re.match(r"\s+#\s+(.+)$", line)):
            current["via"].add(m[1].strip())
        elif line.strip() and not line.lstrip().startswith("#"):
            raise AssertionError(f"{name}: unexpected line {line!r}")
    for entry in entries.values():
        entry["via"] = {v if v.startswith("xstilts") else norm(v) for v in entry["via"]}
    return entries


def test_every_third_party_import_of_the_package_is_a_declared_dependency():
    runtime = declared()
    missing = {d: sorted(files) for d, files in imported_distributions("xstilts").items() if d not in runtime}
    assert not missing, f"imported by xstilts/ but not in pyproject.toml's dependencies: {missing}"


def test_every_declared_dependency_is_imported_or_says_why():
    runtime = declared()
    used = set(imported_distributions("xstilts"))
    reasons = commented(runtime)
    unexplained = sorted(d for d in runtime - used if d not in reasons)
    assert not unexplained, f"declared, never imported by xstilts/, and no `# reason` beside it in pyproject.toml: {unexplained}"
    assert not [d for d in used if reasons.get(d, "").startswith("not imported")], "a `not imported` comment on an imported dependency"


def test_the_test_extra_holds_what_the_tests_import():
    everything = declared() | declared("test") | declared("lab")
    tests_use = imported_distributions("tests")
    locked = set(lock_entries("requirements.lock"))
    direct_test = {d for d in tests_use if d not in declared()}
    # A test-only import is declared in the test extra, or comes with a declared package (e.g. PIL with matplotlib).
    assert all(d in locked for d in direct_test), sorted(d for d in direct_test if d not in locked)
    test_extra = declared("test")
    unexplained = sorted(d for d in test_extra if d not in tests_use and d not in commented(test_extra))
    assert not unexplained, f"test extra entries the tests never import, without a reason: {unexplained}"
    assert {"pytest", "hypothesis", "scikit-learn"} <= test_extra and test_extra <= everything


@pytest.mark.parametrize("lock", LOCKS)
def test_every_lock_pin_is_hashed_and_required_by_a_declared_dependency(lock):
    entries = lock_entries(lock)
    assert not [p for p, e in entries.items() if not e["hashes"]], f"{lock}: pins without --hash"
    roots = {p for p, e in entries.items() if any(v.startswith("xstilts") for v in e["via"])}
    assert roots == declared() | declared("test") | declared("lab"), f"{lock}: the project's direct pins differ from pyproject.toml"
    required_by = {p: e["via"] - {v for v in e["via"] if v.startswith("xstilts")} for p, e in entries.items()}
    reachable, frontier = set(roots), list(roots)
    while frontier:
        parent = frontier.pop()
        for child, parents in required_by.items():
            if parent in parents and child not in reachable:
                reachable.add(child)
                frontier.append(child)
    assert reachable == set(entries), f"{lock}: pins no declared dependency requires: {sorted(set(entries) - reachable)}"
    for gone in ("seqeval", "dvclive"):  # issue 23: pinned, never used (accelerate came back: the benchmark's Trainer peer needs it)
        assert gone not in entries


def test_the_locks_share_their_pins_except_torch_and_its_cuda_wheels():
    cpu, cuda = lock_entries("requirements.lock"), lock_entries("requirements-cuda.lock")
    shared = set(cpu) & set(cuda)
    assert [p for p in shared if cpu[p]["version"] != cuda[p]["version"] and p != "torch"] == []
    assert cpu["torch"]["version"] == "2.13.0+cpu" and cuda["torch"]["version"] == "2.13.0"
    cuda_only = set(cuda) - set(cpu)
    assert cuda_only and all(p.startswith(("nvidia-", "cuda-", "triton")) for p in cuda_only), sorted(cuda_only)


@pytest.mark.skipif(not CPU_TORCH.exists(), reason="the CPU torch wheel of this machine's pip find-links is not here")
def test_the_cpu_torch_wheel_on_disk_is_an_allowed_hash():
    digest = hashlib.sha256(CPU_TORCH.read_bytes()).hexdigest()
    assert digest in lock_entries("requirements.lock")["torch"]["hashes"]
