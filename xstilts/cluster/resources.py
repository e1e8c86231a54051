"""Per-stage resources from the ``cluster:`` params: GPUs, CPUs, memory and time per stage kind.

A stage kind is a dvc.yaml stage name (``phase3`` covers every ``phase3@<setting>-<group>``);
kinds not listed under ``cluster.stages`` take ``cluster.default``.
"""

from __future__ import annotations

import math
import re

import yaml

from xstilts import config
from xstilts.config import ClusterConfig, ConfigError, StageResources

_MEM = re.compile(r"\d+[KMGT]?")  # sbatch --mem: megabytes, or a K/M/G/T suffix


def check(cluster: ClusterConfig) -> None:
    """Raise ConfigError naming the key of the first bad value."""
    for key, r in [("cluster.default", cluster.default)] + [(f"cluster.stages.{k}", v) for k, v in cluster.stages.items()]:
        if r.gpus < 0:
            raise ConfigError(f"{key}.gpus: must be 0 or more, got {r.gpus}")
        if r.cpus < 1:
            raise ConfigError(f"{key}.cpus: must be at least 1, got {r.cpus}")
        if not _MEM.fullmatch(r.mem):
            raise ConfigError(f"{key}.mem: {r.mem!r} is not an sbatch --mem value (e.g. 16G, 4000M)")
        if not r.hours > 0:
            raise ConfigError(f"{key}.hours: must be positive, got {r.hours}")
        if not 0 < r.grace <= 65535:  # SLURM's limit for --signal's @time
            raise ConfigError(f"{key}.grace: seconds before the time limit, 1 to 65535, got {r.grace}")


def parse(raw: dict) -> ClusterConfig:
    """The ``cluster:`` section, typed and checked."""
    cluster = config._build(ClusterConfig, raw, "cluster")
    check(cluster)
    return cluster


def load(path: str = "params.yaml") -> ClusterConfig:
    """Only the ``cluster:`` section of a params file (absent: the defaults), checked."""
    with open(path) as f:
        raw = (yaml.safe_load(f) or {}).get("cluster", {})
    try:
        return parse(raw)
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from None


def for_stage(cluster: ClusterConfig, kind: str, known_kinds: set[str]) -> StageResources:
    unknown = sorted(set(cluster.stages) - known_kinds)
    if unknown:
        raise ConfigError(f"cluster.stages.{unknown[0]}: not a stage of dvc.yaml (stages: {sorted(known_kinds)})")
    return cluster.stages.get(kind, cluster.default)


def sbatch_flags(r: StageResources, partition: str) -> list[str]:
    flags = [f"--cpus-per-task={r.cpus}", f"--mem={r.mem}", f"--time={math.ceil(r.hours * 60)}"]  # minutes
    # the batch shell gets USR1 `grace` seconds before the limit; its trap asks training to
    # checkpoint at the next step and the job to requeue (ledger.write_script, xstilts.preemption)
    flags.append(f"--signal=B:USR1@{r.grace}")
    if r.gpus:
        flags.append(f"--gres=gpu:{r.gpus}")
    if partition:
        flags.append(f"--partition={partition}")
    return flags
