"""Resumable training checkpoints: safetensors for every tensor, JSON for everything else.

Nothing is ever unpickled (no ``torch.load``): a checkpoint is data, not code. Layout::

    checkpoint_dir/
        step-00000120/              one complete checkpoint
            model.safetensors       model weights (all heads)
            best.safetensors        best-scoring weights so far (present once an evaluation ran)
            optimizer.safetensors   optimiser state tensors, keyed ``state.<param index>.<name>``
            rng.safetensors         RNG states as uint8 tensors, keyed ``<source>.rank<r>``
            state.json              the rest: step, sampler, streams, scheduler, scores, history,
                                    optimiser param groups, and the settings fingerprint
        .tmp-step-00000120-<pid>/   a checkpoint being written: ignored, removed on the next save

Atomicity: files are written and fsynced inside a temporary directory, ``state.json`` last, and the
directory is renamed into place in one ``os.replace``. A run killed at any instant therefore leaves
either the previous checkpoint or the new one, never a half-written one; :func:`latest` also
refuses any directory without ``state.json`` in case a file system reorders the writes. Older
checkpoints are removed only after the new one is in place.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import struct
from dataclasses import dataclass

import numpy as np
import torch
from safetensors.torch import load_file, save_file

FORMAT_VERSION = 1
_STEP_DIR = re.compile(r"^step-(\d+)$")


class CheckpointMismatchError(RuntimeError):
    """The checkpoint in ``checkpoint_dir`` was written by a run with other settings."""


@dataclass
class Checkpoint:
    path: str
    state: dict  # state.json
    model: dict[str, torch.Tensor]
    best: dict[str, torch.Tensor] | None
    optimizer: dict  # in torch's optimizer.state_dict() form
    rng: dict[str, torch.Tensor]


# ---- finding -------------------------------------------------------------------------------


def step_dirs(checkpoint_dir: str) -> list[tuple[int, str]]:
    """Complete checkpoints in ``checkpoint_dir``, oldest first."""
    if not checkpoint_dir or not os.path.isdir(checkpoint_dir):
        return []
    found = []
    for name in os.listdir(checkpoint_dir):
        m = _STEP_DIR.match(name)
        path = os.path.join(checkpoint_dir, name)
        if m and os.path.isfile(os.path.join(path, "state.json")):
            found.append((int(m.group(1)), path))
    return sorted(found)


def latest(checkpoint_dir: str | None) -> str | None:
    dirs = step_dirs(checkpoint_dir) if checkpoint_dir else []
    return dirs[-1][1] if dirs else None


# ---- writing -------------------------------------------------------------------------------


def _cpu_copy(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    # copy=True: safetensors refuses tensors that share storage, and the caller keeps training
    return {k: v.detach().to("cpu", copy=True).contiguous() for k, v in state.items()}


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _save_tensors(tensors: dict[str, torch.Tensor], path: str) -> None:
    save_file(tensors, path)
    from xstilts.io import current_umask

    os.chmod(path, 0o666 & ~current_umask())  # safetensors creates 0600 whatever the umask
    _fsync(path)


def optimizer_to_files(opt_state: dict) -> tuple[dict[str, torch.Tensor], dict]:
    """Split ``optimizer.state_dict()`` into tensors (safetensors) and plain values (JSON)."""
    tensors, scalars = {}, {}
    for idx, per_param in opt_state["state"].items():
        for name, value in per_param.items():
            if torch.is_tensor(value):
                tensors[f"state.{idx}.{name}"] = value
            else:
                scalars[f"{idx}.{name}"] = value
    groups = [{k: list(v) if isinstance(v, tuple) else v for k, v in g.items()} for g in opt_state["param_groups"]]
    return _cpu_copy(tensors), {"param_groups": groups, "scalars": scalars}


def optimizer_from_files(tensors: dict[str, torch.Tensor], meta: dict) -> dict:
    state: dict[int, dict] = {}
    for key, value in tensors.items():
        _, idx, name = key.split(".", 2)
        state.setdefault(int(idx), {})[name] = value
    for key, value in meta["scalars"].items():
        idx, name = key.split(".", 1)
        state.setdefault(int(idx), {})[name] = value
    # JSON has no tuples; torch keeps betas as a tuple
    groups = [{k: tuple(v) if isinstance(v, list) and k != "params" else v for k, v in g.items()} for g in meta["param_groups"]]
    return {"state": state, "param_groups": groups}


def save(
    checkpoint_dir: str,
    step: int,
    *,
    model: dict[str, torch.Tensor],
    best: dict[str, torch.Tensor] | None,
    optimizer: dict,
    rng: dict[str, torch.Tensor],
    state: dict,
    keep: int = 1,
) -> str:
    """Write one checkpoint atomically and drop all but the newest ``keep``. Returns its path."""
    os.makedirs(checkpoint_dir, exist_ok=True)
    for name in os.listdir(checkpoint_dir):  # leftovers of a writer killed mid-write
        if name.startswith(".tmp-"):
            shutil.rmtree(os.path.join(checkpoint_dir, name), ignore_errors=True)
    final = os.path.join(checkpoint_dir, f"step-{step:08d}")
    tmp = os.path.join(checkpoint_dir, f".tmp-step-{step:08d}-{os.getpid()}")
    os.makedirs(tmp)
    _save_tensors(_cpu_copy(model), os.path.join(tmp, "model.safetensors"))
    if best is not None:
        _save_tensors(_cpu_copy(best), os.path.join(tmp, "best.safetensors"))
    opt_tensors, opt_meta = optimizer_to_files(optimizer)
    _save_tensors(opt_tensors, os.path.join(tmp, "optimizer.safetensors"))
    _save_tensors(_cpu_copy(rng), os.path.join(tmp, "rng.safetensors"))
    with open(os.path.join(tmp, "state.json"), "w", encoding="utf-8") as f:  # written last: marks completeness
        json.dump({"format_version": FORMAT_VERSION, "step": step, "optimizer": opt_meta, **state}, f, indent=1, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    if os.path.isdir(final):  # only when a step is re-saved (cannot rename over a non-empty dir)
        shutil.rmtree(final)
    os.replace(tmp, final)
    _fsync(checkpoint_dir)  # make the rename itself durable
    for _, old in step_dirs(checkpoint_dir)[:-keep] if keep > 0 else []:
        shutil.rmtree(old, ignore_errors=True)
    return final


# ---- reading -------------------------------------------------------------------------------


def load(path: str) -> Checkpoint:
    with open(os.path.join(path, "state.json"), encoding="utf-8") as f:
        state = json.load(f)
    if state.get("format_version") != FORMAT_VERSION:
        raise CheckpointMismatchError(f"{path}: checkpoint format {state.get('format_version')}, this code reads {FORMAT_VERSION}")
    best_path = os.path.join(path, "best.safetensors")
    return Checkpoint(
        path=path,
        state=state,
        model=load_file(os.path.join(path, "model.safetensors")),
        best=load_file(best_path) if os.path.exists(best_path) else None,
        optimizer=optimizer_from_files(load_file(os.path.join(path, "optimizer.safetensors")), state["optimizer"]),
        rng=load_file(os.path.join(path, "rng.safetensors")),
    )


def check_compatible(saved: dict, current: dict, path: str) -> None:
    """Resuming under other settings would silently train a different model: refuse, naming them."""
    diff = sorted(k for k in set(saved) | set(current) if saved.get(k) != current.get(k))
    if diff:
        details = "; ".join(f"{k}: checkpoint {saved.get(k)!r}, now {current.get(k)!r}" for k in diff)
        raise CheckpointMismatchError(
            f"{path} was written with other settings or inputs ({details}). Use the original settings, or delete "
            f"{os.path.dirname(path)} (or use another checkpoint_dir) to start afresh; start_weights / features / dev "
            "differ when an upstream stage (phase 1 or 2, features) was re-run since the checkpoint was written."
        )


# ---- RNG states as uint8 tensors -------------------------------------------------------------


def _u8(data: bytes) -> torch.Tensor:
    return torch.frombuffer(bytearray(data), dtype=torch.uint8)


def rng_state(generators: dict[str, torch.Generator] | None = None) -> dict[str, torch.Tensor]:
    """Every RNG the loop can draw from, as uint8 tensors: torch CPU (dropout on CPU), the current
    CUDA device (dropout on GPU), numpy's and python's global generators, and generators owned by
    formats (the MLM masking generator)."""
    out = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        out["cuda"] = torch.cuda.get_rng_state()
    _, keys, pos, has_gauss, cached = np.random.get_state()
    out["numpy"] = _u8(np.asarray(keys, dtype=np.uint32).tobytes() + struct.pack("<qqd", pos, has_gauss, cached))
    version, internal, gauss_next = random.getstate()
    out["python"] = _u8(np.asarray(internal, dtype=np.uint32).tobytes() + struct.pack("<qqd", version, gauss_next is not None, gauss_next or 0.0))
    for name, g in (generators or {}).items():
        out[f"generator.{name}"] = g.get_state()
    return out


def set_rng_state(states: dict[str, torch.Tensor], generators: dict[str, torch.Generator] | None = None) -> None:
    torch.set_rng_state(states["torch"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state(states["cuda"])
    raw = states["numpy"].numpy().tobytes()
    keys = np.frombuffer(raw[: 624 * 4], dtype=np.uint32)
    pos, has_gauss, cached = struct.unpack("<qqd", raw[624 * 4 :])
    np.random.set_state(("MT19937", keys, pos, has_gauss, cached))
    raw = states["python"].numpy().tobytes()
    internal = tuple(int(x) for x in np.frombuffer(raw[: 625 * 4], dtype=np.uint32))
    version, has_gauss, gauss_next = struct.unpack("<qqd", raw[625 * 4 :])
    random.setstate((version, internal, gauss_next if has_gauss else None))
    for name, g in (generators or {}).items():
        g.set_state(states[f"generator.{name}"])
