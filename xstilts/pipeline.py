"""One function per DVC stage. The notebooks call these; all logic lives here, where it is tested.

benchmark -> phase1 -> features -> phase2@setting -> phase3@setting-target -> retrieval -> analysis
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import multiprocessing
import os
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch

from xstilts import config as cfg
from xstilts import io, languages
from xstilts.chance import chance_level
from xstilts.formats import format_for, major_score, num_labels
from xstilts.model import MultiTaskModel, build_encoder, encoder_config, load_encoder, save_encoder
from xstilts.tasks import TASKS, with_labels
from xstilts.tasks import base as tb
from xstilts.training import LoopSettings, TrainTask, digest_features, predict, train

TRAIN, DEV, TEST = "train", "dev", "test"


# ---- shared helpers ------------------------------------------------------------------------


def device_for(params: cfg.Params) -> torch.device:
    if params.engine.num_threads:
        torch.set_num_threads(params.engine.num_threads)
    if params.engine.device == "cuda" or (params.engine.device == "auto" and torch.cuda.is_available()):
        return torch.device("cuda")
    return torch.device("cpu")


def store_for(params: cfg.Params):
    from xstilts.stores import HubStore, LocalStore

    if params.data.source == "hub":
        return HubStore(revisions=params.data.revisions, local_dirs=params.data.local_dirs, repos=params.data.repos)
    return LocalStore(params.data.root, repos=params.data.repos, local_dirs=params.data.local_dirs)


def has_language(params: cfg.Params, task: tb.Task, lang: str) -> bool:
    """Does this task have data in ``lang``? Its real languages, or the configured (synthetic) ones."""
    return lang in task.languages or (params.data.languages != ["all"] and lang in params.data.languages)


def languages_for(params: cfg.Params, task: tb.Task) -> list[str]:
    """The task's own languages, or the configured subset (the embedded benchmark's languages)."""
    if params.data.languages == ["all"]:
        return list(task.languages)
    # A real language only where the task has it (TyDi QA has no German; BUCC and Tatoeba pair every
    # other language with English, so no "en"); the synthetic languages of the embedded benchmark
    # are in every task.
    return [lang for lang in params.data.languages if lang in task.languages or languages.get(lang).synthetic]


def max_length_for(params: cfg.Params, task: tb.Task) -> int:
    return min(task.max_seq_length, params.data.max_seq_length) if params.data.max_seq_length else task.max_seq_length


def target_train_task(params: cfg.Params, target: str) -> tb.Task:
    task = TASKS[target]
    return TASKS[task.train_task] if task.train_task else task


def eval_splits(task: tb.Task, lang: str) -> list[str]:
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
    for t in params.intermediate.settings[setting]:
        if t in INTERMEDIATE_TRANSLATIONS:
            trans = TASKS[INTERMEDIATE_TRANSLATIONS[t]]
            out += [(t, trans.name, lang) for lang in params.intermediate.translated_languages if lang != "en" and has_language(params, trans, lang)]
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
        out += [(name, lang) for lang in langs if has_language(params, TASKS[name], lang)]
    elif params.target.regime == "in_language":
        if TRAIN not in TASKS[target].splits:
            raise cfg.ConfigError(f"target.regime: {target} has no in-language training data")
        # a language without gold training data (UD-POS th, tl, yo) is still evaluated, zero-shot
        out += [(target, lang) for lang in langs if lang not in TASKS[target].no_train]
    return out


def needed_splits(params: cfg.Params) -> list[tuple[str, str, str]]:
    """Every (task, split, language) whose features the training/evaluation stages read."""
    need = set()
    for setting, tasks in params.intermediate.settings.items():
        for t in tasks:
            need |= {(t, TRAIN, "en"), (t, DEV, "en")}
        need |= {(trans, TRAIN, lang) for _, trans, lang in translated_train_splits(params, setting)}
    for target in params.target.tasks:
        train_task = target_train_task(params, target)
        need |= {(train_task.name, DEV, "en")}
        need |= {(name, TRAIN, lang) for name, lang in target_train_splits(params, target)}
        task = TASKS[target]
        for lang in languages_for(params, task):
            need |= {(target, split, lang) for split in eval_splits(task, lang)}
    return sorted(need)


CHECKPOINT_ROOT = "checkpoints"  # resumable training state; git- and DVC-ignored, removed when a stage completes


def _engine_args(params: cfg.Params, run: str, live_dir: str | None) -> dict:
    """Checkpointing (every ``engine.checkpoint_every`` steps and/or ``engine.checkpoint_minutes``
    of training, and at the end of each run; both 0 = no checkpoints) and DVCLive curves."""
    e = params.engine
    return {
        "checkpoint_dir": os.path.join(CHECKPOINT_ROOT, run) if (e.checkpoint_every or e.checkpoint_minutes) else None,
        "checkpoint_every": e.checkpoint_every,
        "checkpoint_seconds": e.checkpoint_minutes * 60,
        "live_dir": live_dir,
        "desc": run,
    }


def _drop_checkpoints(run: str) -> None:
    """A completed stage's checkpoints are spent: a re-run with other params must start afresh."""
    shutil.rmtree(os.path.join(CHECKPOINT_ROOT, run), ignore_errors=True)


