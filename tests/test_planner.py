"""`xstilts.cli plan`: the runs the params imply, their steps (by hand and as the stages take
them), FLOPs and GPU-hours."""

import dataclasses
import math
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tiny_world import tiny_raw  # noqa: E402

from xstilts import config, features, pipeline, plan, planner  # noqa: E402

LARGE = planner.MODELS["xlm-roberta-large"]


def _paper(**settings):
    params = config.load("configs/paper.yaml")
    if settings:
        params = dataclasses.replace(params, intermediate=dataclasses.replace(params.intermediate, settings=settings))
    return params


def _run(p: planner.Plan, name: str) -> planner.Run:
    (run,) = [r for r in p.runs if r.name == name]
    return run


def test_xlm_r_large_has_302m_non_embedding_parameters():
    assert LARGE.non_embedding == 302_309_376  # 24 x (4 (d^2 + d) + 2 d i + i + d + 4 d)
    # XLM-R Large: 560M (Conneau et al. 2020) with the pooler, which our encoder does not load
    assert LARGE.parameters + 1024 * 1024 + 1024 == pytest.approx(560e6, rel=1e-3)


def test_the_shape_counts_the_parameters_of_the_encoder_we_build():
    from xstilts.model import build_encoder, encoder_config

    shape = planner.Shape(300, 48, 3, 4, 160)
    encoder = build_encoder(encoder_config(300, 48, 3, 4, 160))
    assert shape.parameters == sum(p.numel() for p in encoder.parameters())
    assert shape.non_embedding == sum(p.numel() for n, p in encoder.named_parameters() if not n.startswith("embeddings."))


def test_mnli_alone_trains_three_epochs_at_batch_4_and_is_priced_by_the_stated_formula():
    recipe = _paper(mnli=["mnli"])  # jiant's random batches: priced with their padding (planner.RANDOM_BATCH_PADDING)
    grouped = dataclasses.replace(recipe, engine=dataclasses.replace(recipe.engine, length_grouping=True))  # the formula on real tokens
    p = planner.plan(grouped, planner.PaperSizes(), "h100", planner.Efficiency(0.3, 4096))
    run = _run(p, "phase2/mnli")
    assert run.steps == 3 * math.ceil(392702 / 4) == 294528
    assert run.batch == (4, 1)
    tokens = run.steps * 4 * 45  # PAPER_SIZES mnli: 45 tokens per pair
    assert run.tokens == tokens
    train = tokens * (6 * LARGE.non_embedding + 12 * 24 * 1024 * 45)
    dev = 9815 * 45 * (2 * LARGE.non_embedding + 4 * 24 * 1024 * 45)
    assert run.flops == pytest.approx(train + dev)
    # 4 x 45 tokens is launch-bound: MFU 0.3 x 180 / 4096; the optimiser's memory traffic per step;
    # the dev evaluation at 64 x 45 tokens per batch
    # the recipe's fp32 (TF32 off): the H100's 66.9 FP32 TFLOP/s
    hours = train / (66.9e12 * 0.3 * 180 / 4096) + run.steps * 36 * LARGE.parameters / 3.35e12 + dev / (66.9e12 * 0.3 * 64 * 45 / 4096)
    assert run.gpu_hours == pytest.approx(hours / 3600)
    assert run.mfu == pytest.approx(0.3 * 180 / 4096)
    random = _run(planner.plan(recipe, planner.PaperSizes(), "h100", planner.Efficiency(0.3, 4096)), "phase2/mnli")
    # every processed token costs the linear layers (1 / (1 - padding) as many), and attention more (longer rows)
    assert random.steps == run.steps and random.flops >= train / (1 - planner.RANDOM_BATCH_PADDING) + dev


def test_the_capped_mixture_caps_each_task_and_each_anli_plus_part():
    params = _paper(multi=["anli_plus", "ccg", "commonsenseqa", "cosmosqa", "hellaswag", "mnli", "qqp", "squad_v1", "squad_v2"])
    params = dataclasses.replace(params, intermediate=dataclasses.replace(params.intermediate, sampler=config.SamplerConfig(kind="capped_proportional")))
    p = planner.plan(params, planner.PaperSizes())
    # ceil(min(n, 2^17) / 4) per task: ANLI r1-r3, ANLI's MNLI and SNLI (capped), CCG, CSQA, Cosmos,
    # HellaSwag, MNLI, QQP (capped), SQuAD v1.1 and v2.0 in 384-token windows (1.03 per question)
    per_epoch = (4237 + 11365 + 25115 + 32768 + 32768) + (9504 + 2436 + 6316 + 9977 + 32768 + 32768) + math.ceil(round(87599 * 1.03) / 4) + 32768
    assert _run(p, "phase2/multi").steps == 3 * per_epoch


