"""A one-node SLURM (slurmctld + slurmd on localhost, CPU only, munge auth) in a temporary state dir,
with job accounting (slurmdbd on a private MariaDB, both on loopback) so that ``sacct`` answers as
on a real cluster.

``start(dir)`` returns the environment (SLURM_CONF) that client commands need, or raises
``Unavailable`` with the reason it cannot run here. Debian: ``apt-get install slurm-wlm munge
slurmdbd mariadb-server`` (``make setup`` does it as root; tools/install_slurm.sh).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path


class Unavailable(RuntimeError):
    pass


CONF = """ClusterName=xstilts-test
SlurmctldHost={host}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
SlurmctldPort={ctld_port}
SlurmdPort={d_port}
StateSaveLocation={dir}/state
SlurmdSpoolDir={dir}/spool
SlurmctldPidFile={dir}/slurmctld.pid
SlurmdPidFile={dir}/slurmd.pid
SlurmctldLogFile={dir}/slurmctld.log
SlurmdLogFile={dir}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
JobRequeue=1
MinJobAge=600
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort={dbd_port}
JobAcctGatherType=jobacct_gather/linux
NodeName={host} CPUs={cpus} RealMemory=2000 State=UNKNOWN
PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP
"""


# slurmdbd reads slurmdbd.conf from SLURM_CONF's folder; the database is a private MariaDB on loopback
DBD_CONF = """AuthType=auth/munge
DbdHost=localhost
DbdPort={dbd_port}
SlurmUser=root
PidFile={dir}/slurmdbd.pid
LogFile={dir}/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort={db_port}
StorageUser=slurm
StoragePass=xstilts-test
StorageLoc=slurm_acct_db
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _munge_running() -> bool:
    return shutil.which("munge") is not None and subprocess.run("munge -n | unmunge", shell=True, capture_output=True).returncode == 0


def start(state_dir: Path, cpus: int = 2) -> tuple[dict, list[int]]:
    """Start munged (if needed), slurmctld and slurmd; returns (env for clients, pids to stop)."""
    missing = [b for b in ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "sacct", "slurmdbd", "mariadbd", "mariadb-install-db") if shutil.which(b) is None]
    if missing:
        raise Unavailable(f"SLURM/munge/accounting binaries missing: {missing} (Debian: apt-get install slurm-wlm munge slurmdbd mariadb-server, as root; `make setup` does it)")
    if os.geteuid() != 0:
        raise Unavailable("starting slurmd needs root (it runs jobs as their submitting user)")
    pids = []
    if not _munge_running():
        os.makedirs("/run/munge", exist_ok=True)
        shutil.chown("/run/munge", "munge", "munge")
        res = subprocess.run(["runuser", "-u", "munge", "--", "munged"], capture_output=True, text=True)
        if res.returncode != 0 or not _munge_running():
            raise Unavailable(f"munged did not start: {res.stderr.strip()}")
        pids.append(int(Path("/run/munge/munged.pid").read_text()))  # started here: stopped here
    host = socket.gethostname().split(".")[0]
    for sub in ("state", "spool"):
        (state_dir / sub).mkdir(parents=True, exist_ok=True)
    conf = state_dir / "slurm.conf"
    dbd_port = _free_port()
    conf.write_text(CONF.format(host=host, dir=state_dir, cpus=cpus, ctld_port=_free_port(), d_port=_free_port(), dbd_port=dbd_port))
    env = {**os.environ, "SLURM_CONF": str(conf)}
    try:
        pids += _start_accounting(state_dir, env, dbd_port)
    except Unavailable:
        stop(pids)
        raise
    for daemon in ("slurmctld", "slurmd"):
        proc = subprocess.Popen([daemon, "-D", "-f", str(conf)], env=env, stdout=subprocess.DEVNULL, stderr=open(state_dir / f"{daemon}.stderr", "w"), start_new_session=True)
        pids.append(proc.pid)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        out = subprocess.run(["sinfo", "-h", "-o", "%T"], env=env, capture_output=True, text=True).stdout.strip()
        if out == "idle":
            return env, pids
        time.sleep(1)
    stop(pids)
    logs = "".join((state_dir / f).read_text()[-1500:] for f in ("slurmctld.log", "slurmd.log", "slurmctld.stderr", "slurmd.stderr") if (state_dir / f).exists())
    raise Unavailable(f"SLURM node not idle within 60 s (sinfo: {out!r}); logs:\n{logs}")


def _start_accounting(state_dir: Path, env: dict, dbd_port: int) -> list[int]:
    """MariaDB (its own data dir, loopback TCP only) and slurmdbd on it; returns their pids."""
    data, sock, db_port = state_dir / "mariadb", state_dir / "mariadb.sock", _free_port()
    res = subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={data}", "--user=root", "--auth-root-authentication-method=normal"], capture_output=True, text=True)
    if res.returncode != 0:
        raise Unavailable(f"mariadb-install-db failed: {res.stderr.strip()[-1000:]}")
    db = subprocess.Popen(["mariadbd", "--no-defaults", f"--datadir={data}", f"--port={db_port}", "--bind-address=127.0.0.1", f"--socket={sock}",
                           f"--pid-file={state_dir / 'mariadb.pid'}", "--user=root"], stdout=subprocess.DEVNULL, stderr=open(state_dir / "mariadb.stderr", "w"), start_new_session=True)
    grant = ("CREATE DATABASE slurm_acct_db; CREATE USER 'slurm'@'127.0.0.1' IDENTIFIED BY 'xstilts-test'; "
             "CREATE USER 'slurm'@'localhost' IDENTIFIED BY 'xstilts-test'; GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1'; "
             "GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';")
    deadline = time.monotonic() + 60
    while subprocess.run(["mariadb", "--no-defaults", "-S", str(sock), "-uroot", "-e", grant], capture_output=True).returncode != 0:
        if time.monotonic() > deadline or db.poll() is not None:
            stop([db.pid])
            raise Unavailable(f"MariaDB did not start: {(state_dir / 'mariadb.stderr').read_text()[-1500:]}")
        time.sleep(0.5)
    dbd_conf = state_dir / "slurmdbd.conf"
    dbd_conf.write_text(DBD_CONF.format(dir=state_dir, dbd_port=dbd_port, db_port=db_port))
    dbd_conf.chmod(0o600)  # slurmdbd refuses a readable config (it holds the database password)
    dbd = subprocess.Popen(["slurmdbd", "-D"], env=env, stdout=subprocess.DEVNULL, stderr=open(state_dir / "slurmdbd.stderr", "w"), start_new_session=True)
    deadline = time.monotonic() + 60
    while "slurmdbd version" not in ((state_dir / "slurmdbd.log").read_text() if (state_dir / "slurmdbd.log").exists() else ""):
        if time.monotonic() > deadline or dbd.poll() is not None:
            stop([db.pid, dbd.pid])
            raise Unavailable(f"slurmdbd did not start: {(state_dir / 'slurmdbd.stderr').read_text()[-1500:]}")
        time.sleep(0.5)
    return [db.pid, dbd.pid]


def stop(pids: list[int]) -> None:
    for pid in reversed(pids):  # slurmd, slurmctld, slurmdbd, MariaDB, then munged
        try:
            os.killpg(pid, 15)  # the daemon and its session (slurmstepd, job processes)
        except ProcessLookupError:
            try:
                os.kill(pid, 15)  # munged forks into its own process group
            except ProcessLookupError:
                pass
