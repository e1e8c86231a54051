"""`python -m xstilts.cli preflight`: what the params need, checked before any GPU time is spent."""

import shutil
from pathlib import Path

import pytest
import yaml

from tests.tasks.conftest import fixture_root  # noqa: F401 - a pytest fixture
from xstilts import cli, config, preflight

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return tmp_path / "hf"


def write_params(tmp_path: Path, edit) -> str:
    raw = yaml.safe_load((ROOT / "configs" / "paper.yaml").read_text())
    edit(raw)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return str(path)


def test_paper_profile_on_an_empty_cache_names_ccgbank_and_the_bucc_sample_set(empty_cache, capsys):
    assert cli.main(["preflight", str(ROOT / "configs" / "paper.yaml")]) == 1
    out = capsys.readouterr().out
    errors = [line for line in out.splitlines() if line.startswith("error:")]
    assert len(errors) == 2 and "data.local_dirs.ccgbank" in errors[0] and "CCGbank" in errors[0]
    assert "data.local_dirs.corpus" in errors[1] and "intermediate.mlm_settings" in errors[1]  # multi_mlm's corpus
    assert any(line.startswith("warning: data.local_dirs.bucc2018") and "sample set" in line for line in out.splitlines())
    assert "xlm-roberta-large @ main: not in the HF cache" in out and "licence MIT" in out
    # every Hub read is listed with its revision, one message each; mteb/BUCC only as its test split (the card's only split)
    assert "missing: dataset google/xtreme config 'XNLI' split 'test' @ main (for xnli): not in the HF cache" in out
    assert "mteb/BUCC [de-en] test @ main" in out and "mteb/BUCC [de-en] validation" not in out


def test_with_the_hand_inputs_supplied_offline_misses_do_not_fail_unless_strict(empty_cache, tmp_path, capsys):
    hand = ("ccgbank", "bucc2018", "corpus")
    for name in hand:
        (tmp_path / name).mkdir()
    path = write_params(tmp_path, lambda r: r["data"].update(local_dirs={n: str(tmp_path / n) for n in hand}))
    assert cli.main(["preflight", path]) == 0  # make use-paper stays usable offline
    out = capsys.readouterr().out
    assert "error:" not in out and "are not available offline" in out
    assert cli.main(["preflight", path, "--strict"]) == 1


def test_cached_model_and_local_mirror_are_found(empty_cache, fixture_root, tmp_path, capsys):  # noqa: F811
    from tests.test_data_sources import COMMIT, fake_cached_model

    fake_cached_model(empty_cache, "someone/tiny-xlmr")
    mirror = tmp_path / "mirror"
    shutil.copytree(fixture_root, mirror)
    for f in (mirror / "nyu-mll" / "glue" / "mnli").glob("validation_matched-*"):
        f.unlink()

    def edit(r):
        r["model"]["name_or_path"] = "someone/tiny-xlmr"
        r["data"].update(source="local", root=str(mirror))
        r["intermediate"].update(settings={"none": [], "mnli": ["mnli"]}, mlm_settings=[], translated_settings=[])
        r["target"].update(tasks=["xnli"], groups={"xnli": ["xnli"]}, per_task={"xnli": r["target"]["per_task"]["xnli"]})
        r["data"]["languages"] = ["en", "de"]

    params = config.load(write_params(tmp_path, edit))
    report = preflight.run(params, online=False)
    assert report.model.status == f"cached @ {COMMIT[:12]}"
    found = {(d.repo, d.config, d.split): d for d in report.datasets}
    assert found[("nyu-mll/glue", "mnli", "train")].status.startswith("in mirror")
    missing = [(d.repo, d.config, d.split) for d in report.datasets if not d.ok]
    assert missing == [("nyu-mll/glue", "mnli", "validation_matched")]
    assert any("nyu-mll/glue config 'mnli' split 'validation_matched'" in p and "MISSING from mirror" in p for p in report.problems)


def test_use_paper_runs_preflight():
    text = (ROOT / "Makefile").read_text()
    recipe = text[text.index("use-paper:"):].split("\n\n")[0]
    assert "xstilts.cli use-profile configs/paper.yaml" in recipe and "xstilts.cli preflight" in recipe
