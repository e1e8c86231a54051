"""xstilts.io helpers that are not about atomic writes."""

from __future__ import annotations

import json

import numpy as np

from xstilts.io import jsonable


def test_jsonable_gives_what_a_json_file_gives_back():
    # a training fingerprint / the synthetic manifest's config: tuples, nested tuples, numpy scalars
    value = {"sizes": (("en", 20000), ("qa", np.int64(12000))), "lr": np.float32(0.5), "flags": [True, None], "name": "x"}
    out = jsonable(value)
    assert out == {"sizes": [["en", 20000], ["qa", 12000]], "lr": 0.5, "flags": [True, None], "name": "x"}
    assert type(out["sizes"][1][1]) is int and type(out["lr"]) is float
    assert json.loads(json.dumps(out)) == out  # saved and current compare equal


# ---- atomic writes: mode and durability ---------------------------------------------------


def _with_umask(mask, fn):
    import os

    old = os.umask(mask)
    try:
        return fn()
    finally:
        os.umask(old)


def test_atomic_writes_keep_the_umask_mode_like_open(tmp_path):
    import os
    import stat

    from xstilts import io

    for mask, mode in ((0o022, 0o644), (0o002, 0o664), (0o077, 0o600)):
        out = tmp_path / f"m{mask:o}.json"
        _with_umask(mask, lambda: io.write_json(str(out), {"a": 1}))
        assert stat.S_IMODE(os.stat(out).st_mode) == mode, (oct(mask), oct(os.stat(out).st_mode))
        rows = tmp_path / f"r{mask:o}.jsonl"
        _with_umask(mask, lambda: io.write_jsonl(str(rows), [{"a": 1}]))
        assert stat.S_IMODE(os.stat(rows).st_mode) == mode
        assert not [p for p in os.listdir(tmp_path) if p.startswith(".tmp-")]


def test_atomic_path_fsyncs_the_file_before_the_rename_and_the_folder_after(tmp_path, monkeypatch):
    import os

    from xstilts import io

    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append(("fsync", os.path.basename(os.readlink(f"/proc/self/fd/{fd}"))))
        return real_fsync(fd)

    def replace(a, b):
        events.append(("replace", os.path.basename(b)))
        return real_replace(a, b)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    io.write_json(str(tmp_path / "x.json"), {"a": 1})
    kinds = [e[0] for e in events]
    assert kinds == ["fsync", "replace", "fsync"], events
    assert events[0][1].startswith(".tmp-x.json")
    assert events[2][1] == tmp_path.name


def test_save_encoder_output_is_readable_by_the_group_under_umask_022(tmp_path):
    import os
    import stat

    from transformers import XLMRobertaConfig, XLMRobertaModel

    from xstilts import model

    cfg = XLMRobertaConfig(vocab_size=20, hidden_size=8, num_hidden_layers=1, num_attention_heads=2, intermediate_size=8, max_position_embeddings=12)
    out = tmp_path / "enc"
    _with_umask(0o022, lambda: model.save_encoder(XLMRobertaModel(cfg), str(out)))
    for name in os.listdir(out):
        assert stat.S_IMODE(os.stat(out / name).st_mode) == 0o644, name


def test_save_state_is_0644_under_umask_022(tmp_path):
    import os
    import stat

    import torch

    from xstilts import io

    out = tmp_path / "s.safetensors"
    _with_umask(0o022, lambda: io.save_state({"w": torch.zeros(2)}, str(out)))
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o644
