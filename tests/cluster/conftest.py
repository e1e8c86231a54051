import os
import subprocess
import time

import pytest

from tests.cluster import slurm_local
from tests.cluster.tiny import TARGET, make_tiny_repo
from tests.conftest import BIN, run


@pytest.fixture(scope="session")
def slurm(tmp_path_factory):
    """A SLURM the tests can submit to: the one SLURM_CONF names if it answers, else a one-node
    slurmctld + slurmd started in a temporary state dir (stopped at the end). Skips, saying why,
    where neither is possible."""
    if os.environ.get("SLURM_CONF") and subprocess.run(["sinfo", "-h"], capture_output=True).returncode == 0:
        yield dict(os.environ)
        return
    try:
        env, pids = slurm_local.start(tmp_path_factory.mktemp("slurm"))
    except slurm_local.Unavailable as err:
        if os.environ.get("XSTILTS_REQUIRE_SLURM"):  # CI (.ci/run): a SLURM that does not start is a failure
            pytest.fail(f"cannot start SLURM: {err}")
        pytest.skip(f"cannot start SLURM here: {err}")
    old = os.environ.get("SLURM_CONF")
    os.environ["SLURM_CONF"] = env["SLURM_CONF"]  # client commands (sbatch, squeue) of the code under test
    yield env
    slurm_local.stop(pids)
    if old is None:
        os.environ.pop("SLURM_CONF", None)
    else:
        os.environ["SLURM_CONF"] = old


@pytest.fixture(scope="session")
def serial_tiny(tmp_path_factory):
    """The reference: a serial `dvc repro` of the tiny embedded pipeline: (repo, seconds)."""
    repo = make_tiny_repo(tmp_path_factory.mktemp("serial") / "repo")
    start = time.perf_counter()
    res = run([str(BIN / "dvc"), "repro", TARGET], repo, timeout=1800)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-4000:]
    return repo, time.perf_counter() - start
