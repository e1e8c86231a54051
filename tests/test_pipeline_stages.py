"""The stage functions on a tiny synthetic benchmark: every code path of phases 1-3, the phase-2
variants (multi-task, + MLM, machine-translated data), the target regimes, retrieval and analysis."""

import copy
import json
import multiprocessing
import os
import sys

import pytest
import torch
import yaml

from xstilts import analysis, config, features, io, pipeline, plan
from xstilts.model import load_encoder
from xstilts.tasks import TASKS

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tiny_world import tiny_raw  # noqa: E402


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("stages")
    raw = tiny_raw(root, phase1_steps=20)
    raw["intermediate"]["settings"] = {"none": [], "mnli": ["mnli"], "multi_mlm_mt": ["mnli", "squad_v2", "ccg", "hellaswag"]}
    raw["intermediate"]["mlm_settings"] = ["multi_mlm_mt"]
    raw["intermediate"]["translated_settings"] = ["multi_mlm_mt"]
    raw["intermediate"]["translated_languages"] = ["qa", "qb"]
    raw["target"]["tasks"] = ["xnli", "panx", "mlqa", "xquad"]
    raw["target"]["groups"] = {"all": ["xnli", "panx", "mlqa", "xquad"]}
    raw["target"]["seeds"] = [0]
    raw["target"]["per_task"] = {t: {"epochs": 1.0, "batch_size": 16, "grad_accum": 1} for t in raw["target"]["tasks"]}
    raw["target"]["eval_every"] = 2
    raw["analysis"]["n_boot"] = 200
    params = config.from_dict(raw)
    out = root / "out"
    pipeline.run_phase1(params, str(out / "phase1"))
    pipeline.build_features(params, str(out / "phase1"), str(out / "features"))
    for s in params.intermediate.settings:
        pipeline.run_phase2(params, s, str(out / "phase1"), str(out / "features"), str(out / "phase2" / s))
        pipeline.run_phase3_group(params, s, "all", str(out / "phase2" / s), str(out / "phase1"), str(out / "features"), str(out / "phase3" / s / "all"))
    pipeline.run_retrieval(params, list(params.intermediate.settings), str(out / "phase2"), str(out / "phase1"), str(out / "retrieval"))
    return params, raw, out


def test_phase1_writes_encoder_tokenizer_and_curve(world):
    _, _, out = world
    metrics = io.read_json(str(out / "phase1" / "metrics.json"))
    assert metrics["steps"] == 20 and (out / "phase1" / "tokenizer" / "tokenizer.json").exists()
    assert len(io.read_json(str(out / "phase1" / "curve.json"))["mlm"]) >= 2
    log = (out / "phase1" / "train.log").read_text().splitlines()  # the progress lines, not on stdout
    assert log[0].startswith("phase1 step 1/20 | loss") and log[-1].startswith("phase1 step 20/20 | loss")


def test_none_setting_is_the_phase1_encoder(world):
    _, _, out = world
    a, b = load_encoder(str(out / "phase1" / "encoder")).state_dict(), load_encoder(str(out / "phase2" / "none" / "encoder")).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert (out / "phase2" / "none" / "train.log").read_text() == ""  # a declared out: nothing trained, nothing logged


def test_intermediate_training_changes_the_encoder_and_reports_dev_scores(world):
    _, _, out = world
    a = load_encoder(str(out / "phase1" / "encoder")).state_dict()
    b = load_encoder(str(out / "phase2" / "mnli" / "encoder")).state_dict()
    assert any(not torch.equal(a[k], b[k]) for k in a)
    m = io.read_json(str(out / "phase2" / "mnli" / "metrics.json"))
    assert 0 <= m["mnli"]["accuracy"] <= 100


