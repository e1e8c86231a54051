"""What a params file costs before anything runs: every training and evaluation run it implies,
priced in optimiser steps, trained tokens, FLOPs, GPU-hours and disk (`python -m xstilts.cli plan`).

The runs and their steps come from the stages' own planning functions (xstilts/plan.py: ``shared_trainings``,
``target_train_splits``, ``phase2_mixture``, ``micro_batch_for_shape``; ``training.planned_steps``),
so the plan is what `dvc repro` runs. Sizes come from the featurised data (embedded profile: the
features stage's output) or, for the paper profile, from the ``PAPER_SIZES`` table beside each
task's reader (xstilts/tasks/<task>.py, with its source; unknown numbers are marked ASSUMED there).

FLOPs (PaLM, Chowdhery et al. 2022, appendix B), per token of a sequence of ``T`` tokens through an
encoder of ``L`` layers, width ``d`` and ``N`` non-embedding parameters:

    training  6 N + 12 L d T   (forward 2 N + 4 L d T: the matmuls with every weight, plus QK^T and AV;
                                the backward pass costs twice the forward)
    inference 2 N + 4 L d T    (evaluation and retrieval: forward only)

Time = FLOPs / (peak x MFU) + optimiser steps x the AdamW update's memory traffic / bandwidth.
The update is memory-bound and independent of the batch: fused AdamW on fp32 weights reads and
writes each parameter's weight and two moments and reads its gradient (28 bytes), gradient
clipping reads the gradient (4) and zeroing writes it (4): ``OPTIMIZER_BYTES`` = 36 per parameter,
embeddings included (their gradient is dense). At batch 4 it is a sizeable share of a step.
 MFU is the last measured one for the GPU (``MEASURED_MFU``) or the
assumption ``Efficiency.mfu`` for micro-batches of at least ``Efficiency.saturation_tokens`` tokens;
smaller micro-batches are launch-bound (batch 4 x ~45 tokens leaves an H100 idle between kernels)
and are priced as taking as long as a saturating one, i.e. MFU x tokens / saturation_tokens.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field

from xstilts import config as cfg
from xstilts.tasks import TASKS
from xstilts.tasks.base import BITEXT

GiB = 1024**3
OPTIMIZER_BYTES = 36  # memory traffic per parameter per optimiser step (module docstring)
# Share of the processed tokens that are padding in a dynamically padded random (ungrouped) batch.
# ASSUMED from benchmarks/training_throughput.py: 52% for MNLI-like pairs at batch 32, 38% for
# SQuAD-like windows at batch 16 (smaller batches pad less). Length-grouped batches (2-3%) are
# priced without padding, and padding-free execution (engine.padding_free) processes none.
RANDOM_BATCH_PADDING = 0.45


def padding_waste(engine: cfg.EngineConfig) -> float:
    """The share of padding in what the model processes under ``engine``'s batching and execution."""
    if engine.padding_free or engine.length_grouping:
        return 0.0
    return RANDOM_BATCH_PADDING


@dataclass(frozen=True)
class Gpu:
    peak_tflops: float  # dense bf16 (no structured sparsity)
    memory_gib: int  # what torch sees (80 GB cards: ~79 GiB): phase 3 merges micro-batches into it
    bandwidth_tbs: float  # HBM/GDDR, TB/s
    source: str
    tf32_tflops: float = 0.0  # dense TF32 tensor cores (engine.tf32 without bf16)
    fp32_tflops: float = 0.0  # plain FP32 CUDA cores: the recipe's precision (TF32 off)

    def peak(self, engine: cfg.EngineConfig) -> tuple[float, str]:
        """Dense peak TFLOP/s at the engine's precision: bf16 autocast, else TF32 matmuls, else fp32."""
        if engine.bf16:
            return self.peak_tflops, "bf16"
        return (self.tf32_tflops, "tf32") if engine.tf32 else (self.fp32_tflops, "fp32")


