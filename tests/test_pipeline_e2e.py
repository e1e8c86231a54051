"""End to end: the embedded `dvc repro` in a temporary copy of the repository.

Runs the real pipeline (papermill notebooks, all phases) once per test session, then asserts on
its outputs and that a second `dvc repro` is a no-op.
"""

import json

import pandas as pd
import pytest

from tests.conftest import BIN, run

pytestmark = pytest.mark.slow


def test_every_stage_produced_its_outputs(repro):
    repo, seconds, _ = repro
    out = repo / "outputs"
    for nb in ["00_benchmark", "01_phase1_pretrain", "02_features", "05_retrieval", "06_analysis"]:
        assert (out / "notebooks" / f"{nb}.ipynb").stat().st_size > 0
    params = json.loads((out / "phase1" / "params.resolved.json").read_text())["params"]
    settings, groups = params["intermediate"]["settings"], params["target"]["groups"]
    for s in settings:
        assert (out / "phase2" / s / "encoder" / "encoder.safetensors").exists()
        for g, targets in groups.items():
            assert (out / "notebooks" / "phase3" / f"{s}-{g}.ipynb").exists()
            for t in targets:
                m = json.loads((out / "phase3" / s / g / t / "metrics.json").read_text())
                assert set(m["seeds"]) == {str(x) for x in params["target"]["seeds"]}
                for split, per_lang in m["seeds"][str(params["target"]["seeds"][0])]["scores"].items():
                    assert set(per_lang) == set(params["data"]["languages"]), (s, t, split)
    print(f"embedded dvc repro took {seconds:.0f} s")


def test_metrics_in_range_and_zero_shot_above_chance(repro):
    repo, _, _ = repro
    scores = pd.read_csv(repo / "outputs" / "analysis" / "scores.csv")
    assert scores.score.between(0, 100).all()
    assert set(scores.lang) >= {"en", "qa", "qb", "qc", "qd"}
    chance = pd.read_csv(repo / "outputs" / "analysis" / "chance.csv").set_index(["task", "lang"]).chance
    zero_shot = scores[(scores.lang != "en") & (scores.split == "test")]
    # the requirement: the baseline's zero-shot score (mean over the phase-3 seeds) beats
    # chance in every non-English (task, language) cell
    base = zero_shot[zero_shot.setting == "none"].groupby(["task", "lang"]).score.mean()
    below = base[base <= chance.reindex(base.index)]
    assert len(base) >= 9 * 4 and below.empty, f"baseline zero-shot cells at or below chance:\n{below}"
    zs = zero_shot.groupby(["task", "lang"]).score.mean()
    above = (zs > chance.reindex(zs.index)).mean()
    assert above >= 0.8, f"only {above:.0%} of zero-shot (task, language) cells beat chance:\n{zs}"


def test_figures_and_significance(repro):
    repo, _, _ = repro
    a = repo / "outputs" / "analysis"
    for fig in ["gain_heatmap.png", "gain_heatmap.pdf", "per_language.png"]:
        assert (a / fig).stat().st_size > 5000
    sig = pd.read_csv(a / "significance.csv")
    assert len(sig) > 0 and sig.p_value.between(0, 1).all() and (sig.ci_low <= sig.gain).all() and (sig.gain <= sig.ci_high).all()
    metrics = json.loads((a / "metrics.json").read_text())
    assert "none" in metrics["zero_shot"]


def test_second_repro_is_a_no_op(repro):
    repo, _, _ = repro
    res = run([str(BIN / "dvc"), "repro"], repo)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "Running stage" not in res.stdout, res.stdout[-3000:]
    status = run([str(BIN / "dvc"), "status"], repo)
    assert "changed" not in status.stdout, status.stdout


def test_executed_notebooks_show_tables_and_figures(repro):
    """Every executed stage notebook reads as a walkthrough: tables and figures present, no error
    output, no tqdm warning, under 1 MB (tests/notebook_checks.py); one per stage, phase 2 and 3 per run."""
    from tests.notebook_checks import check_all

    repo, _, _ = repro
    nbs = repo / "outputs" / "notebooks"
    params = json.loads((repo / "outputs" / "phase1" / "params.resolved.json").read_text())["params"]
    settings, groups = params["intermediate"]["settings"], params["target"]["groups"]
    assert len(list(nbs.glob("*.ipynb"))) == 7  # benchmark, phase1, features, retrieval, analysis, verify, report
    assert {p.stem for p in (nbs / "phase2").glob("*.ipynb")} == set(settings)
    assert {p.stem for p in (nbs / "phase3").glob("*.ipynb")} == {f"{s}-{g}" for s in settings for g in groups}
    assert check_all(nbs) == []
    assert [p.name for p in (repo / "outputs" / "curves" / "phase1").iterdir()] == ["mlm.csv"]  # the curves `dvc plots show` reads
    assert (repo / "outputs" / "phase1" / "train.log").read_text().startswith("phase1 step 1/")  # the lines the notebook summarises
    for s, tasks in settings.items():
        assert [p.name for p in (repo / "outputs" / "curves" / "phase2" / s).iterdir()] == (["loss.csv"] if tasks else [])
        for g, targets in groups.items():
            for t in targets:
                assert {p.name for p in (repo / "outputs" / "curves" / "phase3" / f"{s}-{g}" / t).iterdir()} == {"loss.csv", "dev.csv"}
    res = run([str(BIN / "dvc"), "plots", "show", "--json"], repo)
    assert res.returncode == 0 and "WARNING" not in res.stderr, res.stderr[-2000:]


def test_committed_reference_run_matches_this_run(repro):
    """CI guard for the reference run (tools/reference.py): every byte-deterministic published
    output (tables, PNG figures, claims, generated TeX, retrieval results, per-example test
    predictions; not PDFs or the phase-3 metrics.json, which holds training seconds) hashes in
    this session's run as in the committed dvc.lock. It costs no extra training: it reads the
    two lock files and DVC's directory manifests (this run's cache, the committed reference/)."""
    import subprocess
    import sys

    import yaml

    from tests.conftest import ROOT

    repo, _, _ = repro
    committed = subprocess.run(["git", "show", "HEAD:dvc.lock"], cwd=ROOT, capture_output=True, text=True)
    listing = ROOT / "reference" / "targets.txt"
    if committed.returncode != 0 and not listing.exists():
        pytest.skip("no reference run committed yet: `make repro` then `make publish-reference` (docs/artifacts.md)")
    assert committed.returncode == 0 and listing.exists(), "reference/ and dvc.lock are committed together (make publish-reference)"
    sys.path.insert(0, str(ROOT / "tools"))
    import reference

    published = listing.read_text().split()
    theirs = reference.file_hashes(yaml.safe_load(committed.stdout), [ROOT / "reference"], published)
    ours = reference.file_hashes(yaml.safe_load((repo / "dvc.lock").read_text()), [repo / ".dvc" / "cache"], published)
    assert theirs, "no deterministic published output in the committed dvc.lock"
    differ = sorted(p for p in theirs if ours.get(p) != theirs[p])
    assert not differ, (f"{len(differ)} of {len(theirs)} published outputs differ from the committed reference run, e.g. {differ[:5]}: "
                        "the code no longer produces it; rerun `make repro` and `make publish-reference`, and commit dvc.lock and reference/")
