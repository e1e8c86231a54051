"""One function per DVC stage; the notebooks call these, so what they run is tested here.

benchmark -> phase1 -> features -> phase2@setting -> phase3@setting-group -> retrieval -> analysis

What to run comes from xstilts/plan.py, the feature cache from xstilts/features.py, scores from
xstilts/evaluation.py; the functions here drive them and write each stage's outputs.
"""

from __future__ import annotations

import dataclasses
import functools
import multiprocessing
import os
import shutil
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch

from xstilts import config as cfg
from xstilts import io, plan
from xstilts.chance import chance_level
from xstilts.evaluation import early_stopping_score, evaluate_split, save_predictions
from xstilts.features import load_features, write_features
from xstilts.formats import format_for, num_labels
from xstilts.model import MultiTaskModel, build_encoder, encoder_config, load_encoder, save_encoder
from xstilts.plan import DEV, TRAIN, languages_for, loop_settings
from xstilts.tasks import TASKS, with_labels
from xstilts.training import LoopSettings, TrainTask, digest_features, train


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


TRAIN_LOG = "train.log"  # a training run's progress lines, beside its curve.json
CHECKPOINT_ROOT = "checkpoints"  # resumable training state; git- and DVC-ignored, removed when a stage completes


def _engine_args(params: cfg.Params, run: str, log_path: str) -> dict:
    """Checkpointing (every ``engine.checkpoint_every`` steps and/or ``engine.checkpoint_minutes``
    of training, and at the end of each run; both 0 = no checkpoints) and the run's progress log
    (``log_path``, a declared stage output: the notebook shows a summary, not every line)."""
    engine = params.engine
    return {
        "checkpoint_dir": os.path.join(CHECKPOINT_ROOT, run) if (engine.checkpoint_every or engine.checkpoint_minutes) else None,
        "checkpoint_every": engine.checkpoint_every,
        "checkpoint_seconds": engine.checkpoint_minutes * 60,
        "log_path": log_path,
        "desc": run,
    }


def _empty_log(path: str) -> None:
    with io.atomic_path(path) as tmp:
        open(tmp, "w").close()


def _drop_checkpoints(run: str) -> None:
    """A completed stage's checkpoints are spent: a re-run with other params must start afresh."""
    shutil.rmtree(os.path.join(CHECKPOINT_ROOT, run), ignore_errors=True)


