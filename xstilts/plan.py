"""Which runs, splits and languages the params imply: the one source of truth that the stages
(xstilts/pipeline.py), the features cache (xstilts/features.py), the DVC params test and the cost
planner (xstilts/planner.py) share. Nothing here trains, reads data or writes a file.

Phase 3 groups its targets twice, once per question:
- a *group* (a ``target.groups`` entry) is what one DVC stage runs, ``phase3@<setting>-<group>``:
  how the user spreads the targets over stages (one per task at paper scale, all in one on a CPU);
- inside a group, the targets whose training is one and the same train together
  (:func:`shared_trainings`): one run per seed, evaluated on each target.
"""

from __future__ import annotations

import os

from xstilts import config as cfg
from xstilts import languages
from xstilts.formats import format_for, num_labels
from xstilts.tasks import TASKS
from xstilts.tasks.base import Task
from xstilts.training import LoopSettings

TRAIN, DEV, TEST = "train", "dev", "test"


# ---- languages and splits ------------------------------------------------------------------


def languages_for(params: cfg.Params, task: Task) -> list[str]:
    """The task's own languages, or the configured subset (the embedded benchmark's languages)."""
    if params.data.languages == ["all"]:
        return list(task.languages)
    # A real language only where the task has it (TyDi QA has no German; BUCC and Tatoeba pair every
    # other language with English, so no "en"); the synthetic languages of the embedded benchmark
    # are in every task.
    return [lang for lang in params.data.languages if lang in task.languages or languages.get(lang).synthetic]


def task_or_configured_language(params: cfg.Params, task: Task, lang: str) -> bool:
    """Is ``lang`` one of the task's languages, or one of the configured ``data.languages``? A
    configured language counts whatever the task (unlike :func:`languages_for`, which keeps a
    configured real language only where the task has it): the translated-data selections below use it.
    With ``data.languages`` configured, only those count: a task's own language outside them is left out."""
    if params.data.languages != ["all"]:
        return lang in params.data.languages
    return lang in task.languages


def max_length_for(params: cfg.Params, task: Task) -> int:
    return min(task.max_seq_length, params.data.max_seq_length) if params.data.max_seq_length else task.max_seq_length


def limit_train(params: cfg.Params, items: list) -> list:
    """The first ``data.max_train_examples`` of a training split (0: all of it)."""
    n = params.data.max_train_examples
    return items[:n] if n else items


def target_train_task(params: cfg.Params, target: str) -> Task:
    task = TASKS[target]
    return TASKS[task.train_task] if task.train_task else task


def eval_splits(task: Task, lang: str) -> list[str]:
    """dev and test, once each: XQuAD/TyDiQA/Tatoeba have one Hub split serving as both (XTREME);
    test only where the language has no dev split (UD-POS th, tl, yo, kk, XTREME-R's additions)."""
    splits = [s for s in (DEV, TEST) if s in task.splits and not (s == DEV and lang in task.test_only)]
    if len(splits) == 2 and task.splits[DEV] == task.splits[TEST]:
        return [TEST]
    return splits


# Intermediate tasks whose machine translations exist (XTREME's translate-train data).
INTERMEDIATE_TRANSLATIONS = {"mnli": "mnli_translated", "squad_v1": "squad_translated"}


def translated_train_splits(params: cfg.Params, setting: str) -> list[tuple[str, str, str]]:
    """(head task, translated task, language) for the 'machine-translated intermediate data' variant."""
    if setting not in params.intermediate.translated_settings:
        return []
    out = []
    for name in params.intermediate.settings[setting]:
        if name in INTERMEDIATE_TRANSLATIONS:
            translated = TASKS[INTERMEDIATE_TRANSLATIONS[name]]
            out += [(name, translated.name, lang) for lang in params.intermediate.translated_languages if lang != "en" and task_or_configured_language(params, translated, lang)]
    return out