def test_phase2_does_not_depend_on_the_global_rng(world, tmp_path):
    params, _, out = world
    torch.manual_seed(12345)  # whatever ran before in this process must not change the result
    torch.rand(7)
    pipeline.run_phase2(params, "mnli", str(out / "phase1"), str(out / "features"), str(tmp_path / "mnli"))
    a = load_encoder(str(out / "phase2" / "mnli" / "encoder")).state_dict()
    b = load_encoder(str(tmp_path / "mnli" / "encoder")).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_mlm_and_translated_variants_train_extra_data(world):
    params, _, out = world
    m = io.read_json(str(out / "phase2" / "multi_mlm_mt" / "metrics.json"))
    assert set(m["probabilities"]) == {"mnli", "squad_v2", "ccg", "hellaswag", "mlm"}
    assert [x for x in plan.translated_train_splits(params, "multi_mlm_mt")] == [("mnli", "mnli_translated", "qa"), ("mnli", "mnli_translated", "qb")]


def test_phase3_scores_every_language_and_keeps_predictions(world):
    params, _, out = world
    m = io.read_json(str(out / "phase3" / "mnli" / "all" / "xnli" / "metrics.json"))
    for seed in params.target.seeds:
        test = m["seeds"][str(seed)]["scores"]["test"]
        assert set(test) == set(params.data.languages)
        rows = io.read_jsonl(str(out / "phase3" / "mnli" / "all" / "xnli" / f"seed{seed}" / "predictions" / "test.qd.jsonl"))
        assert rows and {"id", "prediction", "gold"} <= set(rows[0])
    assert set(m["chance"]["test"]) == set(params.data.languages)


@pytest.mark.parametrize("start", ["default", "spawn"])
def test_parallel_phase3_runs_match_serial_runs(world, tmp_path, monkeypatch, start):
    params, raw, out = world
    if start == "spawn":  # the start method used where fork is unsafe (multi-threaded workers, macOS)
        monkeypatch.setattr(pipeline, "worker_context", lambda threads: multiprocessing.get_context("spawn"))
    results = {}
    for runs, threads in ((1, 1), (2, 2)):  # one thread per run either way
        r = copy.deepcopy(raw)
        r["engine"].update(parallel_runs=runs, num_threads=threads)
        p = config.from_dict(r)
        dest = tmp_path / f"runs{runs}"
        results[runs] = pipeline.run_phase3_group(p, "mnli", "all", str(out / "phase2" / "mnli"), str(out / "phase1"), str(out / "features"), str(dest))
        assert sorted(results[runs]) == sorted(p.target.groups["all"])
    for t in params.target.groups["all"]:
        serial, parallel = results[1][t]["seeds"]["0"], results[2][t]["seeds"]["0"]
        assert serial["scores"] == parallel["scores"] and serial["best_dev"] == parallel["best_dev"], t
        a = (tmp_path / "runs1" / t / "seed0" / "predictions" / "test.qd.jsonl").read_text()
        assert a and a == (tmp_path / "runs2" / t / "seed0" / "predictions" / "test.qd.jsonl").read_text()


def test_targets_sharing_english_training_data_and_hparams_train_once():
    params = config.load("params.yaml")
    trainings = plan.shared_trainings(params, ["xnli", "pawsx", "udpos", "panx", "xquad", "mlqa", "tydiqa"])
    assert trainings == [["xnli"], ["pawsx"], ["udpos"], ["panx"], ["xquad", "mlqa"], ["tydiqa"]]
    raw = config.to_dict(params)
    raw["target"]["per_task"]["mlqa"]["epochs"] = 2.0
    assert ["mlqa"] in plan.shared_trainings(config.from_dict(raw), ["xquad", "mlqa"])
    with pytest.raises(ValueError, match="do not share one training run"):
        pipeline.run_phase3(params, "none", ["xnli", "mlqa"], "p2", "p1", "f", "out")