def _stage_header(out_dir: str, params: cfg.Params, **extra) -> None:
    """The resolved config travels with every output (nanoGPT / OLMo habit)."""
    os.makedirs(out_dir, exist_ok=True)
    io.write_json(os.path.join(out_dir, "params.resolved.json"), {"params": cfg.to_dict(params), **extra})


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

        model_params = params.model
        model = hub.resolve_model(model_params.name_or_path, model_params.revision)  # a local folder or a Hub snapshot, one resolution
        tokenizer = AutoTokenizer.from_pretrained(model.path)
        tokenizer.save_pretrained(os.path.join(out_dir, "tokenizer"))
        encoder = load_pretrained_encoder(model.path, pooler=model_params.pooler)
        save_encoder(encoder, os.path.join(out_dir, "encoder"), model.provenance())  # the snapshot's commit, not "main"
        # XLM-R's own LM head, for the MLM variant of phase 2 (jiant's from_transformers_with_mlm)
        io.save_state(load_pretrained_mlm_head(model.path), os.path.join(out_dir, "mlm_head.safetensors"))
        # no MLM step is trained here: an empty curve and an empty log, so that every declared out exists
        io.write_json(os.path.join(out_dir, "curve.json"), {"mlm": []})
        _empty_log(os.path.join(out_dir, TRAIN_LOG))
        metrics = {"steps": 0, "source": "hub", "model": model_params.name_or_path, "revision": model_params.revision, "commit": model.commit, "vocab_size": len(tokenizer), "parameters": sum(p.numel() for p in encoder.parameters())}
        io.write_json(os.path.join(out_dir, "metrics.json"), metrics)
        return metrics

    from xstilts.formats.mlm import MaskedLM
    from xstilts.tokenization import train_tokenizer

    torch.manual_seed(params.seed)
    lines = corpus_lines(params, store_for(params))
    tokenizer = train_tokenizer(lines, params.model.vocab_size, os.path.join(out_dir, "tokenizer"))
    model_params = params.model
    encoder = build_encoder(encoder_config(len(tokenizer), model_params.hidden_size, model_params.num_layers, model_params.num_heads, model_params.intermediate_size, dropout=model_params.dropout), pooler=model_params.pooler)
    model = MultiTaskModel(encoder, model_params.dropout)
    model.add_head("mlm", "mlm")
    fmt = MaskedLM.for_tokenizer(tokenizer)
    mlm_features = fmt.featurize(lines, tokenizer, params.phase1.max_length, train=True)
    phase1 = params.phase1
    settings = LoopSettings(lr=phase1.lr, batch_size=phase1.batch_size, max_steps=phase1.steps, warmup=phase1.warmup, weight_decay=0.01, seed=params.seed, length_grouping=params.engine.length_grouping, bf16=params.engine.bf16, tf32=params.engine.tf32, fused_adamw=params.engine.fused_adamw, compile=params.engine.compile, padding_free=params.engine.padding_free, log_every=25)
    curve = []
    result = train(model, {"mlm": TrainTask("mlm", fmt, mlm_features)}, settings, device=device, pad_id=tokenizer.pad_token_id, log=curve.append, **_engine_args(params, "phase1", os.path.join(out_dir, TRAIN_LOG)))
    save_encoder(model.encoder, os.path.join(out_dir, "encoder"), {"source": "scratch", "steps": result.steps})
    io.save_state(model.heads["mlm"].state_dict(), os.path.join(out_dir, "mlm_head.safetensors"))
    io.write_json(os.path.join(out_dir, "curve.json"), {"mlm": curve})
    metrics = {"steps": result.steps, "final_loss": curve[-1]["loss"], "lines": len(lines), "vocab_size": len(tokenizer), "seconds": round(result.seconds, 1), "parameters": sum(p.numel() for p in encoder.parameters())}
    io.write_json(os.path.join(out_dir, "metrics.json"), metrics)
    _drop_checkpoints("phase1")
    return metrics


# ---- features ------------------------------------------------------------------------------


def build_features(params: cfg.Params, phase1_dir: str, out_dir: str) -> dict:
    """The features stage: every split the later stages read, tokenized with phase 1's tokenizer
    into the feature cache (xstilts/features.py)."""
    _stage_header(out_dir, params)
    store = store_for(params)
    summary = write_features(params, store, os.path.join(phase1_dir, "tokenizer"), out_dir)
    io.write_json(os.path.join(out_dir, "provenance.json"), store.provenance())  # the commit of every dataset read
    io.write_json(os.path.join(out_dir, "summary.json"), summary)
    return summary


# ---- phase 2 -------------------------------------------------------------------------------


