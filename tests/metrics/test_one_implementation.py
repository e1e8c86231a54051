"""analysis and verify score with xstilts.metrics (one implementation of QA scoring, chunk F1 and
the XTREME aggregation), so their numbers equal the metric functions' on the same data."""

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from tests.test_verify import paper_outputs, paper_params  # noqa: F401  (fixture)
from xstilts import analysis
from xstilts.verify import rules
from xstilts.verify.results import load_results
from xstilts.metrics import aggregate, mlqa_scores, seqeval_f1, squad_scores
from xstilts.tasks import TASKS


def _ratio(components: np.ndarray) -> float:
    return float(analysis._ratio_metric(components[None], None)[0])


def test_bootstrap_components_give_the_official_qa_scores():
    rows = [
        {"prediction": "", "gold": ["A"]},  # v1.1: EM 1, F1 0 (the old re-implementation gave 1, 1)
        {"prediction": "the cat", "gold": ["a cat", "dog"]},
        {"prediction": "cat sat", "gold": ["cat"]},
    ]
    preds = {str(i): r["prediction"] for i, r in enumerate(rows)}
    refs = {str(i): r["gold"] for i, r in enumerate(rows)}
    s = squad_scores(preds, refs)
    assert _ratio(analysis.example_components(TASKS["xquad"], rows, "de")) == pytest.approx((s["exact_match"] + s["f1"]) / 2)
    zh = [{"prediction": "", "gold": ["，"]}, {"prediction": "北京", "gold": ["北京市"]}]
    m = mlqa_scores({"0": "", "1": "北京"}, {"0": ["，"], "1": ["北京市"]}, "zh")
    assert _ratio(analysis.example_components(TASKS["mlqa"], zh, "zh")) == pytest.approx((m["exact_match"] + m["f1"]) / 2)


def test_bootstrap_components_give_the_udpos_chunk_f1():
    names = TASKS["udpos"].labels
    ix = {n: i for i, n in enumerate(names)}
    gold = [["CCONJ", "NOUN", "X"], ["SCONJ", "SCONJ", "VERB"]]
    pred = [["SCONJ", "NOUN", "X"], ["SCONJ", "NOUN", "VERB"]]
    rows = [{"prediction": [ix[t] for t in p], "gold": [ix[t] for t in g]} for p, g in zip(pred, gold)]
    assert _ratio(analysis.example_components(TASKS["udpos"], rows, "de")) == pytest.approx(seqeval_f1(pred, gold))


def test_analysis_language_score_is_the_aggregate_one(tmp_path):
    # a QA metrics.json whose em_f1_avg disagrees with (EM + F1) / 2: analysis must use the latter
    per_lang = {"de": {"exact_match": 40.0, "f1": 60.0, "em_f1_avg": 0.0}, "es": {"exact_match": 20.0, "f1": 30.0, "em_f1_avg": 0.0}}
    m = {"setting": "none", "target": "xquad", "seeds": {"0": {"scores": {"test": per_lang}}}}
    scores = analysis.collect_scores({("none", "xquad"): m})
    table = analysis.results_table(scores, "none")
    assert table.avg.iloc[0] == pytest.approx(aggregate.task_average(per_lang, "xquad"))  # (50 + 25) / 2


def test_verify_xtreme_gain_is_the_aggregate_xtreme_score(tmp_path, paper_params, monkeypatch):  # noqa: F811
    paper_outputs(tmp_path, paper_params)
    calls = []
    real = aggregate.tasks_mean

    def recording(task_scores, tasks):
        calls.append((dict(task_scores), tuple(tasks)))
        return real(task_scores, tasks)

    monkeypatch.setattr(aggregate, "tasks_mean", recording)
    res = load_results(str(tmp_path), paper_params)
    gain, n_tasks, _ = rules._xtreme_gain(res, "dev")
    (best, tasks), (base, _) = calls
    assert n_tasks == 9 and set(tasks) == set(aggregate.XTREME_TASKS)
    assert gain == pytest.approx(aggregate.xtreme_score(best) - aggregate.xtreme_score(base))


def test_verify_category_needs_all_its_tasks(tmp_path, paper_params):  # noqa: F811
    paper_outputs(tmp_path, paper_params)
    res = load_results(str(tmp_path), paper_params)
    cats = {"classification": ["xnli", "pawsx"], "other": ["xnli", "xcopa"]}  # no xcopa results
    ref = SimpleNamespace(rule={"categories": cats}, values={"classification": 0.0, "other": 0.0}, scale=1.0, tolerance={"abs": 1000.0})
    status, observed, _ = rules.rule_category_scores(ref, res)
    assert "classification" in observed and "other" not in observed  # no partial category mean
    chosen, _ = rules._best_per_target(res)
    test = res.table("test").set_index(["setting", "task"]).avg
    expected = aggregate.category_scores({t: test[(s, t)] for t, s in chosen.items()})["classification"]
    assert f"classification {expected:.2f}" in observed
