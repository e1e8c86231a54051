"""params.yaml schema: typed dataclasses, unknown keys rejected, checked before any training.

Like nanoGPT's configurator, a wrong key or type stops the run with one message naming the key
(``intermediate.settings.multi[2]: unknown task 'mnlii'``). The resolved config is saved with
every output so a number can always be traced to the settings that produced it.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from dataclasses import dataclass, field
from typing import Any

import yaml


class ConfigError(ValueError):
    pass


_REPO_ID = re.compile(r"[\w.-]+/[\w.-]+")
EMBEDDED_ROOT = "data/embedded"  # the benchmark stage's output (dvc.yaml): never a user's mirror


# ---- schema --------------------------------------------------------------------------------


@dataclass
class EmbeddedData:
    seed: int = 0
    scale: float = 1.0  # multiplies the synthetic benchmark's example counts


@dataclass
class DataConfig:
    source: str = "embedded"  # embedded | hub | local
    root: str = "data/embedded"  # rows read when source is embedded / local (a mirror: read, never written); unused with hub
    languages: list[str] = field(default_factory=lambda: ["all"])  # ["all"] = every language of each task
    revisions: dict[str, str] = field(default_factory=dict)  # Hub repo (as read, after `repos`) -> pinned revision
    repos: dict[str, str] = field(default_factory=dict)  # a reader's default Hub repo -> the repo to read instead (same schema)
    local_dirs: dict[str, str] = field(default_factory=dict)  # datasets not on the Hub (ccgbank, corpus)
    embedded: EmbeddedData = field(default_factory=EmbeddedData)
    max_train_examples: int = 0  # 0 = all; a cap for smoke runs
    max_seq_length: int = 0  # 0 = each task's own (256 / 384 QA / 512 retrieval); else a cap


@dataclass
class ModelConfig:
    source: str = "scratch"  # scratch (phase 1 trains a tiny MLM) | hub (pretrained XLM-R)
    name_or_path: str = "xlm-roberta-large"
    revision: str = "main"
    vocab_size: int = 4000
    hidden_size: int = 64
    num_layers: int = 4
    num_heads: int = 4
    intermediate_size: int = 256
    dropout: float = 0.1
    pooler: bool = False  # HF's pooler (dense + tanh over <s>) in the encoder, read by sentence heads (jiant's XLM-R)


@dataclass
class OptimConfig:
    lr: float = 1e-5
    batch_size: int = 4
    grad_accum: int = 1
    epochs: float = 3.0
    warmup: float = 0.1  # fraction of steps
    weight_decay: float = 0.01
    max_grad_norm: float = 1.0
    max_steps: int = 0  # 0 = derived from epochs


@dataclass
class EngineConfig:
    device: str = "auto"  # auto | cpu | cuda
    bf16: bool = True  # autocast on CUDA only
    tf32: bool = False  # CUDA only: allow TF32 matmuls / cuDNN convolutions (a speed switch; off = full fp32)
    fused_adamw: bool = True  # CUDA only
    length_grouping: bool = True
    compile: bool = False
    eval_batch_size: int = 64
    checkpoint_every: int = 0  # resumable checkpoints every N optimiser steps (and at the end of each run); 0 = not by steps
    checkpoint_minutes: float = 0.0  # and every N minutes of training; both 0 = no checkpoints at all (see configs/paper.yaml)
    num_threads: int = 0  # torch CPU threads of a stage; 0 = torch default
    parallel_runs: int = 1  # a phase-3 stage's targets run in this many processes: on CPU each with max(1, num_threads // parallel_runs) threads; on CUDA sharing the GPU where xstilts.memory estimates they fit
    merge_micro_batches: bool = False  # CUDA: take phase 3's global batch (batch_size x grad_accum) in the fewest micro-batches that fit
    padding_free: bool = False  # run training, predict and retrieval embedding on the real tokens only (xstilts/packed.py): equal to float tolerance, not bit for bit


@dataclass
class Phase1Config:
    steps: int = 1500
    batch_size: int = 64
    lr: float = 1e-3
    max_length: int = 64
    warmup: float = 0.05
    language_alpha: float = 0.3  # XLM-R's exponential smoothing of language sampling: p_l ~ n_l^alpha


@dataclass
class SamplerConfig:
    kind: str = "capped_proportional"  # proportional | capped_proportional | temperature | uniform
    cap: int = 131072  # 2^17, the co-author script's examples_proportional_mixingK
    temperature: float = 2.0


@dataclass
class IntermediateConfig:
    settings: dict[str, list[str]] = field(default_factory=dict)  # setting name -> intermediate tasks ([] = none)
    mlm_settings: list[str] = field(default_factory=list)  # settings that also train multilingual MLM
    translated_settings: list[str] = field(default_factory=list)  # settings trained on machine-translated data
    translated_languages: list[str] = field(default_factory=list)
    mlm_lines: int = 0  # corpus lines in the MLM task of mlm_settings; 0 = as many as the largest task
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    seed: int = 0


@dataclass
class TargetTaskConfig:
    epochs: float = 2.0
    batch_size: int = 4
    grad_accum: int = 8


@dataclass
class TargetConfig:
    tasks: list[str] = field(default_factory=lambda: ["xnli", "pawsx", "udpos", "panx", "xquad", "mlqa", "tydiqa"])
    # DVC runs one phase-3 stage per (setting, group): one group per task at paper scale (each cell
    # is GPU-hours), all tasks in one group on a CPU (a notebook start costs more than a tiny run).
    # Inside a group, targets with one and the same training share it (plan.shared_trainings).
    groups: dict[str, list[str]] = field(default_factory=dict)
    seeds: list[int] = field(default_factory=lambda: [0])
    regime: str = "zero_shot"  # zero_shot | translate_train | in_language
    lr: float = 1e-5
    warmup: float = 0.1
    weight_decay: float = 0.01
    max_grad_norm: float = 1.0
    eval_every: int = 1000  # steps between English-dev evaluations (early stopping)
    eval_subset: int = 500  # first N English dev examples, jiant's eval_subset_num
    patience: int = 30  # evaluations without improvement before stopping
    per_task: dict[str, TargetTaskConfig] = field(default_factory=dict)


@dataclass
class RetrievalConfig:
    tasks: list[str] = field(default_factory=lambda: ["bucc2018", "tatoeba"])
    layer: int = 14  # hidden_states index (0 = embeddings); 14 of 24 for XLM-R Large, as jiant/the paper
    max_length: int = 512
    k: int = 4  # BUCC margin neighbourhood


@dataclass
class AnalysisConfig:
    baseline: str = "none"
    n_boot: int = 2000
    alpha: float = 0.05
    seed: int = 0


@dataclass
class StageResources:  # one SLURM job (xstilts.cluster.resources)
    gpus: int = 0
    cpus: int = 2
    mem: str = "8G"  # sbatch --mem
    hours: float = 4.0  # sbatch --time (a number: YAML 1.1 reads an unquoted 1:00:00 as 3600)
    grace: int = 300  # sbatch --signal=B:USR1@<grace>: seconds before the time limit to checkpoint and requeue (xstilts.preemption)


@dataclass
class ClusterConfig:  # params `cluster:` (xstilts.cluster.resources; not part of Params)
    partition: str = ""  # SLURM partition ("" = the cluster's default)
    default: StageResources = field(default_factory=StageResources)
    stages: dict[str, StageResources] = field(default_factory=dict)


@dataclass
class Params:
    profile: str = "embedded"
    seed: int = 0
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    engine: EngineConfig = field(default_factory=EngineConfig)
    phase1: Phase1Config = field(default_factory=Phase1Config)
    intermediate: IntermediateConfig = field(default_factory=IntermediateConfig)
    target: TargetConfig = field(default_factory=TargetConfig)
    retrieval: RetrievalConfig = field(default_factory=RetrievalConfig)
    analysis: AnalysisConfig = field(default_factory=AnalysisConfig)


# ---- generic typed construction --------------------------------------------------------------


def _build(tp, value, key: str):
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"{key or 'params'}: expected a mapping, got {type(value).__name__}")
        hints = typing.get_type_hints(tp)
        names = {f.name for f in dataclasses.fields(tp)}
        unknown = sorted(set(value) - names)
        if unknown:
            raise ConfigError(f"{_join(key, unknown[0])}: unknown key (allowed here: {sorted(names)})")
        return tp(**{k: _build(hints[k], v, _join(key, k)) for k, v in value.items()})
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{key}: expected a list, got {type(value).__name__} {value!r}")
        (item,) = typing.get_args(tp)
        return [_build(item, v, f"{key}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a mapping, got {type(value).__name__} {value!r}")
        _, vt = typing.get_args(tp)
        return {str(k): _build(vt, v, _join(key, str(k))) for k, v in value.items()}
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp in (int, float, str, bool):
        if not isinstance(value, tp) or (tp is int and isinstance(value, bool)):
            raise ConfigError(f"{key}: expected {tp.__name__}, got {type(value).__name__} {value!r}")
        return value
    raise ConfigError(f"{key}: unsupported type {tp}")


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


# ---- semantic checks -----------------------------------------------------------------------

_CHOICES = {
    "profile": ("embedded", "paper"),
    "data.source": ("embedded", "hub", "local"),
    "model.source": ("scratch", "hub"),
    "engine.device": ("auto", "cpu", "cuda"),
    "intermediate.sampler.kind": ("proportional", "capped_proportional", "temperature", "uniform"),
    "target.regime": ("zero_shot", "translate_train", "in_language"),
}


# (low, high, low inclusive): a value outside fails validate naming the key and value, instead of a
# ZeroDivisionError or a silent no-op hours later. target.per_task.<task>.* use the _PER_TASK rows.
_POSITIVE, _COUNT, _NONNEG, _FRACTION = (0, None, False), (1, None, True), (0, None, True), (0, 1, True)
_RANGES = {
    "seed": _NONNEG,
    "data.embedded.scale": _POSITIVE,
    "data.max_train_examples": _NONNEG,
    "data.max_seq_length": _NONNEG,
    "model.vocab_size": _COUNT,
    "model.hidden_size": _COUNT,
    "model.num_layers": _COUNT,
    "model.num_heads": _COUNT,
    "model.intermediate_size": _COUNT,
    "model.dropout": _FRACTION,
    "engine.eval_batch_size": _COUNT,
    "engine.checkpoint_every": _NONNEG,
    "engine.num_threads": _NONNEG,
    "engine.parallel_runs": _COUNT,
    "phase1.steps": _NONNEG,
    "phase1.batch_size": _COUNT,
    "phase1.lr": _POSITIVE,
    "phase1.max_length": (8, None, True),
    "phase1.warmup": _FRACTION,
    "phase1.language_alpha": (0, 1, False),
    "intermediate.mlm_lines": _NONNEG,
    "intermediate.sampler.cap": _COUNT,
    "intermediate.sampler.temperature": _POSITIVE,
    "intermediate.optim.lr": _POSITIVE,
    "intermediate.optim.batch_size": _COUNT,
    "intermediate.optim.grad_accum": _COUNT,
    "intermediate.optim.epochs": _NONNEG,
    "intermediate.optim.warmup": _FRACTION,
    "intermediate.optim.weight_decay": _NONNEG,
    "intermediate.optim.max_grad_norm": _POSITIVE,
    "intermediate.optim.max_steps": _NONNEG,
    "target.lr": _POSITIVE,
    "target.warmup": _FRACTION,
    "target.weight_decay": _NONNEG,
    "target.max_grad_norm": _POSITIVE,
    "target.eval_every": _COUNT,
    "target.eval_subset": _COUNT,
    "target.patience": _NONNEG,  # 0 = no early stopping
    "retrieval.layer": _NONNEG,
    "retrieval.max_length": _COUNT,
    "retrieval.k": _COUNT,
    "analysis.n_boot": _COUNT,
    "analysis.alpha": (0, 0.5, False),  # a two-sided confidence level 1 - alpha
}
_PER_TASK = {"epochs": _POSITIVE, "batch_size": _COUNT, "grad_accum": _COUNT}


def _in_range(key: str, value, bounds) -> None:
    low, high, inclusive = bounds
    too_low = value < low if inclusive else value <= low
    if too_low or (high is not None and value > high):
        rule = f"{'>=' if inclusive else '>'} {low}" + (f" and <= {high}" if high is not None else "")
        raise ConfigError(f"{key}: {value!r} is out of range (must be {rule})")


# One rule for every name that becomes a folder, DVC stage, SLURM job or file name: no path or shell
# character can reach a path (a setting named '../../x' would write outside outputs/).
SAFE_NAME = re.compile(r"[a-z0-9][a-z0-9_]*")
SAFE_NAME_RULE = "lower-case letters, digits and '_', starting with a letter or digit (regex ^[a-z0-9][a-z0-9_]*$)"


def check_name(key: str, name) -> None:
    if not isinstance(name, str) or not SAFE_NAME.fullmatch(name):
        raise ConfigError(f"{key}: {name!r} is not a safe name: it becomes a folder, stage and job name, so use {SAFE_NAME_RULE}")


def check_distinct(key: str, values) -> None:
    """A list that must be a set: a repeat would run (or count) the same thing twice."""
    seen = set()
    for i, v in enumerate(values):
        if v in seen:
            raise ConfigError(f"{key}[{i}]: {v!r} is repeated (the list must hold distinct values)")
        seen.add(v)


class _Errors:
    """Collects every finding of :func:`check`, so that `validate` reports them all at once."""

    def __init__(self):
        self.messages: list[str] = []

    def add(self, message: str) -> None:
        self.messages.append(message)

    def run(self, fn, *args) -> None:
        try:
            fn(*args)
        except ConfigError as err:
            self.messages.extend(getattr(err, "errors", None) or [str(err)])


def _get(params: Params, dotted: str):
    obj = params
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def check(params: Params) -> Params:
    """Every semantic check; raises one ConfigError listing all findings (``err.errors``)."""
    from xstilts import languages, model_bounds
    from xstilts.tasks import TASKS

    errors = _Errors()
    for name in params.intermediate.settings:
        errors.run(check_name, f"intermediate.settings.{name}", name)
    for name in params.target.groups:
        errors.run(check_name, f"target.groups.{name}", name)
    for key in ("target.seeds", "target.tasks", "retrieval.tasks", "data.languages", "intermediate.mlm_settings",
                "intermediate.translated_settings", "intermediate.translated_languages"):
        errors.run(check_distinct, key, _get(params, key))
    for name, tasks in params.intermediate.settings.items():
        errors.run(check_distinct, f"intermediate.settings.{name}", tasks)
    for name, tasks in params.target.groups.items():
        errors.run(check_distinct, f"target.groups.{name}", tasks)
    for i, seed in enumerate(params.target.seeds):
        errors.run(_in_range, f"target.seeds[{i}]", seed, _NONNEG)
    for key in ("intermediate.seed", "analysis.seed", "data.embedded.seed"):
        errors.run(_in_range, key, _get(params, key), _NONNEG)
    for key in ("model.name_or_path", "model.revision"):
        value = _get(params, key)
        if value != value.strip() or not value:
            errors.add(f"{key}: {value!r} has surrounding whitespace or is empty (a Hub id or path is used verbatim)")

    for key, allowed in _CHOICES.items():
        if _get(params, key) not in allowed:
            errors.add(f"{key}: {_get(params, key)!r} is not one of {list(allowed)}")
    for name, tasks in params.intermediate.settings.items():
        for i, t in enumerate(tasks):
            if t not in TASKS or TASKS[t].role not in ("intermediate", "both"):
                known = sorted(n for n, task in TASKS.items() if task.role in ("intermediate", "both"))
                errors.add(f"intermediate.settings.{name}[{i}]: unknown intermediate task {t!r} (known: {known})")
    if params.analysis.baseline not in params.intermediate.settings:
        errors.add(f"analysis.baseline: {params.analysis.baseline!r} is not a setting in intermediate.settings")
    for key in ("mlm_settings", "translated_settings"):
        for i, s in enumerate(getattr(params.intermediate, key)):
            if s not in params.intermediate.settings:
                errors.add(f"intermediate.{key}[{i}]: {s!r} is not a setting in intermediate.settings")
    for i, code in enumerate(params.intermediate.translated_languages):
        if code not in languages.LANGUAGES:
            errors.add(f"intermediate.translated_languages[{i}]: unknown language {code!r}")
    for i, t in enumerate(params.target.tasks):
        if t not in TASKS or TASKS[t].role not in ("target", "both") or TASKS[t].format == "bitext_retrieval":
            errors.add(f"target.tasks[{i}]: unknown trainable target task {t!r}")
    grouped = [t for g in params.target.groups.values() for t in g]
    if sorted(grouped) != sorted(params.target.tasks):
        errors.add(f"target.groups: must list every task of target.tasks exactly once (groups hold {sorted(grouped)}, tasks are {sorted(params.target.tasks)})")
    for t in params.target.per_task:
        if t not in params.target.tasks:
            errors.add(f"target.per_task.{t}: not listed in target.tasks")
    for i, t in enumerate(params.retrieval.tasks):
        if t not in TASKS or TASKS[t].format != "bitext_retrieval":
            errors.add(f"retrieval.tasks[{i}]: unknown retrieval task {t!r}")
    for default, repo in params.data.repos.items():
        if not (_REPO_ID.fullmatch(default) and _REPO_ID.fullmatch(repo)):
            errors.add(f"data.repos.{default}: expected Hub repo ids 'owner/name' on both sides, got {default!r} -> {repo!r}")
    for i, code in enumerate(params.data.languages):
        if code != "all" and code not in languages.LANGUAGES:
            errors.add(f"data.languages[{i}]: unknown language {code!r}")
    for key, bounds in _RANGES.items():
        errors.run(_in_range, key, _get(params, key), bounds)
    for task, hp in params.target.per_task.items():
        for name, bounds in _PER_TASK.items():
            errors.run(_in_range, f"target.per_task.{task}.{name}", getattr(hp, name), bounds)
    if params.target.per_task:  # a profile that sets per-task hyperparameters sets them for every target
        for t in params.target.tasks:
            if t not in params.target.per_task:
                errors.add(f"target.per_task: no entry for target {t!r} (target.tasks lists it; without one it would silently take the defaults {TargetTaskConfig()})")
    if not params.target.seeds:
        errors.add("target.seeds: [] runs nothing: list at least one seed")
    if params.intermediate.optim.epochs <= 0 and params.intermediate.optim.max_steps <= 0:
        errors.add(f"intermediate.optim.epochs: {params.intermediate.optim.epochs!r} trains nothing unless intermediate.optim.max_steps is set")
    errors.run(_check_data_root, params.data)
    if params.model.num_heads > 0 and params.model.hidden_size % params.model.num_heads:
        errors.add(f"model.hidden_size: {params.model.hidden_size} must be divisible by model.num_heads={params.model.num_heads}")
    if params.model.source == "scratch" and params.retrieval.layer > params.model.num_layers:
        errors.add(f"retrieval.layer: {params.retrieval.layer} exceeds model.num_layers={params.model.num_layers}")
    for message in model_bounds.problems(params):  # the Hub model's positions and layers (xstilts/model_bounds.py)
        errors.add(message)
    if params.profile == "embedded" and (params.data.source != "embedded" or params.model.source != "scratch"):
        errors.add(f"profile: 'embedded' needs data.source=embedded and model.source=scratch (got {params.data.source!r}, {params.model.source!r})")
    if errors.messages:
        err = ConfigError("\n".join(errors.messages))
        err.errors = errors.messages
        raise err
    return params


def _check_data_root(data: DataConfig) -> None:
    """A mirror is read, never written: DVC deletes the benchmark stage's outputs before each run."""
    root = data.root.rstrip("/")
    if data.source == "hub" and root != EMBEDDED_ROOT:
        raise ConfigError(f"data.root: {data.root!r} is not read while data.source is 'hub' (rows come from the Hugging Face cache). "
                          f"To read a local mirror in the Hub's layout set data.source: local; to read the Hub set data.root: {EMBEDDED_ROOT}")
    if data.source == "local":
        norm = root.lstrip("./")
        for owned in (EMBEDDED_ROOT, "outputs"):
            if norm == owned or norm.startswith(owned + "/"):
                raise ConfigError(f"data.root: {data.root!r} is under {owned}/, which the pipeline writes (DVC deletes it before a run): put the mirror elsewhere")