def run_phase2(params: cfg.Params, setting: str, phase1_dir: str, features_dir: str, out_dir: str) -> dict:
    """Phase 2: English intermediate-task training of the phase-1 encoder (none = phase 1 as is)."""
    from xstilts.tokenization import load_tokenizer

    if setting not in params.intermediate.settings:
        raise cfg.ConfigError(f"setting {setting!r} is not in intermediate.settings ({sorted(params.intermediate.settings)})")
    _stage_header(out_dir, params, setting=setting)
    device = device_for(params)
    tokenizer_dir = os.path.join(phase1_dir, "tokenizer")
    tokenizer = load_tokenizer(tokenizer_dir)
    encoder = load_encoder(os.path.join(phase1_dir, "encoder"), pooler=params.model.pooler)
    task_names = params.intermediate.settings[setting]
    metrics: dict = {"setting": setting, "tasks": task_names}
    if not task_names:  # the baseline: XLM-R with no intermediate task
        save_encoder(encoder, os.path.join(out_dir, "encoder"), {"setting": setting, "phase1": phase1_dir})
        io.write_json(os.path.join(out_dir, "metrics.json"), metrics)
        io.write_json(os.path.join(out_dir, "curve.json"), {"loss": []})
        _empty_log(os.path.join(out_dir, TRAIN_LOG))  # a declared out: nothing trained, nothing logged
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
        for head, translated, lang in plan.translated_train_splits(params, setting):
            if head == name:  # translations share the English task's head
                feats = feats + load_features(params, features_dir, tokenizer_dir, TASKS[translated], TRAIN, lang)
        if mixture and name in plan.TASK_PARTS:
            ids = [e.id for e in plan.limit_train(params, task.load(store, TRAIN, "en"))]
            train_tasks.update({part: TrainTask(name, fmt, f) for part, f in plan.task_parts(name, feats, ids).items()})
        else:
            train_tasks[name] = TrainTask(name, fmt, feats)
        dev[name] = load_features(params, features_dir, tokenizer_dir, task, DEV, "en")
    if setting in params.intermediate.mlm_settings:  # continue multilingual MLM as an extra task
        n_lines = params.intermediate.mlm_lines or max(len(train_task.features) for train_task in train_tasks.values())
        train_tasks["mlm"] = mlm_train_task(params, model, tokenizer, phase1_dir, store, n_lines)
    probs, cap = plan.phase2_mixture(params, {n: len(train_task.features) for n, train_task in train_tasks.items()})
    settings = loop_settings(params.intermediate.optim, params.engine, params.intermediate.seed)
    curve: list[dict] = []
    result = train(model, train_tasks, settings, device=device, pad_id=tokenizer.pad_token_id, probabilities=probs, log=curve.append, cap=cap, **_engine_args(params, f"phase2/{setting}", os.path.join(out_dir, TRAIN_LOG)))
    for name in task_names:  # intermediate-task dev scores, as their own benchmarks report them
        task = with_labels(name, store)
        examples = task.load(store, DEV, "en")
        _, scores = evaluate_split(model, task, dev[name], examples, device=device, pad_id=tokenizer.pad_token_id, batch_size=params.engine.eval_batch_size, bf16=params.engine.bf16, tf32=params.engine.tf32, lang="en")
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


