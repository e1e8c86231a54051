"""The notebooks' walkthrough functions (xstilts.explore) on small fake stage outputs: a tiny
synthetic benchmark, hand-written curves and predictions, a tiny untrained encoder; nothing trains."""

import copy
import dataclasses

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from tests.fake_outputs import make_outputs
from xstilts import config, io, pipeline
from xstilts.explore import curves, data, intermediate, pretraining, results, retrieval, target
from xstilts.synthetic import SyntheticConfig, generate
from xstilts.tasks import TASKS


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("explore")
    params = config.load("params.yaml")
    params.data.root = str(root / "data")  # the tiny synthetic benchmark, read by the data and retrieval walkthroughs
    params.model = dataclasses.replace(params.model, hidden_size=16, num_layers=2, num_heads=2, intermediate_size=32)
    params.retrieval.layer = 2
    generate(params.data.root, SyntheticConfig.tiny())
    return params, root


def _write_curve(path, **series):
    io.write_json(str(path), {name: [{"step": s, key: v} for s, v in points] for name, (key, points) in series.items()})


# ---- curves ----------------------------------------------------------------------------------


def test_read_curve_drops_empty_series_and_names_a_missing_file(tmp_path):
    _write_curve(tmp_path / "curve.json", loss=("loss", [(0, 2.0), (5, 1.0)]), dev=("score", []))
    got = curves.read_curve(str(tmp_path / "curve.json"))
    assert list(got) == ["loss"] and got["loss"].loss.tolist() == [2.0, 1.0]
    with pytest.raises(FileNotFoundError, match="nowhere/curve.json"):
        curves.read_curve(str(tmp_path / "nowhere" / "curve.json"))


def test_seed_mean_averages_each_step():
    a = pd.DataFrame({"step": [0, 5], "loss": [2.0, 1.0]})
    b = pd.DataFrame({"step": [0, 5], "loss": [4.0, 3.0]})
    assert curves.seed_mean([a, b], "loss").loss.tolist() == [3.0, 2.0]
    assert curves.seed_mean([pd.DataFrame()], "loss").empty


def test_plot_tables_skip_empty_series_and_remove_stale_ones(tmp_path):
    (tmp_path / "old.csv").write_text("step,x\n0,1\n")
    paths = curves.write_plot_tables({"loss": pd.DataFrame({"step": [0, 1], "loss": [1.0, 0.5]}), "dev": pd.DataFrame(columns=["step", "score"])}, str(tmp_path))
    assert [p.split("/")[-1] for p in paths] == ["loss.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loss.csv"]  # no empty dev.csv (DVC cannot plot it), old.csv gone
    assert pd.read_csv(tmp_path / "loss.csv").columns.tolist() == ["step", "loss"]


def test_run_summary_one_row_per_run_with_its_log(tmp_path):
    """Steps and seconds from metrics.json, the last loss and the best dev from curve.json, the log
    only when the run wrote one (an empty log: nothing trained)."""
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    _write_curve(a / "curve.json", loss=("loss", [(0, 2.0), (9, 0.51234)]), dev=("score", [(5, 40.0), (10, 55.5), (15, 50.0)]))
    (a / "train.log").write_text("a step 1/10 | loss 2.0\n")
    _write_curve(b / "curve.json", loss=("loss", []))
    (b / "train.log").write_text("")
    table = curves.run_summary({"a": (str(a), {"steps": 10, "seconds": 3.5}), "b": (str(b), {})})
    assert table.loc["a"].to_dict() == {"steps": 10, "seconds": 3.5, "final_loss": 0.5123, "best_dev": 55.5, "log": str(a / "train.log")}
    assert table.loc["b", "steps"] == 0 and pd.isna(table.loc["b", "final_loss"]) and pd.isna(table.loc["b", "log"])


# ---- data ------------------------------------------------------------------------------------


def test_dataset_card_names_source_and_licence():
    card = data.dataset_card(["xnli", "mnli"])
    assert card.loc["xnli", "license"] == TASKS["xnli"].license and "google/xtreme" in card.loc["xnli", "source"]
    assert card.loc["mnli", "role"] == TASKS["mnli"].role and card.loc["xnli", "languages"] == 15


def test_benchmark_files_embedded_and_hub():
    files = data.benchmark_files({"tasks": {"xnli": [{"path": "google/xtreme/XNLI/test.parquet", "split": "test", "rows": 7}]}})
    assert files.to_dict("records") == [{"task": "xnli", "file": "google/xtreme/XNLI/test.parquet", "split": "test", "rows": 7}]
    hub = data.benchmark_files({"source": "hub", "revisions": {"google/xtreme": "abc"}})
    assert hub.to_dict("records") == [{"repo": "google/xtreme", "revision": "abc"}]