def _stage_header(out_dir: str, params: cfg.Params, **extra) -> None:
    """The resolved config travels with every output (nanoGPT / OLMo habit)."""
    os.makedirs(out_dir, exist_ok=True)
    io.write_json(os.path.join(out_dir, "params.resolved.json"), {"params": cfg.to_dict(params), **extra})


def _limit(items: list, n: int) -> list:
    return items[:n] if n else items


# ---- benchmark -----------------------------------------------------------------------------


def build_benchmark(params: cfg.Params, out_dir: str, manifest_path: str | None = None) -> dict:
    """The benchmark stage. Embedded: write the synthetic benchmark in Hub schemas to ``out_dir``.
    Hub / local mirror: nothing to build; ``out_dir`` holds only the manifest. Never writes to
    ``data.root`` outside the embedded profile: a user's mirror is read, never an output (DVC
    deletes a stage's outputs before running it), so dvc.yaml declares ``data/embedded`` and
    ``outputs/benchmark/manifest.json`` as outputs and the mirror only as a dependency of later stages."""
    manifest = {"source": params.data.source, "root": params.data.root, "revisions": params.data.revisions, "repos": params.data.repos}
    if params.data.source == "embedded":
        from xstilts.synthetic import SyntheticConfig, generate

        if manifest_path and os.path.realpath(out_dir) != os.path.realpath(params.data.root):
            raise cfg.ConfigError(f"data.root: the benchmark stage writes the embedded benchmark to {out_dir!r}, so later stages must read it there: set data.root: {out_dir}")
        if os.path.isdir(out_dir):
            shutil.rmtree(out_dir)
        manifest.update(generate(out_dir, SyntheticConfig(seed=params.data.embedded.seed, scale=params.data.embedded.scale)))
    else:
        from xstilts.preflight import hand_inputs

        # the first stage: a missing CCGbank stops `dvc repro` here, before the model download
        missing = [need.message for need in hand_inputs(params) if need.required and not need.present]
        if missing:
            raise cfg.ConfigError("\n".join(missing))
        # a local mirror must lie outside the stage's output (with source: hub, data.root is the
        # stage's own data/embedded, which holds only the manifest: validate requires that root)
        if params.data.source == "local" and (_inside(out_dir, params.data.root) or _inside(params.data.root, out_dir)):
            raise cfg.ConfigError(f"data.root: {params.data.root!r} overlaps {out_dir!r}, the benchmark stage's output: move the mirror elsewhere")
        os.makedirs(out_dir, exist_ok=True)
        if params.data.source == "local":
            manifest["mirror_files"] = mirror_listing(params.data.root)
        io.write_json(os.path.join(out_dir, "manifest.json"), manifest)
    if manifest_path:
        io.write_json(manifest_path, manifest)
    return manifest


def _inside(path: str, folder: str) -> bool:
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def mirror_listing(root: str) -> dict[str, int]:
    """Relative path -> size of every file of a local mirror: what the run read, without hashing it
    (DVC hashes the mirror as a dependency of the stages that read it)."""
    return {str(p.relative_to(root)): p.stat().st_size for p in sorted(Path(root).rglob("*")) if p.is_file()}


# ---- phase 1 -------------------------------------------------------------------------------


def corpus_lines(params: cfg.Params, store) -> list[str]:
    """The MLM corpus with XLM-R's language smoothing: language l is sampled with probability
    proportional to n_l^alpha (alpha 0.3 in XLM-R), which upsamples low-resource languages.
    The total number of lines stays that of the corpus; sampling is seeded."""
    corpus_dir = store.local_dir("corpus")
    per_lang = {}
    for path in sorted(Path(corpus_dir).glob("*.txt")):
        per_lang[path.stem] = [line.rstrip("\n") for line in path.open(encoding="utf-8") if line.strip()]
    total = sum(len(v) for v in per_lang.values())
    if not total:
        raise FileNotFoundError(f"no MLM corpus (*.txt) under {corpus_dir}")
    weights = {lang: len(v) ** params.phase1.language_alpha for lang, v in per_lang.items() if v}
    norm = sum(weights.values())
    rng = np.random.default_rng(params.seed)
    lines = []
    for lang, w in weights.items():
        k = int(round(total * w / norm))
        idx = rng.permutation(len(per_lang[lang]))
        idx = np.concatenate([idx, rng.integers(0, len(per_lang[lang]), max(0, k - len(idx)))])[:k]
        lines += [per_lang[lang][i] for i in idx]
    return [lines[i] for i in rng.permutation(len(lines))]