def test_one_shared_training_run_equals_separate_runs(world, tmp_path):
    """XQuAD and MLQA train once on SQuAD v1.1; the scores are those of two runs with that seed."""
    params, _, out = world
    args = (str(out / "phase2" / "mnli"), str(out / "phase1"), str(out / "features"))
    shared = pipeline.run_phase3(params, "mnli", ["xquad", "mlqa"], *args, str(tmp_path / "shared"))
    for t in ("xquad", "mlqa"):
        alone = pipeline.run_phase3(params, "mnli", [t], *args, str(tmp_path / t))[t]
        assert shared[t]["seeds"]["0"]["scores"] == alone["seeds"]["0"]["scores"], t
        assert shared[t]["seeds"]["0"]["scores"]["test"]["qa"]["f1"] >= 0
        assert shared[t]["trained_with"] == ["xquad", "mlqa"] and shared[t]["chance"] == alone["chance"]
        a = (tmp_path / "shared" / t / "seed0" / "predictions" / "test.qd.jsonl").read_text()
        assert a == (tmp_path / t / t / "seed0" / "predictions" / "test.qd.jsonl").read_text()
    assert set(shared["mlqa"]["seeds"]["0"]["scores"]) == {"dev", "test"}  # each target keeps its own splits
    log = (tmp_path / "shared" / "xquad" / "seed0" / "train.log").read_text()  # one run, one log, beside each target's curve
    assert log.startswith("phase3/mnli-xquad/seed0 step 1/") and log == (tmp_path / "shared" / "mlqa" / "seed0" / "train.log").read_text()
    assert set(shared["xquad"]["seeds"]["0"]["scores"]) == {"test"}


def test_target_regimes_add_translated_or_in_language_training_data(world):
    _, raw, _ = world
    for regime, expected in (("translate_train", ("mnli_translated", "qa")), ("in_language", ("panx", "qd"))):
        r = copy.deepcopy(raw)
        r["target"]["regime"] = regime
        params = config.from_dict(r)
        target = "xnli" if regime == "translate_train" else "panx"
        splits = plan.target_train_splits(params, target)
        assert splits[0][1] == "en" and expected in splits
    r = copy.deepcopy(raw)
    r["target"]["regime"] = "in_language"
    with pytest.raises(config.ConfigError, match="xnli has no in-language training data"):
        plan.target_train_splits(config.from_dict(r), "xnli")


def test_in_language_training_skips_languages_without_a_train_split():
    """UD-POS th, tl, yo (and XTREME-R's test-only additions) have no gold training data: under
    in_language they are evaluated zero-shot instead of failing the stage on a missing split."""
    raw = yaml.safe_load(open("configs/paper.yaml"))
    raw["target"]["regime"] = "in_language"
    langs = {lang for _, lang in plan.target_train_splits(config.from_dict(raw), "udpos")}
    assert {"en", "kk", "de"} <= langs  # Kazakh has a (small) train split
    assert not langs & {"th", "tl", "yo"}


def test_retrieval_scores_each_setting(world):
    params, _, out = world
    m = io.read_json(str(out / "retrieval" / "metrics.json"))
    for s in params.intermediate.settings:
        assert set(m[s]["tatoeba"]) == {"qa", "qb", "qc", "qd"}
        assert 0 <= m[s]["bucc2018"]["qa"]["f1"] <= 100


def test_analysis_table_significance_and_figures(world):
    params, _, out = world
    res = analysis.run(params, str(out / "phase3"), str(out / "retrieval"), str(out / "analysis"))
    sig = res["significance"]
    assert len(sig) == 2 * 4 and sig.p_holm.ge(sig.p_value).all()
    assert set(sig[sig.setting == "mnli"].set_index("task").overlap.items()) >= {("xnli", "continued-training"), ("panx", "transfer")}
    assert (out / "analysis" / "gain_heatmap.png").stat().st_size > 5000
    m = json.loads((out / "analysis" / "metrics.json").read_text())
    assert m["comparisons"] == 8
    assert m["significant_gains"] == int((sig.significant & (sig.gain > 0)).sum())
    assert m["significant_losses"] == int((sig.significant & (sig.gain < 0)).sum())
    results_md = (out / "analysis" / "results.md").read_text()
    assert "(c)" in results_md  # mnli -> xnli is flagged as continued training
    table = (out / "analysis" / "zero_shot.md").read_text().splitlines()
    assert table[0].startswith("| task | en | qa") and len(table) == 2 + 4 + 2  # 4 targets + bucc2018 + tatoeba
    assert "(" in table[2]  # chance level beside each score