def test_benchmark_tasks_are_the_registered_ones_it_provides():
    assert data.benchmark_tasks({"tasks": {"xnli": [], "corpus": [], "mnli": []}}) == ["mnli", "xnli"]  # corpus is no task
    assert data.benchmark_tasks({"source": "hub", "revisions": {}}) == sorted(TASKS)


def test_split_sizes_pivot_languages_english_first():
    table = data.split_sizes({"xnli/test.qa": {"examples": 3, "features": 3}, "xnli/test.en": {"examples": 4, "features": 4}, "mnli/train.en": {"examples": 9, "features": 9}})
    assert list(table.columns) == ["en", "qa"]
    assert table.loc[("xnli", "test"), "en"] == 4 and table.loc[("mnli", "train"), "en"] == 9
    assert pd.isna(table.loc[("mnli", "train"), "qa"])


def test_examples_across_languages_are_parallel_with_label_names(world):
    params, _ = world
    table = data.examples_across_languages(params, "xnli", "test", 0)
    assert list(table.index) == params.data.languages
    assert set(table.columns) == {"text_a", "text_b", "label"}
    store = pipeline.store_for(params)
    gold = TASKS["xnli"].load(store, "test", "qa")[0]
    assert table.loc["qa", "label"] == TASKS["xnli"].labels[gold.label]  # a name, not an index
    tags = data.examples_across_languages(params, "panx", "test", 0)
    first = TASKS["panx"].load(store, "test", "en")[0]
    assert tags.loc["en", "tokens/tags"].startswith(f"{first.tokens[0]}/{TASKS['panx'].labels[first.tags[0]]}")
    bitext = data.examples_across_languages(params, "tatoeba", "test", 0)
    assert "en" not in bitext.index and set(bitext.columns) == {"source", "gold target"}


# ---- phase 1 ---------------------------------------------------------------------------------


def test_segmentation_of_one_sentence_per_language(world, tmp_path):
    from xstilts.tokenization import train_tokenizer

    params, root = world
    sentences = pretraining.parallel_sentences(params)
    assert list(sentences) == params.data.languages
    lines = [line for lang in params.data.languages for line in (root / "data" / "corpus" / f"{lang}.txt").read_text().splitlines()[:100]]
    tok = train_tokenizer(lines, 300, str(tmp_path / "tok"))
    seg = pretraining.segmentation(tok, sentences)
    en = seg.loc["en"]
    assert en.tokens == len(en.pieces.split()) == len(tok.tokenize(sentences["en"]))
    assert en.tokens_per_word == round(en.tokens / len(sentences["en"].split()), 2)


def test_corpus_sentences_are_each_languages_first_line(world):
    params, root = world
    got = pretraining.corpus_sentences(params)
    assert list(got)[0] == "en" and set(got) == {p.stem for p in (root / "data" / "corpus").glob("*.txt")}
    assert got["qa"] == (root / "data" / "corpus" / "qa.txt").read_text().splitlines()[0].strip()


def test_mlm_curve_figure_and_missing_records(tmp_path):
    _write_curve(tmp_path / "curve.json", mlm=("loss", [(0, 6.0), (25, 4.0), (50, 3.0)]))
    fig = pretraining.mlm_curve(str(tmp_path))
    assert isinstance(fig, Figure) and fig.axes[0].lines[0].get_ydata().tolist() == [6.0, 4.0, 3.0]
    _write_curve(tmp_path / "curve.json", mlm=("loss", []))
    with pytest.raises(ValueError, match="no MLM records"):
        pretraining.mlm_curve(str(tmp_path))


def test_phase1_plot_table_and_summary_read_curve_json(tmp_path):
    """Phase 1's curve goes through curve.json like phases 2 and 3: `dvc plots` gets mlm.csv, a Hub
    checkpoint (no step trained, an empty series) gets an empty folder."""
    _write_curve(tmp_path / "curve.json", mlm=("loss", [(0, 6.0), (25, 4.0)]))
    assert pretraining.plot_tables(str(tmp_path), str(tmp_path / "plots")) == [str(tmp_path / "plots" / "mlm.csv")]
    assert pd.read_csv(tmp_path / "plots" / "mlm.csv").to_dict("list") == {"step": [0, 25], "loss": [6.0, 4.0]}
    assert pretraining.training(str(tmp_path), {"steps": 26, "seconds": 1.5}).loc["phase1", "final_loss"] == 4.0
    _write_curve(tmp_path / "curve.json", mlm=("loss", []))
    assert pretraining.plot_tables(str(tmp_path), str(tmp_path / "plots")) == [] and not list((tmp_path / "plots").iterdir())


