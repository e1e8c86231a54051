"""A tiny embedded pipeline in a temporary git copy of the repository (minutes on 2 CPU cores)."""

import subprocess
from pathlib import Path

import yaml

from tests.conftest import tracked_copy

# Two phase-2 settings x one phase-3 group: phase 2, phase 3 and retrieval each have independent
# stages, so two slots have something to run side by side.
TINY = {
    "data.embedded.scale": 0.15,
    "data.languages": ["en", "qa", "qc"],
    "phase1.steps": 300,  # long enough (~15 s) for the SLURM test to requeue phase 1 mid-run
    "engine.checkpoint_every": 50,
    "phase1.batch_size": 32,
    "intermediate.settings": {"none": [], "mnli": ["mnli"]},
    "intermediate.optim.max_steps": 20,
    "target.tasks": ["xnli"],
    "target.groups": {"cls": ["xnli"]},
    "target.seeds": [0],
    "target.per_task": {"xnli": {"epochs": 0.3, "batch_size": 32, "grad_accum": 1}},
    "retrieval.tasks": ["tatoeba"],
    "retrieval.layer": 3,
    "analysis.n_boot": 200,
    "engine.eval_batch_size": 256,
    "engine.num_threads": 1,
    "engine.parallel_runs": 1,
}
TARGET = "analysis"  # verify and report check the paper's claims: not meaningful at this size


def set_key(tree: dict, dotted: str, value) -> None:
    *parents, leaf = dotted.split(".")
    for p in parents:
        tree = tree[p]
    tree[leaf] = value  # a new leaf (a default in xstilts.config) is checked by `validate`


def make_tiny_repo(dest: Path, overrides: dict | None = None) -> Path:
    """A git repository at ``dest`` holding the working tree with the tiny params."""
    dest.mkdir(parents=True, exist_ok=True)
    tracked_copy(dest)
    params = yaml.safe_load((dest / "params.yaml").read_text())
    for k, v in {**TINY, **(overrides or {})}.items():
        set_key(params, k, v)
    (dest / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "copy"]):
        subprocess.run(cmd, cwd=dest, check=True, capture_output=True)
    return dest


# A study's arms at the tiny pipeline's sizes: two settings (`none`, SQuAD v2), XNLI, one seed.
STUDY_TINY = {
    "data.embedded.scale": 0.15,
    "data.languages": ["en", "qa", "qc"],
    "phase1.steps": 40,
    "phase1.batch_size": 32,
    "intermediate.optim.max_steps": 20,
    "intermediate.settings": {"none": [], "squad_v2": ["squad_v2"]},
    "target.tasks": ["xnli"],
    "target.groups": {"cls": ["xnli"]},
    "target.seeds": [0],
    "target.per_task": {"xnli": {"epochs": 0.3, "batch_size": 32, "grad_accum": 1}},
    "analysis.n_boot": 200,
    "engine.eval_batch_size": 256,
}


def make_tiny_study_repo(dest: Path, overrides: dict | None = None) -> Path:
    """A git repository at ``dest`` holding the working tree, with RQ4's embedded preset shrunk to
    two tiny model sizes (2 x 32 and 3 x 48) at STUDY_TINY's sizes (plus ``overrides``) through the
    preset's own override mechanism; the arms' analysis as RQ4's, on SQuAD v2 and XNLI."""
    dest.mkdir(parents=True, exist_ok=True)
    tracked_copy(dest)
    path = dest / "configs" / "studies" / "rq4_size_gain.yaml"
    preset = yaml.safe_load(path.read_text())
    emb = preset["embedded"]
    emb["overrides"].update({**STUDY_TINY, **(overrides or {})})
    emb["arms"]["small"].update({"model.hidden_size": 32, "model.intermediate_size": 64, "model.num_heads": 2})
    emb["arms"]["large"].update({"model.hidden_size": 48, "model.intermediate_size": 96, "model.num_layers": 3, "retrieval.layer": 2})
    preset["analysis"].update({"intermediates": ["squad_v2"], "targets": ["xnli"], "n_boot": 200})
    path.write_text(yaml.safe_dump(preset, sort_keys=False))
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "copy"]):
        subprocess.run(cmd, cwd=dest, check=True, capture_output=True)
    return dest