def test_stale_features_are_refused(world, tmp_path):
    params, _, out = world
    import shutil

    shutil.copytree(out / "phase1" / "tokenizer", tmp_path / "tokenizer")
    tok = json.loads((tmp_path / "tokenizer" / "tokenizer.json").read_text())
    tok["model"]["vocab"][5][1] += 0.5  # a different tokenizer
    (tmp_path / "tokenizer" / "tokenizer.json").write_text(json.dumps(tok))

    with pytest.raises(features.StaleFeaturesError, match="rebuild"):
        features.load_features(params, str(out / "features"), str(tmp_path / "tokenizer"), TASKS["xnli"], "test", "qa")


def test_languages_without_a_dev_split_are_evaluated_on_test_only():
    params = config.load("configs/paper.yaml")
    need = set(plan.needed_splits(params))
    assert {("udpos", "dev", "de"), ("udpos", "test", "de"), ("udpos", "test", "th"), ("udpos", "test", "yo")} <= need
    assert not {("udpos", "dev", lang) for lang in ("kk", "th", "tl", "yo")} & need
    udpos = TASKS["udpos"]
    assert plan.eval_splits(udpos, "lt") == ["test"] and plan.eval_splits(udpos, "en") == ["dev", "test"]
    assert plan.eval_splits(TASKS["xquad"], "de") == ["test"]  # one Hub split serves both


def test_seed_subsets_at_or_below_chance_counts_subsets_whose_mean_fails():
    import pandas as pd

    # qa always clears chance; qb fails with seed 0 alone and with the pair (0, 2), never with all three
    per_seed = [(60, 40, 30), (62, 35, 40), (61, 45, 35)]
    rows = [("none", "xnli", seed, "test", lang, score) for seed, (en, qa, qb) in enumerate(per_seed) for lang, score in (("en", en), ("qa", qa), ("qb", qb))]
    rows.append(("mnli", "xnli", 0, "test", "qb", 0.0))  # another setting: ignored
    scores = pd.DataFrame(rows, columns=["setting", "task", "seed", "split", "lang", "score"])
    chance = pd.DataFrame([("xnli", lang, 33.6) for lang in ("en", "qa", "qb")], columns=["task", "lang", "chance"])
    assert analysis.seed_subsets_at_or_below_chance(scores, chance, "none", 1) == (1, 3)
    assert analysis.seed_subsets_at_or_below_chance(scores, chance, "none", 2) == (1, 3)
    assert analysis.seed_subsets_at_or_below_chance(scores, chance, "none", 3) == (0, 1)
    # English at chance is not a zero-shot failure; a score exactly at chance is one
    en_low = scores.assign(score=[0.0 if lang == "en" else s for lang, s in zip(scores.lang, scores.score)])
    assert analysis.seed_subsets_at_or_below_chance(en_low, chance, "none", 3) == (0, 1)
    at = scores.assign(score=[33.6 if (lang, seed) == ("qa", 1) else s for lang, seed, s in zip(scores.lang, scores.seed, scores.score)])
    assert analysis.seed_subsets_at_or_below_chance(at, chance, "none", 1) == (2, 3)
    with pytest.raises(ValueError, match="every"):
        analysis.seed_subsets_at_or_below_chance(scores[~((scores.seed == 2) & (scores.lang == "qa"))], chance, "none", 1)