def target_train_splits(params: cfg.Params, target: str) -> list[tuple[str, str]]:
    """(task, language) whose train split fine-tunes ``target`` under ``target.regime``:
    English only (zero-shot), plus machine translations into the evaluated languages
    (translate-train-all), or plus each language's own gold training data (in-language)."""
    from xstilts.tasks import TRANSLATE_TRAIN

    train_task = target_train_task(params, target)
    out = [(train_task.name, "en")]
    langs = [lang for lang in languages_for(params, TASKS[target]) if lang != "en"]
    if params.target.regime == "translate_train":
        if target not in TRANSLATE_TRAIN:
            raise cfg.ConfigError(f"target.regime: no translate-train data for {target} (have {sorted(TRANSLATE_TRAIN)})")
        name, _ = TRANSLATE_TRAIN[target]
        out += [(name, lang) for lang in langs if task_or_configured_language(params, TASKS[name], lang)]
    elif params.target.regime == "in_language":
        if TRAIN not in TASKS[target].splits:
            raise cfg.ConfigError(f"target.regime: {target} has no in-language training data")
        # a language without gold training data (UD-POS th, tl, yo) is still evaluated, zero-shot
        out += [(target, lang) for lang in langs if lang not in TASKS[target].no_train]
    return out


def needed_splits(params: cfg.Params) -> list[tuple[str, str, str]]:
    """Every (task, split, language) whose features the training/evaluation stages read."""
    need = set()
    for setting, names in params.intermediate.settings.items():
        for name in names:
            need |= {(name, TRAIN, "en"), (name, DEV, "en")}
        need |= {(translated, TRAIN, lang) for _, translated, lang in translated_train_splits(params, setting)}
    for target in params.target.tasks:
        train_task = target_train_task(params, target)
        need |= {(train_task.name, DEV, "en")}
        need |= {(name, TRAIN, lang) for name, lang in target_train_splits(params, target)}
        task = TASKS[target]
        for lang in languages_for(params, task):
            need |= {(target, split, lang) for split in eval_splits(task, lang)}
    return sorted(need)


# ---- training loops ------------------------------------------------------------------------


def loop_settings(optim: cfg.OptimConfig, engine: cfg.EngineConfig, seed: int, **over) -> LoopSettings:
    settings = LoopSettings(lr=optim.lr, batch_size=optim.batch_size, grad_accum=optim.grad_accum, epochs=optim.epochs, max_steps=optim.max_steps, warmup=optim.warmup, weight_decay=optim.weight_decay, max_grad_norm=optim.max_grad_norm, length_grouping=engine.length_grouping, bf16=engine.bf16, tf32=engine.tf32, fused_adamw=engine.fused_adamw, compile=engine.compile, padding_free=engine.padding_free, seed=seed)
    for key, value in over.items():
        setattr(settings, key, value)
    return settings


# ---- phase 2 -------------------------------------------------------------------------------


# jiant trains "Full ANLI" as five tasks on one shared NLI head, sampled proportionally
# (guides/tasks/task_specific.md): SNLI, MNLI and ANLI rounds 1-3. Our ANLI+ reads them as one
# concatenated task (the same thing when trained alone); in a capped mixture each part is capped on
# its own, as in jiant, which gives ANLI+ about 3x MNLI's weight rather than 1x.
TASK_PARTS = {"anli_plus": ("anli-r1-", "anli-r2-", "anli-r3-", "mnli-", "snli-")}  # example-id prefixes


def task_parts(name: str, features: list[dict], example_ids: list[str]) -> dict[str, list[dict]]:
    """A task's training features split into the parts jiant trains as separate tasks (ANLI+),
    keyed ``<task>/<part>``; other tasks come back whole."""
    prefixes = TASK_PARTS.get(name)
    if not prefixes:
        return {name: features}
    parts: dict[str, list[dict]] = {f"{name}/{p.strip('-')}": [] for p in prefixes}
    for f in features:
        eid = example_ids[f["example_index"]]
        prefix = next((p for p in prefixes if eid.startswith(p)), None)
        if prefix is None:
            raise ValueError(f"{name}: training example {eid!r} belongs to none of its parts {prefixes}")
        parts[f"{name}/{prefix.strip('-')}"].append(f)
    return {k: v for k, v in parts.items() if v}