def test_paper_multi_is_uncapped_proportional_with_mnli_once_inside_anli_plus():
    p = planner.plan(_paper(multi=["anli_plus", "ccg", "commonsenseqa", "cosmosqa", "hellaswag", "qqp", "squad_v1", "squad_v2"]), planner.PaperSizes())
    # jiant's Simple API: train_examples_cap=None, so every example once per epoch: ANLI r1-r3, MNLI,
    # SNLI, CCG, CSQA, Cosmos, HellaSwag, QQP, SQuAD v1.1 and v2.0 windows
    parts = [16946, 45460, 100459, 392702, 549367, 38015, 9741, 25262, 39905, 363846]
    per_epoch = sum(math.ceil(n / 4) for n in parts) + math.ceil(round(87599 * 1.03) / 4) + math.ceil(round(130319 * 1.03) / 4)
    assert _run(p, "phase2/multi").steps == 3 * per_epoch


def test_speed_switches_price_bf16_against_the_recipes_fp32_by_the_ratio_of_the_peaks():
    params = _paper(mnli=["mnli"])
    variants = planner.speed_variants(params, planner.PaperSizes(), "h100", planner.Efficiency(0.3, 4096))
    recipe, fast = variants.values()
    r, f = _run(recipe, "phase2/mnli"), _run(fast, "phase2/mnli")
    optimiser = r.steps * 36 * LARGE.parameters / 3.35e12 / 3600  # memory-bound: the same at every precision
    ratio = (r.gpu_hours - optimiser) / (f.gpu_hours - optimiser)
    # the ratio of the peaks, and more: the recipe's random batches also process their padding
    # (length grouping, one of the switches, does not)
    assert 989.4 / 66.9 < ratio < 989.4 / 66.9 / (1 - planner.RANDOM_BATCH_PADDING) * 1.1
    assert recipe.total() > 10 * fast.total()


def test_paper_phase3_is_every_setting_shared_training_and_seed_with_squad_v1_trained_once():
    params = _paper()
    p = planner.plan(params, planner.PaperSizes(), "h100")
    phase3 = [r for r in p.runs if r.stage == "phase3"]
    assert len(phase3) == 14 * 6 * 3  # settings x shared trainings (XQuAD and MLQA share one) x seeds
    assert {r.group for r in phase3} == {"xnli", "pawsx", "udpos", "panx", "xquad+mlqa", "tydiqa"}
    run = _run(p, "phase3/mnli/xnli/seed0")
    # the opt-in switch: 2 epochs of MNLI at 4 x 8, merged into one micro-batch of 32 on an 80 GB H100
    merged = dataclasses.replace(params, engine=dataclasses.replace(params.engine, merge_micro_batches=True))
    xnli = _run(planner.plan(merged, planner.PaperSizes(), "h100"), "phase3/mnli/xnli/seed0")
    assert xnli.batch == (32, 1) and xnli.steps == math.ceil(2 * math.ceil(392702 / 32)) == 24544
    assert run.batch == (4, 8) and run.steps == math.ceil(2 * math.ceil(392702 / 4) / 8)
    assert run.gpu_hours > xnli.gpu_hours  # 4-sequence micro-batches are launch-bound
    # a slower GPU costs more, by its peak for the FLOPs
    assert planner.plan(params, planner.PaperSizes(), "a100").total() > p.total()
    assert len([r for r in p.runs if r.stage == "retrieval"]) == 14 * 2
    assert p.disk["encoders_gib"] == pytest.approx(15 * 4 * LARGE.parameters / 2**30)  # one per encoder the 14 settings and phase 1 keep


def test_a_language_missing_from_a_size_table_is_priced_as_english_and_reported():
    sizes = planner.PaperSizes()
    assert sizes.split("mnli", "train", "en").features == 392702
    assert sizes.split("panx", "train", "xx").features == 20000
    assert any("panx train xx" in a for a in sizes.assumed)
    with pytest.raises(KeyError, match="no_such_task"):
        sizes.split("no_such_task", "train", "en")