def run_phase3(params: cfg.Params, setting: str, targets: list[str], phase2_dir: str, phase1_dir: str, features_dir: str, out_root: str, micro: tuple[int, int] | None = None) -> dict[str, dict]:
    """Phase 3 for targets that share one training (:func:`plan.shared_trainings`): fine-tune the
    phase-2 encoder on the English training data (one run per seed), early-stop on the English dev
    subset, then evaluate zero-shot in every language of every target, written to ``out_root/<target>``.
    ``micro``: (batch_size, grad_accum) for the same global batch (:func:`plan.phase3_micro_batch`)."""
    from xstilts.tokenization import load_tokenizer

    if len(plan.shared_trainings(params, targets)) != 1:
        raise ValueError(f"targets {targets} do not share one training run: {plan.shared_trainings(params, targets)}")
    train_task = plan.target_train_task(params, targets[0])
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
    hparams = cfg.target_hparams(params, targets[0])
    target_params = params.target
    train_feats = [f for name, lang in plan.target_train_splits(params, targets[0]) for f in load_features(params, features_dir, tokenizer_dir, TASKS[name], TRAIN, lang)]
    dev_feats = load_features(params, features_dir, tokenizer_dir, train_task, DEV, "en")[: target_params.eval_subset]
    store = store_for(params)
    dev_examples = train_task.load(store, DEV, "en")
    eval_sets = {target: {(split, lang): (TASKS[target].load(store, split, lang), load_features(params, features_dir, tokenizer_dir, TASKS[target], split, lang))
                          for lang in languages_for(params, TASKS[target]) for split in plan.eval_splits(TASKS[target], lang)} for target in targets}
    dev_score = functools.partial(early_stopping_score, task=train_task, features=dev_feats, examples=dev_examples, device=device, pad_id=pad_id, batch_size=params.engine.eval_batch_size, bf16=params.engine.bf16, tf32=params.engine.tf32, head=head)

    runs: dict[str, dict] = {target: {} for target in targets}
    for seed in target_params.seeds:
        torch.manual_seed(seed)
        model = MultiTaskModel(load_encoder(os.path.join(phase2_dir, "encoder"), pooler=params.model.pooler), params.model.dropout)
        model.add_head(head, fmt.head_type, num_labels(task))  # a fresh head: phase-2 heads are discarded
        batch_size, grad_accum = micro or (hparams.batch_size, hparams.grad_accum)
        optim = cfg.OptimConfig(lr=target_params.lr, batch_size=batch_size, grad_accum=grad_accum, epochs=hparams.epochs, warmup=target_params.warmup, weight_decay=target_params.weight_decay, max_grad_norm=target_params.max_grad_norm)
        loop = loop_settings(optim, params.engine, seed, eval_every=target_params.eval_every, patience=target_params.patience)
        curve: list[dict] = []
        # the early-stopping dev set decides the best weights: a checkpoint is resumed only with the same
        result = train(model, {head: TrainTask(head, fmt, train_feats)}, loop, device=device, pad_id=pad_id, evaluate=dev_score, log=curve.append, inputs={"dev": digest_features(dev_feats)}, **_engine_args(params, f"phase3/{setting}-{targets[0]}/seed{seed}", os.path.join(out_root, targets[0], f"seed{seed}", TRAIN_LOG)))
        for target in targets:
            run = {"steps": result.steps, "best_dev": result.best_score, "best_step": result.best_step, "stopped_early": result.stopped_early, "seconds": round(result.seconds, 1), "scores": {}}
            if (batch_size, grad_accum) != (hparams.batch_size, hparams.grad_accum):
                run["micro_batch"] = [batch_size, grad_accum]  # the global batch, taken in fewer micro-batches
            for (split, lang), (examples, feats) in eval_sets[target].items():
                preds, scores = evaluate_split(model, TASKS[target], feats, examples, device=device, pad_id=pad_id, batch_size=params.engine.eval_batch_size, bf16=params.engine.bf16, tf32=params.engine.tf32, lang=lang, head=head)
                save_predictions(os.path.join(out_root, target, f"seed{seed}", "predictions", f"{split}.{lang}.jsonl"), examples, preds)
                run["scores"].setdefault(split, {})[lang] = scores
            io.write_json(os.path.join(out_root, target, f"seed{seed}", "curve.json"), {"loss": [r for r in curve if "loss" in r], "dev": result.history})
            if target != targets[0]:  # targets trained together share one run, hence its log
                shutil.copyfile(os.path.join(out_root, targets[0], f"seed{seed}", TRAIN_LOG), os.path.join(out_root, target, f"seed{seed}", TRAIN_LOG))
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


