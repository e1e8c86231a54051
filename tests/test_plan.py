"""xstilts/plan.py and xstilts/evaluation.py helpers that the stage tests (test_pipeline_stages.py)
exercise only through whole runs."""

import dataclasses

import pytest

from xstilts import config, evaluation, plan
from xstilts.tasks import TASKS


def _with_languages(langs: list[str]) -> config.Params:
    params = config.load("params.yaml")
    return dataclasses.replace(params, data=dataclasses.replace(params.data, languages=langs))


def test_a_configured_language_counts_for_any_task_but_is_evaluated_only_where_the_task_has_it():
    params = _with_languages(["en", "de", "qa"])
    tydiqa = TASKS["tydiqa"]  # no German in TyDi QA
    assert plan.languages_for(params, tydiqa) == ["en", "qa"]  # qa: a synthetic language, in every task
    assert plan.task_or_configured_language(params, tydiqa, "de")  # configured: counts whatever the task
    assert not plan.task_or_configured_language(params, tydiqa, "fr")
    # a task's own language outside the configured ones is left out (the rehearsal's [en, de] read
    # no Arabic translate-train)
    assert not plan.task_or_configured_language(params, TASKS["mnli_translated"], "ar")
    every = _with_languages(["all"])
    assert plan.task_or_configured_language(every, tydiqa, "fi") and not plan.task_or_configured_language(every, tydiqa, "de")


def test_a_target_group_is_split_into_the_trainings_its_targets_share():
    params = config.load("configs/paper.yaml")
    group = plan.group_targets(params, "squad_v1")
    assert group == ["xquad", "mlqa"] and plan.shared_trainings(params, group) == [["xquad", "mlqa"]]  # both fine-tune on SQuAD v1.1
    assert plan.shared_trainings(params, ["xnli", "pawsx"]) == [["xnli"], ["pawsx"]]
    with pytest.raises(config.ConfigError, match="group 'xquad' is not in target.groups"):
        plan.group_targets(params, "xquad")


def test_early_stopping_scores_the_dev_subset_against_the_examples_it_covers(monkeypatch):
    """The first eval_subset features may cover a few examples only: they are renumbered and
    scored against those examples, not against the whole dev split."""
    seen = {}

    def fake_evaluate(model, task, features, examples, **kw):
        seen.update(features=features, examples=examples, kw=kw)
        return None, {"accuracy": 0.25}

    monkeypatch.setattr(evaluation, "evaluate_split", fake_evaluate)
    features = [{"example_index": 2, "x": 1}, {"example_index": 2, "x": 2}, {"example_index": 5, "x": 3}]
    score = evaluation.early_stopping_score("model", TASKS["mnli"], features, list("abcdefg"), device="cpu", pad_id=1, batch_size=4, head="mnli")
    assert score == 0.25
    assert seen["examples"] == ["c", "f"]
    assert [f["example_index"] for f in seen["features"]] == [0, 0, 1] and [f["x"] for f in seen["features"]] == [1, 2, 3]
    assert seen["kw"]["lang"] == "en" and seen["kw"]["head"] == "mnli"
