"""The reference run, pullable on a fresh clone (issue 16, tools/reference.py): `make publish-reference`
puts the verification outputs of a run into the in-repo DVC remote reference/; in a fresh `git
clone`, `make verify` pulls exactly those, offline, and prints the same verdicts.

A small fake run stands in for the real one: the analysis and verify stages' outputs, recorded in
dvc.lock by `dvc commit` (nothing is trained)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.conftest import BIN, ROOT, tracked_copy
from tests.fake_outputs import make_figures, make_outputs

sys.path.insert(0, str(ROOT / "tools"))
import reference  # noqa: E402

OFFLINE = {"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9",
           "https_proxy": "http://127.0.0.1:9", "HF_HUB_OFFLINE": "1", "NO_PROXY": ""}


def sh(cmd, cwd, **env):
    res = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env={**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", **env})
    assert res.returncode == 0, (cmd, res.stdout[-3000:], res.stderr[-3000:])
    return res


def git(*args, cwd):
    return sh(["git", "-c", "user.email=t@t", "-c", "user.name=t", *args], cwd)


def fake_run(repo: Path) -> None:
    """Outputs of one phase-3 stage (phase3@none-all) and of the analysis and verify stages (and
    their inputs), recorded in dvc.lock."""
    from xstilts import config, verify

    params = config.load(str(repo / "params.yaml"))
    out = make_outputs(repo / "outputs", params=params)
    target = out / "phase3" / "none" / "all" / "xnli"
    for seed in (0, 1):
        for split in ("dev", "test"):
            (target / f"seed{seed}" / "predictions").mkdir(parents=True, exist_ok=True)
            (target / f"seed{seed}" / "predictions" / f"{split}.qa.jsonl").write_text(f'{{"id": "1", "prediction": {seed}, "gold": 0}}\n')
        (target / f"seed{seed}" / "curve.json").write_text("{}")
    for d in ("phase2/none/encoder", "features", "notebooks/phase3", "curves/phase3/none-all/xnli"):
        (out / d).mkdir(parents=True, exist_ok=True)
    (out / "phase2" / "none" / "encoder" / "encoder.safetensors").write_text("weights")
    (out / "features" / "keys.json").write_text("{}")
    (out / "curves" / "phase3" / "none-all" / "xnli" / "loss.csv").write_text("step,loss\n0,1.0\n")
    (out / "notebooks" / "phase3" / "none-all.ipynb").write_text("{}")
    make_figures(out / "analysis")
    for name in ("results.md", "zero_shot.md"):
        (out / "analysis" / name).write_text("| fake |\n")
    (out / "retrieval" / "protocol.json").write_text("{}")  # metrics.json: make_outputs writes it (BUCC's dev oracle F1 included)
    for nb in ("06_analysis", "07_verify"):
        (out / "notebooks" / f"{nb}.ipynb").write_text("{}")
    verify.run(str(out), str(out / "verify"), params)
    sh([str(BIN / "dvc"), "commit", "-f", "phase3@none-all", "analysis", "verify"], repo)


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    repo = tmp_path_factory.mktemp("maintainer") / "xstilts"
    repo.mkdir()
    tracked_copy(repo, before_any_run=True)  # whatever reference run is committed now: this test publishes its own
    git("init", "-q", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "source", cwd=repo)
    fake_run(repo)
    info = reference.publish(repo)
    git("add", "-f", "dvc.lock", "reference", cwd=repo)
    git("commit", "-qm", "reference run", cwd=repo)
    return repo, info


def test_publish_keeps_to_the_verification_outputs_and_the_budget(published):
    repo, info = published
    files = (repo / "reference" / "targets.txt").read_text().split()
    assert "outputs/analysis/results.csv" in files and "outputs/verify/claims.csv" in files
    assert not [f for f in files if f.startswith("outputs/notebooks/")]  # executed notebooks are not evidence
    phase3 = [f for f in files if f.startswith("outputs/phase3/")]  # metrics and test predictions, not curves or dev
    assert "outputs/phase3/none/all/xnli/metrics.json" in phase3 and "outputs/phase3/none/all/xnli/seed1/predictions/test.qa.jsonl" in phase3
    assert not [f for f in phase3 if "curve" in f or "/dev." in f]
    assert info["seeds"] == "all"
    first = reference.published_files(repo, yaml.safe_load((repo / "dvc.lock").read_text()), seeds="first")
    assert "outputs/phase3/none/all/xnli/seed0/predictions/test.qa.jsonl" in first and not [f for f in first if "/seed1/" in f]
    assert 0 < info["bytes"] <= reference.BUDGET
    with pytest.raises(reference.ReferenceError, match="even with the first seed.s predictions only"):
        reference.publish(repo, budget=100)
    assert (repo / "reference" / "targets.txt").read_text().split() == files  # a refused publish leaves the old one


def test_publish_records_the_cpu_and_rewrites_the_readme_from_what_it_published(published):
    import json

    import readme_results

    repo, _ = published
    machine = json.loads((repo / "reference" / reference.MACHINE).read_text())
    assert machine == {**reference.machine(), "date": machine["date"]} and machine["cpu"]
    readme = (repo / "README.md").read_text()
    assert f"published on {machine['cpu']}" in readme
    assert "<!-- reference:results -->\nZero-shot average" in readme and "| fake |" in readme  # the fake run's results.md
    assert readme_results.render(readme, readme_results.PublishedRun(repo)) == readme


def test_make_verify_on_a_fresh_clone_offline(published, tmp_path):
    repo, _ = published
    clone = tmp_path / "clone"
    git("clone", "-q", str(repo), str(clone), cwd=tmp_path)
    assert not (clone / "outputs").exists()
    (clone / ".venv").symlink_to(ROOT / ".venv")  # `make setup` is what a user runs first; here: the suite's env
    res = sh(["make", "-o", ".venv/.installed", "verify"], clone, **OFFLINE)
    expected = pd.read_csv(repo / "outputs" / "verify" / "claims.csv")
    assert f"all {len(expected)} verdicts equal the reference run's" in res.stdout, res.stdout[-2000:]
    for claim in expected.itertuples():
        assert f"| {claim.id} | {claim.status} |" in res.stdout  # each claim's verdict is printed
    pd.testing.assert_frame_equal(pd.read_csv(clone / "outputs" / "verify" / "claims.csv"), expected)
    assert not (clone / "outputs" / "notebooks").exists()  # only the published outputs were pulled


def test_pull_leaves_what_the_dvc_command_leaves(published, tmp_path, monkeypatch):
    """tools/reference.py pulls in-process, DVC's reading of dvc.yaml and dvc.lock memoized for the
    pull (the command line re-reads both for every target: minutes for the real reference): the
    workspace and the DVC cache end up byte for byte as after `dvc pull -r reference <targets>`."""
    repo, _ = published
    targets = (repo / "reference" / "targets.txt").read_text().split()
    trees = {}
    for how in ("command", "tools"):
        clone = tmp_path / how
        git("clone", "-q", str(repo), str(clone), cwd=tmp_path)
        if how == "command":
            sh([str(BIN / "dvc"), "pull", "-r", reference.REMOTE, *targets], clone, **OFFLINE)
        else:
            import dvc.dvcfile

            loads, load_file = [], dvc.dvcfile.load_file
            monkeypatch.setattr(dvc.dvcfile, "load_file", lambda repo, path, **kw: loads.append(path) or load_file(repo, path, **kw))
            assert reference.pull(clone) == targets
            assert 0 < len(loads) == len(set(loads)) < len(targets)  # each DVC file read once, not once per target
        files = [p for p in clone.rglob("*") if p.is_file() and p.relative_to(clone).parts[0] != ".git" and ".dvc/tmp" not in p.as_posix()]
        trees[how] = {p.relative_to(clone).as_posix(): p.read_bytes() for p in files}
    assert trees["tools"] == trees["command"]
    assert all(t in trees["tools"] or any(f.startswith(t + "/") for f in trees["tools"]) for t in targets)  # files and folders
    assert any(f.startswith(".dvc/cache/files/md5/") for f in trees["tools"])


def test_ci_compares_the_deterministic_published_files(published, tmp_path):
    """What tests/test_pipeline_e2e.py checks after its run: a changed output shows up."""
    repo, _ = published
    files = (repo / "reference" / "targets.txt").read_text().split()
    committed = reference.file_hashes(yaml.safe_load((repo / "dvc.lock").read_text()), [repo / "reference"], files)
    assert "outputs/analysis/results.csv" in committed and "outputs/phase3/none/all/xnli/seed0/predictions/test.qa.jsonl" in committed
    assert not [p for p in committed if p.endswith(".pdf") or p.endswith("xnli/metrics.json")]  # dates, training seconds
    run = tmp_path / "run"  # a later run whose predictions changed
    shutil.copytree(repo, run, symlinks=True)
    (run / "outputs/phase3/none/all/xnli/seed0/predictions/test.qa.jsonl").write_text('{"id": "1", "prediction": 1, "gold": 0}\n')
    sh([str(BIN / "dvc"), "commit", "-f", "phase3@none-all"], run)
    ours = reference.file_hashes(yaml.safe_load((run / "dvc.lock").read_text()), [run / ".dvc" / "cache"], files)
    assert sorted(p for p in committed if ours.get(p) != committed[p]) == ["outputs/phase3/none/all/xnli/seed0/predictions/test.qa.jsonl"]