def test_above_chance_by_seed_counts_seeds_per_zero_shot_cell():
    import pandas as pd

    rows = [("none", "xnli", seed, "test", lang, score) for seed, (en, qa, qb) in enumerate([(60, 40, 30), (62, 35, 36), (61, 45, 31)]) for lang, score in (("en", en), ("qa", qa), ("qb", qb))]
    rows.append(("mnli", "xnli", 0, "test", "qa", 10.0))  # another setting: ignored
    scores = pd.DataFrame(rows, columns=["setting", "task", "seed", "split", "lang", "score"])
    chance = pd.DataFrame([("xnli", lang, 33.6) for lang in ("en", "qa", "qb")], columns=["task", "lang", "chance"])
    t = analysis.above_chance_by_seed(scores, chance, "none").set_index("lang")
    assert list(t.index) == ["qa", "qb"]  # English is not zero-shot
    assert t.loc["qa", "seeds"] == 3 and t.loc["qa", "min"] == 35 and t.loc["qa", "above"] == 1.0
    assert t.loc["qb", "above"] == pytest.approx(1 / 3) and t.loc["qb", "mean"] == pytest.approx(97 / 3)


# ---- DVC: every param a stage reads is declared in its dvc.yaml `params` --------------------


class ParamReads:
    """Records the dotted params paths read while active (``params.target.lr`` -> ``target`` and
    ``target.lr``) by patching ``__getattribute__`` of xstilts.config's dataclasses. Only objects
    of the params tree count: a copy made inside a stage (``dataclasses.replace``) reads every field
    of its original, and an object built from scratch holds values that were read already."""

    def __init__(self, monkeypatch, *trees):
        import dataclasses

        self.paths, self.reads, self.active = {}, set(), False

        def walk(obj, path):
            if dataclasses.is_dataclass(obj):
                self.paths[id(obj)] = path
                for f in dataclasses.fields(obj):
                    walk(getattr(obj, f.name), f"{path}.{f.name}".lstrip("."))
            elif isinstance(obj, dict):
                for k, v in obj.items():
                    walk(v, f"{path}.{k}")

        for tree in trees:
            walk(tree, "")
        self.keep = trees  # the recorded ids stay valid while the trees live
        from xstilts import config as cfg

        for cls in {v for v in vars(cfg).values() if isinstance(v, type) and dataclasses.is_dataclass(v)}:
            monkeypatch.setattr(cls, "__getattribute__", self._getter({f.name for f in dataclasses.fields(cls)}))
        # the resolved config saved with every output reads every key: not a dependency
        original = pipeline._stage_header

        def header(*a, **k):
            self.active, was = False, self.active
            try:
                original(*a, **k)
            finally:
                self.active = was

        monkeypatch.setattr(pipeline, "_stage_header", header)

    def _getter(self, fields):
        def get(obj, name):
            if name in fields and self.active:
                base = self.paths.get(id(obj))
                if base is not None:
                    self.reads.add(f"{base}.{name}".lstrip("."))
            return object.__getattribute__(obj, name)

        return get

    def run(self, fn, *args) -> set[str]:
        """Run ``fn``, recording the params it reads and (``self.files``) every source file
        whose code it runs: a Python function call is traced wherever it happens."""
        import sys

        self.active, self.reads, self.files = True, set(), set()

        def trace(frame, event, arg):
            self.files.add(frame.f_code.co_filename)  # 'call' only: returning None skips line events

        sys.settrace(trace)
        try:
            fn(*args)
        finally:
            sys.settrace(None)
            self.active = False
        return self.reads


def undeclared_outputs(stage: dict, folder, subst: dict) -> list[str]:
    """Files written under ``folder`` (the run's ``-p out_dir``) that none of the stage's outs,
    metrics or plots covers, as dvc.yaml paths."""
    import re

    stage = stage.get("do", stage)

    def sub(text: str) -> str:
        for k, v in subst.items():
            text = text.replace("${" + k + "}", v)
        return text

    out_dir = sub(re.search(r"-p out_dir (\S+)", stage["cmd"]).group(1))
    declared = [sub(next(iter(o)) if isinstance(o, dict) else o) for kind in ("outs", "metrics", "plots") for o in stage.get(kind, [])]
    files = [f"{out_dir}/{f.relative_to(folder).as_posix()}" for f in folder.rglob("*") if f.is_file()]
    assert files, f"{folder}: nothing written"
    return sorted(f for f in files if not any(f == d or f.startswith(d + "/") for d in declared))


