"""Analysis, verify and export read exactly the outputs the current params define (xstilts/layout.py):
folders left by another profile or a removed setting never enter a table; a missing one is an
error naming it; a language whose labels are hidden is listed, not silently dropped."""

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from tests.fake_outputs import make_phase3
from xstilts import analysis, config, layout, submission

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def params():
    raw = config.to_dict(config.load(str(ROOT / "params.yaml")))
    raw["intermediate"]["settings"] = {"none": [], "mnli": ["mnli"]}
    raw["target"]["tasks"] = ["xnli", "pawsx"]
    raw["target"]["groups"] = {"cls": ["xnli", "pawsx"]}
    raw["target"]["per_task"] = {t: raw["target"]["per_task"][t] for t in ("xnli", "pawsx")}
    raw["target"]["seeds"] = [0, 1]
    raw["data"]["languages"] = ["en", "qa", "qb"]
    raw["analysis"]["n_boot"] = 50
    return config.from_dict(raw)


def tables(out: Path) -> dict[str, pd.DataFrame]:
    return {name: pd.read_csv(out / f"{name}.csv") for name in ("scores", "results", "significance", "chance")}


def plant_leftovers(phase3: Path) -> None:
    """What an earlier embedded run (one group 'all', languages qa-qd), a removed setting and a
    run with more seeds leave on disk: all with scores that would change every table."""
    src = phase3 / "mnli" / "cls" / "xnli"
    for dest in (phase3 / "mnli" / "all" / "xnli", phase3 / "hellaswag" / "cls" / "xnli", phase3 / "none" / "cls" / "udpos"):
        shutil.copytree(src, dest)
        m = json.loads((dest / "metrics.json").read_text())
        m["setting"], m["target"] = dest.parts[-3], dest.parts[-1]
        for run in m["seeds"].values():
            run["scores"]["test"]["qd"] = {"accuracy": 99.0}
        (dest / "metrics.json").write_text(json.dumps(m))
    seed9 = phase3 / "none" / "cls" / "xnli" / "seed9" / "predictions"
    seed9.mkdir(parents=True)
    for lang in ("qa", "qb"):  # every prediction right: would move the bootstrap if read
        rows = [json.loads(line) for line in (phase3 / "none" / "cls" / "xnli" / "seed0" / "predictions" / f"test.{lang}.jsonl").read_text().splitlines()]
        (seed9 / f"test.{lang}.jsonl").write_text("".join(json.dumps({**r, "prediction": r["gold"]}) + "\n" for r in rows))


def test_leftover_folders_never_enter_a_table(tmp_path, params, capsys):
    make_phase3(tmp_path / "phase3", params)
    analysis.run(params, str(tmp_path / "phase3"), None, str(tmp_path / "clean"))
    plant_leftovers(tmp_path / "phase3")
    capsys.readouterr()
    analysis.run(params, str(tmp_path / "phase3"), None, str(tmp_path / "stale"))
    err = capsys.readouterr().err
    clean, stale = tables(tmp_path / "clean"), tables(tmp_path / "stale")
    for name in clean:
        pd.testing.assert_frame_equal(clean[name], stale[name], obj=name)
    assert set(stale["scores"].setting) == {"none", "mnli"} and set(stale["scores"].lang) == {"en", "qa", "qb"}
    for leftover in ("hellaswag", "mnli/all", "none/cls/udpos"):
        assert leftover in err, err  # the note names each ignored folder


def test_a_missing_expected_output_is_an_error_naming_it(tmp_path, params):
    make_phase3(tmp_path / "phase3", params)
    gone = tmp_path / "phase3" / "mnli" / "cls" / "pawsx" / "metrics.json"
    gone.unlink()
    with pytest.raises(layout.MissingResultsError) as err:
        analysis.run(params, str(tmp_path / "phase3"), None, str(tmp_path / "analysis"))
    assert str(gone) in str(err.value) and "dvc repro phase3@mnli-cls" in str(err.value)
    assert not (tmp_path / "analysis" / "results.csv").exists()


def test_missing_seed_predictions_are_an_error(tmp_path, params):
    make_phase3(tmp_path / "phase3", params)
    shutil.rmtree(tmp_path / "phase3" / "none" / "cls" / "pawsx" / "seed1")
    with pytest.raises(layout.MissingResultsError, match="none/cls/pawsx/seed1"):
        analysis.run(params, str(tmp_path / "phase3"), None, str(tmp_path / "analysis"))


