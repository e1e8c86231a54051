"""Issue 22: a catalogue of bad inputs over both profiles; each is refused naming its key and value,
all findings of a file come in one report, and each file is validated within two seconds."""

import copy
import subprocess
import sys
import time

import pytest
import yaml

from xstilts import config

PROFILES = {"embedded": "params.yaml", "paper": "configs/paper.yaml"}


def _base(profile):
    with open(PROFILES[profile]) as f:
        return yaml.safe_load(f)


def _set(raw, dotted, value):
    *parents, leaf = dotted.split(".")
    for p in parents:
        raw = raw.setdefault(p, {})
    raw[leaf] = value


def _rename_setting(raw, old, new):
    s = raw["intermediate"]["settings"]
    s[new] = s.pop(old)


def _rename_group(raw, new):
    g = raw["target"]["groups"]
    old = next(iter(g))
    g[new] = g.pop(old)


# (profile, edit, key named, value named)
CASES = [
    ("embedded", lambda r: _rename_setting(r, "mnli", "../../x"), "intermediate.settings.../../x", "'../../x'"),
    ("paper", lambda r: _rename_setting(r, "mnli", "../../x"), "intermediate.settings.../../x", "'../../x'"),
    ("embedded", lambda r: _rename_setting(r, "mnli", "a/b"), "intermediate.settings.a/b", "'a/b'"),
    ("paper", lambda r: _rename_setting(r, "qqp", "q q"), "intermediate.settings.q q", "'q q'"),
    ("embedded", lambda r: _rename_setting(r, "mnli", "x;rm"), "intermediate.settings.x;rm", "'x;rm'"),
    ("paper", lambda r: _rename_setting(r, "ccg", "$(id)"), "intermediate.settings.$(id)", "'$(id)'"),
    ("embedded", lambda r: _rename_setting(r, "mnli", "MNLI"), "intermediate.settings.MNLI", "'MNLI'"),
    ("embedded", lambda r: _rename_group(r, ".."), "target.groups...", "'..'"),
    ("paper", lambda r: _rename_group(r, "g/../h"), "target.groups.g/../h", "'g/../h'"),
    ("paper", lambda r: _rename_group(r, "-x"), "target.groups.-x", "'-x'"),
    ("embedded", lambda r: _set(r, "target.seeds", [0, 1, 0]), "target.seeds[2]", "0"),
    ("paper", lambda r: _set(r, "target.seeds", [3, 3]), "target.seeds[1]", "3"),
    ("embedded", lambda r: _set(r, "target.seeds", [-1]), "target.seeds[0]", "-1"),
    ("paper", lambda r: _set(r, "target.seeds", [0, -5]), "target.seeds[1]", "-5"),
    ("embedded", lambda r: _set(r, "data.languages", ["de", "de"]), "data.languages[1]", "'de'"),
    ("paper", lambda r: _set(r, "data.languages", ["fr", "sw", "fr"]), "data.languages[2]", "'fr'"),
    ("embedded", lambda r: _set(r, "target.tasks", r["target"]["tasks"] + r["target"]["tasks"][:1]), "target.tasks[", "repeated"),
    ("paper", lambda r: _set(r, "retrieval.tasks", ["bucc2018", "bucc2018"]), "retrieval.tasks[1]", "'bucc2018'"),
    ("paper", lambda r: _set(r, "intermediate.translated_languages", ["de", "de"]), "intermediate.translated_languages[1]", "'de'"),
    ("embedded", lambda r: _set(r, "intermediate.settings.mnli", ["mnli", "mnli"]), "intermediate.settings.mnli[1]", "'mnli'"),
    ("embedded", lambda r: _set(r, "intermediate.seed", -3), "intermediate.seed", "-3"),
    ("paper", lambda r: _set(r, "analysis.seed", -1), "analysis.seed", "-1"),
    ("embedded", lambda r: _set(r, "data.embedded.seed", -2), "data.embedded.seed", "-2"),
    ("paper", lambda r: _set(r, "model.name_or_path", " xlm-roberta-large"), "model.name_or_path", "' xlm-roberta-large'"),
    ("paper", lambda r: _set(r, "model.name_or_path", "xlm-roberta-large\t"), "model.name_or_path", "'xlm-roberta-large\\t'"),
    ("paper", lambda r: _set(r, "model.revision", "main "), "model.revision", "'main '"),
    ("embedded", lambda r: _set(r, "engine.num_threads", -1), "engine.num_threads", "-1"),
    ("paper", lambda r: _set(r, "engine.parallel_runs", 0), "engine.parallel_runs", "0"),
    ("embedded", lambda r: _set(r, "retrieval.layer", 99), "retrieval.layer", "99"),
    ("paper", lambda r: _set(r, "analysis.baseline", "nope"), "analysis.baseline", "'nope'"),
    ("embedded", lambda r: _set(r, "model.num_heads", 5), "model.hidden_size", "96"),
    ("paper", lambda r: _set(r, "engine.device", "tpu"), "engine.device", "'tpu'"),
    # what the pretrained model bounds (xstilts/model_bounds.py): XLM-R Large holds 512 tokens, 24 layers
    ("paper", lambda r: _set(r, "data.max_seq_length", 1024), "data.max_seq_length", "1024"),
    ("paper", lambda r: _set(r, "retrieval.max_length", 600), "retrieval.max_length", "600"),
    ("paper", lambda r: _set(r, "retrieval.layer", 25), "retrieval.layer", "25"),
    ("embedded", lambda r: _set(r, "phase1.max_length", 1000), "phase1.max_length", "1000"),
]


