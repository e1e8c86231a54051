"""Cached artifacts (docs/artifacts.md): push the embedded run's outputs to a DVC remote, then in a
fresh `git clone` `dvc pull` them: `dvc status` is clean and verify runs without any training.

Reuses the session's single `dvc repro` (the `repro` fixture); nothing is retrained here. The
shared repro copy is only read (plus a git-ignored `.dvc/config.local` remote); the "published"
commit is made in a separate clone of it.
"""

import os
import re
import shutil
import subprocess

import pandas as pd
import pytest

from tests.conftest import BIN, run

pytestmark = pytest.mark.slow

DVC = str(BIN / "dvc")
TRAINING = ("phase1", "phase2", "phase3", "features", "benchmark", "retrieval")


def ok(res):
    assert res.returncode == 0, (res.stdout[-3000:], res.stderr[-3000:])
    return res


def git(*args, cwd):
    return ok(subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", *args], cwd=cwd, capture_output=True, text=True))


def stages_run(stdout: str) -> list[str]:
    return re.findall(r"Running stage '([^']+)'", stdout)


def uncached_outs(repo) -> list[str]:
    """Outputs with `cache: false` (metrics, plots): they live in git, never in the remote."""
    from dvc.repo import Repo

    with Repo(str(repo)) as r:
        return sorted({str(o.fs_path) for s in r.index.stages for o in s.outs if not o.use_cache})


def publishable(repo) -> list[str]:
    """What a run changed that goes to git: dvc.lock (new or rewritten) and DVC's .gitignore entries."""
    changed = git("ls-files", "--others", "--modified", "--exclude-standard", cwd=repo).stdout.split()
    return sorted({p for p in changed if p == "dvc.lock" or p.endswith(".gitignore")})


@pytest.fixture(scope="module")
def published(repro, tmp_path_factory):
    """The maintainer's side: push every cached output to a local remote and commit what lives in
    git (dvc.lock, the cache: false metrics, DVC's .gitignore entries) in a clone of the repro copy."""
    repo, _, _ = repro
    tmp = tmp_path_factory.mktemp("artifacts")
    remote = tmp / "remote"
    ok(run([DVC, "remote", "add", "--local", "--force", "--default", "local", str(remote)], repo))
    push = ok(run([DVC, "push", "--run-cache"], repo))
    publish = tmp / "publish"
    git("clone", "-q", str(repo), str(publish), cwd=tmp)
    keep = publishable(repo)
    assert "dvc.lock" in keep
    # Every output, metrics included, is DVC-cached and pushed: only dvc.lock (and DVC's own
    # .gitignore entries) go to git. Anything declared `cache: false` would have to be committed.
    metrics = [os.path.relpath(p, repo) for p in uncached_outs(repo)]
    for rel in keep + metrics:
        (publish / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(repo / rel, publish / rel)
    git("add", "-A", cwd=publish)
    if metrics:
        git("add", "-f", *metrics, cwd=publish)
    git("commit", "-qm", "publish results", cwd=publish)
    return repo, remote, publish, push.stdout


@pytest.fixture(scope="module")
def fresh(published, tmp_path_factory):
    """The user's side: a fresh clone, the same remote, `dvc pull`."""
    _, remote, publish, _ = published
    clone = tmp_path_factory.mktemp("user") / "xstilts"
    git("clone", "-q", str(publish), str(clone), cwd=clone.parent)
    assert not (clone / "outputs" / "analysis" / "results.csv").exists()
    ok(run([DVC, "remote", "add", "--local", "--force", "--default", "local", str(remote)], clone))
    pull = ok(run([DVC, "pull"], clone))
    return clone, pull.stdout


def test_pull_restores_every_output(fresh):
    clone, _ = fresh
    for rel in ("outputs/analysis/results.csv", "outputs/analysis/significance.csv", "outputs/verify/claims.csv", "outputs/phase1/encoder",
                "outputs/phase2/none/encoder", "paper/report.pdf"):
        assert (clone / rel).exists(), rel
    assert list((clone / "outputs" / "phase3" / "none").rglob("metrics.json")), "phase-3 results of the baseline"


def test_status_is_clean_after_pull(fresh):
    clone, _ = fresh
    status = ok(run([DVC, "status"], clone))
    assert "Data and pipelines are up to date." in status.stdout, status.stdout


def test_repro_of_the_last_stages_trains_nothing(fresh):
    clone, _ = fresh
    res = ok(run([DVC, "repro", "analysis", "verify", "report"], clone))
    assert stages_run(res.stdout) == [], res.stdout[-3000:]


def test_verify_stage_reruns_from_pulled_results_without_training(fresh, published):
    clone, _ = fresh
    repo = published[0]
    res = ok(run([DVC, "repro", "--force", "--single-item", "verify"], clone))
    ran = stages_run(res.stdout)
    assert ran == ["verify"], res.stdout[-3000:]
    assert not any(s.split("@")[0] in TRAINING for s in ran)
    assert "Data and pipelines are up to date." in ok(run([DVC, "status"], clone)).stdout
    pd.testing.assert_frame_equal(pd.read_csv(clone / "outputs" / "verify" / "claims.csv"), pd.read_csv(repo / "outputs" / "verify" / "claims.csv"))


def test_verify_function_on_pulled_results(fresh):
    clone, _ = fresh
    from xstilts import config, verify

    df = verify.verify(str(clone / "outputs"), None, None, config.load(str(clone / "params.yaml")))
    numeric = df[df.kind == "numeric"]
    assert (numeric.status == "not run").all() and (numeric.reason == verify.EMBEDDED_REASON).all()
    assert (df[(df.kind == "directional") & (df.role == "claim")].status != "not run").sum() >= 4