# Datasheet dense peaks (sparsity halved away): bf16, TF32 tensor cores, FP32 CUDA cores.
GPUS = {
    "h100": Gpu(989.4, 79, 3.35, "NVIDIA H100 SXM5 datasheet: 1,979 bf16 / 989 TF32 TFLOPS with sparsity = 989.4 / 494.7 dense, 66.9 FP32, 3.35 TB/s", 494.7, 66.9),
    "h200": Gpu(989.4, 139, 4.8, "NVIDIA H200 SXM datasheet: the H100's compute, 141 GB at 4.8 TB/s", 494.7, 66.9),
    "a100": Gpu(312.0, 79, 2.039, "NVIDIA A100 datasheet: 312 bf16 / 156 TF32 / 19.5 FP32 TFLOPS dense, 80 GB SXM at 2,039 GB/s", 156.0, 19.5),
    "l40s": Gpu(362.05, 44, 0.864, "NVIDIA L40S datasheet: 362.05 bf16 / 183 TF32 / 91.6 FP32 TFLOPS dense, 864 GB/s", 183.0, 91.6),
    "a10": Gpu(125.0, 22, 0.6, "NVIDIA A10 datasheet: 125 bf16 / 62.5 TF32 / 31.2 FP32 TFLOPS dense, 600 GB/s", 62.5, 31.2),
}

# MFU measured by `benchmarks/training_throughput.py --gpu-mfu` per GPU: {gpu: (mfu, where measured)}.
# None yet: the GPU checks (issue 14) have not run. Fill in when they do.
MEASURED_MFU: dict[str, tuple[float, str]] = {}


@dataclass(frozen=True)
class Shape:
    vocab: int
    hidden: int
    layers: int
    heads: int
    intermediate: int
    positions: int = 514

    @property
    def non_embedding(self) -> int:
        d, i = self.hidden, self.intermediate
        return self.layers * (4 * (d * d + d) + 2 * d * i + i + d + 4 * d)  # attention, FFN, two LayerNorms

    @property
    def embedding(self) -> int:
        return (self.vocab + self.positions + 1) * self.hidden + 2 * self.hidden  # words, positions, one type, LayerNorm

    @property
    def parameters(self) -> int:
        return self.non_embedding + self.embedding

    def encoder_shape(self):
        from xstilts.memory import EncoderShape

        return EncoderShape(self.parameters, self.layers, self.hidden, self.heads, self.intermediate)


# Hub models (their config.json; Conneau et al. 2020, Table 7)
MODELS = {"xlm-roberta-large": Shape(250002, 1024, 24, 16, 4096), "xlm-roberta-base": Shape(250002, 768, 12, 12, 3072)}


def model_shape(params: cfg.Params) -> Shape:
    m = params.model
    if m.source == "scratch":
        return Shape(m.vocab_size, m.hidden_size, m.num_layers, m.num_heads, m.intermediate_size)
    name = os.path.basename(m.name_or_path.rstrip("/"))
    if name not in MODELS:
        raise cfg.ConfigError(f"model.name_or_path: the planner has no shape for {m.name_or_path!r} (known: {sorted(MODELS)}; add it to xstilts/planner.py MODELS)")
    return MODELS[name]


def train_flops_per_token(non_embedding: int, layers: int, hidden: int, seq: float) -> float:
    return 6 * non_embedding + 12 * layers * hidden * seq


def train_flops(shape: Shape, tokens: float, seq: float) -> float:
    return tokens * train_flops_per_token(shape.non_embedding, shape.layers, shape.hidden, seq)


def inference_flops(shape: Shape, tokens: float, seq: float) -> float:
    return tokens * (2 * shape.non_embedding + 4 * shape.layers * shape.hidden * seq)


@dataclass
class Efficiency:
    mfu: float = 0.3  # ASSUMED (large batches, bf16, eager PyTorch): no GPU measurement yet
    saturation_tokens: int = 4096  # ASSUMED: smaller micro-batches take as long as one of this many tokens
    source: str = "assumption"

    def at(self, tokens_per_micro_batch: float) -> float:
        return self.mfu * min(1.0, tokens_per_micro_batch / self.saturation_tokens)


def default_efficiency(gpu: str) -> Efficiency:
    if gpu in MEASURED_MFU:
        mfu, where = MEASURED_MFU[gpu]
        return Efficiency(mfu, source=f"measured: {where}")
    return Efficiency()


# ---- sizes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    features: int  # what the training loop counts (QA windows, one multiple-choice feature per question)
    tokens: float  # mean tokens per feature (every choice of a multiple-choice feature)
    seq: float  # mean tokens per sequence (attention's T)


def combine(splits: list[Split]) -> Split:
    n = sum(s.features for s in splits)
    return Split(n, sum(s.features * s.tokens for s in splits) / max(n, 1), sum(s.features * s.seq for s in splits) / max(n, 1))


