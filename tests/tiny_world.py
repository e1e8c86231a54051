"""The embedded params shrunk for stage tests: the tiny synthetic benchmark and a tiny model."""

from __future__ import annotations

from pathlib import Path

import yaml

from xstilts.synthetic import SyntheticConfig, generate


def tiny_raw(root: Path, phase1_steps: int) -> dict:
    """Write the tiny benchmark under ``root/data``; return params.yaml's dict pointed at it."""
    generate(str(root / "data"), SyntheticConfig.tiny())
    with open("params.yaml") as f:
        raw = yaml.safe_load(f)
    raw["data"]["root"] = str(root / "data")
    raw["model"].update(vocab_size=600, hidden_size=32, num_layers=2, num_heads=2, intermediate_size=64)
    raw["phase1"].update(steps=phase1_steps, batch_size=16)
    raw["retrieval"]["layer"] = 2
    raw["intermediate"]["optim"].update(epochs=1.0, batch_size=16)
    return raw
