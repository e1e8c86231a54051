"""Shared toy setup for the engine tests, and a worker the tests run in subprocesses
(``python tests/test_engine_helpers.py CONFIG_JSON``, or under ``torchrun``).

No tests here: pytest imports this module and finds none.
"""

from __future__ import annotations

import json
import os
import sys
import time

import torch

from xstilts.formats.classification import PairClassification
from xstilts.model import MultiTaskModel, build_encoder, encoder_config
from xstilts.training import LoopSettings, TrainTask, predict, train

PAD = 1


def toy_features(n: int, seed: int, key_token: int = 7) -> list[dict]:
    """Label = whether ``key_token`` occurs in the sequence; lengths 4-40 (so batches need padding)."""
    g = torch.Generator().manual_seed(seed)
    feats = []
    for i in range(n):
        length = int(torch.randint(4, 40, (1,), generator=g))
        ids = torch.randint(8, 50, (length,), generator=g).tolist()
        label = i % 2
        if label:
            ids[int(torch.randint(0, length, (1,), generator=g))] = key_token
        feats.append({"input_ids": [0] + ids + [2], "label": label, "example_index": i})
    return feats


def toy_model(heads=("a",), dropout: float = 0.1, seed: int = 0) -> MultiTaskModel:
    torch.manual_seed(seed)
    model = MultiTaskModel(build_encoder(encoder_config(50, 32, 2, 2, 64, max_positions=66, dropout=dropout)), dropout)
    for h in heads:
        model.add_head(h, "classification", 2)
    return model


def toy_tasks(heads=("a",), n: int = 96) -> dict[str, TrainTask]:
    fmt = PairClassification()
    return {h: TrainTask(h, fmt, toy_features(n, seed=i, key_token=7 + i)) for i, h in enumerate(heads)}


def dev_accuracy(model, head: str = "a", n: int = 48) -> float:
    feats = toy_features(n, seed=100)
    device = next(model.parameters()).device  # predict() moves the model: keep it where it trains
    outs = predict(model, head, PairClassification(), feats, device=device, pad_id=PAD, batch_size=64)
    return sum(int(o.argmax() == f["label"]) for o, f in zip(outs, feats)) / len(feats)


def run(cfg: dict) -> None:
    """Train the toy model as ``cfg`` says and write final weights + result JSON to cfg['out']."""
    from safetensors.torch import save_file

    from xstilts import distributed

    torch.set_num_threads(1)  # same thread count in every run: CPU reductions then give identical floats
    info, device = distributed.setup("cpu")
    heads = tuple(cfg.get("heads", ["a"]))
    model = toy_model(heads, dropout=cfg.get("dropout", 0.1))
    s = LoopSettings(**cfg["settings"])
    hang_at = cfg.get("hang_at")

    curve = []  # the records the caller gets, as the stages write them to curve.json

    def log(record):
        curve.append(record)
        if record["step"] == hang_at and "loss" in record:  # mid-training, waiting for the test's SIGKILL
            open(os.path.join(cfg["out"] + ".hanging"), "w").close()
            time.sleep(600)
        if cfg.get("progress_file") and "loss" in record:  # steps done so far, for a test that signals mid-run
            with open(cfg["progress_file"], "w") as f:
                f.write(str(record["step"] + 1))
        time.sleep(cfg.get("step_seconds", 0))  # a slow step: room for a signal to arrive mid-run

    result = train(
        model, toy_tasks(heads, cfg.get("n", 96)), s, device=device, pad_id=PAD, evaluate=dev_accuracy if s.eval_every else None, log=log,
        checkpoint_dir=cfg.get("checkpoint_dir"), checkpoint_every=cfg.get("checkpoint_every", 0), checkpoint_seconds=cfg.get("checkpoint_seconds", 0), log_path=cfg.get("log_path"), progress=bool(cfg.get("log_path")),
    )
    if info.is_main:
        os.makedirs(cfg["out"], exist_ok=True)
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, os.path.join(cfg["out"], "weights.safetensors"))
        with open(os.path.join(cfg["out"], "result.json"), "w") as f:
            json.dump({"steps": result.steps, "history": result.history, "best_step": result.best_step, "resumed_from": result.resumed_from, "tokens": result.tokens, "curve": curve}, f)
    distributed.teardown()


if __name__ == "__main__":
    run(json.loads(sys.argv[1]))
