"""Issue 22: what the Hub model bounds (positions, layers) is checked by `validate`, from the
model's own config.json where one is here (local folder, HF cache), else its published one."""

import copy
import json
import subprocess
import sys

import pytest
import yaml

from xstilts import config, model_bounds


def _paper():
    with open("configs/paper.yaml") as f:
        return yaml.safe_load(f)


def _config_json(folder, positions, layers, hidden=32):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps({"max_position_embeddings": positions, "num_hidden_layers": layers, "hidden_size": hidden}))
    return folder


def test_published_bounds_of_xlm_roberta_large_refuse_what_it_cannot_hold(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-hf"))  # nothing cached: the published config
    b = model_bounds.bounds("xlm-roberta-large", "main")
    assert (b.positions, b.layers, b.max_tokens) == (514, 24, 512)
    raw = _paper()
    raw["data"]["max_seq_length"], raw["retrieval"]["layer"] = 512, 24  # the limits themselves are fine
    config.from_dict(raw)
    raw["data"]["max_seq_length"], raw["retrieval"]["layer"] = 513, 25
    with pytest.raises(config.ConfigError) as err:
        config.from_dict(raw)
    assert any(m.startswith("data.max_seq_length: 513 exceeds the 512 tokens xlm-roberta-large holds") for m in err.value.errors), err.value.errors
    assert any(m.startswith("retrieval.layer: 25 exceeds the 24 layers of xlm-roberta-large") for m in err.value.errors), err.value.errors


def test_a_local_model_folder_is_bounded_by_its_own_config(tmp_path):
    folder = _config_json(tmp_path / "small-xlmr", positions=130, layers=6)
    raw = _paper()
    raw["model"]["name_or_path"] = str(folder)
    with pytest.raises(config.ConfigError) as err:
        config.from_dict(raw)  # retrieval.layer 14 > 6; QA's own 384 tokens and retrieval's 512 > 128
    msgs = err.value.errors
    assert any(m.startswith("retrieval.layer: 14 exceeds the 6 layers") and "small-xlmr/config.json" in m for m in msgs), msgs
    assert any(m.startswith("retrieval.max_length: 512 exceeds the 128 tokens") for m in msgs), msgs
    assert any("task 'xquad' at its own 384 tokens" in m and "set data.max_seq_length: 128" in m for m in msgs), msgs
    raw["data"]["max_seq_length"] = raw["phase1"]["max_length"] = 128
    raw["retrieval"].update(layer=6, max_length=128)
    config.from_dict(raw)  # capped to what the model holds: valid


def test_the_cached_config_wins_over_the_published_one(tmp_path, monkeypatch):
    # the Hub cache layout: models--owner--name/{refs/main, snapshots/<commit>/config.json}
    hf = tmp_path / "hf"
    repo = hf / "hub" / "models--xlm-roberta-large"
    commit = "a" * 40
    _config_json(repo / "snapshots" / commit, positions=66, layers=3)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    monkeypatch.setenv("HF_HOME", str(hf))
    monkeypatch.setenv("HF_HUB_CACHE", str(hf / "hub"))
    b = model_bounds.bounds("xlm-roberta-large", "main")
    assert (b.positions, b.layers) == (66, 3) and "cached config.json" in b.source


def test_an_unknown_model_without_a_config_here_is_left_to_preflight(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-hf"))
    assert model_bounds.bounds("someone/unknown-encoder", "main") is None
    raw = _paper()
    raw["model"]["name_or_path"] = "someone/unknown-encoder"
    raw["retrieval"]["layer"] = 40
    config.from_dict(raw)


def test_validate_names_the_file_key_value_and_bound(tmp_path):
    raw = copy.deepcopy(_paper())
    raw["data"]["max_seq_length"] = 1024
    path = tmp_path / "long.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    proc = subprocess.run([sys.executable, "-m", "xstilts.cli", "validate", str(path)], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1"})
    assert proc.returncode == 2
    assert f"{path}: data.max_seq_length: 1024 exceeds the 512 tokens xlm-roberta-large holds" in proc.stderr, proc.stderr


def test_the_embedded_profile_is_bounded_by_its_scratch_encoder():
    import inspect

    from xstilts.model import encoder_config

    assert inspect.signature(encoder_config).parameters["max_positions"].default == model_bounds.SCRATCH_POSITIONS
    with open("params.yaml") as f:
        raw = yaml.safe_load(f)
    raw["phase1"]["max_length"], raw["retrieval"]["max_length"] = 600, 513
    with pytest.raises(config.ConfigError) as err:
        config.from_dict(raw)
    msgs = err.value.errors
    assert any(m.startswith("phase1.max_length: 600 exceeds the 512 tokens the embedded encoder holds") for m in msgs), msgs
    assert any(m.startswith("retrieval.max_length: 513 exceeds the 512 tokens") for m in msgs), msgs
