"""A study's arms as workspaces for the cluster backends (xstilts.studies.workspace, on_cluster), on a
four-stage toy pipeline that runs in seconds: each arm's checkout is what the DVC queue would run,
arms share the local slots, a failed arm is named with its stage and log while the other finishes,
and nothing stale or half-collected reaches the study's arms."""

import subprocess

import pytest
import yaml

from tests.cluster.toy import dvc, init_toy_repo
from tests.conftest import BIN, run
from xstilts.cluster import dag
from xstilts.studies import on_cluster, runner, workspace

# b fails when the arm sets `fail`; d (the arms' target) needs b and c, which both need a
DVC_YAML = """stages:
  a:
    cmd: python3 -c "import yaml; print(yaml.safe_load(open('params.yaml'))['n'])" > a.txt
    params: [n]
    outs: [a.txt]
  b:
    cmd: python3 -c "import sys, yaml; sys.exit(3 if yaml.safe_load(open('params.yaml'))['fail'] else 0)" && cat a.txt a.txt > b.txt
    deps: [a.txt]
    params: [fail]
    outs: [b.txt]
  c:
    cmd: cp a.txt c.txt && cat code.txt >> c.txt
    deps: [a.txt, code.txt]
    outs: [c.txt]
  d:
    cmd: cat b.txt c.txt > d.txt
    deps: [b.txt, c.txt]
    outs: [d.txt]
"""


def make_repo(dest):
    dest.mkdir(parents=True)
    (dest / "dvc.yaml").write_text(DVC_YAML)
    (dest / "params.yaml").write_text("# the toy's params\nn: 7  # rows\nfail: false\nnested:\n  k: 1\n")
    (dest / "code.txt").write_text("v1\n")
    (dest / "gone.txt").write_text("deleted in the workspace\n")
    (dest / ".gitignore").write_text("/.cluster/\n/outputs/\n")
    return init_toy_repo(dest)


def test_an_arm_workspace_is_what_the_queue_would_run(tmp_path):
    """HEAD plus the tracked changes (staged or not, deletions too; untracked files left out) and
    params.yaml with the arm's overrides applied by DVC: file for file the queue's stashed
    experiment, comments of params.yaml included; the main repository's DVC does not see it."""
    repo = make_repo(tmp_path / "repo")
    (repo / "code.txt").write_text("v2, not committed\n")
    (repo / "staged.txt").write_text("added, not committed\n")
    run(["git", "add", "staged.txt"], repo)
    (repo / "gone.txt").unlink()
    (repo / "loose.txt").write_text("untracked\n")
    ws = tmp_path / "repo" / "outputs" / "studies" / "rqt" / "workspaces" / "big"
    workspace.prepare(str(repo), str(ws), ["n=8", "~nested", "+nested={k:2,j:3}"], "d")
    queued = run([str(BIN / "dvc"), "exp", "run", "--queue", "-n", "rqt-big", "-S", "n=8", "-S", "~nested", "-S", "+nested={k:2,j:3}", "d"], repo)
    assert queued.returncode == 0, queued.stderr
    stash = "refs/exps/celery/stash"
    tree = [p for p in run(["git", "ls-tree", "-r", "--name-only", stash], repo).stdout.split() if not p.startswith(".dvc/tmp/")]  # the queue's own args
    assert "staged.txt" in tree and "gone.txt" not in tree and "loose.txt" not in tree
    for rel in tree:
        assert (ws / rel).read_bytes() == subprocess.run(["git", "show", f"{stash}:{rel}"], cwd=repo, capture_output=True).stdout, rel
    assert not (ws / "gone.txt").exists() and not (ws / "loose.txt").exists()
    assert yaml.safe_load((ws / "params.yaml").read_text()) == {"n": 8, "fail": False, "nested": {"k": 2, "j": 3}}
    assert "# rows" in (ws / "params.yaml").read_text()
    assert run(["git", "rev-parse", "HEAD"], ws).stdout == run(["git", "rev-parse", "HEAD"], repo).stdout
    assert run([str(BIN / "dvc"), "cache", "dir"], ws).stdout.strip() == str(repo / ".dvc" / "cache")
    assert [s.name for s in dag.plan(str(repo))] == ["a", "b", "c", "d"]  # not the workspace's stages as well


def test_a_workspace_starts_from_what_dvc_lock_vouches_for_and_keeps_its_own_record(tmp_path):
    """As the queue's executor, the outs the main dvc.lock holds for unchanged stages are checked
    out from the shared cache, so only what the arm changes runs; preparing again (new code) keeps
    the arm's own dvc.lock, so only what changed runs again."""
    repo = make_repo(tmp_path / "repo")
    assert dvc(repo, "repro").returncode == 0
    ws = repo / "outputs" / "ws"
    workspace.prepare(str(repo), str(ws), ["fail=true"], "d")
    assert (ws / "a.txt").read_text() == "7\n" and (ws / "c.txt").exists()
    assert [s.name for s in dag.plan(str(ws), ["d"])] == ["b", "d"]  # only b reads `fail`
    workspace.prepare(str(repo), str(ws), ["n=9"], "d")
    assert dvc(ws, "repro", "d").returncode == 0
    assert dag.plan(str(ws), ["d"]) == []
    (repo / "code.txt").write_text("v2\n")
    run(["git", "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qam", "new code"], repo)
    workspace.prepare(str(repo), str(ws), ["n=9"], "d")
    assert (ws / "code.txt").read_text() == "v2\n"
    assert [s.name for s in dag.plan(str(ws), ["d"])] == ["c", "d"]  # the arm's record held: a, b stay done