def test_unknown_gpu_and_model_are_refused_by_name():
    with pytest.raises(config.ConfigError, match="tpu"):
        planner.plan(_paper(), planner.PaperSizes(), "tpu")
    params = _paper()
    other = dataclasses.replace(params, model=dataclasses.replace(params.model, name_or_path="bert-base-multilingual-cased"))
    with pytest.raises(config.ConfigError, match="bert-base-multilingual-cased"):
        planner.plan(other, planner.PaperSizes())


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A tiny pipeline run: a capped mixture with translated data and MLM, and two phase-3 targets."""
    root = tmp_path_factory.mktemp("plan")
    raw = tiny_raw(root, phase1_steps=4)
    raw["intermediate"]["settings"] = {"none": [], "multi": ["mnli", "squad_v2", "hellaswag"]}
    raw["intermediate"]["mlm_settings"] = ["multi"]
    raw["intermediate"]["translated_settings"] = ["multi"]
    raw["intermediate"]["translated_languages"] = ["qa"]
    raw["intermediate"]["sampler"]["cap"] = 100  # the tiny tasks are bigger than this: the cap bites
    raw["target"]["tasks"] = ["xnli", "udpos"]
    raw["target"]["groups"] = {"all": ["xnli", "udpos"]}
    raw["target"]["seeds"] = [0]
    raw["target"]["per_task"] = {"xnli": {"epochs": 1.0, "batch_size": 16, "grad_accum": 2}, "udpos": {"epochs": 0.5, "batch_size": 8, "grad_accum": 1}}
    raw["engine"]["parallel_runs"] = 1
    params = config.from_dict(raw)
    out = root / "out"
    pipeline.run_phase1(params, str(out / "phase1"))
    pipeline.build_features(params, str(out / "phase1"), str(out / "features"))
    phase2 = pipeline.run_phase2(params, "multi", str(out / "phase1"), str(out / "features"), str(out / "phase2" / "multi"))
    phase3 = pipeline.run_phase3_group(params, "multi", "all", str(out / "phase2" / "multi"), str(out / "phase1"), str(out / "features"), str(out / "phase3"))
    return params, out, phase2, phase3


def test_the_embedded_plan_takes_the_steps_the_stages_took(tiny_run):
    params, out, phase2, phase3 = tiny_run
    sizes = planner.DataSizes(params, str(out / "features"), str(out / "phase1"))
    p = planner.plan(params, sizes, "h100")
    assert _run(p, "phase1").steps == params.phase1.steps
    assert _run(p, "phase2/multi").steps == phase2["steps"]
    for target in ("xnli", "udpos"):
        run = _run(p, f"phase3/multi/{target}/seed0")
        assert run.steps == phase3[target]["seeds"]["0"]["steps"]
        assert run.examples == len(features.load_features(params, str(out / "features"), str(out / "phase1" / "tokenizer"), plan.target_train_task(params, target), "train", "en"))
    # phase 2's trained tokens: the sampler's expectation, near what the loop counted
    assert _run(p, "phase2/multi").tokens == pytest.approx(phase2["tokens"], rel=0.25)
    assert [r.name for r in p.runs if r.stage == "retrieval"] == [f"retrieval/{s}/{t}" for s in ("none", "multi") for t in ("bucc2018", "tatoeba")]


def test_the_embedded_plan_needs_the_featurised_data(tmp_path):
    with pytest.raises(FileNotFoundError, match="dvc repro features"):
        planner.DataSizes(config.load("params.yaml"), str(tmp_path / "features"), str(tmp_path / "phase1"))


def test_cli_plan_prints_the_totals_and_json(capsys):
    from xstilts import cli

    assert cli.main(["plan", "configs/paper.yaml", "--gpu", "a100", "--mfu", "0.4"]) == 0
    text = capsys.readouterr().out
    assert "**total**" in text and "MFU 0.4 (--mfu" in text and "a100 19.5 dense fp32" in text
    assert "| recipe (fp32, random batches, 4 x 8 micro-batches) |" in text and "| speed switches (bf16, length grouping, merged micro-batches) |" in text
    import json

    assert cli.main(["plan", "configs/paper.yaml", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["totals"]["all"]["gpu_hours"] == pytest.approx(sum(r["gpu_hours"] for r in data["runs"]))


def test_random_batches_are_priced_with_their_padding_unless_the_engine_runs_padding_free():
    """FLOPs and time of a training run follow the tokens the model processes: random batches
    carry padding (planner.RANDOM_BATCH_PADDING), padding-free execution only the real tokens."""
    base = _paper(mnli=["mnli"])

    def mnli(length_grouping, padding_free):
        params = dataclasses.replace(base, engine=dataclasses.replace(base.engine, length_grouping=length_grouping, padding_free=padding_free))
        p = planner.plan(params, planner.PaperSizes(), "h100")
        return _run(p, "phase2/mnli"), p

    grouped, _ = mnli(True, False)
    random, p_random = mnli(False, False)
    free, p_free = mnli(False, True)
    assert random.tokens == free.tokens == grouped.tokens  # the same real tokens are trained either way
    assert free.flops == pytest.approx(grouped.flops) and free.gpu_hours == pytest.approx(grouped.gpu_hours)
    assert random.flops > free.flops * 1.6 and random.gpu_hours > free.gpu_hours
    assert any("45% of the processed tokens" in a for a in p_random.assumptions)
    assert any("padding_free" in a and "none" in a for a in p_free.assumptions)