def missing_inputs(params: Params) -> list[str]:
    """Inputs a user must supply by hand that are absent, one message each naming the key to set.
    Checked by `validate` and `preflight` before any download or training; not by :func:`check`,
    so that a profile can be read (verify, report) on a machine without them."""
    import os

    from xstilts.preflight import hand_inputs

    missing = []
    if params.data.source == "local" and not os.path.isdir(params.data.root):
        missing.append(f"data.root: local mirror {params.data.root!r} does not exist (data.source: local reads <root>/<repo>/<config>/<split>-*.parquet)")
    if params.model.source == "hub" and looks_like_path(params.model.name_or_path) and not os.path.isdir(params.model.name_or_path):
        missing.append(f"model.name_or_path: local model folder {params.model.name_or_path!r} does not exist")
    for need in hand_inputs(params):
        if need.required and not need.present:
            missing.append(need.message)
    return missing


def looks_like_path(name_or_path: str) -> bool:
    """A local folder rather than a Hub repo id: it exists, or it is written as a path."""
    import os

    return os.path.isdir(name_or_path) or name_or_path.startswith((".", "/", "~")) or name_or_path.count("/") > 1


def from_dict(raw: dict) -> Params:
    raw = dict(raw or {})
    if "cluster" in raw:  # checked, but kept out of Params: where a stage runs never reaches its outputs
        from xstilts.cluster import resources

        resources.parse(raw.pop("cluster"))
    return check(_build(Params, raw, ""))


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML keeps the last of two equal keys silently; a profile with one is refused instead."""


def _unique_mapping(loader, node, deep=False):
    seen = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise ConfigError(f"duplicate key {key!r} at line {key_node.start_mark.line + 1} (first at line {seen[key]})")
        seen[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def load_yaml(path: str):
    """Read a YAML file (params, profile, overlay, study), refusing duplicate keys with their lines."""
    try:
        with open(path) as f:
            return yaml.load(f, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)
    except FileNotFoundError:
        raise ConfigError(f"params file {path!r} not found") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from None
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from None


def load(path: str = "params.yaml") -> Params:
    raw = load_yaml(path)
    try:
        return from_dict(raw)
    except ConfigError as err:
        messages = [f"{path}: {m}" for m in (getattr(err, "errors", None) or [str(err)])]
        new = ConfigError("\n".join(messages))
        new.errors = messages
        raise new from None


def merge(base: dict, overlay: dict) -> dict:
    """``base`` with ``overlay``'s values in: mappings merge key by key, anything else (a list, a
    number) replaces. How a size-only overlay (configs/rehearsal.yaml) applies to a profile."""
    out = dict(base)
    for key, value in overlay.items():
        out[key] = merge(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return out


def to_dict(params: Params) -> dict[str, Any]:
    return dataclasses.asdict(params)


def target_hparams(params: Params, task: str) -> TargetTaskConfig:
    return params.target.per_task.get(task, TargetTaskConfig())
