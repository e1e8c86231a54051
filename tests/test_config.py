import copy
import re

import pytest
import yaml

from xstilts import config


@pytest.fixture(scope="module")
def raw():
    with open("params.yaml") as f:
        return yaml.safe_load(f)


def test_embedded_params_validate(raw):
    p = config.from_dict(raw)
    assert p.profile == "embedded" and "none" in p.intermediate.settings


def test_paper_profile_validates_without_running():
    p = config.load("configs/paper.yaml")
    assert p.model.name_or_path == "xlm-roberta-large" and p.retrieval.layer == 14
    english = [s for s, t in p.intermediate.settings.items() if len(t) == 1 and s not in p.intermediate.translated_settings]
    assert len(english) == 9  # the nine intermediate tasks
    assert p.target.per_task["xnli"].grad_accum == 8 and p.target.per_task["xquad"].grad_accum == 4


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda r: r["model"].update(hidden_sise=3), "model.hidden_sise: unknown key"),
        (lambda r: r.update(lerning_rate=1), "lerning_rate: unknown key"),
        (lambda r: r["intermediate"]["settings"].update(multi=["mnli", "mnlii"]), "intermediate.settings.multi[1]: unknown intermediate task 'mnlii'"),
        (lambda r: r["target"].update(tasks=["xnli", "bucc2018"]), "target.tasks[1]"),
        (lambda r: r["model"].update(num_layers="four"), "model.num_layers: expected int"),
        (lambda r: r["target"].update(seeds=0), "target.seeds: expected a list"),
        (lambda r: r["engine"].update(bf16="yes"), "engine.bf16: expected bool"),
        (lambda r: r["data"].update(languages=["en", "xx"]), "data.languages[1]: unknown language 'xx'"),
        (lambda r: r["analysis"].update(baseline="nothing"), "analysis.baseline"),
        (lambda r: r["intermediate"]["sampler"].update(kind="greedy"), "intermediate.sampler.kind"),
        (lambda r: r["retrieval"].update(layer=9), "retrieval.layer"),
    ],
)
def test_bad_params_name_the_key(raw, edit, message):
    bad = copy.deepcopy(raw)
    edit(bad)
    with pytest.raises(config.ConfigError) as err:
        config.from_dict(bad)
    assert message in str(err.value)


def test_ints_accepted_for_floats_but_not_bools_for_ints(raw):
    ok = copy.deepcopy(raw)
    ok["target"]["lr"] = 1
    assert config.from_dict(ok).target.lr == 1.0
    bad = copy.deepcopy(raw)
    bad["seed"] = True
    with pytest.raises(config.ConfigError, match="seed: expected int"):
        config.from_dict(bad)


def test_load_names_the_file(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("model: {hidden: 3}\n")
    with pytest.raises(config.ConfigError, match=str(path)):
        config.load(str(path))


def test_cli_validate(capsys, tmp_path):
    """The paper profile trains ccg and multi_mlm: validate fails (before any download) until
    CCGbank and the MLM corpus are supplied."""
    from xstilts import cli

    assert cli.main(["validate", "configs/paper.yaml"]) == 2
    err = capsys.readouterr().err
    assert "data.local_dirs.ccgbank" in err and "data.local_dirs.corpus" in err
    raw = yaml.safe_load(open("configs/paper.yaml"))
    for name in ("ccgbank", "corpus"):
        (tmp_path / name).mkdir()
    raw["data"]["local_dirs"] = {name: str(tmp_path / name) for name in ("ccgbank", "corpus")}
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(raw))
    assert cli.main(["validate", str(tmp_path / "p.yaml")]) == 0
    assert "profile paper" in capsys.readouterr().out


@pytest.mark.parametrize("key, value", [
    ("intermediate.optim.grad_accum", 0), ("intermediate.optim.batch_size", 0), ("intermediate.optim.lr", -1.0),
    ("intermediate.optim.warmup", 1.5), ("target.lr", 0.0), ("target.patience", -5), ("target.eval_subset", 0),
    ("target.eval_every", 0), ("phase1.batch_size", 0), ("engine.parallel_runs", 0), ("engine.num_threads", -1),
    ("model.dropout", 1.5), ("retrieval.k", 0), ("analysis.alpha", 1.0), ("intermediate.sampler.cap", 0),
    ("target.per_task.xnli.grad_accum", 0), ("target.per_task.udpos.batch_size", 0), ("target.per_task.panx.epochs", -1.0),
])
def test_out_of_range_params_name_key_and_value(raw, key, value):
    bad = copy.deepcopy(raw)
    *parents, leaf = key.split(".")
    node = bad
    for part in parents:
        node = node[part]
    node[leaf] = value
    with pytest.raises(config.ConfigError, match=rf"^{key}: {value!r} is out of range"):
        config.from_dict(bad)


