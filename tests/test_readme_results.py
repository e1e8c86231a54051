"""The README's result sections are what the committed reference run published (issue 23, tools/readme_results.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import readme_results  # noqa: E402


@pytest.fixture(scope="module")
def run():
    return readme_results.PublishedRun(ROOT)


def test_readme_sections_equal_what_the_committed_reference_gives(run):
    text = (ROOT / "README.md").read_text()
    assert readme_results.render(text, run) == text, "README.md is stale: python tools/readme_results.py (make publish-reference)"


def test_every_result_row_of_the_reference_is_in_the_readme(run):
    text = (ROOT / "README.md").read_text()
    for table in ("outputs/analysis/results.md", "outputs/analysis/zero_shot.md"):
        rows = [line for line in run.text(table).splitlines() if line.startswith("| ")]
        assert len(rows) > 3, table
        missing = [r for r in rows if r not in text]
        assert not missing, (table, missing)


def test_significance_counts_come_from_the_reference_csv(run):
    sig = run.csv("outputs/analysis/significance.csv")
    hits = sig[sig.significant.astype(str) == "True"]
    section = readme_results.significance(run)
    assert f"{len(hits)} are significant" in section
    assert f"{int((hits.gain > 0).sum())} gains" in section and f"{int((hits.gain <= 0).sum())} losses" in section
    for r in hits.itertuples():
        assert f"{r.setting} → {r.task} " in section


def test_a_hand_edited_section_is_rewritten(run):
    text = (ROOT / "README.md").read_text()
    edited = text.replace("<!-- reference:results -->\n", "<!-- reference:results -->\n| none | 99.9 |\n", 1)
    assert edited != text
    assert readme_results.render(edited, run) == text


def test_a_missing_or_unknown_section_is_named(run):
    text = (ROOT / "README.md").read_text()
    without = text.replace("<!-- reference:significance -->", "")
    with pytest.raises(ValueError, match="significance"):
        readme_results.render(without, run)
    with pytest.raises(ValueError, match="bogus"):
        readme_results.render(text + "\n<!-- reference:bogus -->\nx\n<!-- /reference:bogus -->\n", run)


def test_a_file_missing_from_the_store_names_the_path(tmp_path, run):
    fake = readme_results.PublishedRun(ROOT, store=tmp_path)
    with pytest.raises(FileNotFoundError, match="outputs/analysis/results.md"):
        fake.text("outputs/analysis/results.md")
    with pytest.raises(KeyError, match="outputs/nothing.md"):
        run.md5("outputs/nothing.md")


def test_determinism_states_the_recorded_cpu(tmp_path, run):
    import json
    import shutil

    store = tmp_path / "reference"
    shutil.copytree(run.store, store)
    (store / "machine.json").write_text(json.dumps({"cpu": "Some CPU 9000", "cpus": 2, "date": "2026-12-07"}))
    copy = readme_results.PublishedRun(ROOT, store=store)
    assert "published on Some CPU 9000 (2 CPUs, 2026-12-07)" in readme_results.determinism(copy)