def run_phase1(params: cfg.Params, out_dir: str, log=None) -> dict:
    """Phase 1, the pretrained multilingual MLM. Embedded: train a tokenizer and a tiny XLM-R on the
    synthetic corpus. Paper: resolve the pinned XLM-R checkpoint (fails fast offline). Both write
    every output the phase1 stage declares (dvc.yaml)."""
    _stage_header(out_dir, params)
    device = device_for(params)
    if params.model.source == "hub":
        from transformers import AutoTokenizer

        from xstilts import hub
        from xstilts.model import load_pretrained_encoder, load_pretrained_mlm_head

        m = params.model
        model = hub.resolve_model(m.name_or_path, m.revision)  # a local folder or a Hub snapshot, one resolution
        tokenizer = AutoTokenizer.from_pretrained(model.path)
        tokenizer.save_pretrained(os.path.join(out_dir, "tokenizer"))
        encoder = load_pretrained_encoder(model.path)
        save_encoder(encoder, os.path.join(out_dir, "encoder"), model.provenance())  # the snapshot's commit, not "main"
        # XLM-R's own LM head, for the MLM variant of phase 2 (jiant's from_transformers_with_mlm)
        io.save_state(load_pretrained_mlm_head(model.path), os.path.join(out_dir, "mlm_head.safetensors"))
        # no MLM step is trained here: an empty curve and an empty DVCLive plots folder
        io.write_json(os.path.join(out_dir, "curve.json"), {"mlm": []})
        shutil.rmtree(os.path.join(out_dir, "live"), ignore_errors=True)
        os.makedirs(os.path.join(out_dir, "live", "plots", "metrics"))
        metrics = {"steps": 0, "source": "hub", "model": m.name_or_path, "revision": m.revision, "commit": model.commit, "vocab_size": len(tokenizer), "parameters": sum(p.numel() for p in encoder.parameters())}
        io.write_json(os.path.join(out_dir, "metrics.json"), metrics)
        return metrics

    from xstilts.formats.mlm import MaskedLM
    from xstilts.tokenization import train_tokenizer

    torch.manual_seed(params.seed)
    lines = corpus_lines(params, store_for(params))
    tokenizer = train_tokenizer(lines, params.model.vocab_size, os.path.join(out_dir, "tokenizer"))
    m = params.model
    encoder = build_encoder(encoder_config(len(tokenizer), m.hidden_size, m.num_layers, m.num_heads, m.intermediate_size, dropout=m.dropout))
    model = MultiTaskModel(encoder, m.dropout)
    model.add_head("mlm", "mlm")
    fmt = MaskedLM.for_tokenizer(tokenizer)
    features = fmt.featurize(lines, tokenizer, params.phase1.max_length, train=True)
    p1 = params.phase1
    settings = LoopSettings(lr=p1.lr, batch_size=p1.batch_size, max_steps=p1.steps, warmup=p1.warmup, weight_decay=0.01, seed=params.seed, length_grouping=params.engine.length_grouping, bf16=params.engine.bf16, fused_adamw=params.engine.fused_adamw, compile=params.engine.compile, log_every=25)
    curve = []
    result = train(model, {"mlm": TrainTask("mlm", fmt, features)}, settings, device=device, pad_id=tokenizer.pad_token_id, log=curve.append, **_engine_args(params, "phase1", os.path.join(out_dir, "live")))
    save_encoder(model.encoder, os.path.join(out_dir, "encoder"), {"source": "scratch", "steps": result.steps})
    io.save_state(model.heads["mlm"].state_dict(), os.path.join(out_dir, "mlm_head.safetensors"))
    io.write_json(os.path.join(out_dir, "curve.json"), {"mlm": curve})
    metrics = {"steps": result.steps, "final_loss": curve[-1]["loss"], "lines": len(lines), "vocab_size": len(tokenizer), "seconds": round(result.seconds, 1), "parameters": sum(p.numel() for p in encoder.parameters())}
    io.write_json(os.path.join(out_dir, "metrics.json"), metrics)
    _drop_checkpoints("phase1")
    return metrics


# ---- features (tokenized caches) -------------------------------------------------------------


# Every module whose code shapes the cached features (reading, labelling, tokenizing, featurizing,
# writing): the key below hashes them, and dvc.yaml's features stage lists them.
# tests/test_pipeline_stages.py checks both cover every xstilts file the features stage runs.
FEATURE_CODE = ("pipeline.py", "io.py", "stores.py", "hub.py", "languages.py", "tokenization.py", "formats", "tasks")


