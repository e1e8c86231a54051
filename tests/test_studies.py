"""Follow-up studies (xstilts/studies, configs/studies): presets, validation, queue commands, and each
study's analysis on synthetic per-example predictions with a planted effect (found) and without
(not found). The slow test runs a real tiny study through `dvc queue start -j 2`."""

from __future__ import annotations

import copy
import json
import time
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from tests.conftest import BIN, ROOT, run
from xstilts import config
from xstilts.studies import STUDIES, common

PRESETS = sorted(p.stem.split("_")[0] for p in (ROOT / "configs" / "studies").glob("*.yaml"))


@pytest.fixture(autouse=True)
def _at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def embedded_raw() -> dict:
    return yaml.safe_load((ROOT / "params.yaml").read_text())


def paper_raw() -> dict:
    return yaml.safe_load((ROOT / "configs" / "paper.yaml").read_text())


# ---- presets and validation ------------------------------------------------------------


def test_five_presets_one_per_study():
    assert PRESETS == ["rq1", "rq2", "rq3", "rq4", "rq5"]
    assert {common.load_preset(p).study for p in PRESETS} == set(STUDIES)


@pytest.mark.parametrize("name", PRESETS)
@pytest.mark.parametrize("base", ["embedded", "paper"])
def test_presets_validate_on_both_profiles(name, base):
    preset = common.load_preset(name)
    raw = embedded_raw() if base == "embedded" else paper_raw()
    arms = common.validate(preset, raw)
    assert arms and all(isinstance(p, config.Params) for p in arms.values())
    if base == "paper":  # the one switch: real XLM-R from the Hub
        assert all(p.model.source == "hub" and p.model.name_or_path.startswith("xlm-roberta") for p in arms.values())


def test_size_studies_differ_only_in_the_model_between_sizes():
    preset = common.load_preset("rq4")
    arms = common.validate(preset, embedded_raw())
    small, large = config.to_dict(arms["small"]), config.to_dict(arms["large"])
    diff = {k for k in small if small[k] != large[k]}
    assert diff == {"model", "retrieval"}
    assert arms["small"].model.hidden_size < arms["large"].model.hidden_size


def _preset(tmp_path, body: dict) -> str:
    path = tmp_path / "rqx_test.yaml"
    path.write_text(yaml.safe_dump(body))
    return str(path)


def test_unknown_study_names_known_ones():
    with pytest.raises(config.ConfigError, match=r"unknown study 'rq9'.*rq1"):
        common.load_preset("rq9")


@pytest.mark.parametrize("override, message", [
    ({"model.hidden_sizee": 64}, r"arm 'a': model.hidden_sizee: unknown key"),
    ({"target.seeds": "zero"}, r"arm 'a': target.seeds: expected a list"),
    ({"model.num_layers": 2.5}, r"arm 'a': model.num_layers: expected int"),
    ({"intermediate.settings": {"none": [], "x": ["mnlii"]}}, r"unknown intermediate task 'mnlii'"),
    ({"model.hidden_size.deep": 1}, r"model.hidden_size is a int, not a mapping"),
])
def test_bad_override_is_named_before_anything_runs(tmp_path, override, message):
    path = _preset(tmp_path, {"study": "rq4_size_gain", "embedded": {"arms": {"a": override}}})
    with pytest.raises(config.ConfigError, match=message):
        common.queue_commands(common.load_preset(path), embedded_raw())


@pytest.mark.parametrize("arm", ["../x", "Big", "a-b", "x y"])
def test_an_arm_name_follows_the_one_rule_for_names_that_become_paths(tmp_path, arm):
    path = _preset(tmp_path, {"study": "rq4_size_gain", "embedded": {"arms": {arm: {}}}})
    with pytest.raises(config.ConfigError) as err:
        common.load_preset(path)
    assert str(err.value).startswith(f"{path}: embedded.arms.{arm}: {arm!r} is not a safe name") and config.SAFE_NAME_RULE in str(err.value)


def test_a_study_file_name_that_cannot_name_an_experiment_is_refused(tmp_path):
    path = tmp_path / "My Study.yaml"
    path.write_text(yaml.safe_dump({"study": "rq4_size_gain", "embedded": {"arms": {"a": {}}}}))
    with pytest.raises(config.ConfigError, match=r"study name .*'My Study' is not a safe name"):
        common.load_preset(str(path))


def test_bad_analysis_option_is_named(tmp_path):
    path = _preset(tmp_path, {"study": "rq4_size_gain", "analysis": {"sizes": ["small", "large"], "intermediates": ["squadd"]},
                              "embedded": {"arms": {"small": {}, "large": {}}}})
    with pytest.raises(config.ConfigError, match=r"analysis: arm small: setting 'squadd'"):
        common.validate(common.load_preset(path), embedded_raw())