@pytest.mark.parametrize("profile,edit,key,value", CASES, ids=[f"{i}-{c[0]}-{c[2]}" for i, c in enumerate(CASES)])
def test_bad_input_is_refused_naming_key_and_value(tmp_path, profile, edit, key, value):
    raw = copy.deepcopy(_base(profile))
    edit(raw)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    t0 = time.perf_counter()
    with pytest.raises(config.ConfigError) as err:
        config.load(str(path))
    assert time.perf_counter() - t0 < 2.0
    lines = [m for m in err.value.errors if key in m and value in m]
    assert lines, (key, value, err.value.errors)
    assert all(m.startswith(f"{path}: ") for m in err.value.errors)


def test_catalogue_has_at_least_30_cases_over_both_profiles():
    assert len(CASES) >= 30 and {c[0] for c in CASES} == set(PROFILES)


def test_both_profiles_stay_valid():
    for path in PROFILES.values():
        config.load(path)


def test_validate_reports_every_error_at_once(tmp_path):
    raw = copy.deepcopy(_base("embedded"))
    _rename_setting(raw, "mnli", "../../x")
    _set(raw, "target.seeds", [1, 1])
    _set(raw, "engine.num_threads", -4)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    proc = subprocess.run([sys.executable, "-m", "xstilts.cli", "validate", str(path)], capture_output=True, text=True)
    assert proc.returncode == 2
    for needle in ("intermediate.settings.../../x", "target.seeds[1]: 1", "engine.num_threads: -4"):
        assert needle in proc.stderr, proc.stderr


def test_duplicate_yaml_keys_are_refused_with_their_lines(tmp_path):
    text = open("params.yaml").read() + "\nseed: 1\n"
    path = tmp_path / "dup.yaml"
    path.write_text(text)
    first = next(i for i, line in enumerate(text.splitlines(), 1) if line.startswith("seed:"))
    last = len(text.splitlines())
    with pytest.raises(config.ConfigError, match=rf"duplicate key 'seed' at line {last} \(first at line {first}\)"):
        config.load(str(path))
    nested = tmp_path / "nested.yaml"
    nested.write_text("engine:\n  bf16: true\n  bf16: false\n")
    with pytest.raises(config.ConfigError, match=r"nested.yaml: duplicate key 'bf16' at line 3 \(first at line 2\)"):
        config.load_yaml(str(nested))


def test_num_threads_zero_means_torch_default_and_stays_valid():
    raw = copy.deepcopy(_base("paper"))
    _set(raw, "engine.num_threads", 0)
    assert config.from_dict(raw).engine.num_threads == 0