def test_a_failed_arm_is_named_the_other_finishes_and_stale_outs_never_count(tmp_path, monkeypatch):
    repo = make_repo(tmp_path / "repo")
    monkeypatch.chdir(repo)
    out = "outputs/studies"
    arms_dir = repo / out / "rqt" / "arms"
    (arms_dir / "good").mkdir(parents=True)
    (arms_dir / "good" / "params.yaml").write_text("a previous, complete collection\n")
    lines = []
    ledger = on_cluster.submit_arms("rqt", {"good": ["n=8"], "bad": ["n=9"]}, "local", out_root=out, slots=2, target="d", log=lines.append)
    assert {a: s.complete for a, s in on_cluster.require_complete(ledger, out).items()} == {"good": True, "bad": True}
    assert any(line.startswith("[cluster] start bad: a") for line in lines) and any(line.startswith("[cluster] start good: a") for line in lines)
    ws = {arm: repo / out / "rqt" / "workspaces" / arm for arm in ("good", "bad")}
    assert (ws["good"] / "d.txt").read_text() == "8\n8\n8\nv1\n" and (ws["bad"] / "d.txt").read_text() == "9\n9\n9\nv1\n"

    # bad now fails at b; its d.txt of the first run is still on disk, but no longer what its params give
    ledger = on_cluster.submit_arms("rqt", {"good": ["n=8"], "bad": ["n=10", "fail=true"]}, "local", out_root=out, slots=2, target="d", log=lines.append)
    assert ledger["arms"]["good"]["run"] is None  # up to date: nothing ran again
    assert (ws["bad"] / "d.txt").read_text() == "9\n9\n9\nv1\n"
    with pytest.raises(on_cluster.ArmsNotReady) as err:
        on_cluster.require_complete(ledger, out)
    msg = str(err.value)
    log = ws["bad"] / ".cluster" / ledger["arms"]["bad"]["run"] / "logs" / "b.log"
    assert "1 of 2 arms did not finish; nothing collected" in msg and "arm bad (" in msg and "arm good" not in msg.split("finished arms")[0]
    assert f"stage b: failed (exit 3); log {log}" in msg and "b: exit 3" in msg and "not run because of it: d" in msg, msg
    assert "finished arms (good) stay recorded" in msg
    assert (arms_dir / "good" / "params.yaml").read_text() == "a previous, complete collection\n"

    # fixed: only bad's failed stage and what follows run
    ledger = on_cluster.submit_arms("rqt", {"good": ["n=8"], "bad": ["n=10"]}, "local", out_root=out, slots=2, target="d", log=lines.append)
    bad_run = on_cluster._run_of(str(ws["bad"]), ledger["arms"]["bad"]["run"])
    assert ledger["arms"]["good"]["run"] is None and [s.name for s in bad_run.stages()] == ["b", "d"]
    on_cluster.require_complete(ledger, out)
    assert (ws["bad"] / "d.txt").read_text() == "10\n10\n10\nv1\n"


def test_collected_arms_replace_the_previous_set_only_all_together(tmp_path):
    arms_dir = tmp_path / "arms"
    (arms_dir / "a").mkdir(parents=True)
    (arms_dir / "a" / "params.yaml").write_text("old\n")

    def copy_arm(arm, dest):
        if arm == "b":
            raise RuntimeError("b is not there")
        (tmp_path / "x").write_text("")
        open(f"{dest}/params.yaml", "w").write("new\n")

    with pytest.raises(RuntimeError, match="b is not there"):
        runner.install_arms(str(arms_dir), ["a", "b"], copy_arm)
    assert (arms_dir / "a" / "params.yaml").read_text() == "old\n" and sorted(p.name for p in tmp_path.iterdir()) == ["arms", "x"]
    runner.install_arms(str(arms_dir), ["a", "c"], copy_arm)
    assert sorted(p.name for p in arms_dir.iterdir()) == ["a", "c"] and (arms_dir / "a" / "params.yaml").read_text() == "new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["arms", "x"]


def test_collect_from_workspaces_before_any_cluster_run_says_so(tmp_path, monkeypatch, capsys):
    from tests.conftest import ROOT

    monkeypatch.chdir(ROOT)
    assert runner.main(["collect", "rq4", "--backend", "slurm", "--out", str(tmp_path)]) == 1
    assert "study rq4 has not run on a cluster backend here (`study run rq4 --backend local|slurm`)" in capsys.readouterr().err
