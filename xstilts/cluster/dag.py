"""The DVC DAG: which stages a run must execute, each with its command and upstream stages.

A stage runs when DVC says it changed or when any stage it depends on runs (its inputs will
change), exactly the set ``dvc repro <targets>`` would run, in a topological order.
"""

from __future__ import annotations

from contextlib import chdir
from dataclasses import dataclass


@dataclass(frozen=True)
class Stage:
    name: str  # DVC's address: "phase2@mnli", "phase3@none-all"
    cmd: str  # resolved command, run by bash in ``wdir``
    wdir: str
    after: tuple[str, ...]  # upstream stages in this plan (only those that run)
    outs: tuple[str, ...]

    @property
    def kind(self) -> str:
        """The dvc.yaml stage name (a foreach/matrix stage's items share it): keys resources."""
        return self.name.split("@", 1)[0]


def _cmd(stage) -> str:
    cmd = stage.cmd
    return " && ".join(cmd) if isinstance(cmd, list) else cmd


def plan(root: str, targets: list[str] | None = None, force: bool = False) -> list[Stage]:
    """Stages to run for ``targets`` (default: every stage), upstream first."""
    import networkx as nx
    from dvc.repo import Repo

    with chdir(root), Repo(root) as repo, repo.lock:  # DVC names stages relative to the cwd
        graph = repo.index.graph  # edges point from a stage to the stages it depends on
        stages = {s.addressing: s for s in repo.index.stages}
        if targets:
            unknown = [t for t in targets if t not in stages]
            if unknown:
                raise ValueError(f"dvc.yaml: no stage {unknown[0]!r} (stages: {sorted(stages)})")
            wanted = set()
            for t in targets:
                wanted |= {s.addressing for s in nx.descendants(graph, stages[t])} | {t}
        else:
            wanted = set(stages)
        position = {s.addressing: i for i, s in enumerate(stages.values())}  # ties: dvc.yaml's order
        upstream_first = nx.lexicographical_topological_sort(graph.reverse(), key=lambda s: position[s.addressing])
        order = [s for s in upstream_first if s.addressing in wanted]
        run: dict[str, Stage] = {}
        for s in order:
            if not s.cmd:  # a data source (.dvc file): nothing to execute
                continue
            upstream = [u.addressing for u in graph.successors(s) if u.addressing in run]
            if force or upstream or s.changed():
                run[s.addressing] = Stage(s.addressing, _cmd(s), s.wdir, tuple(sorted(upstream)), tuple(str(o) for o in s.outs))
        return list(run.values())


def kinds(root: str) -> set[str]:
    """Every stage kind of dvc.yaml (``phase3`` for all ``phase3@...``): keys of ``cluster.stages``."""
    from dvc.repo import Repo

    with chdir(root), Repo(root) as repo:
        return {s.addressing.split("@", 1)[0] for s in repo.index.stages}