class PaperSizes:
    """Sizes from the ``PAPER_SIZES`` tables beside the readers; a language missing from a table is
    priced at the task's English size and reported among the assumptions."""

    def __init__(self):
        import importlib
        import pkgutil

        import xstilts.tasks as pkg

        self.table: dict[str, dict] = {}
        for mod in pkgutil.iter_modules(pkg.__path__):
            self.table.update(getattr(importlib.import_module(f"xstilts.tasks.{mod.name}"), "PAPER_SIZES", {}))
        self.assumed: set[str] = set()

    def entry(self, task: str) -> dict:
        if task not in self.table:
            raise KeyError(f"no PAPER_SIZES for task {task!r} in xstilts/tasks/: the paper plan needs its split sizes")
        return self.table[task]

    def split(self, task: str, split: str, lang: str) -> Split:
        e = self.entry(task)
        per_lang = e.get(split, {})
        if lang not in per_lang:
            if "en" not in per_lang and not per_lang:
                raise KeyError(f"PAPER_SIZES[{task!r}] has no {split!r} split (xstilts/tasks/)")
            self.assumed.add(f"{task} {split} {lang}: size unknown, priced as {'en' if 'en' in per_lang else 'the mean language'}")
            n = per_lang.get("en") or sum(per_lang.values()) / len(per_lang)
        else:
            n = per_lang[lang]
        per = e.get("windows", 1.0) * e.get("sentences_per_example", 1)
        return Split(round(n * per), e["mean_tokens"], e["mean_tokens"] / e.get("choices", 1))

    def parts(self, task: str) -> dict[str, int]:
        return {f"{task}/{p}": n for p, n in self.entry(task)["parts"].items()}

    def mlm(self, params: cfg.Params, lines: int) -> Split:
        if not lines:
            raise KeyError("the paper profile's MLM corpus has no size table: phase 1 loads XLM-R from the Hub")
        self.assumed.add(f"MLM corpus lines: {params.phase1.max_length} tokens each (ASSUMED: lines fill phase1.max_length)")
        return Split(lines, params.phase1.max_length, params.phase1.max_length)


class DataSizes:
    """Sizes counted in the featurised data (the features stage's output) and, for retrieval, the
    sentences in the store tokenised with phase 1's tokenizer."""

    def __init__(self, params: cfg.Params, features_dir: str, phase1_dir: str):
        from xstilts import pipeline

        self.params, self.features_dir, self.tokenizer_dir = params, features_dir, os.path.join(phase1_dir, "tokenizer")
        for path in (os.path.join(features_dir, "keys.json"), self.tokenizer_dir):
            if not os.path.exists(path):
                raise FileNotFoundError(f"{path} is missing: the embedded plan counts the featurised data (dvc repro features)")
        self.store = pipeline.store_for(params)
        self.assumed: set[str] = set()
        self._cache: dict = {}

    def _features(self, task: str, split: str, lang: str) -> list[dict]:
        from xstilts.features import load_features

        key = (task, split, lang)
        if key not in self._cache:
            self._cache[key] = load_features(self.params, self.features_dir, self.tokenizer_dir, TASKS[task], split, lang)
        return self._cache[key]

    def split(self, task: str, split: str, lang: str) -> Split:
        t = TASKS[task]
        if t.format == BITEXT:
            return self._sentences(t, split, lang)
        feats = self._features(task, split, lang)
        lengths = [len(f["input_ids"]) if not f["input_ids"] or isinstance(f["input_ids"][0], int) else sum(map(len, f["input_ids"])) for f in feats]
        seqs = [n / (1 if not f["input_ids"] or isinstance(f["input_ids"][0], int) else len(f["input_ids"])) for n, f in zip(lengths, feats)]
        return Split(len(feats), sum(lengths) / max(len(feats), 1), sum(seqs) / max(len(feats), 1))

    def _sentences(self, task, split: str, lang: str) -> Split:
        from xstilts.tokenization import load_tokenizer

        tok = load_tokenizer(self.tokenizer_dir)
        sents = [s for ex in task.load(self.store, split, lang) for s in (*ex.sources, *ex.targets)]
        lengths = [min(len(ids), self.params.retrieval.max_length) for ids in tok(sents)["input_ids"]] if sents else []
        mean = sum(lengths) / max(len(lengths), 1)
        return Split(len(sents), mean, mean)

    def parts(self, task: str) -> dict[str, int]:
        from xstilts import plan

        ids = [e.id for e in plan.limit_train(self.params, TASKS[task].load(self.store, "train", "en"))]
        return {k: len(v) for k, v in plan.task_parts(task, self._features(task, "train", "en"), ids).items()}

    def mlm(self, params: cfg.Params, lines: int) -> Split:
        from xstilts import pipeline
        from xstilts.tokenization import load_tokenizer

        corpus = pipeline.corpus_lines(params, self.store)[: lines or None]  # 0: the whole corpus (phase 1)
        lengths = [min(len(ids), params.phase1.max_length) for ids in load_tokenizer(self.tokenizer_dir)(corpus)["input_ids"]]
        mean = sum(lengths) / max(len(lengths), 1)
        return Split(len(lengths), mean, mean)