def run_phase3_group(params: cfg.Params, setting: str, group: str, phase2_dir: str, phase1_dir: str, features_dir: str, out_dir: str) -> dict:
    """Every target of one ``target.groups`` entry, each in ``out_dir/<target>``: one
    :func:`run_phase3` per training its targets share (:func:`plan.shared_trainings`)."""
    targets = plan.group_targets(params, group)

    trainings = plan.shared_trainings(params, targets)

    def args(trained_together: list[str]) -> tuple:
        return setting, trained_together, phase2_dir, phase1_dir, features_dir, out_dir

    workers = min(params.engine.parallel_runs, len(trainings))
    device = device_for(params)
    micro = {}
    if device.type == "cuda":  # GPU memory decides how many runs share the device and their micro-batches
        from xstilts import memory

        free = memory.free_memory(device)
        micro = {tuple(together): plan.phase3_micro_batch(params, phase2_dir, together, free, workers) for together in trainings}
        biggest = max((plan.phase3_memory(params, phase2_dir, together, micro[tuple(together)][0]) for together in trainings), key=lambda r: r.total)
        if workers > 1:
            memory.check_parallel_runs(workers, biggest, free, str(device))
    if workers <= 1:
        results = {}
        for together in trainings:
            results.update(run_phase3(params, *args(together), micro=micro.get(tuple(together))))
        return {target: results[target] for target in targets}
    if device.type == "cuda":  # CUDA cannot be used in a forked child
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = [pool.submit(run_phase3, params, *args(together), micro=micro[tuple(together)]) for together in trainings]
            results = {k: v for f in futures for k, v in f.result().items()}
        return {target: results[target] for target in targets}
    # Tiny CPU runs barely use a second thread, so independent targets run side by side, the
    # stage's threads split between them. Every run seeds itself: results do not depend on
    # which process ran it.
    threads = max(1, (params.engine.num_threads or torch.get_num_threads()) // workers)
    per_run = dataclasses.replace(params, engine=dataclasses.replace(params.engine, num_threads=threads, parallel_runs=1))
    with ProcessPoolExecutor(workers, mp_context=worker_context(threads)) as pool:
        futures = [pool.submit(run_phase3, per_run, *args(together)) for together in trainings]
        results = {}
        for f in futures:
            results.update(f.result())
        return {target: results[target] for target in targets}


# ---- retrieval -----------------------------------------------------------------------------


def retrieval_protocols(params: cfg.Params, store) -> dict:
    """Per retrieval task that has one, how its dev is obtained (bucc2018: the sample set or the held-out rule)."""
    from xstilts.tasks import bucc2018

    return {"bucc2018": bucc2018.protocol(store)} if "bucc2018" in params.retrieval.tasks else {}


def run_retrieval(params: cfg.Params, settings: list[str], phase2_root: str, phase1_dir: str, out_dir: str) -> dict:
    """BUCC mining and Tatoeba retrieval straight from each phase-2 encoder (no target training):
    mean-pooled hidden states of ``retrieval.layer`` over non-padding tokens."""
    from xstilts.embedding_retrieval import evaluate_task
    from xstilts.tokenization import load_tokenizer

    _stage_header(out_dir, params)
    device = device_for(params)
    tokenizer = load_tokenizer(os.path.join(phase1_dir, "tokenizer"))
    store = store_for(params)
    retrieval = params.retrieval
    metrics: dict = {}
    protocols = retrieval_protocols(params, store)
    for name, proto in protocols.items():  # in the stage output: how BUCC's threshold is tuned
        print(f"{name}: threshold tuned on {proto['dev']}; scores on {proto['test']}" + (f"\n  {proto['note']}" if proto["deviation"] else ""))
    io.write_json(os.path.join(out_dir, "protocol.json"), protocols)  # verify and the report mark a deviation
    for setting in settings:
        encoder = load_encoder(os.path.join(phase2_root, setting, "encoder")).to(device).eval()
        cache: dict = {}  # candidate pools shared by query languages are embedded once per encoder
        for name in retrieval.tasks:
            task = TASKS[name]
            for lang in languages_for(params, task):
                res = evaluate_task(task, store, lang, encoder, tokenizer, layer=retrieval.layer, max_length=min(retrieval.max_length, encoder.config.max_position_embeddings - 2), k=retrieval.k, device=device, batch_size=params.engine.eval_batch_size, padding_free=params.engine.padding_free, cache=cache)
                metrics.setdefault(setting, {}).setdefault(name, {})[lang] = {**res["scores"], "chance": res["chance"]}
                io.write_jsonl(os.path.join(out_dir, setting, name, f"{lang}.jsonl"), res["predictions"])
    io.write_json(os.path.join(out_dir, "provenance.json"), store.provenance())  # the commit of every dataset read
    io.write_json(os.path.join(out_dir, "metrics.json"), metrics)
    return metrics
