"""How much training each profile plans: shared phase-3 runs, the multi-task cap, ANLI+'s weight."""

import math
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tiny_world import tiny_raw  # noqa: E402

from xstilts import config, pipeline, plan  # noqa: E402


def test_paper_profile_trains_the_squad_v1_fine_tune_once_for_xquad_and_mlqa():
    params = config.load("configs/paper.yaml")
    trainings = [together for g in params.target.groups.values() for together in plan.shared_trainings(params, g)]
    # every target evaluated once, and the SQuAD v1.1 run planned once for both XQuAD and MLQA
    assert sorted(t for together in trainings for t in together) == sorted(params.target.tasks)
    assert [together for together in trainings if "xquad" in together or "mlqa" in together] == [["xquad", "mlqa"]]
    assert len(trainings) == len(params.target.tasks) - 1


def _steps(params, sizes: dict[str, int]) -> int:
    """Optimiser steps phase 2 plans for tasks of these sizes (features are only counted)."""
    from xstilts.training import TrainTask, total_steps

    _, cap = plan.phase2_mixture(params, sizes)
    settings = plan.loop_settings(params.intermediate.optim, params.engine, 0)
    return total_steps({n: TrainTask(n, None, [None] * k) for n, k in sizes.items()}, settings, cap)


# published training-set sizes (paper_spec.md §2.1); ANLI+ as jiant's five parts
ANLI_PARTS = {"anli_plus/anli-r1": 16946, "anli_plus/anli-r2": 45460, "anli_plus/anli-r3": 100459, "anli_plus/mnli": 392702, "anli_plus/snli": 549367}


def test_a_task_trained_alone_gets_its_full_epochs_not_the_mixture_cap():
    params = config.load("configs/paper.yaml")  # 3 epochs at batch 4, cap 2^17
    assert _steps(params, {"mnli": 392702}) == 3 * math.ceil(392702 / 4) == 294528
    assert _steps(params, {"anli_plus": sum(ANLI_PARTS.values())}) == 3 * math.ceil(1104934 / 4)


def test_the_multi_setting_caps_each_task_and_each_anli_plus_part():
    # the capped mixture (jiant's v1 QQP + MLM script's 2^17), an option: the recipe's mixture is
    # uncapped proportional (test_planner.test_paper_multi_is_uncapped_proportional...)
    import dataclasses

    params = config.load("configs/paper.yaml")
    inter = params.intermediate
    params = dataclasses.replace(params, intermediate=dataclasses.replace(inter, sampler=dataclasses.replace(inter.sampler, kind="capped_proportional", cap=131072)))
    others = {"ccg": 38015, "commonsenseqa": 9741, "cosmosqa": 25262, "hellaswag": 39905, "mnli": 392702, "qqp": 363846, "squad_v1": 87599, "squad_v2": 130319}
    sizes = {**ANLI_PARTS, **others}
    # ceil(min(n, 131072) / 4) per task, by hand: ANLI r1-r3, ANLI's MNLI and SNLI (capped), then the rest
    per_epoch = (4237 + 11365 + 25115 + 32768 + 32768) + (9504 + 2436 + 6316 + 9977 + 32768 + 32768 + 21900 + 32580)
    assert _steps(params, sizes) == 3 * per_epoch == 763506
    probs, cap = plan.phase2_mixture(params, sizes)
    anli = sum(p for n, p in probs.items() if n.startswith("anli_plus/"))
    # jiant's weight: each part capped on its own, about 3x MNLI's (one capped task would be 1x)
    assert cap == 131072 and anli / probs["mnli"] == (16946 + 45460 + 100459 + 2 * 131072) / 131072


def test_anli_plus_features_split_into_jiants_parts_by_example_id():
    ids = ["anli-r1-a", "mnli-train-0", "snli-train-3", "anli-r3-b", "anli-r1-c"]
    feats = [{"example_index": i} for i in (0, 1, 2, 3, 4, 4)]  # example 4 has two windows
    parts = plan.task_parts("anli_plus", feats, ids)
    assert {k: [f["example_index"] for f in v] for k, v in parts.items()} == {
        "anli_plus/anli-r1": [0, 4, 4], "anli_plus/anli-r3": [3], "anli_plus/mnli": [1], "anli_plus/snli": [2]}
    assert plan.task_parts("mnli", feats, ids) == {"mnli": feats}
    with pytest.raises(ValueError, match="'fever-1' belongs to none of its parts"):
        plan.task_parts("anli_plus", [{"example_index": 0}], ["fever-1"])


def test_phase2_trains_the_parts_of_a_split_task_on_one_head(tmp_path, monkeypatch):
    """The run_phase2 path of ANLI+ in a mixture, on the synthetic benchmark's MNLI split in two
    parts by example id (the synthetic benchmark has no ANLI)."""
    raw = tiny_raw(tmp_path, phase1_steps=2)
    raw["intermediate"]["settings"] = {"none": [], "mix": ["mnli", "qqp"]}
    raw["target"].update(tasks=["xnli"], groups={"all": ["xnli"]}, per_task={})
    params = config.from_dict(raw)
    pipeline.run_phase1(params, str(tmp_path / "phase1"))
    pipeline.build_features(params, str(tmp_path / "phase1"), str(tmp_path / "features"))
    monkeypatch.setitem(plan.TASK_PARTS, "mnli", ("mnli-train-1", "mnli-train-"))
    metrics = pipeline.run_phase2(params, "mix", str(tmp_path / "phase1"), str(tmp_path / "features"), str(tmp_path / "mix"))
    assert sorted(metrics["probabilities"]) == ["mnli/mnli-train", "mnli/mnli-train-1", "qqp"]
    assert "accuracy" in metrics["mnli"]  # one head, scored as one task