# ---- runs ----------------------------------------------------------------------------------


@dataclass
class Run:
    stage: str  # phase1 | phase2 | phase3 | retrieval
    name: str
    group: str  # phase 2: the setting; phase 3: the targets trained together (e.g. xquad+mlqa); retrieval: the task
    examples: int  # training features (retrieval: sentences embedded)
    steps: int  # optimiser steps
    batch: tuple[int, int]  # (micro-batch, accumulation)
    tokens: float  # trained tokens
    eval_tokens: float  # tokens through the encoder forward-only (dev checks, zero-shot evaluation, retrieval)
    flops: float
    mfu: float  # of the training micro-batches (retrieval: of its batches)
    gpu_hours: float
    seq: float = 0.0  # mean tokens per trained sequence, padding included (attention's T)
    micro_tokens: float = 0.0  # tokens the model processes per training micro-batch, padding included


@dataclass
class Plan:
    profile: str
    gpu: str
    model: str
    runs: list[Run]
    disk: dict[str, float]
    assumptions: list[str] = field(default_factory=list)

    def total(self, stage: str | None = None, key: str = "gpu_hours") -> float:
        return sum(getattr(r, key) for r in self.runs if stage is None or r.stage == stage)

    def to_json(self) -> dict:
        return {**asdict(self), "totals": {s or "all": {k: self.total(s, k) for k in ("steps", "tokens", "flops", "gpu_hours")} for s in (None, "phase1", "phase2", "phase3", "retrieval")}}


class _Pricer:
    def __init__(self, shape: Shape, gpu: Gpu, eff: Efficiency, peak_tflops: float, padding: float = 0.0, calibration=None):
        self.shape, self.gpu, self.eff, self.peak_tflops = shape, gpu, eff, peak_tflops
        self.padded = 1 / (1 - padding)  # processed tokens per real token in training batches
        self.calibration = calibration  # xstilts.calibration.Calibration: measured rates replace peak x MFU

    def hours(self, flops: float, micro_tokens: float) -> tuple[float, float]:
        if self.calibration is not None:  # measured FLOP/s at this micro-batch size; MFU against the --gpu's peak
            rate = self.calibration.rate(micro_tokens)
            return flops / rate / 3600, rate / (self.peak_tflops * 1e12)
        mfu = self.eff.at(micro_tokens)
        return flops / (self.peak_tflops * 1e12 * mfu) / 3600, mfu

    def update_hours(self, steps: int) -> float:
        if self.calibration is not None:
            return steps * self.calibration.optimizer_seconds / 3600
        return steps * OPTIMIZER_BYTES * self.shape.parameters / (self.gpu.bandwidth_tbs * 1e12) / 3600

    def run(self, stage, name, group, examples, steps, batch, train: Split | None, eval_splits: list[tuple[Split, int]], eval_batch: int) -> Run:
        micro, accum = batch
        tokens = steps * accum * micro * train.tokens if train else 0.0
        # padding costs FLOPs like real tokens and lengthens attention's T to the batch's longest sequence
        flops = train_flops(self.shape, tokens * self.padded, train.seq * self.padded) if train else 0.0
        hours, mfu = self.hours(flops, micro * train.tokens * self.padded) if train else (0.0, self.eff.at(eval_batch * (eval_splits[0][0].tokens if eval_splits else 0)))
        hours += self.update_hours(steps)
        eval_tokens = 0.0
        for s, times in eval_splits:
            f = inference_flops(self.shape, times * s.features * s.tokens, s.seq)
            hours += self.hours(f, eval_batch * s.tokens)[0]
            flops += f
            eval_tokens += times * s.features * s.tokens
        return Run(stage, name, group, examples, steps, batch, tokens, eval_tokens, flops, mfu, hours, train.seq * self.padded if train else 0.0,
                   micro * train.tokens * self.padded if train else 0.0)