# ---- phase 2 ---------------------------------------------------------------------------------


def test_mixture_probabilities_steps_and_dev_scores():
    metrics = {"setting": "multi", "tasks": ["mnli", "squad_v2"], "steps": 100, "probabilities": {"mnli": 0.75, "squad_v2": 0.25},
               "mnli": {"accuracy": 80.0}, "squad_v2": {"em_f1_avg": 60.0, "f1": 65.0, "exact_match": 55.0}}
    summary = {"mnli/train.en": {"examples": 300}, "squad_v2/train.en": {"examples": 100}}
    mix = intermediate.mixture(metrics, summary)
    assert mix.to_dict("index") == {"mnli": {"train_examples": 300, "probability": 0.75, "steps": 75, "dev_score": 80.0},
                                    "squad_v2": {"train_examples": 100, "probability": 0.25, "steps": 25, "dev_score": 60.0}}
    assert intermediate.mixture({"setting": "none", "tasks": []}, summary).empty


def test_phase2_curve_and_plot_tables_baseline_has_none(tmp_path):
    trained, baseline = tmp_path / "multi", tmp_path / "none"
    trained.mkdir(), baseline.mkdir()
    _write_curve(trained / "curve.json", loss=("loss", [(0, 1.5), (10, 0.5)]))
    _write_curve(baseline / "curve.json", loss=("loss", []))
    assert isinstance(intermediate.loss_curve(str(trained)), Figure) and intermediate.loss_curve(str(baseline)) is None
    assert intermediate.plot_tables(str(trained), str(tmp_path / "plots" / "multi"))[0].endswith("loss.csv")
    assert intermediate.plot_tables(str(baseline), str(tmp_path / "plots" / "none")) == []
    assert (tmp_path / "plots" / "none").is_dir()  # the stage's declared plots folder exists, empty
    assert intermediate.training(str(trained), {"setting": "multi", "steps": 11, "seconds": 2.0}).loc["multi", "final_loss"] == 0.5


# ---- phase 3 ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def phase3(world):
    """make_outputs' phase-3 metrics (scores per seed) plus chance levels, curves and predictions
    for xnli made from the real tiny benchmark's examples."""
    params, root = world
    out = make_outputs(root / "fake", langs=("en", "qa", "qb"), seeds=(0, 1))
    target_dir = out / "phase3" / "mnli" / "xnli"
    m = io.read_json(str(target_dir / "metrics.json"))
    m["chance"] = {"test": {"en": 33.3, "qa": 33.3, "qb": 90.0}}
    io.write_json(str(target_dir / "metrics.json"), m)
    store = pipeline.store_for(params)
    for seed in (0, 1):
        _write_curve(target_dir / f"seed{seed}" / "curve.json", loss=("loss", [(0, 1.1 + seed), (3, 0.9 + seed)]), dev=("score", [(4, 50.0 + 10 * seed)]))
        examples = TASKS["xnli"].load(store, "test", "qa")
        io.write_jsonl(str(target_dir / f"seed{seed}" / "predictions" / "test.qa.jsonl"),
                       [{"id": e.id, "prediction": (e.label + i) % 3, "gold": e.label} for i, e in enumerate(examples[:4])])
    return target_dir, m


def test_language_table_seed_statistics_and_chance(phase3):
    target_dir, m = phase3
    table = target.language_table(str(target_dir))
    assert list(table.index) == ["en", "qa", "qb"]
    qa = [m["seeds"][s]["scores"]["test"]["qa"]["accuracy"] for s in ("0", "1")]
    assert table.loc["qa", "mean"] == round(np.mean(qa), 2) and table.loc["qa", "min"] == round(min(qa), 2) and table.loc["qa", "seeds"] == 2
    assert bool(table.loc["qa", "above_chance"]) and not bool(table.loc["qb", "above_chance"])  # qb's chance is set above its score
    fig = target.language_figure(table)
    assert isinstance(fig, Figure) and len(fig.axes[0].patches) == 3
    many = pd.concat([table.iloc[[1]].rename(index={"qa": f"l{i}"}) for i in range(40)])
    assert target.language_figure(many).get_size_inches()[0] * 80 <= 1400  # 40 languages still fit a page


