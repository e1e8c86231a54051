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
