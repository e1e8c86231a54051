"""The suite passes whatever the user's own runs left in the checkout (issue 16: `make repro` then
`make test`): the fixtures that copy the repository take the source, never a run's dvc.lock, DVC's
.gitignore entries, outputs or experiment-queue state. Checked on a throwaway checkout with such
leftovers planted, without a repro."""

import subprocess

import pytest

from tests.conftest import tracked_copy
from tests.test_cached_artifacts import publishable


def git(*args, cwd):
    return subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout


LEFTOVERS = {  # what `make repro` and `make study` leave behind (outputs/ and data/ are git-ignored)
    "paper/.gitignore": "/generated\n/report.pdf\n",
    "paper/report.pdf": "%PDF-1.5 from the user's run\n",
    "paper/generated/results.tex": "% user's run\n",
    "outputs/analysis/results.csv": "setting,task\nnone,xnli\n",
    "outputs/notebooks/06_analysis.ipynb": "{}",
    "data/embedded/manifest.json": "{}",
    ".dvc/tmp/exps/celery/broker/in/x.msg": "queued experiment\n",
    ".dvc/config.local": "['remote \"mine\"']\n    url = /somewhere\n",
}


@pytest.fixture()
def checkout(tmp_path_factory):
    root = tmp_path_factory.mktemp("checkout")
    tracked_copy(root, before_any_run=True)  # the cases below commit or plant dvc.lock and DVC's .gitignore entries themselves
    git("init", "-q", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-qm", "source", cwd=root)
    return root


@pytest.mark.parametrize("lock_committed", [False, True])
def test_copy_takes_the_source_not_the_runs_leftovers(checkout, tmp_path, lock_committed):
    if lock_committed:
        (checkout / "dvc.lock").write_text("schema: '2.0'\nstages: {}\n")
        git("add", "dvc.lock", cwd=checkout)
        git("commit", "-qm", "reference run", cwd=checkout)
    for rel, text in LEFTOVERS.items():
        (checkout / rel).parent.mkdir(parents=True, exist_ok=True)
        (checkout / rel).write_text(text)
    (checkout / "dvc.lock").write_text("schema: '2.0'\nstages: {phase1: {cmd: the user's run}}\n")
    (checkout / "xstilts" / "brand_new.py").write_text("X = 1\n")  # a developer's file, not yet added
    dest = tmp_path / "copy"
    tracked_copy(dest, root=checkout)
    for rel in LEFTOVERS:
        assert not (dest / rel).exists(), rel
    assert (dest / "xstilts" / "brand_new.py").exists() and (dest / "dvc.yaml").exists()
    if lock_committed:
        assert (dest / "dvc.lock").read_text() == "schema: '2.0'\nstages: {}\n"  # the committed one
    else:
        assert not (dest / "dvc.lock").exists()
    # the publish fixture of test_cached_artifacts, on a copy that then ran: it finds the run's
    # dvc.lock and DVC's .gitignore whether or not a dvc.lock was committed before
    git("init", "-q", cwd=dest)
    git("add", "-A", cwd=dest)
    git("commit", "-qm", "copy", cwd=dest)
    (dest / "dvc.lock").write_text("schema: '2.0'\nstages: {phase1: {cmd: the copy's run}}\n")
    (dest / "paper" / ".gitignore").write_text("/report.pdf\n")
    assert publishable(dest) == ["dvc.lock", "paper/.gitignore"]