@pytest.mark.parametrize("change, match", [("seeds", "has seeds \\['0'\\], the params' target.seeds are \\['0', '1'\\]"),
                                           ("languages", "languages \\['en', 'qa'\\], the params define \\['en', 'qa', 'qb'\\]")])
def test_an_output_of_other_params_at_the_expected_path_is_refused(tmp_path, params, change, match):
    """e.g. the same setting/group/target folder written with other seeds or languages."""
    make_phase3(tmp_path / "phase3", params)
    path = tmp_path / "phase3" / "none" / "cls" / "xnli" / "metrics.json"
    m = json.loads(path.read_text())
    if change == "seeds":
        del m["seeds"]["1"]
    else:
        for run in m["seeds"].values():
            del run["scores"]["test"]["qb"]
    path.write_text(json.dumps(m))
    with pytest.raises(layout.StaleResultsError, match=match):
        layout.read_phase3_metrics(params, str(tmp_path / "phase3"))


def test_retrieval_results_of_other_settings_are_ignored_and_missing_ones_fail(tmp_path, params, capsys):
    scores = {t: {lang: {"accuracy": 50.0, "chance": 1.0} for lang in ("qa", "qb", "qd")} for t in params.retrieval.tasks}
    io_path = tmp_path / "metrics.json"
    io_path.write_text(json.dumps({"none": scores, "mnli": scores, "hellaswag": scores}))
    read = layout.read_retrieval_metrics(params, str(tmp_path))
    assert set(read) == {"none", "mnli"} and set(read["none"]["tatoeba"]) == {"qa", "qb"}  # qd: not in data.languages
    assert "hellaswag" in capsys.readouterr().err
    io_path.write_text(json.dumps({"none": scores}))
    with pytest.raises(layout.MissingResultsError, match="setting 'mnli'"):
        layout.read_retrieval_metrics(params, str(tmp_path))
    io_path.write_text(json.dumps({s: {t: {"qa": scores[t]["qa"]} for t in scores} for s in ("none", "mnli")}))
    with pytest.raises(layout.MissingResultsError, match="no bucc2018 results for setting 'none' in qb"):
        layout.read_retrieval_metrics(params, str(tmp_path))


def test_hidden_label_language_is_listed_not_dropped_silently(tmp_path, params, capsys):
    make_phase3(tmp_path / "phase3", params, hidden=("qb",))
    capsys.readouterr()
    res = analysis.run(params, str(tmp_path / "phase3"), None, str(tmp_path / "analysis"))
    note = "Left out of the averages (no gold labels): pawsx test qb; xnli test qb."
    assert note in capsys.readouterr().out
    assert note in (tmp_path / "analysis" / "results.md").read_text()
    assert json.loads((tmp_path / "analysis" / "metrics.json").read_text())["unscored_cells"] == 2
    assert "qb" not in set(pd.read_csv(tmp_path / "analysis" / "scores.csv").lang)
    assert len(res["significance"]) == 2  # the bootstrap runs on the scored languages only


def test_export_reads_only_the_params_folders(tmp_path, params):
    make_phase3(tmp_path / "phase3", params)
    plant_leftovers(tmp_path / "phase3")
    path = submission.phase3_predictions_path(str(tmp_path / "phase3"), "mnli", "xnli", 0, "qa", params)
    assert path == str(tmp_path / "phase3" / "mnli" / "cls" / "xnli" / "seed0" / "predictions" / "test.qa.jsonl")
    with pytest.raises(submission.SubmissionError, match="several folders"):  # without params: ambiguous
        submission.phase3_predictions_path(str(tmp_path / "phase3"), "mnli", "xnli", 0, "qa")
    with pytest.raises(submission.SubmissionError, match="setting 'hellaswag' is not in the current params"):
        submission.phase3_predictions_path(str(tmp_path / "phase3"), "hellaswag", "xnli", 0, "qa", params)
    with pytest.raises(submission.SubmissionError, match="seed 9 is not in the current params"):
        submission.phase3_predictions_path(str(tmp_path / "phase3"), "none", "xnli", 9, "qa", params)