def feature_code_files() -> set[str]:
    """The files of FEATURE_CODE, repo-relative (``xstilts/...``)."""
    root = Path(__file__).parent
    files = set()
    for entry in FEATURE_CODE:
        path = root / entry
        files |= set(path.rglob("*.py")) if path.is_dir() else {path}
    return {str(p.relative_to(root.parent)) for p in files}


def _code_fingerprint() -> str:
    """Hash of the feature-shaping code, so a changed featuriser invalidates cached features."""
    h = hashlib.sha256()
    root = Path(__file__).parent.parent
    for rel in sorted(feature_code_files()):
        h.update(rel.encode() + b"\0" + (root / rel).read_bytes())
    return h.hexdigest()[:16]


def features_key(tokenizer_dir: str, task: tb.Task, max_length: int) -> dict:
    tok_hash = hashlib.sha256(Path(tokenizer_dir, "tokenizer.json").read_bytes()).hexdigest()[:16]
    return {"task": task.name, "task_version": task.version, "max_length": max_length, "tokenizer": tok_hash, "code": _code_fingerprint()}


def build_features(params: cfg.Params, phase1_dir: str, out_dir: str) -> dict:
    from xstilts.tokenization import load_tokenizer

    _stage_header(out_dir, params)
    tokenizer_dir = os.path.join(phase1_dir, "tokenizer")
    tokenizer = load_tokenizer(tokenizer_dir)
    store = store_for(params)
    summary = {}
    for name, split, lang in needed_splits(params):
        task = with_labels(name, store)
        examples = task.load(store, split, lang)
        if split == TRAIN:
            examples = _limit(examples, params.data.max_train_examples)
        feats, summary[f"{name}/{split}.{lang}"] = featurize_split(params, task, examples, tokenizer, split, lang)
        io.write_rows(os.path.join(out_dir, name, f"{split}.{lang}.parquet"), feats)
    key = {n: features_key(tokenizer_dir, TASKS[n], max_length_for(params, TASKS[n])) for n in sorted({n for n, _, _ in needed_splits(params)})}
    io.write_json(os.path.join(out_dir, "keys.json"), key)
    io.write_json(os.path.join(out_dir, "provenance.json"), store.provenance())  # the commit of every dataset read
    io.write_json(os.path.join(out_dir, "summary.json"), summary)
    return summary


def featurize_split(params: cfg.Params, task: tb.Task, examples: list, tokenizer, split: str, lang: str) -> tuple[list[dict], dict]:
    """Features of one split and its line in the stage's summary.json. QA training examples whose
    answer cannot be located are counted there ("dropped"), and fail the stage above
    span_qa.MAX_DROPPED_FRACTION of the split."""
    from xstilts.formats.span_qa import SpanQA, check_dropped

    fmt = format_for(task)
    feats = fmt.featurize(examples, tokenizer, max_length_for(params, task), train=split == TRAIN)
    entry = {"examples": len(examples), "features": len(feats)}
    if split == TRAIN and isinstance(fmt, SpanQA):
        entry["dropped"] = len(fmt.dropped)
        check_dropped(fmt.dropped, len(examples), f"task {task.name}, split {split}.{lang}")
    return feats, entry


class StaleFeaturesError(RuntimeError):
    pass


def load_features(params: cfg.Params, features_dir: str, tokenizer_dir: str, task: tb.Task, split: str, lang: str) -> list[dict]:
    keys = io.read_json(os.path.join(features_dir, "keys.json"))
    expected = features_key(tokenizer_dir, task, max_length_for(params, task))
    if keys.get(task.name) != expected:
        raise StaleFeaturesError(f"cached features of {task.name} in {features_dir} were built with {keys.get(task.name)}, now {expected}: rebuild them (dvc repro features)")
    rows = io.read_rows(os.path.join(features_dir, task.name, f"{split}.{lang}.parquet"))
    return _limit(rows, params.data.max_train_examples) if split == TRAIN else rows


# ---- evaluation of one task on one split/language ---------------------------------------------


def evaluate_split(model, task: tb.Task, features, examples, *, device, pad_id, batch_size, lang, head: str | None = None) -> tuple[list, dict | None]:
    fmt = format_for(task)
    outputs = predict(model, head or task.name, fmt, features, device=device, pad_id=pad_id, batch_size=batch_size)
    predictions = fmt.predict(outputs, features, examples)
    scores = fmt.score(predictions, examples, task.metric, lang) if fmt.labelled(examples) else None
    return predictions, scores


def _gold(example):
    for attr in ("label", "tags", "answers_text"):
        if hasattr(example, attr):
            return getattr(example, attr)
    return None


def save_predictions(path: str, examples, predictions) -> None:
    io.write_jsonl(path, [{"id": e.id, "prediction": p, "gold": _gold(e)} for e, p in zip(examples, predictions)])


# ---- phase 2 -------------------------------------------------------------------------------