def _covered(path: str, declared: list[str]) -> bool:
    # reading target.groups covers a stage that declares target.groups.<its group> and vice versa
    return any(path == d or path.startswith(d + ".") or d.startswith(path + ".") for d in declared)


def test_stages_declare_every_param_they_read(world, tmp_path, monkeypatch):
    """dvc.yaml's `params` of the benchmark (Hub manifest), phase-1, features, phase-2, phase-3,
    retrieval and analysis stages cover every key
    their stage function reads, on the plain and the multi-task + MLM + translated paths: a key
    read but not declared leaves a stale output when it changes."""
    import dataclasses

    params, _, out = world
    # phase 3 in-process, so that the reads of its runs are seen
    params = dataclasses.replace(params, engine=dataclasses.replace(params.engine, parallel_runs=1))
    with open("dvc.yaml") as f:
        stages = yaml.safe_load(f)["stages"]

    def declared(stage, **subst):
        keys = stages[stage].get("do", stages[stage])["params"]
        for k, v in subst.items():
            keys = [p.replace("${" + k + "}", v) for p in keys]
        return keys

    hand = {name: f"{params.data.root}/{name}" for name in ("ccgbank", "corpus")}  # the benchmark stage checks them
    hub = dataclasses.replace(params, data=dataclasses.replace(params.data, source="hub", local_dirs=hand))
    rec = ParamReads(monkeypatch, params, hub)
    p1, feats = str(out / "phase1"), str(out / "features")
    runs = [
        ("benchmark", declared("benchmark"), pipeline.build_benchmark, hub, str(tmp_path / "hub_manifest")),
        ("phase1", declared("phase1"), pipeline.run_phase1, params, str(tmp_path / "p1")),
        ("features", declared("features"), pipeline.build_features, params, p1, str(tmp_path / "features")),
        ("retrieval", declared("retrieval"), pipeline.run_retrieval, params, list(params.intermediate.settings), str(out / "phase2"), p1, str(tmp_path / "retrieval")),
        ("analysis", declared("analysis"), analysis.run, params, str(out / "phase3"), str(out / "retrieval"), str(tmp_path / "analysis")),
    ]
    for s in ("mnli", "multi_mlm_mt"):
        runs += [
            ("phase2", declared("phase2", key=s), pipeline.run_phase2, params, s, p1, feats, str(tmp_path / "p2" / s)),
            ("phase3", declared("phase3", **{"item.setting": s, "item.group": "all"}), pipeline.run_phase3_group, params, s, "all", str(out / "phase2" / s), p1, feats, str(tmp_path / "p3" / s)),
        ]
    (tmp_path / "phase3").symlink_to(out / "phase3")  # verify reads <results>/{analysis,phase3}
    from xstilts import report, verify

    runs += [
        ("verify", declared("verify"), verify.run, str(tmp_path), str(tmp_path / "verify"), params),
        ("report", declared("report"), lambda *a: report.run(*a, pdf=False), str(tmp_path / "analysis"), str(tmp_path / "verify"), str(tmp_path / "paper"), params),
    ]
    missing, code = {}, {}
    for stage, keys, fn, *args in runs:
        reads = rec.run(fn, *args)
        assert reads, f"{stage}: no reads recorded"
        missing.setdefault(stage, set()).update(p for p in reads if not _covered(p, keys))
        code.setdefault(stage, set()).update(rec.files)
    missing = {k: sorted(v) for k, v in missing.items() if v}
    assert not missing, f"params read by a stage but not in its dvc.yaml params: {missing}"
    # every file a stage writes into its out_dir is a declared out: an undeclared one is missing
    # from a `dvc pull` and changes the hash of any stage that depends on the whole folder
    written = [("phase1", tmp_path / "p1", {}), ("features", tmp_path / "features", {}), ("retrieval", tmp_path / "retrieval", {}),
               ("analysis", tmp_path / "analysis", {}), ("verify", tmp_path / "verify", {})]
    for s in ("mnli", "multi_mlm_mt"):
        written += [("phase2", tmp_path / "p2" / s, {"key": s}), ("phase3", tmp_path / "p3" / s, {"item.setting": s, "item.group": "all"})]
    undeclared = {str(folder): files for stage, folder, subst in written if (files := undeclared_outputs(stages[stage], folder, subst))}
    assert not undeclared, f"files a stage writes but dvc.yaml does not declare: {undeclared}"
    # the same runs give the code each stage executes: dvc.yaml must list it (file or folder)
    uncovered = {stage: sorted(stage_code(files, stage) - code_deps(stages, stage)) for stage, files in code.items() if stage not in CODE_DEPS_ELSEWHERE}
    uncovered = {k: v for k, v in uncovered.items() if v}
    assert not uncovered, f"xstilts code a stage runs but not in its dvc.yaml deps: {uncovered}"
    # the feature-cache key hashes every module that shaped the cached features
    shaping = stage_code(code["features"], "features", with_notebook=False)  # the walkthrough shapes no feature
    assert shaping <= features.feature_code_files(), sorted(shaping - features.feature_code_files())
    walkthrough = {f for f in code_deps(stages, "features") if f.startswith("xstilts/explore/")}
    assert code_deps(stages, "features") - walkthrough == features.feature_code_files()  # dvc.yaml and the key agree