def test_cli_plan_and_error_exit_code(tmp_path, capsys):
    from xstilts import cli

    assert cli.main(["study", "plan", "rq4", "-j", "2"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 3 and "-n rq4-small" in out[0] and "-n rq4-large" in out[1] and out[2].endswith("queue start -j 2")
    path = _preset(tmp_path, {"study": "rq4_size_gain", "embedded": {"arms": {"a": {"model.hidden_sizee": 1}}}})
    assert cli.main(["study", "plan", path]) == 2
    assert "model.hidden_sizee" in capsys.readouterr().err


# ---- queue commands -----------------------------------------------------------------------


def test_set_args_replace_mappings_add_new_keys_set_the_rest():
    base = {"a": {"settings": {"none": [], "mnli": ["mnli"]}, "n": 1, "name": "x"}}
    args = common.set_args(base, {"a.settings": {"none": [], "qa": ["squad_v2"]}, "a.n": 2, "a.new": 0.001, "a.name": "two words", "a.flag": True})
    assert args == ["-S", "~a.settings", "-S", "+a.settings={none:[],qa:[squad_v2]}", "-S", "a.n=2", "-S", "+a.new=0.001",
                    "-S", "a.name='two words'", "-S", "+a.flag=true"]


def test_queue_commands_one_per_arm_up_to_the_analysis_stage():
    preset = common.load_preset("rq5")
    cmds = common.queue_commands(preset, embedded_raw(), dvc="dvc")
    assert [c[c.index("-n") + 1] for c in cmds] == [f"rq5-{a}" for a in preset.arms("embedded")]
    for c in cmds:
        assert c[:4] == ["dvc", "exp", "run", "--queue"] and c[-1] == "analysis"
    tt = next(c for c in cmds if "rq5-small_tt" in c)
    # target.regime is in params.yaml (dvc.yaml declares it): set, not appended with "+"
    assert "target.regime=translate_train" in tt and "model.hidden_size=48" in tt


def test_hydra_overrides_reproduce_the_validated_params(tmp_path):
    """Applying the -S arguments with DVC's own override code gives exactly the merged params."""
    from dvc.utils.hydra import apply_overrides

    preset = common.load_preset("rq1")
    raw = embedded_raw()
    path = tmp_path / "params.yaml"
    path.write_text((ROOT / "params.yaml").read_text())
    args = common.set_args(raw, common.arm_overrides(preset, "embedded", "main"))
    apply_overrides(str(path), [args[i + 1] for i in range(0, len(args), 2)])
    assert yaml.safe_load(path.read_text()) == common.arm_params(preset, raw, "main")[0]


# ---- analyses on synthetic predictions ------------------------------------------------------

N = 300  # test examples per language


def write_arm(root: Path, name: str, raw: dict, prob, seeds=(0, 1), seed: int = 0) -> None:
    """A collected arm: params.yaml and phase3/<setting>/<group>/<target>/ with per-seed metrics and
    per-example predictions; example i of (target, lang) is correct with probability
    prob(arm, setting, target, lang) (independent draws per system and seed)."""
    raw = copy.deepcopy(raw)
    raw["target"]["seeds"] = list(seeds)
    params = config.from_dict(raw)
    d = root / name
    d.mkdir(parents=True)
    (d / "params.yaml").write_text(yaml.safe_dump(raw))
    rng = np.random.default_rng([zlib.crc32(name.encode()), seed])  # stable across processes (str hash is salted)
    for setting in params.intermediate.settings:
        for group, targets in params.target.groups.items():
            for target in targets:
                out = d / "phase3" / setting / group / target
                n_cls = 2 if target in ("xcopa", "pawsx") else 3
                gold = np.arange(N) % n_cls
                metrics = {"setting": setting, "target": target, "seeds": {}}
                for s in seeds:
                    scores = {}
                    for lang in params.data.languages:
                        correct = rng.random(N) < prob(name, setting, target, lang)
                        pred = np.where(correct, gold, (gold + 1) % n_cls)
                        p = out / f"seed{s}" / "predictions" / f"test.{lang}.jsonl"
                        p.parent.mkdir(parents=True, exist_ok=True)
                        p.write_text("".join(json.dumps({"id": f"{lang}-{i}", "prediction": int(a), "gold": int(b)}) + "\n" for i, (a, b) in enumerate(zip(pred, gold))))
                        scores[lang] = {"accuracy": 100.0 * correct.mean()}
                    metrics["seeds"][str(s)] = {"scores": {"test": scores}}
                (out / "metrics.json").write_text(json.dumps(metrics))


def arms_for(tmp_path, name: str, prob, overrides: dict | None = None, seeds=(0, 1)) -> tuple[dict, dict]:
    preset = common.load_preset(name)
    base = embedded_raw()
    for arm in preset.arms("embedded"):
        raw, _ = common.arm_params(preset, base, arm)
        for k, v in (overrides or {}).items():
            common.set_dotted(raw, k, v)
        write_arm(tmp_path / "arms", arm, raw, prob, seeds=seeds)
    options = {**preset.options("embedded"), "n_boot": 500}
    return common.load_arms(str(tmp_path / "arms"), preset.arms("embedded")), options


def _figures(out: Path, name: str) -> None:
    for ext in ("png", "pdf"):
        assert (out / f"{name}.{ext}").stat().st_size > 3000
    assert (out / "results.md").read_text().startswith("# ")


CLS = {"target.tasks": ["xnli", "xcopa", "pawsx"], "target.groups": {"cls": ["xnli", "xcopa", "pawsx"]}, "target.per_task": {}}


@pytest.mark.parametrize("planted", [True, False])
def test_rq1_slope_in_k(tmp_path, planted):
    preset = common.load_preset("rq1")
    ks = common.arm_params(preset, embedded_raw(), "main")[1].intermediate.settings

    def prob(arm, setting, target, lang):
        k = len(ks[setting])
        return 0.55 + (0.04 * np.log2(k) if planted and k else 0.0)

    arms, opts = arms_for(tmp_path, "rq1", prob)
    res = STUDIES["rq1_num_tasks"].analyse(arms, opts, str(tmp_path / "out"))
    slope = res["tests"][res["tests"].family == "slope"]
    if planted:
        assert (slope.significant).all() and slope.estimate.between(2.0, 6.0).all()
        assert (res["tests"][res["tests"].test.str.contains("mean single")].significant).all()
    else:
        assert not res["tests"].significant.any()
    assert set(res["scores"].columns) >= {"accuracy", "macro_f1", "k"}
    _figures(tmp_path / "out", "rq1_num_tasks")


@pytest.mark.parametrize("planted", [True, False])
def test_rq2_low_resource_spread(tmp_path, planted):
    spread = {("xnli", "qc"): -0.02, ("xnli", "qd"): -0.25, ("xcopa", "qc"): 0.0, ("xcopa", "qd"): -0.3, ("pawsx", "qc"): -0.05, ("pawsx", "qd"): -0.2}

    def prob(arm, setting, target, lang):
        if lang in ("qc", "qd"):
            return 0.7 + (spread[(target, lang)] if (planted and setting == "squad_ml") else -0.12 + 0.02 * (lang == "qc"))
        return 0.8

    arms, opts = arms_for(tmp_path, "rq2", prob, overrides=CLS, seeds=(0, 1, 2))
    opts["targets"] = ["xnli", "xcopa", "pawsx"]
    res = STUDIES["rq2_multilingual"].analyse(arms, opts, str(tmp_path / "out"))
    p = res["primary"].p_value.iloc[0]
    assert (p < 0.05) if planted else (p > 0.05)
    assert len(res["cells"]) == 18 and set(res["cells"].lang) == {"qc", "qd"}
    _figures(tmp_path / "out", "rq2_multilingual")


@pytest.mark.parametrize("planted", [True, False])
def test_rq3_nli_vs_qa(tmp_path, planted):
    def prob(arm, setting, target, lang):
        bonus = {"nli": 0.12 if planted else 0.05, "qa": 0.05, "nli_qa": 0.05}.get(setting, 0.0)
        return 0.55 + (bonus if target == "xcopa" else 0.0)

    arms, opts = arms_for(tmp_path, "rq3", prob, overrides=CLS)
    opts["targets"] = ["xnli", "xcopa", "pawsx"]
    res = STUDIES["rq3_nli_vs_qa"].analyse(arms, opts, str(tmp_path / "out"))
    d = res["diffs"].set_index("target")
    assert not d.loc["xnli", "confirmatory"]  # MNLI is XNLI's own training data
    assert d.loc["xcopa", "significant"] == planted
    assert not d.loc["pawsx", "significant"]
    _figures(tmp_path / "out", "rq3_nli_vs_qa")


@pytest.mark.parametrize("planted", [True, False])
def test_rq4_gain_shrinks_with_size(tmp_path, planted):
    def prob(arm, setting, target, lang):
        gain = 0.0 if setting == "none" else (0.12 if arm == "small" else (0.0 if planted else 0.12))
        return (0.55 if arm == "small" else 0.65) + gain

    arms, opts = arms_for(tmp_path, "rq4", prob, seeds=(0, 1, 2))
    opts["sesoi"] = 5.0  # N = 300 x 4 languages resolves about +-3 points: equivalence needs a wider margin than 0.5
    res = STUDIES["rq4_size_gain"].analyse(arms, opts, str(tmp_path / "out"))
    t = res["table"]
    assert (t.significant == planted).all()
    if planted:
        assert (t.did < -5).all() and t.gain_vanished.all()
    else:
        assert not t.gain_vanished.any() and t.did.abs().max() < 5
    assert t.p_seeds.notna().all()  # three seeds per cell: the seed-level DiD is reported too
    _figures(tmp_path / "out", "rq4_size_gain")


@pytest.mark.parametrize("planted", [True, False])
def test_rq5_gap_shrinks_with_size(tmp_path, planted):
    def prob(arm, setting, target, lang):
        size, regime = arm.split("_")
        if regime == "zs":
            return 0.5 + (0.05 if setting == "squad_v2" else 0.0)
        return 0.5 + (0.2 if size == "small" or not planted else 0.07)

    arms, opts = arms_for(tmp_path, "rq5", prob, overrides={"target.per_task": {}})
    opts["targets"] = ["xnli"]  # the fake predictions are single labels; PAN-X (in-language) is tagging
    res = STUDIES["rq5_size_gap"].analyse(arms, opts, str(tmp_path / "out"))
    t = res["table"]
    assert set(zip(t.target, t.regime)) == {("xnli", "translate_train")}  # panx (in-language) is tagging: not faked here
    assert (t.significant == planted).all()
    _figures(tmp_path / "out", "rq5_size_gap")


def test_contrast_needs_zero_sum_weights_and_equal_examples():
    a = [np.ones((5, 2))]
    with pytest.raises(ValueError, match="sum to zero"):
        common.contrast([a, a], [1, 1], ["qa"])
    with pytest.raises(ValueError, match="different numbers"):
        common.contrast([a, [np.ones((4, 2))]], [1, -1], ["qa"])


def test_macro_f1():
    rows = [{"gold": g, "prediction": p} for g, p in [(0, 0), (0, 1), (1, 1), (1, 1)]]
    assert common.macro_f1(rows) == pytest.approx(100 * (2 / 3 + 4 / 5) / 2)


# ---- a real tiny study through the DVC experiment queue ----------------------------------------

@pytest.mark.slow
def test_tiny_study_through_the_dvc_queue_two_workers(tmp_path):
    """Two arms (two model sizes) of RQ4 run in parallel as queued DVC experiments; the collector
    reads both arms' per-example predictions from the DVC cache and writes the study report."""
    from tests.cluster.tiny import make_tiny_study_repo

    repo = make_tiny_study_repo(tmp_path / "repo")
    start = time.perf_counter()
    res = run([str(BIN / "python"), "-m", "xstilts.cli", "study", "run", "rq4", "-j", "2"], repo, timeout=900)
    seconds = time.perf_counter() - start
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-4000:]
    print(f"tiny rq4 study (2 arms, 2 workers): {seconds:.0f} s\n{res.stdout[-1500:]}")
    out = repo / "outputs" / "studies" / "rq4"
    for arm, hidden in (("small", 32), ("large", 48)):
        params = config.load(str(out / "arms" / arm / "params.yaml"))
        assert params.model.hidden_size == hidden
        assert list((out / "arms" / arm / "phase3" / "squad_v2" / "cls" / "xnli" / "seed0" / "predictions").glob("test.qc.jsonl"))
    table = pd.read_csv(out / "rq4_did.csv")
    assert len(table) == 1 and table.p_value.between(0, 1).all()
    for f in ("rq4_size_gain.png", "rq4_size_gain.pdf", "results.md"):
        assert (out / f).stat().st_size > 500
    status = run([str(BIN / "dvc"), "queue", "status"], repo).stdout
    assert status.count("Success") >= 2, status
    assert not (repo / "outputs" / "phase1").exists()  # the workspace itself is untouched


def test_contrast_false_positive_rate_under_the_null():
    """DiD of four independent systems with equal accuracy: about alpha of the bootstrap tests reject."""
    rng = np.random.default_rng(7)
    langs, n, reps = ["qa", "qb", "qc"], 150, 300
    rejections = 0
    for r in range(reps):
        systems = [[np.stack([(rng.random(n) < p).astype(float), np.ones(n)], axis=1) for p in (0.5, 0.6, 0.7)] for _ in range(4)]
        rejections += common.contrast(systems, [1, -1, -1, 1], langs, n_boot=400, seed=r).p_value < 0.05
    assert 0.02 <= rejections / reps <= 0.09, rejections / reps


def test_analysis_stage_figure_with_a_single_setting(tmp_path):
    """Study arms may run only `none` (RQ5's translate-train / in-language arms): the per-language
    figure of the analysis stage must not divide by the number of settings minus one."""
    from xstilts import analysis

    df = pd.DataFrame([{"setting": "none", "task": "xnli", "seed": s, "split": "test", "lang": lang, "score": 50.0 + s} for s in (0, 1) for lang in ("en", "qa")])
    assert all(Path(p).stat().st_size > 1000 for p in analysis.per_language_plot(df, str(tmp_path)))