def _loop_settings(o: cfg.OptimConfig, engine: cfg.EngineConfig, seed: int, **over) -> LoopSettings:
    s = LoopSettings(lr=o.lr, batch_size=o.batch_size, grad_accum=o.grad_accum, epochs=o.epochs, max_steps=o.max_steps, warmup=o.warmup, weight_decay=o.weight_decay, max_grad_norm=o.max_grad_norm, length_grouping=engine.length_grouping, bf16=engine.bf16, fused_adamw=engine.fused_adamw, compile=engine.compile, seed=seed)
    for k, v in over.items():
        setattr(s, k, v)
    return s


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

    sp = params.intermediate.sampler
    cap = sp.cap if sp.kind != "proportional" and len(sizes) > 1 else None
    return task_probabilities(sizes, sp.kind, sp.cap, sp.temperature), cap


def run_phase2(params: cfg.Params, setting: str, phase1_dir: str, features_dir: str, out_dir: str) -> dict:
    """Phase 2: English intermediate-task training of the phase-1 encoder (none = phase 1 as is)."""
    from xstilts.tokenization import load_tokenizer

    if setting not in params.intermediate.settings:
        raise cfg.ConfigError(f"setting {setting!r} is not in intermediate.settings ({sorted(params.intermediate.settings)})")
    _stage_header(out_dir, params, setting=setting)
    device = device_for(params)
    tokenizer_dir = os.path.join(phase1_dir, "tokenizer")
    tokenizer = load_tokenizer(tokenizer_dir)
    encoder = load_encoder(os.path.join(phase1_dir, "encoder"))
    task_names = params.intermediate.settings[setting]
    metrics: dict = {"setting": setting, "tasks": task_names}
    if not task_names:  # the baseline: XLM-R with no intermediate task
        save_encoder(encoder, os.path.join(out_dir, "encoder"), {"setting": setting, "phase1": phase1_dir})
        io.write_json(os.path.join(out_dir, "metrics.json"), metrics)
        io.write_json(os.path.join(out_dir, "curve.json"), {"loss": []})
        return metrics

    torch.manual_seed(params.intermediate.seed)  # fresh heads: their init must not depend on what ran before
    model = MultiTaskModel(encoder, params.model.dropout)
    store = store_for(params)
    train_tasks, dev = {}, {}
    mixture = len(task_names) > 1 or setting in params.intermediate.mlm_settings
    for name in task_names:
        task = with_labels(name, store)
        fmt = format_for(task)
        model.add_head(name, fmt.head_type, num_labels(task))
        feats = load_features(params, features_dir, tokenizer_dir, task, TRAIN, "en")
        for head, trans, lang in translated_train_splits(params, setting):
            if head == name:  # translations share the English task's head
                feats = feats + load_features(params, features_dir, tokenizer_dir, TASKS[trans], TRAIN, lang)
        if mixture and name in TASK_PARTS:
            ids = [e.id for e in _limit(task.load(store, TRAIN, "en"), params.data.max_train_examples)]
            train_tasks.update({part: TrainTask(name, fmt, f) for part, f in task_parts(name, feats, ids).items()})
        else:
            train_tasks[name] = TrainTask(name, fmt, feats)
        dev[name] = load_features(params, features_dir, tokenizer_dir, task, DEV, "en")
    if setting in params.intermediate.mlm_settings:  # continue multilingual MLM as an extra task
        n_lines = params.intermediate.mlm_lines or max(len(t.features) for t in train_tasks.values())
        train_tasks["mlm"] = mlm_train_task(params, model, tokenizer, phase1_dir, store, n_lines)
    probs, cap = phase2_mixture(params, {n: len(t.features) for n, t in train_tasks.items()})
    settings = _loop_settings(params.intermediate.optim, params.engine, params.intermediate.seed)
    curve: list[dict] = []
    result = train(model, train_tasks, settings, device=device, pad_id=tokenizer.pad_token_id, probabilities=probs, log=curve.append, cap=cap, **_engine_args(params, f"phase2/{setting}", None))
    for name in task_names:  # intermediate-task dev scores, as their own benchmarks report them
        task = with_labels(name, store)
        examples = task.load(store, DEV, "en")
        _, scores = evaluate_split(model, task, dev[name], examples, device=device, pad_id=tokenizer.pad_token_id, batch_size=params.engine.eval_batch_size, lang="en")
        metrics[name] = scores
    metrics.update({"steps": result.steps, "seconds": round(result.seconds, 1), "probabilities": probs, "tokens": result.tokens, "padded_tokens": result.padded_tokens})
    save_encoder(model.encoder, os.path.join(out_dir, "encoder"), {"setting": setting, "tasks": task_names})
    io.write_json(os.path.join(out_dir, "metrics.json"), metrics)
    io.write_json(os.path.join(out_dir, "curve.json"), {"loss": [r for r in curve if "loss" in r]})
    _drop_checkpoints(f"phase2/{setting}")
    return metrics