def test_language_table_scores_qa_as_the_analysis_does(tmp_path):
    """(F1 + EM) / 2 per language, XTREME's QA score (metrics.aggregate.language_score)."""
    io.write_json(str(tmp_path / "metrics.json"), {"target": "mlqa", "seeds": {"0": {"scores": {"test": {"qa": {"f1": 60.0, "exact_match": 40.0}}}}}, "chance": {}})
    table = target.language_table(str(tmp_path))
    assert table.loc["qa", "mean"] == 50.0 and table.loc["qa", "above_chance"] is None


def test_dev_curve_of_one_point_per_seed_is_a_table(phase3):
    target_dir, _ = phase3
    table = target.dev_curve(str(target_dir))
    assert isinstance(table, pd.DataFrame) and table.to_dict("index") == {"seed0": {"step": 4, "score": 50.0}, "seed1": {"step": 4, "score": 60.0}}
    assert len(target.loss_curve(str(target_dir)).axes[0].lines) == 2


def test_dev_curve_one_line_per_seed(tmp_path):
    for seed in (0, 1):
        _write_curve(tmp_path / f"seed{seed}" / "curve.json", loss=("loss", [(0, 1.0)]), dev=("score", [(4, 50.0 + seed), (8, 55.0)]))
    fig = target.dev_curve(str(tmp_path))
    assert isinstance(fig, Figure) and [line.get_ydata().tolist() for line in fig.axes[0].lines] == [[50.0, 55.0], [51.0, 55.0]]
    with pytest.raises(FileNotFoundError, match="has phase 3 run"):
        target.dev_curve(str(tmp_path / "nowhere"))


def test_phase3_training_summary_per_seed(phase3, tmp_path):
    import shutil

    target_dir, m = phase3
    shutil.copytree(target_dir, tmp_path / "xnli")
    m = copy.deepcopy(m)
    for seed, run in m["seeds"].items():
        run.update(steps=10 + int(seed), seconds=2.5)
    io.write_json(str(tmp_path / "xnli" / "metrics.json"), m)
    table = target.training(str(tmp_path / "xnli"))
    assert list(table.index) == ["seed0", "seed1"] and table.best_dev.tolist() == [50.0, 60.0] and table.final_loss.tolist() == [0.9, 1.9]
    assert table.steps.tolist() == [10, 11] and table.seconds.tolist() == [2.5, 2.5]


def test_predictions_beside_gold_with_label_names(world, phase3):
    params, _ = world
    target_dir, _ = phase3
    examples = TASKS["xnli"].load(pipeline.store_for(params), "test", "qa")
    table = target.predictions(str(target_dir), "xnli", examples, "qa", n=3)
    labels = TASKS["xnli"].labels
    assert table.gold.tolist() == [labels[e.label] for e in examples[:3]]
    assert table.prediction.tolist() == [labels[(e.label + i) % 3] for i, e in enumerate(examples[:3])]
    assert table.correct.tolist() == [True, False, False] and examples[0].text_a[:20] in table.input[0]
    with pytest.raises(FileNotFoundError, match="test.qd.jsonl"):
        target.predictions(str(target_dir), "xnli", examples, "qd")


def test_readable_tags_and_answers():
    assert target._readable(TASKS["panx"], [0, 1]) == f"{TASKS['panx'].labels[0]} {TASKS['panx'].labels[1]}"
    assert target._readable(TASKS["xquad"], ["Paris", "in Paris"]) == "Paris | in Paris"


def test_phase3_plot_tables_are_seed_means(phase3, tmp_path):
    target_dir, _ = phase3
    target.plot_tables(str(target_dir), str(tmp_path))
    assert pd.read_csv(tmp_path / "loss.csv").loss.round(6).tolist() == [1.6, 1.4]
    assert pd.read_csv(tmp_path / "dev.csv").to_dict("records") == [{"step": 4, "score": 55.0}]


# ---- retrieval -------------------------------------------------------------------------------


def test_retrieval_score_table_with_chance():
    metrics = {"none": {"tatoeba": {"qa": {"accuracy": 20.0, "chance": 5.0}}}, "mnli": {"tatoeba": {"qa": {"accuracy": 30.0, "chance": 5.0}}}}
    table = retrieval.score_table(metrics, "tatoeba", "accuracy")
    assert table.loc["qa"].to_dict() == {"none": 20.0, "mnli": 30.0, "chance": 5.0}