def plan(params: cfg.Params, sizes, gpu: str = "h100", efficiency: Efficiency | None = None, calibration=None) -> Plan:
    """Every run ``params`` implies, priced on ``gpu`` (a key of :data:`GPUS`), or at the rates
    measured by ``plan --calibrate`` (``calibration``, xstilts.calibration.Calibration)."""
    from xstilts.plan import (DEV, TASK_PARTS, TRAIN, eval_splits, languages_for, loop_settings, micro_batch_for_shape, phase2_mixture, shared_trainings,
                              target_train_splits, target_train_task, translated_train_splits)
    from xstilts.training import planned_steps

    if gpu not in GPUS:
        raise cfg.ConfigError(f"--gpu {gpu!r}: unknown (known: {sorted(GPUS)})")
    g, eff, shape = GPUS[gpu], efficiency or default_efficiency(gpu), model_shape(params)
    waste = padding_waste(params.engine)
    peak, precision = g.peak(params.engine)
    price = _Pricer(shape, g, eff, peak, waste, calibration)
    eb = params.engine.eval_batch_size
    runs: list[Run] = []

    # phase 1: MLM pretraining of the tiny model (the paper profile loads XLM-R from the Hub)
    p1 = params.phase1
    if params.model.source == "scratch" and p1.steps:
        corpus = sizes.mlm(params, 0)
        runs.append(price.run("phase1", "phase1", "mlm", corpus.features, p1.steps, (p1.batch_size, 1), corpus, [], eb))

    # phase 2: one run per setting with intermediate tasks ("none" is phase 1's encoder as is)
    inter = params.intermediate
    for setting, names in inter.settings.items():
        if not names:
            continue
        mixture = len(names) > 1 or setting in inter.mlm_settings
        train: dict[str, Split] = {}
        for name in names:
            task_data = combine([sizes.split(name, TRAIN, "en")] + [sizes.split(translated, TRAIN, lang) for head, translated, lang in translated_train_splits(params, setting) if head == name])
            if mixture and name in TASK_PARTS:
                train.update({part: Split(n, task_data.tokens, task_data.seq) for part, n in sizes.parts(name).items()})
            else:
                train[name] = task_data
        if setting in inter.mlm_settings:  # as run_phase2: mlm_lines, else as many lines as the largest task
            train["mlm"] = sizes.mlm(params, inter.mlm_lines or max(s.features for s in train.values()))
        probs, cap = phase2_mixture(params, {n: s.features for n, s in train.items()})
        loop = loop_settings(inter.optim, params.engine, inter.seed)
        steps = planned_steps({n: s.features for n, s in train.items()}, loop, cap)
        mean = Split(sum(s.features for s in train.values()), sum(probs[n] * s.tokens for n, s in train.items()), sum(probs[n] * s.seq for n, s in train.items()))
        dev = [(sizes.split(name, DEV, "en"), 1) for name in names]
        runs.append(price.run("phase2", f"phase2/{setting}", setting, mean.features, steps, (loop.batch_size, loop.grad_accum), mean, dev, eb))

    # phase 3: per setting x group x targets trained together (plan.shared_trainings) x seed
    target_params = params.target
    for setting in inter.settings:
        for targets in target_params.groups.values():
            trainings = shared_trainings(params, targets)
            workers = min(params.engine.parallel_runs, len(trainings))
            for together in trainings:
                hparams = cfg.target_hparams(params, together[0])
                train_split = combine([sizes.split(name, TRAIN, lang) for name, lang in target_train_splits(params, together[0])])
                batch = (hparams.batch_size, hparams.grad_accum)
                if params.engine.merge_micro_batches:  # on CUDA, as run_phase3_group does with the GPU's memory
                    batch = micro_batch_for_shape(params, shape.encoder_shape(), together, g.memory_gib * GiB, workers)
                loop = loop_settings(cfg.OptimConfig(batch_size=batch[0], grad_accum=batch[1], epochs=hparams.epochs), params.engine, 0)
                head = target_train_task(params, together[0]).name
                steps = planned_steps({head: train_split.features}, loop)
                dev = sizes.split(head, DEV, "en")
                dev_sub = Split(min(dev.features, target_params.eval_subset), dev.tokens, dev.seq)
                checks = (steps // target_params.eval_every if target_params.eval_every else 0) + 1  # every eval_every steps and at the end
                evals = [(dev_sub, checks)] + [(sizes.split(target, split, lang), 1) for target in together for lang in languages_for(params, TASKS[target]) for split in eval_splits(TASKS[target], lang)]
                for seed in target_params.seeds:
                    runs.append(price.run("phase3", f"phase3/{setting}/{'+'.join(together)}/seed{seed}", "+".join(together), train_split.features, steps, batch, train_split, evals, eb))

    # retrieval: every phase-2 encoder embeds each retrieval task's sentences
    for setting in inter.settings:
        for name in params.retrieval.tasks:
            task = TASKS[name]
            splits = [(sizes.split(name, split, lang), 1) for lang in languages_for(params, task) for split in eval_splits(task, lang)]
            runs.append(price.run("retrieval", f"retrieval/{setting}/{name}", name, sum(s.features for s, _ in splits), 0, (eb, 1), None, splits, eb))

    n_enc = 1 + len(inter.settings)  # phase 1's encoder and one per phase-2 setting (none: a copy)
    disk = {
        "encoders_gib": n_enc * 4 * shape.parameters / GiB,  # fp32 safetensors
        "dvc_cache_gib": n_enc * 4 * shape.parameters / GiB,  # a second copy unless the cache links (dvc cache.type reflink/hardlink/symlink)
        # per running stage: two checkpoints (old kept until the new is complete) of fp32 weights,
        # AdamW moments and best weights (16 bytes/parameter), plus each finished seed's result weights
        "checkpoints_peak_gib": (2 * 16 + 4 * max(len(target_params.seeds) - 1, 0)) * shape.parameters / GiB,
    }
    measured = [
        f"throughput: MEASURED on {calibration.device} at {calibration.precision} ({calibration.source}): training FLOP/s at "
        + ", ".join(f"{t:,.0f} tokens {r / 1e12:.3g} TFLOP/s" for t, r in zip(calibration.tokens, calibration.flops_per_second))
        + " per micro-batch, linear in between and clamped outside; evaluation (forward only, unmeasured) at the training rate; "
        f"an optimiser update {calibration.optimizer_seconds:.3g} s; the MFU column is that rate over the {gpu} {precision} peak"
    ] if calibration is not None else []
    assumptions = measured + [
        f"efficiency: MFU {eff.mfu:g} ({eff.source}{'' if eff.source.startswith('measured') else '; no GPU measurement yet, issue 14'}) for micro-batches of >= {eff.saturation_tokens} tokens; "
        f"smaller ones are launch-bound, priced as long as a {eff.saturation_tokens}-token one (ASSUMED)",
        f"peak: {gpu} {peak:g} dense {precision} TFLOP/s (engine.bf16 {params.engine.bf16}, engine.tf32 {params.engine.tf32}; the same MFU assumed at every precision, so fp32/bf16 time = the ratio of the peaks), {g.bandwidth_tbs:g} TB/s ({g.source}); each optimiser step moves {OPTIMIZER_BYTES} bytes per parameter at that bandwidth",
        "phase 3 stops at its full epochs (early stopping can only shorten it): steps are an upper bound",
        "features and predictions are not counted in disk; evaluation (longest-first batches) is priced without padding",
        "training padding: none (engine.padding_free: the real tokens only)" if params.engine.padding_free
        else f"training padding: {waste:.0%} of the processed tokens (random batches, ASSUMED from benchmarks/training_throughput.py; engine.padding_free removes it)" if waste
        else "training padding: not counted (length-grouped batches: 2-3% padding in benchmarks/training_throughput.py)",
    ]
    if isinstance(sizes, PaperSizes):
        assumptions.insert(0, "sizes: PAPER_SIZES tables in xstilts/tasks/*.py (sources there); mean token lengths there are ASSUMED (not measured)")
    assumptions += sorted(sizes.assumed)
    if calibration is not None:  # the measured rates replace the efficiency and bandwidth lines
        assumptions = [a for a in assumptions if not a.startswith(("efficiency:", "peak:"))]
    device = f"{gpu} (measured: {calibration.device})" if calibration is not None else gpu
    return Plan(params.profile, device, params.model.name_or_path if params.model.source != "scratch" else f"scratch {shape}", runs, disk, assumptions)


# ---- text ----------------------------------------------------------------------------------


def _num(x: float) -> str:
    for unit, div in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= div:
            return f"{x / div:.3g}{unit}"
    return f"{x:.3g}"


def breakdown(p: Plan) -> dict[str, dict[str, float]]:
    """GPU-hours by stage, phase 3 by shared training (the targets trained together)."""
    out: dict[str, dict[str, float]] = {}
    for r in p.runs:
        out.setdefault(r.stage, {}).setdefault(r.group, 0.0)
        out[r.stage][r.group] += r.gpu_hours
    return out


def format_plan(p: Plan) -> str:
    lines = [f"# plan: profile {p.profile}, model {p.model}, GPU {p.gpu}", ""]
    lines.append("| run | train features | steps per run | batch | tokens per run | FLOPs per run | MFU | GPU-hours (all seeds) |")
    lines.append("|---|---:|---:|---|---:|---:|---:|---:|")
    seen: dict[str, list[Run]] = {}
    for r in p.runs:  # phase 3's seeds cost the same: one row per (setting, unit) with the seed count
        seen.setdefault(r.name.rsplit("/seed", 1)[0], []).append(r)
    for name, rs in seen.items():
        r, n = rs[0], len(rs)
        label = f"{name} (x{n} seeds)" if n > 1 else name
        lines.append(f"| {label} | {r.examples:,} | {r.steps:,} | {r.batch[0]}x{r.batch[1]} | {_num(r.tokens)} | {_num(r.flops)} | {r.mfu:.3f} | {sum(x.gpu_hours for x in rs):,.2f} |")
    lines += ["", "| stage | runs | steps | FLOPs | GPU-hours |", "|---|---:|---:|---:|---:|"]
    for stage in ("phase1", "phase2", "phase3", "retrieval"):
        if not any(r.stage == stage for r in p.runs):
            continue
        lines.append(f"| {stage} | {sum(r.stage == stage for r in p.runs)} | {p.total(stage, 'steps'):,} | {_num(p.total(stage, 'flops'))} | {p.total(stage):,.2f} |")
    lines.append(f"| **total** | {len(p.runs)} | {p.total(None, 'steps'):,} | {_num(p.total(None, 'flops'))} | **{p.total():,.2f}** |")
    lines += ["", "phase 3 GPU-hours by training unit: " + ", ".join(f"{k} {v:,.2f}" for k, v in breakdown(p).get("phase3", {}).items())]
    lines += ["disk: " + ", ".join(f"{k[:-4]} {v:,.1f} GiB" for k, v in p.disk.items())]
    lines += ["", "assumptions:"] + [f"- {a}" for a in p.assumptions]
    return "\n".join(lines)


# The recipe's settings and the opt-in speed switches (docs/recipe.md), priced side by side.
SPEED_VARIANTS = {
    "recipe (fp32, random batches, 4 x 8 micro-batches)": dict(bf16=False, tf32=False, length_grouping=False, merge_micro_batches=False),
    "speed switches (bf16, length grouping, merged micro-batches)": dict(bf16=True, length_grouping=True, merge_micro_batches=True),
}


def speed_variants(params: cfg.Params, sizes, gpu: str, efficiency: Efficiency | None = None) -> dict[str, Plan]:
    """``params`` priced at the recipe's settings and with the speed switches on. Padding is not
    modelled (every feature costs its mean tokens), so length grouping's saving is not priced."""
    import dataclasses

    return {label: plan(dataclasses.replace(params, engine=dataclasses.replace(params.engine, **switches)), sizes, gpu, efficiency)
            for label, switches in SPEED_VARIANTS.items()}


def format_variants(plans: dict[str, Plan]) -> str:
    lines = ["| settings | phase 2 GPU-hours | phase 3 GPU-hours | total GPU-hours |", "|---|---:|---:|---:|"]
    lines += [f"| {label} | {p.total('phase2'):,.2f} | {p.total('phase3'):,.2f} | {p.total():,.2f} |" for label, p in plans.items()]
    lines.append("(peaks per precision as in the assumptions; the same MFU at every precision; padding not modelled, "
                 "so length grouping is priced at no saving)")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    import argparse
    import json

    ap = argparse.ArgumentParser(prog="xstilts plan", description="every run the params imply, priced in steps, tokens, FLOPs, GPU-hours and disk")
    ap.add_argument("path", nargs="?", default="params.yaml")
    ap.add_argument("--gpu", default="h100", choices=sorted(GPUS))
    ap.add_argument("--mfu", type=float, default=None, help="MFU of saturating micro-batches (default: measured, else 0.3 ASSUMED)")
    ap.add_argument("--saturation-tokens", type=int, default=Efficiency.saturation_tokens, help="micro-batches below this many tokens are launch-bound")
    ap.add_argument("--features", default="outputs/features", help="embedded profile: the featurised data")
    ap.add_argument("--phase1", default="outputs/phase1", help="embedded profile: phase 1 (tokenizer)")
    ap.add_argument("--study", default=None, help="price every arm of a follow-up study (configs/studies/) over the params file")
    ap.add_argument("--calibrate", metavar="OUT", nargs="?", const="outputs/plan/calibration.json", default=None,
                    help="time the params' encoder at the recipe's main micro-batch shapes on this device, write OUT "
                         "(default outputs/plan/calibration.json), and print the plan from it beside the assumed one")
    ap.add_argument("--calibration", metavar="FILE", default=None, help="price with the rates a `--calibrate` run measured")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    params = cfg.load(args.path)
    if args.calibrate:
        return _calibrate(params, args)
    calibration = None
    if args.calibration:
        from xstilts import calibration as cal

        calibration = cal.load(args.calibration)
    eff = default_efficiency(args.gpu)
    if args.mfu is not None:
        eff = Efficiency(args.mfu, source="--mfu")
    eff.saturation_tokens = args.saturation_tokens
    arms = {"": params}
    if args.study:
        import yaml

        from xstilts.studies import common

        with open(args.path) as f:
            arms = common.validate(common.load_preset(args.study), yaml.safe_load(f))
    plans = {}
    for arm, arm_params in arms.items():
        sizes = DataSizes(arm_params, args.features, args.phase1) if arm_params.data.source == "embedded" else PaperSizes()
        plans[arm] = plan(arm_params, sizes, args.gpu, eff, calibration)
    if args.json:
        print(json.dumps(plans[""].to_json() if not args.study else {arm: p.to_json() for arm, p in plans.items()}, indent=1))
    else:
        print("\n\n".join((f"## arm {arm}\n" if arm else "") + format_plan(p) for arm, p in plans.items()))
        if not args.study and calibration is None:
            sizes = DataSizes(params, args.features, args.phase1) if params.data.source == "embedded" else PaperSizes()
            print("\n## the recipe and the speed switches, GPU " + args.gpu + "\n" + format_variants(speed_variants(params, sizes, args.gpu, eff)))
        elif calibration is not None:
            print(f"\n(the speed switches are priced without --calibration: the measured rates hold at {calibration.precision} only)")
        if args.study:
            print(f"\n# study {args.study}: {len(plans)} arms, {sum(p.total() for p in plans.values()):,.2f} GPU-hours in all")
    return 0


def _sizes(params: cfg.Params, args):
    return DataSizes(params, args.features, args.phase1) if params.data.source == "embedded" else PaperSizes()


def _calibrate(params: cfg.Params, args) -> int:
    """`plan --calibrate`: measure (xstilts/calibration.py), save, and print measured beside assumed."""
    from xstilts import calibration as cal
    from xstilts.pipeline import device_for

    sizes = _sizes(params, args)
    eff = default_efficiency(args.gpu) if args.mfu is None else Efficiency(args.mfu, source="--mfu")
    assumed = plan(params, sizes, args.gpu, eff)
    shapes = cal.recipe_shapes(assumed)
    measured = cal.measure(model_shape(params), shapes, device_for(params), bf16=params.engine.bf16, tf32=params.engine.tf32)
    cal.save(args.calibrate, measured)
    calibrated = plan(params, sizes, args.gpu, eff, cal.load(args.calibrate))
    print(f"\ncalibration written to {args.calibrate} (read it with `plan --calibration {args.calibrate}`)\n")
    print("| micro-batch (sequences x tokens) | forward+backward s | TFLOP/s |")
    print("|---|---:|---:|")
    for p in measured["points"]:
        print(f"| {p['sequences']} x {p['seq']} | {p['seconds']:.3f} | {p['flops_per_second'] / 1e12:.3f} |")
    print(f"| optimiser update | {measured['optimizer_seconds']:.3f} | |\n")
    print(f"| stage | assumed ({args.gpu}, MFU {eff.mfu:g}) hours | measured ({measured['device']}) hours |")
    print("|---|---:|---:|")
    for stage in ("phase1", "phase2", "phase3", "retrieval", None):
        if stage is None or any(r.stage == stage for r in assumed.runs):
            print(f"| {stage or '**total**'} | {assumed.total(stage):,.2f} | {calibrated.total(stage):,.2f} |")
    return 0