def mlm_train_task(params: cfg.Params, model: MultiTaskModel, tokenizer, phase1_dir: str, store, n_lines: int) -> TrainTask:
    """The multilingual MLM task of the 'multi-task + MLM' variant, with phase 1's LM head."""
    from xstilts.formats.mlm import MaskedLM

    load_mlm_head(model, phase1_dir)
    fmt = MaskedLM.for_tokenizer(tokenizer)
    return TrainTask("mlm", fmt, fmt.featurize(corpus_lines(params, store)[:n_lines], tokenizer, params.phase1.max_length, train=True))


def load_mlm_head(model: MultiTaskModel, phase1_dir: str) -> None:
    """The encoder is a pretrained MLM (XLM-R from the Hub, or phase 1's): its LM head goes with it,
    as jiant's from_transformers_with_mlm keeps it; a fresh head would first unlearn the encoder."""
    head_path = os.path.join(phase1_dir, "mlm_head.safetensors")
    if not os.path.exists(head_path):
        raise FileNotFoundError(f"{head_path} is missing: phase 1 writes the pretrained LM head there (dvc repro phase1)")
    model.add_head("mlm", "mlm")
    model.heads["mlm"].load_state_dict(io.load_state(head_path))  # strict: every key, no other


# ---- phase 3 -------------------------------------------------------------------------------


def training_units(params: cfg.Params, targets: list[str]) -> list[list[str]]:
    """Targets whose phase-3 training runs are one and the same (English training data, head and
    hyperparameters) train once per seed and are evaluated each: XTREME's XQuAD and MLQA both
    fine-tune on SQuAD v1.1. Two runs with the same seed would give the same model (tested)."""
    units: dict[tuple, list[str]] = {}
    for t in targets:
        task = TASKS[t]
        hp = cfg.target_hparams(params, t)
        key = (tuple(target_train_splits(params, t)), format_for(task).head_type, num_labels(task), hp.epochs, hp.batch_size, hp.grad_accum)
        units.setdefault(key, []).append(t)
    return list(units.values())