def test_empty_seeds_and_a_target_missing_from_per_task_fail(raw):
    bad = copy.deepcopy(raw)
    bad["target"]["seeds"] = []
    with pytest.raises(config.ConfigError, match=r"^target.seeds: \[\]"):
        config.from_dict(bad)
    bad = copy.deepcopy(raw)
    del bad["target"]["per_task"]["udpos"]
    with pytest.raises(config.ConfigError, match="target.per_task: no entry for target 'udpos'"):
        config.from_dict(bad)


def test_target_groups_must_partition_tasks(raw):
    bad = copy.deepcopy(raw)
    bad["target"]["groups"] = {"a": ["xnli", "pawsx"]}
    with pytest.raises(config.ConfigError, match="target.groups: must list every task"):
        config.from_dict(bad)


@pytest.mark.parametrize("path", ["params.yaml", "configs/paper.yaml"])
def test_every_param_a_stage_declares_is_in_the_profile(path):
    """DVC refuses to run a stage whose declared param is missing from params.yaml (`make use-paper`
    copies configs/paper.yaml there), even when the code has a default for it."""
    with open("dvc.yaml") as f:
        stages = yaml.safe_load(f)["stages"]
    with open(path) as f:
        raw = yaml.safe_load(f)

    def present(key):
        node = raw
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                return False
            node = node[part]
        return True

    declared = {k.split(".${")[0] for s in stages.values() for k in s.get("do", s).get("params", []) if isinstance(k, str)}
    assert declared and not sorted(k for k in declared if not present(k))


def test_paper_profile_expands_to_one_dvc_stage_per_cell(tmp_path):
    """`make use-paper` is the one switch: the same dvc.yaml then has a phase-2 stage per
    intermediate task and a phase-3 stage per (setting, target group)."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    for name in ("dvc.yaml", "configs/paper.yaml"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(name, tmp_path / name)
    shutil.copy("configs/paper.yaml", tmp_path / "params.yaml")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    dvc = str(Path(sys.executable).parent / "dvc")
    subprocess.run([dvc, "init", "-q"], cwd=tmp_path, check=True)
    out = subprocess.run([dvc, "stage", "list", "--name-only"], cwd=tmp_path, capture_output=True, text=True, check=True).stdout.split()
    assert "phase2@anli_plus" in out and "phase2@multi" in out
    assert "phase3@hellaswag-tydiqa" in out and "phase3@none-xnli" in out
    assert "phase2@multi_mlm" in out and "phase3@mnli_translate_train-xnli" in out and "phase3@squad_v1_translate_train-squad_v1" in out
    # 14 settings (the baseline, nine tasks, multi, multi + MLM, two translate-train) x 6 groups:
    # XQuAD and MLQA share one (both fine-tune on SQuAD v1.1)
    assert "phase3@mnli-squad_v1" in out and sum(s.startswith("phase3@") for s in out) == 14 * 6


def test_paper_profile_fails_fast_offline(monkeypatch, tmp_path):
    """No network and no cache: phase 1 of the paper profile stops at once and says what to do."""
    import time

    from xstilts import hub, pipeline

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    params = config.load("configs/paper.yaml")
    start = time.perf_counter()
    with pytest.raises(hub.HubUnavailableError, match="What to do") as err:
        pipeline.run_phase1(params, str(tmp_path / "phase1"))
    assert time.perf_counter() - start < 10
    assert "xlm-roberta-large" in str(err.value) and "HF_HUB_OFFLINE=1" in str(err.value)


def _set(raw: dict, key: str, value) -> None:
    *parents, leaf = key.split(".")
    node = raw
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value


@pytest.mark.parametrize("key", sorted(config._RANGES))
def test_every_range_rejects_a_value_just_outside_it(raw, key):
    """Each row of the range table, at its lower (and upper) edge: the message names key and value."""
    low, high, inclusive = config._RANGES[key]
    typ = type(config._get(config.from_dict(raw), key))
    outside = [low - 1 if inclusive else low] + ([high + 1] if high is not None else [])
    for value in outside:
        value = typ(value)
        bad = copy.deepcopy(raw)
        _set(bad, key, value)
        if key == "model.num_layers":  # keep retrieval.layer valid, so the range check is the one that fires
            _set(bad, "retrieval.layer", 0)
        with pytest.raises(config.ConfigError, match=rf"^{re.escape(key)}: {re.escape(repr(value))} is out of range"):
            config.from_dict(bad)
