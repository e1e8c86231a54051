"""Issue 24 item 4: `plan --calibrate` times the params' encoder at the recipe's main micro-batch
shapes on this device; `plan --calibration FILE` prices every run from those measured rates."""

import json
import subprocess
import sys

import pytest

from xstilts import calibration as cal
from xstilts import config, planner

TINY = planner.Shape(vocab=120, hidden=32, layers=2, heads=2, intermediate=64)


@pytest.fixture(scope="module")
def measured_file(tmp_path_factory):
    import torch

    path = tmp_path_factory.mktemp("cal") / "calibration.json"
    cal.save(str(path), cal.measure(TINY, [(2, 16), (4, 64)], torch.device("cpu"), log=lambda *a: None))
    return path


def test_measure_times_each_shape_and_the_update_and_the_file_reads_back(measured_file):
    raw = json.loads(measured_file.read_text())
    assert [(p["sequences"], p["seq"]) for p in raw["points"]] == [(2, 16), (4, 64)]
    for p in raw["points"]:  # the planner's FLOP count over the measured time
        assert p["seconds"] > 0 and p["flops"] == planner.train_flops(TINY, p["tokens"], p["seq"])
        assert p["flops_per_second"] == pytest.approx(p["flops"] / p["seconds"])
    assert raw["optimizer_seconds"] > 0 and raw["device"].startswith("cpu: ") and raw["precision"] == "fp32"
    c = cal.load(str(measured_file))
    assert c.tokens == (32.0, 256.0) and c.optimizer_seconds == raw["optimizer_seconds"]


def test_the_rate_is_linear_between_measurements_and_clamped_outside():
    c = cal.Calibration("cpu: x", "fp32", (100.0, 300.0), (1e9, 3e9), 0.5, "f")
    assert c.rate(200) == pytest.approx(2e9) and c.rate(10) == 1e9 and c.rate(10_000) == 3e9


def _paper():
    return config.load("configs/paper.yaml")


def test_a_calibrated_plan_prices_each_run_from_the_measured_rate():
    flat = cal.Calibration("cpu: x", "fp32", (1000.0,), (4e12,), 0.25, "f")  # one shape: the same rate at every size
    p = planner.plan(_paper(), planner.PaperSizes(), "h100", calibration=flat)
    for r in p.runs:  # every FLOP (training and forward-only evaluation) at the measured rate, plus the measured updates
        assert r.gpu_hours == pytest.approx(r.flops / 4e12 / 3600 + r.steps * 0.25 / 3600)
    r = next(r for r in p.runs if r.name == "phase2/mnli")
    padded = 1 / (1 - planner.RANDOM_BATCH_PADDING)  # the recipe's random batches pad
    assert r.micro_tokens == pytest.approx(r.tokens / (r.steps * r.batch[1]) * padded)
    assert r.mfu == pytest.approx(4e12 / (planner.GPUS["h100"].fp32_tflops * 1e12))  # against the recipe's fp32 peak
    assert any(a.startswith("throughput: MEASURED on cpu: x") for a in p.assumptions)
    assert not any(a.startswith("efficiency:") for a in p.assumptions)  # the assumed MFU is not in play
    two = cal.Calibration("cpu: x", "fp32", (1000.0, 4000.0), (2e12, 8e12), 0.25, "f")
    r2 = next(r for r in planner.plan(_paper(), planner.PaperSizes(), "h100", calibration=two).runs if r.name == "phase2/mnli")
    assert r2.mfu == pytest.approx(two.rate(r.micro_tokens) / (planner.GPUS["h100"].fp32_tflops * 1e12))  # the rate at its micro-batch size


def test_recipe_shapes_are_the_costliest_trained_micro_batches():
    p = planner.plan(_paper(), planner.PaperSizes(), "h100")
    shapes = cal.recipe_shapes(p, limit=3)
    assert 1 <= len(shapes) <= 3 and all(seq % 16 == 0 and 16 <= seq <= 512 and n >= 1 for n, seq in shapes)
    assert any(n == 4 for n, _ in shapes)  # the recipe's micro-batch of 4 sequences (jiant: batch 4 with accumulation)
    assert all(n % 4 == 0 for n, _ in shapes)  # 4 features, each one sequence or one per choice


def test_a_bad_calibration_file_is_named(tmp_path):
    bad = tmp_path / "cal.json"
    bad.write_text('{"device": "cpu", "points": []}')
    with pytest.raises(config.ConfigError, match=rf"--calibration {bad}: not a calibration file"):
        cal.load(str(bad))


def test_plan_reads_a_calibration_file_from_the_command_line(measured_file):
    proc = subprocess.run([sys.executable, "-m", "xstilts.cli", "plan", "configs/paper.yaml", "--calibration", str(measured_file)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "GPU h100 (measured: cpu: " in proc.stdout and "throughput: MEASURED on cpu: " in proc.stdout