def run_phase3(params: cfg.Params, setting: str, targets: list[str], phase2_dir: str, phase1_dir: str, features_dir: str, out_root: str, micro: tuple[int, int] | None = None) -> dict[str, dict]:
    """Phase 3 for one training unit (see :func:`training_units`): fine-tune the phase-2 encoder on
    the English training data (one run per seed), early-stop on the English dev subset, then
    evaluate zero-shot in every language of every target, written to ``out_root/<target>``.
    ``micro``: (batch_size, grad_accum) for the same global batch (:func:`phase3_micro_batch`)."""
    from xstilts.tokenization import load_tokenizer

    if len(training_units(params, targets)) != 1:
        raise ValueError(f"targets {targets} do not share one training run: {training_units(params, targets)}")
    train_task = target_train_task(params, targets[0])
    # The head is named after the training task: the name seeds the batch order, so a run depends
    # on its training data, hyperparameters and seed only, whichever targets it is evaluated on.
    head = train_task.name
    for target in targets:
        _stage_header(os.path.join(out_root, target), params, setting=setting, target=target, trained_with=targets)
    device = device_for(params)
    tokenizer_dir = os.path.join(phase1_dir, "tokenizer")
    pad_id = load_tokenizer(tokenizer_dir).pad_token_id
    task = TASKS[targets[0]]
    fmt = format_for(task)
    hp = cfg.target_hparams(params, targets[0])
    t = params.target
    train_feats = [f for name, lang in target_train_splits(params, targets[0]) for f in load_features(params, features_dir, tokenizer_dir, TASKS[name], TRAIN, lang)]
    dev_feats = load_features(params, features_dir, tokenizer_dir, train_task, DEV, "en")[: t.eval_subset]
    store = store_for(params)
    dev_examples = train_task.load(store, DEV, "en")
    eval_sets = {target: {(split, lang): (TASKS[target].load(store, split, lang), load_features(params, features_dir, tokenizer_dir, TASKS[target], split, lang))
                          for lang in languages_for(params, TASKS[target]) for split in eval_splits(TASKS[target], lang)} for target in targets}

    runs: dict[str, dict] = {target: {} for target in targets}
    for seed in t.seeds:
        torch.manual_seed(seed)
        model = MultiTaskModel(load_encoder(os.path.join(phase2_dir, "encoder")), params.model.dropout)
        model.add_head(head, fmt.head_type, num_labels(task))  # a fresh head: phase-2 heads are discarded

        def dev_score(m, feats=dev_feats):
            # English dev of the training task, first eval_subset features (jiant's early-stopping set)
            examples_used = sorted({f["example_index"] for f in feats})
            remap = {old: new for new, old in enumerate(examples_used)}
            sub_examples = [dev_examples[i] for i in examples_used]
            sub_feats = [{**f, "example_index": remap[f["example_index"]]} for f in feats]
            _, scores = evaluate_split(m, train_task, sub_feats, sub_examples, device=device, pad_id=pad_id, batch_size=params.engine.eval_batch_size, lang="en", head=head)
            return major_score(scores)

        batch_size, grad_accum = micro or (hp.batch_size, hp.grad_accum)
        loop = _loop_settings(cfg.OptimConfig(lr=t.lr, batch_size=batch_size, grad_accum=grad_accum, epochs=hp.epochs, warmup=t.warmup, weight_decay=t.weight_decay, max_grad_norm=t.max_grad_norm), params.engine, seed, eval_every=t.eval_every, patience=t.patience)
        curve: list[dict] = []
        # the early-stopping dev set decides the best weights: a checkpoint is resumed only with the same
        result = train(model, {head: TrainTask(head, fmt, train_feats)}, loop, device=device, pad_id=pad_id, evaluate=dev_score, log=curve.append, inputs={"dev": digest_features(dev_feats)}, **_engine_args(params, f"phase3/{setting}-{targets[0]}/seed{seed}", None))
        for target in targets:
            run = {"steps": result.steps, "best_dev": result.best_score, "best_step": result.best_step, "stopped_early": result.stopped_early, "seconds": round(result.seconds, 1), "scores": {}}
            if (batch_size, grad_accum) != (hp.batch_size, hp.grad_accum):
                run["micro_batch"] = [batch_size, grad_accum]  # the global batch, taken in fewer micro-batches
            for (split, lang), (examples, feats) in eval_sets[target].items():
                preds, scores = evaluate_split(model, TASKS[target], feats, examples, device=device, pad_id=pad_id, batch_size=params.engine.eval_batch_size, lang=lang, head=head)
                save_predictions(os.path.join(out_root, target, f"seed{seed}", "predictions", f"{split}.{lang}.jsonl"), examples, preds)
                run["scores"].setdefault(split, {})[lang] = scores
            io.write_json(os.path.join(out_root, target, f"seed{seed}", "curve.json"), {"loss": [r for r in curve if "loss" in r], "dev": result.history})
            runs[target][str(seed)] = run
    out = {}
    for target in targets:
        chance: dict = {split: {} for split, _ in eval_sets[target]}
        for (split, lang), (examples, _) in eval_sets[target].items():
            if fmt.labelled(examples):
                chance[split][lang] = chance_level(TASKS[target], examples, lang)
        out[target] = {"setting": setting, "target": target, "train_task": train_task.name, "trained_with": targets, "seeds": runs[target], "chance": chance}
        io.write_json(os.path.join(out_root, target, "metrics.json"), out[target])
    _drop_checkpoints(f"phase3/{setting}-{targets[0]}")
    return out


def worker_context(threads: int):
    """fork skips re-importing torch in each worker, but a forked child may hang in OpenMP once it
    runs multi-threaded ops; single-threaded workers never enter a parallel region."""
    return multiprocessing.get_context("fork" if sys.platform == "linux" and threads == 1 else "spawn")


def phase3_memory(params: cfg.Params, phase2_dir: str, unit: list[str], batch_size: int):
    """Estimated GPU memory of one phase-3 run of ``unit`` at micro-batch ``batch_size``."""
    from xstilts import memory

    task = TASKS[unit[0]]
    shape = memory.encoder_shape(os.path.join(phase2_dir, "encoder"))
    return memory.estimate(shape, batch_size, max_length_for(params, task), head_outputs=num_labels(task), bf16=params.engine.bf16)


def phase3_micro_batch(params: cfg.Params, phase2_dir: str, unit: list[str], free: int, runs: int) -> tuple[int, int]:
    """(batch_size, grad_accum) of ``unit``'s runs: as configured, or with ``engine.merge_micro_batches``
    the same global batch in the fewest micro-batches that fit ``runs`` runs into ``free`` bytes."""
    from xstilts import memory

    if not params.engine.merge_micro_batches:
        hp = cfg.target_hparams(params, unit[0])
        return hp.batch_size, hp.grad_accum
    return micro_batch_for_shape(params, memory.encoder_shape(os.path.join(phase2_dir, "encoder")), unit, free, runs)


def micro_batch_for_shape(params: cfg.Params, shape, unit: list[str], free: int, runs: int) -> tuple[int, int]:
    """:func:`phase3_micro_batch` for an encoder of this shape (``memory.EncoderShape``): the planner
    prices runs before any encoder exists."""
    from xstilts import memory

    hp = cfg.target_hparams(params, unit[0])
    task = TASKS[unit[0]]
    return memory.largest_micro_batch(shape, hp.batch_size, hp.grad_accum, max_length_for(params, task), free, runs, num_labels(task), params.engine.bf16)