def phase2_mixture(params: cfg.Params, sizes: dict[str, int]) -> tuple[dict[str, float], int | None]:
    """Sampling probabilities of a run's training tasks, and the cap on their sizes (jiant's
    examples-proportional mixing K, 2^17) that also bounds each task's steps. The cap balances a
    mixture only: a task trained alone gets its full epochs (MNLI alone: 3 epochs, not one)."""
    from xstilts.samplers import task_probabilities

    sampler = params.intermediate.sampler
    cap = sampler.cap if sampler.kind != "proportional" and len(sizes) > 1 else None
    return task_probabilities(sizes, sampler.kind, sampler.cap, sampler.temperature), cap


# ---- phase 3 -------------------------------------------------------------------------------


def group_targets(params: cfg.Params, group: str) -> list[str]:
    """The targets of one ``target.groups`` entry: what the stage ``phase3@<setting>-<group>`` runs."""
    if group not in params.target.groups:
        raise cfg.ConfigError(f"group {group!r} is not in target.groups ({sorted(params.target.groups)})")
    return params.target.groups[group]


def shared_trainings(params: cfg.Params, targets: list[str]) -> list[list[str]]:
    """``targets`` (a group's, see the module docstring) split by the phase-3 training they share.
    Targets whose training is one and the same (English training data, head and hyperparameters)
    train once per seed and are evaluated each: XTREME's XQuAD and MLQA both fine-tune on SQuAD
    v1.1. Two runs with the same seed would give the same model (tested)."""
    trainings: dict[tuple, list[str]] = {}
    for target in targets:
        task = TASKS[target]
        hparams = cfg.target_hparams(params, target)
        key = (tuple(target_train_splits(params, target)), format_for(task).head_type, num_labels(task), hparams.epochs, hparams.batch_size, hparams.grad_accum)
        trainings.setdefault(key, []).append(target)
    return list(trainings.values())


def phase3_memory(params: cfg.Params, phase2_dir: str, trained_together: list[str], batch_size: int):
    """Estimated GPU memory of one phase-3 run of ``trained_together`` at micro-batch ``batch_size``."""
    from xstilts import memory

    task = TASKS[trained_together[0]]
    shape = memory.encoder_shape(os.path.join(phase2_dir, "encoder"))
    return memory.estimate(shape, batch_size, max_length_for(params, task), head_outputs=num_labels(task), bf16=params.engine.bf16)


def phase3_micro_batch(params: cfg.Params, phase2_dir: str, trained_together: list[str], free: int, runs: int) -> tuple[int, int]:
    """(batch_size, grad_accum) of ``trained_together``'s runs: as configured, or with ``engine.merge_micro_batches``
    the same global batch in the fewest micro-batches that fit ``runs`` runs into ``free`` bytes."""
    from xstilts import memory

    if not params.engine.merge_micro_batches:
        hparams = cfg.target_hparams(params, trained_together[0])
        return hparams.batch_size, hparams.grad_accum
    return micro_batch_for_shape(params, memory.encoder_shape(os.path.join(phase2_dir, "encoder")), trained_together, free, runs)


def micro_batch_for_shape(params: cfg.Params, shape, trained_together: list[str], free: int, runs: int) -> tuple[int, int]:
    """:func:`phase3_micro_batch` for an encoder of this shape (``memory.EncoderShape``): the planner
    prices runs before any encoder exists."""
    from xstilts import memory

    hparams = cfg.target_hparams(params, trained_together[0])
    task = TASKS[trained_together[0]]
    return memory.largest_micro_batch(shape, hparams.batch_size, hparams.grad_accum, max_length_for(params, task), free, runs, num_labels(task), params.engine.bf16)