# config.py only parses params.yaml: the values a stage reads are DVC params (the test above).
# model_bounds.py only refuses params the pretrained model cannot hold (part of config's checks).
# explore/__init__.py only moves a lab kernel to the repository root.
NOT_CODE_DEPS = {"xstilts/config.py", "xstilts/model_bounds.py", "xstilts/explore/__init__.py"}
CODE_DEPS_ELSEWHERE: set[str] = set()


def stage_code(files: set[str], stage: str, with_notebook: bool = True) -> set[str]:
    """The xstilts source files among ``files`` (absolute paths of executed code), repo-relative,
    plus the modules the stage's notebook imports."""
    import ast
    from pathlib import Path

    import xstilts

    pkg = Path(xstilts.__file__).parent
    rel = {str(Path(f).relative_to(pkg.parent)) for f in files if Path(f).is_relative_to(pkg)}
    with open("dvc.yaml") as f:
        spec = yaml.safe_load(f)["stages"][stage]
    if not with_notebook:
        return rel - NOT_CODE_DEPS
    notebook = next(d for d in spec.get("do", spec)["deps"] if d.startswith("notebooks/"))
    # the notebook's code as Python (IPython magics such as %matplotlib become calls)
    import jupytext
    from IPython.core.inputtransformer2 import TransformerManager

    cells = [c.source for c in jupytext.read(notebook).cells if c.cell_type == "code"]
    source = "\n".join(TransformerManager().transform_cell(c) for c in cells)

    def module_file(dotted: str) -> Path | None:
        base = pkg.parent / dotted.replace(".", "/")
        return next((f for f in (base.with_suffix(".py"), base / "__init__.py") if f.exists()), None)

    # the xstilts modules the notebook imports itself (a module's own imports are not followed:
    # `pipeline` imports nearly everything, and the stage run above traced what it executes)
    seen = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "xstilts":
            names = [f"{node.module}.{a.name}" for a in node.names]
            names = [n for n in names if module_file(n) is not None] or [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names if a.name.split(".")[0] == "xstilts"]
        else:
            continue
        seen |= {f for f in map(module_file, names) if f is not None}
    rel |= {str(f.relative_to(pkg.parent)) for f in seen if f.name != "__init__.py" or f.parent != pkg}
    return rel - NOT_CODE_DEPS


def code_deps(stages: dict, stage: str) -> set[str]:
    """Every xstilts file that the stage's dvc.yaml deps cover (a folder covers its files)."""
    from pathlib import Path

    out = set()
    for dep in stages[stage].get("do", stages[stage])["deps"]:
        path = Path(dep)
        if dep.startswith("xstilts"):
            out |= {str(p) for p in path.rglob("*.py")} if path.is_dir() else {dep}
    return out