def run_phase3_group(params: cfg.Params, setting: str, group: str, phase2_dir: str, phase1_dir: str, features_dir: str, out_dir: str) -> dict:
    """Every target of one ``target.groups`` entry, each in ``out_dir/<target>``."""
    if group not in params.target.groups:
        raise cfg.ConfigError(f"group {group!r} is not in target.groups ({sorted(params.target.groups)})")
    targets = params.target.groups[group]

    units = training_units(params, targets)

    def args(unit: list[str]) -> tuple:
        return setting, unit, phase2_dir, phase1_dir, features_dir, out_dir

    workers = min(params.engine.parallel_runs, len(units))
    device = device_for(params)
    micro = {}
    if device.type == "cuda":  # GPU memory decides how many runs share the device and their micro-batches
        from xstilts import memory

        free = memory.free_memory(device)
        micro = {tuple(u): phase3_micro_batch(params, phase2_dir, u, free, workers) for u in units}
        biggest = max((phase3_memory(params, phase2_dir, u, micro[tuple(u)][0]) for u in units), key=lambda r: r.total)
        if workers > 1:
            memory.check_parallel_runs(workers, biggest, free, str(device))
    if workers <= 1:
        results = {}
        for unit in units:
            results.update(run_phase3(params, *args(unit), micro=micro.get(tuple(unit))))
        return {t: results[t] for t in targets}
    if device.type == "cuda":  # CUDA cannot be used in a forked child
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = [pool.submit(run_phase3, params, *args(unit), micro=micro[tuple(unit)]) for unit in units]
            results = {k: v for f in futures for k, v in f.result().items()}
        return {t: results[t] for t in targets}
    # Tiny CPU runs barely use a second thread, so independent targets run side by side, the
    # stage's threads split between them. Every run seeds itself: results do not depend on
    # which process ran it.
    threads = max(1, (params.engine.num_threads or torch.get_num_threads()) // workers)
    per_run = dataclasses.replace(params, engine=dataclasses.replace(params.engine, num_threads=threads, parallel_runs=1))
    with ProcessPoolExecutor(workers, mp_context=worker_context(threads)) as pool:
        futures = [pool.submit(run_phase3, per_run, *args(unit)) for unit in units]
        results = {}
        for f in futures:
            results.update(f.result())
        return {t: results[t] for t in targets}


# ---- retrieval -----------------------------------------------------------------------------


def retrieval_protocols(params: cfg.Params, store) -> dict:
    """Per retrieval task that has one, how its dev is obtained (bucc2018: the sample set or the held-out rule)."""
    from xstilts.tasks import bucc2018

    return {"bucc2018": bucc2018.protocol(store)} if "bucc2018" in params.retrieval.tasks else {}


def run_retrieval(params: cfg.Params, settings: list[str], phase2_root: str, phase1_dir: str, out_dir: str) -> dict:
    """BUCC mining and Tatoeba retrieval straight from each phase-2 encoder (no target training):
    mean-pooled hidden states of ``retrieval.layer`` over non-padding tokens."""
    from xstilts import retrieval
    from xstilts.tokenization import load_tokenizer

    _stage_header(out_dir, params)
    device = device_for(params)
    tokenizer = load_tokenizer(os.path.join(phase1_dir, "tokenizer"))
    store = store_for(params)
    r = params.retrieval
    metrics: dict = {}
    protocols = retrieval_protocols(params, store)
    for name, proto in protocols.items():  # in the stage output: how BUCC's threshold is tuned
        print(f"{name}: threshold tuned on {proto['dev']}; scores on {proto['test']}" + (f"\n  {proto['note']}" if proto["deviation"] else ""))
    io.write_json(os.path.join(out_dir, "protocol.json"), protocols)  # verify and the report mark a deviation
    for setting in settings:
        encoder = load_encoder(os.path.join(phase2_root, setting, "encoder")).to(device).eval()
        cache: dict = {}  # candidate pools shared by query languages are embedded once per encoder
        for name in r.tasks:
            task = TASKS[name]
            for lang in languages_for(params, task):
                res = retrieval.evaluate_task(task, store, lang, encoder, tokenizer, layer=r.layer, max_length=min(r.max_length, encoder.config.max_position_embeddings - 2), k=r.k, device=device, batch_size=params.engine.eval_batch_size, cache=cache)
                metrics.setdefault(setting, {}).setdefault(name, {})[lang] = {**res["scores"], "chance": res["chance"]}
                io.write_jsonl(os.path.join(out_dir, setting, name, f"{lang}.jsonl"), res["predictions"])
    io.write_json(os.path.join(out_dir, "provenance.json"), store.provenance())  # the commit of every dataset read
    io.write_json(os.path.join(out_dir, "metrics.json"), metrics)
    return metrics
