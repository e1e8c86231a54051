"""Resumability: SIGKILL mid-training + restart == uninterrupted run; NaN keeps the last good checkpoint."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from safetensors.torch import load_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # works whether or not tests/ is a package
from test_engine_helpers import PAD, dev_accuracy, run, toy_model, toy_tasks  # noqa: E402

from xstilts import checkpoint  # noqa: E402
from xstilts.formats.classification import PairClassification  # noqa: E402
from xstilts.training import LoopSettings, NonFiniteLossError, TrainTask, train  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKER = os.path.join(ROOT, "tests", "test_engine_helpers.py")
CPU = torch.device("cpu")


def _start(cfg: dict) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": ROOT, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, WORKER, json.dumps(cfg)], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _finish(proc: subprocess.Popen, timeout: float = 120) -> None:
    out, _ = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, out.decode()[-3000:]


def _checkpoint_steps(d: str) -> list[int]:
    return [step for step, _ in checkpoint.step_dirs(d)]


def test_sigkill_then_resume_matches_uninterrupted_run(tmp_path):
    # dropout 0.1, two tasks, accumulation and periodic evaluation: every piece of state matters
    settings = {"lr": 3e-3, "batch_size": 8, "grad_accum": 2, "max_steps": 24, "eval_every": 5, "patience": 100, "log_every": 1, "seed": 3}
    base = {"settings": settings, "heads": ["a", "b"], "dropout": 0.1, "checkpoint_every": 4}
    ck_dir = str(tmp_path / "ckpt")
    resumed_cfg = {**base, "out": str(tmp_path / "resumed"), "checkpoint_dir": ck_dir, "log_path": str(tmp_path / "train.log")}
    victim = _start({**resumed_cfg, "hang_at": 10})  # stops in step 11, after its checkpoints at steps 4 and 8
    # the reference, never interrupted and without checkpoints, runs here meanwhile (one thread, as the worker)
    threads = torch.get_num_threads()
    try:
        run({**base, "out": str(tmp_path / "ref")})
    finally:
        torch.set_num_threads(threads)
    deadline = time.time() + 120
    # its 2nd checkpoint (step 8) is in place and it is inside step 11, having logged steps 9 and 10
    while not (any(s >= 8 for s in _checkpoint_steps(ck_dir)) and os.path.exists(str(tmp_path / "resumed") + ".hanging")):
        assert victim.poll() is None, victim.communicate()[0].decode()[-3000:]
        assert time.time() < deadline
        time.sleep(0.005)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert victim.returncode == -signal.SIGKILL
    killed_at = max(_checkpoint_steps(ck_dir))
    assert killed_at == 8 and not os.path.exists(tmp_path / "resumed" / "result.json")

    _finish(_start(resumed_cfg))
    a, b = load_file(str(tmp_path / "ref" / "weights.safetensors")), load_file(str(tmp_path / "resumed" / "weights.safetensors"))
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a), max((a[k] - b[k]).abs().max().item() for k in a)
    ra, rb = (json.loads((tmp_path / d / "result.json").read_text()) for d in ("ref", "resumed"))
    assert rb["resumed_from"] == killed_at and ra["resumed_from"] is None
    assert ra["history"] == rb["history"] and len(ra["history"]) == 5  # eval at steps 5,10,15,20,24
    assert (ra["steps"], ra["best_step"], ra["tokens"]) == (rb["steps"], rb["best_step"], rb["tokens"])
    # the curve (curve.json's records): the checkpoint's records are replayed, the killed run's rows
    # after it are not, so it matches exactly; the progress log goes on where the killed run left it
    assert ra["curve"] == rb["curve"] and len(ra["curve"]) == 24 + 5
    log = (tmp_path / "train.log").read_text()
    assert "step 1/24" in log and f"resuming from {ck_dir}/step-{killed_at:08d} (step {killed_at}/24)" in log and "step 24/24 | eval" in log.splitlines()[-1]
    assert _checkpoint_steps(ck_dir) == [24]  # only the newest is kept


class NaNAfter(PairClassification):
    """A loss that turns NaN from its ``bad``-th call on (a diverging run)."""

    def __init__(self, bad: int):
        self.calls, self.bad = 0, bad

    def loss(self, logits, batch):
        self.calls += 1
        out = super().loss(logits, batch)
        return out * float("nan") if self.calls >= self.bad else out


def test_nan_loss_stops_and_last_good_checkpoint_stays_loadable(tmp_path):
    model = toy_model(dropout=0.1)
    feats = toy_tasks()["a"].features
    s = LoopSettings(lr=1e-3, batch_size=8, max_steps=10, log_every=100)
    ck = str(tmp_path / "ck")
    with pytest.raises(NonFiniteLossError, match=r"non-finite loss nan at step 6/10.*Last good checkpoint: .*step-00000004"):
        train(model, {"a": TrainTask("a", NaNAfter(bad=6), feats)}, s, device=CPU, pad_id=PAD, checkpoint_dir=ck, checkpoint_every=2, progress=False)
    path = checkpoint.latest(ck)
    assert path.endswith("step-00000004") and not [n for n in os.listdir(ck) if n.startswith(".tmp")]
    loaded = checkpoint.load(path)
    assert loaded.state["loop"]["step"] == 4
    assert all(torch.isfinite(v).all() for v in loaded.model.values() if v.is_floating_point())
    # and a healthy run resumes from it to the end
    res = train(toy_model(dropout=0.1), {"a": TrainTask("a", PairClassification(), feats)}, s, device=CPU, pad_id=PAD, checkpoint_dir=ck, progress=False)
    assert res.resumed_from == 4 and res.steps == 10


def test_incomplete_checkpoints_are_ignored_and_other_settings_refused(tmp_path):
    ck = tmp_path / "ck"
    s = LoopSettings(lr=1e-3, batch_size=8, max_steps=3, log_every=100)
    train(toy_model(), toy_tasks(), s, device=CPU, pad_id=PAD, checkpoint_dir=str(ck), progress=False)
    assert checkpoint.latest(str(ck)).endswith("step-00000003")
    (ck / "step-00000099").mkdir()  # no state.json: a torn write on a file system that reorders
    (ck / ".tmp-step-00000100-1").mkdir()
    assert checkpoint.latest(str(ck)).endswith("step-00000003")
    # a finished checkpoint: train() returns at once with the same (best/final) weights
    model = toy_model()
    res = train(model, toy_tasks(), s, device=CPU, pad_id=PAD, checkpoint_dir=str(ck), progress=False)
    assert res.resumed_from == 3 and res.steps == 3
    with pytest.raises(checkpoint.CheckpointMismatchError, match=r"lr: checkpoint 0.001, now 0.002"):
        train(toy_model(), toy_tasks(), LoopSettings(lr=2e-3, batch_size=8, max_steps=3), device=CPU, pad_id=PAD, checkpoint_dir=str(ck), progress=False)


def test_rng_states_round_trip():
    import random

    import numpy as np

    g = torch.Generator().manual_seed(5)
    torch.manual_seed(1), np.random.seed(2), random.seed(3)
    random.gauss(0, 1)  # leaves a cached gauss_next in python's state
    saved = checkpoint.rng_state({"g": g})
    assert all(t.dtype == torch.uint8 for t in saved.values())
    expected = (torch.rand(3), np.random.rand(3), random.random(), random.gauss(0, 1), torch.rand(2, generator=g))
    torch.manual_seed(9), np.random.seed(9), random.seed(9), g.manual_seed(9)
    checkpoint.set_rng_state(saved, {"g": g})
    again = (torch.rand(3), np.random.rand(3), random.random(), random.gauss(0, 1), torch.rand(2, generator=g))
    assert torch.equal(expected[0], again[0]) and (expected[1] == again[1]).all() and expected[2:4] == again[2:4] and torch.equal(expected[4], again[4])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (run in a GPU session)")
def test_resume_on_cuda_matches_uninterrupted_run(tmp_path):
    """bf16 autocast, fused AdamW, CUDA dropout RNG. Exact unless CUDA kernels are themselves
    nondeterministic run to run; then resume must not add more than that."""
    dev = torch.device("cuda")
    s = LoopSettings(lr=3e-3, batch_size=8, grad_accum=2, max_steps=12, eval_every=5, patience=100, log_every=1, seed=3)

    def fresh_run(**kw):
        model = toy_model(("a", "b"), dropout=0.1)
        res = train(model, toy_tasks(("a", "b")), s, device=dev, pad_id=PAD, evaluate=dev_accuracy, progress=False, **kw)
        return res, {k: v.float().cpu() for k, v in model.state_dict().items()}

    class Crash(Exception):
        pass

    def crash(record):
        if record["step"] == 6 and "loss" in record:
            raise Crash

    _, ref = fresh_run()
    _, again = fresh_run()
    ck = str(tmp_path / "ck")
    with pytest.raises(Crash):
        fresh_run(checkpoint_dir=ck, checkpoint_every=4, log=crash)
    res, resumed = fresh_run(checkpoint_dir=ck, checkpoint_every=4)
    assert res.resumed_from == 4
    rerun_diff = max((ref[k] - again[k]).abs().max().item() for k in ref)
    resume_diff = max((ref[k] - resumed[k]).abs().max().item() for k in ref)
    print(f"CUDA: rerun max diff {rerun_diff:.3g}, resume max diff {resume_diff:.3g}")
    assert resume_diff == 0 if rerun_diff == 0 else resume_diff <= 10 * rerun_diff


def test_resume_refuses_a_checkpoint_of_other_starting_weights_features_or_dev_set(tmp_path):
    ck = str(tmp_path / "ck")
    s = LoopSettings(lr=1e-3, batch_size=8, max_steps=4, log_every=100)
    train(toy_model(seed=0), toy_tasks(), s, device=CPU, pad_id=PAD, checkpoint_dir=ck, inputs={"dev": "d1"}, progress=False)
    # an upstream stage changed the encoder (e.g. phase 2 re-ran): same shapes, other weights
    with pytest.raises(checkpoint.CheckpointMismatchError, match=r"start_weights: checkpoint '[0-9a-f]{16}', now '[0-9a-f]{16}'"):
        train(toy_model(seed=1), toy_tasks(), s, device=CPU, pad_id=PAD, checkpoint_dir=ck, inputs={"dev": "d1"}, progress=False)
    # the features were rebuilt (one token differs), as many as before
    tasks = toy_tasks()
    tasks["a"].features[5] = {**tasks["a"].features[5], "input_ids": [0, 9] + tasks["a"].features[5]["input_ids"][2:]}
    with pytest.raises(checkpoint.CheckpointMismatchError, match=r"features: checkpoint \{'a': '[0-9a-f]+'\}, now \{'a': '[0-9a-f]+'\}"):
        train(toy_model(seed=0), tasks, s, device=CPU, pad_id=PAD, checkpoint_dir=ck, inputs={"dev": "d1"}, progress=False)
    with pytest.raises(checkpoint.CheckpointMismatchError, match=r"dev: checkpoint 'd1', now 'd2'"):
        train(toy_model(seed=0), toy_tasks(), s, device=CPU, pad_id=PAD, checkpoint_dir=ck, inputs={"dev": "d2"}, progress=False)
    # the same inputs resume (here: a finished run, returned at once)
    res = train(toy_model(seed=0), toy_tasks(), s, device=CPU, pad_id=PAD, checkpoint_dir=ck, inputs={"dev": "d1"}, progress=False)
    assert res.resumed_from == 4


def test_checkpoints_by_training_time_keep_only_the_newest(tmp_path, monkeypatch):
    saved = []
    real_save = checkpoint.save
    monkeypatch.setattr(checkpoint, "save", lambda d, step, **kw: saved.append((step, sorted(os.listdir(d)) if os.path.isdir(d) else [])) or real_save(d, step, **kw))
    s = LoopSettings(lr=1e-3, batch_size=8, max_steps=5, log_every=100)
    train(toy_model(), toy_tasks(), s, device=CPU, pad_id=PAD, checkpoint_dir=str(tmp_path / "hour"), checkpoint_seconds=3600, progress=False)
    assert [step for step, _ in saved] == [5]  # an hour never passed: only the end
    saved.clear()
    train(toy_model(), toy_tasks(), s, device=CPU, pad_id=PAD, checkpoint_dir=str(tmp_path / "often"), checkpoint_seconds=1e-9, progress=False)
    assert [step for step, _ in saved] == [1, 2, 3, 4, 5]
    # each new one is written while the previous one is still there, which goes only afterwards
    assert [before for _, before in saved[1:]] == [[f"step-{k:08d}"] for k in (1, 2, 3, 4)]
    assert _checkpoint_steps(str(tmp_path / "often")) == [5]


def test_a_finished_runs_checkpoint_keeps_only_its_best_weights(tmp_path):
    ck = str(tmp_path / "ck")
    s = LoopSettings(lr=3e-3, batch_size=8, max_steps=12, eval_every=3, patience=100, log_every=100, seed=1)
    model = toy_model()
    res = train(model, toy_tasks(), s, device=CPU, pad_id=PAD, evaluate=dev_accuracy, checkpoint_dir=ck, checkpoint_every=5, progress=False)
    path = checkpoint.latest(ck)
    assert path.endswith("step-00000012") and not os.path.exists(os.path.join(path, "best.safetensors"))
    assert load_file(os.path.join(path, "optimizer.safetensors")) == {}  # no AdamW moments: a third of the size
    again = toy_model()
    res2 = train(again, toy_tasks(), s, device=CPU, pad_id=PAD, evaluate=dev_accuracy, checkpoint_dir=ck, progress=False)
    assert (res2.resumed_from, res2.best_step, res2.history) == (12, res.best_step, res.history)
    a, b = model.state_dict(), again.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)  # the best weights, as the run that wrote it ended


def test_the_paper_profile_checkpoints_every_30_minutes_and_the_embedded_one_not_at_all():
    from xstilts import config, pipeline

    paper = pipeline._engine_args(config.load("configs/paper.yaml"), "phase2/mnli", None)
    assert paper["checkpoint_dir"] == os.path.join("checkpoints", "phase2", "mnli") and paper["checkpoint_seconds"] == 1800
    assert pipeline._engine_args(config.load("params.yaml"), "phase2/mnli", None)["checkpoint_dir"] is None