def test_mined_candidates_match_what_the_stage_keeps(world):
    """Re-mining one language gives the stage's candidates: above the stage's threshold, the same pairs."""
    from xstilts.model import build_encoder, encoder_config, save_encoder
    from xstilts.tokenization import train_tokenizer

    params, root = world
    lines = [line for lang in params.data.languages for line in (root / "data" / "corpus" / f"{lang}.txt").read_text().splitlines()[:100]]
    tok = train_tokenizer(lines, 300, str(root / "p1" / "tokenizer"))
    import torch

    torch.manual_seed(0)
    m = params.model
    save_encoder(build_encoder(encoder_config(len(tok), m.hidden_size, m.num_layers, m.num_heads, m.intermediate_size)), str(root / "p2" / "none" / "encoder"))
    one = copy.deepcopy(params)
    one.retrieval.tasks = ["bucc2018"]
    one.data.languages = ["en", "qa"]
    metrics = pipeline.run_retrieval(one, ["none"], str(root / "p2"), str(root / "p1"), str(root / "ret"))
    threshold = metrics["none"]["bucc2018"]["qa"]["threshold"]
    cands = retrieval.mined_candidates(one, "none", "qa", str(root / "p2"), str(root / "p1"))
    kept = retrieval.kept_candidates(str(root / "ret"), "none", "qa")
    assert len(cands) >= len(kept) > 0
    assert sorted(cands[cands.score >= threshold].score.round(9)) == sorted(kept.score.round(9))
    assert cands[cands.score >= threshold].gold.sum() == kept.gold.sum()
    pairs = retrieval.mined_pairs(cands, threshold, n=2)
    assert len(pairs) == min(2, len(kept)) and (pairs.score >= threshold).all() and pairs.score.is_monotonic_decreasing
    fig = retrieval.margin_figure(cands, threshold)
    assert isinstance(fig, Figure) and fig.axes[0].lines[0].get_xdata()[0] == threshold


# ---- results ---------------------------------------------------------------------------------


def test_zero_shot_table_and_significance_reading(tmp_path):
    out = make_outputs(tmp_path)
    res = pd.read_csv(out / "analysis" / "results.csv")
    table = results.zero_shot_table(res, "none")
    assert table.index[0] == "none" and table.loc["mnli", "xnli"] == round(res[(res.setting == "mnli") & (res.task == "xnli")].zero_shot.iloc[0], 1)
    sig = pd.read_csv(out / "analysis" / "significance.csv")
    read = results.significance_reading(sig, 0.05).set_index(["setting", "task"])
    assert read.loc[("mnli", "xquad"), "reading"].startswith("significant gain: +2.50 points, 95% CI [+1.70, +3.30], Holm p = ")
    assert read.loc[("qqp", "udpos"), "reading"].startswith("no significant difference")
    assert read.loc[("mnli", "xnli"), "reading"].endswith("(the intermediate task is the target's own training data)")  # MNLI trains XNLI
    assert read.loc[("ccg", "xquad"), "reading"].startswith("no significant difference")  # -0.5 gain is under the fake's significance bar


def test_claims_and_verdict_counts(tmp_path):
    pd.DataFrame([{"id": "a", "kind": "directional", "role": "claim", "evidence": "[V]", "claim": "A helps", "split": "test", "reference": "", "observed": "+1", "tolerance": "", "status": "reproduced", "reason": "", "source": ""},
                  {"id": "b", "kind": "numeric", "role": "context", "evidence": "[T1]", "claim": "B is 80", "split": "test", "reference": "80", "observed": "", "tolerance": "1", "status": "not run", "reason": "paper profile only", "source": ""}]
                 ).to_csv(tmp_path / "claims.csv", index=False)
    c = results.claims(str(tmp_path))
    assert c.columns.tolist() == ["id", "role", "claim", "status", "evidence", "reference", "observed", "reason"] and c.observed[1] == ""
    counts = results.verdict_counts(c)
    assert counts.loc["claim", "reproduced"] == 1 and counts.loc["context", "not run"] == 1 and counts.loc["claim", "not run"] == 0


def test_candidates_fall_back_to_the_kept_pairs_when_too_large(tmp_path, monkeypatch):
    io.write_jsonl(str(tmp_path / "none" / "bucc2018" / "qa.jsonl"), [{"id": "1-2", "prediction": [1, 2], "score": 1.2, "gold": True, "source_id": "qa-1", "target_id": "en-2"}])

    def too_large(*a, **k):
        raise ValueError("too many to re-mine")

    monkeypatch.setattr(retrieval, "mined_candidates", too_large)
    cands, complete = retrieval.candidates(None, "none", "qa", "", "", str(tmp_path))
    assert not complete and cands.to_dict("records") == [{"source": "qa-1", "target": "en-2", "score": 1.2, "gold": True}]
