"""What every follow-up study shares: presets, arm parameters, arm results and contrasts.

A study preset (``configs/studies/<name>.yaml``) names a study module (its analysis) and, for each
profile (``embedded`` / ``paper``), the parameter overrides common to all arms plus one override
set per arm, as dotted keys over ``params.yaml``::

    study: rq4_size_gain
    embedded:
      overrides: {target.seeds: [0, 1], ...}
      arms:
        small: {model.hidden_size: 48, model.num_layers: 2}
        large: {model.hidden_size: 96, model.num_layers: 4}
    paper:
      overrides: {...}
      arms: {base: {model.name_or_path: xlm-roberta-base}, large: {model.name_or_path: xlm-roberta-large}}
    analysis: {...}          # the study's own options (settings, targets, SESOI, ...)

The section used is the ``profile`` of the ``params.yaml`` the overrides apply to, so the switch to
the real models is ``make use-paper``. Every arm's merged parameters go through
:mod:`xstilts.config` before anything is queued.

Arm results are phase-3 folders (per-seed metrics, per-example predictions); contrasts between
settings of one or several arms are linear combinations of the official corpus-level metric,
bootstrapped with :func:`xstilts.stats.paired_bootstrap` over shared test examples stratified by
language (macro over languages: the zero-shot average).
"""

from __future__ import annotations

import copy
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from xstilts import analysis, config, io, layout, metrics, stats
from xstilts.config import ConfigError
from xstilts.tasks import TASKS

PRESET_DIR = "configs/studies"
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


# ---- presets and arm parameters ---------------------------------------------------------


@dataclass
class Preset:
    name: str  # the preset's file stem, e.g. rq4 (experiment names are <name>-<arm>)
    path: str
    study: str  # module in xstilts.studies
    title: str
    profiles: dict[str, dict]  # profile -> {"overrides": {...}, "arms": {arm: {...}}}
    analysis: dict = field(default_factory=dict)

    def section(self, profile: str) -> dict:
        if profile not in self.profiles:
            raise ConfigError(f"{self.path}: no '{profile}' section (have {sorted(self.profiles)}); the params profile picks the section")
        return self.profiles[profile]

    def arms(self, profile: str) -> list[str]:
        return list(self.section(profile)["arms"])

    def options(self, profile: str) -> dict:
        """The analysis options: the preset's ``analysis`` updated by the profile section's own."""
        return {**self.analysis, **self.section(profile).get("analysis", {})}


def preset_path(name_or_path: str) -> str:
    if os.path.exists(name_or_path):
        return name_or_path
    candidates = sorted(Path(PRESET_DIR).glob(f"{name_or_path}*.yaml"))
    if len(candidates) == 1:
        return str(candidates[0])
    known = sorted(p.stem for p in Path(PRESET_DIR).glob("*.yaml"))
    raise ConfigError(f"unknown study {name_or_path!r} (known: {known})")


def load_preset(name_or_path: str) -> Preset:
    from xstilts.studies import STUDIES

    path = preset_path(name_or_path)
    raw = config.load_yaml(path) or {}  # refuses duplicate keys
    allowed = {"study", "title", "embedded", "paper", "analysis", "notes"}
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ConfigError(f"{path}: {unknown[0]}: unknown key (allowed: {sorted(allowed)})")
    name = Path(path).stem.split("_")[0]
    try:  # the preset's name starts every experiment name (<name>-<arm>): the one rule for such names
        config.check_name(f"study name (the file name {Path(path).name!r} up to its first '_')", name)
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from None
    study = raw.get("study")
    if study not in STUDIES:
        raise ConfigError(f"{path}: study: unknown study module {study!r} (known: {sorted(STUDIES)})")
    profiles = {}
    for profile in ("embedded", "paper"):
        if profile not in raw:
            continue
        sec = raw[profile] or {}
        bad = sorted(set(sec) - {"overrides", "arms", "analysis"})
        if bad:
            raise ConfigError(f"{path}: {profile}.{bad[0]}: unknown key (allowed: ['analysis', 'arms', 'overrides'])")
        arms = sec.get("arms") or {}
        if not isinstance(arms, dict) or not arms:
            raise ConfigError(f"{path}: {profile}.arms: needs at least one arm (a mapping arm name -> overrides)")
        for arm, over in arms.items():
            try:  # an arm becomes an experiment name and output folders: the one rule for such names
                config.check_name(f"{profile}.arms.{arm}", arm)
            except ConfigError as err:
                raise ConfigError(f"{path}: {err}") from None
            if not isinstance(over or {}, dict):
                raise ConfigError(f"{path}: {profile}.arms.{arm}: expected a mapping of dotted keys")
        profiles[profile] = {"overrides": sec.get("overrides") or {}, "arms": {a: (o or {}) for a, o in arms.items()}, "analysis": sec.get("analysis") or {}}
    if not profiles:
        raise ConfigError(f"{path}: needs an 'embedded' and/or 'paper' section")
    return Preset(name, path, study, raw.get("title", study), profiles, raw.get("analysis") or {})


def set_dotted(raw: dict, key: str, value) -> None:
    """``raw[a][b][c] = value`` for ``key = "a.b.c"``; missing mappings are created, so an unknown
    key reaches :mod:`xstilts.config`, which names it."""
    parts = key.split(".")
    obj = raw
    for i, part in enumerate(parts[:-1]):
        nxt = obj.setdefault(part, {})
        if not isinstance(nxt, dict):
            raise ConfigError(f"{key}: {'.'.join(parts[: i + 1])} is a {type(nxt).__name__}, not a mapping")
        obj = nxt
    obj[parts[-1]] = copy.deepcopy(value)


def get_dotted(raw: dict, key: str, default=KeyError):
    obj = raw
    for part in key.split("."):
        if not isinstance(obj, dict) or part not in obj:
            if default is KeyError:
                raise KeyError(key)
            return default
        obj = obj[part]
    return obj


# The profile's variant lists name settings of the profile's own grid (configs/paper.yaml's
# multi_mlm and translate-train settings): an arm with a grid of its own has none unless it says so.
VARIANT_LISTS = ("intermediate.mlm_settings", "intermediate.translated_settings")


def arm_overrides(preset: Preset, profile: str, arm: str) -> dict:
    sec = preset.section(profile)
    if arm not in sec["arms"]:
        raise ConfigError(f"{preset.path}: unknown arm {arm!r} (arms: {list(sec['arms'])})")
    overrides = {**sec["overrides"], **sec["arms"][arm]}
    if "intermediate.settings" in overrides:
        overrides = {**{key: [] for key in VARIANT_LISTS}, **overrides}
    return overrides


def arm_params(preset: Preset, base_raw: dict, arm: str) -> tuple[dict, config.Params]:
    """The arm's full parameters (raw dict and validated Params) over ``base_raw``."""
    profile = base_raw.get("profile", "embedded")
    raw = copy.deepcopy(base_raw)
    for key, value in arm_overrides(preset, profile, arm).items():
        set_dotted(raw, key, value)
    try:
        params = config.from_dict(raw)
    except ConfigError as err:
        raise ConfigError(f"{preset.path}: {profile} arm {arm!r}: {err}") from None
    return raw, params


def validate(preset: Preset, base_raw: dict) -> dict[str, config.Params]:
    """Every arm's merged parameters, validated; the study's own check of its analysis options."""
    from xstilts.studies import STUDIES

    profile = base_raw.get("profile", "embedded")
    arms = {arm: arm_params(preset, base_raw, arm)[1] for arm in preset.arms(profile)}
    check = getattr(STUDIES[preset.study], "check", None)
    if check:
        try:
            check(preset.options(profile), arms)
        except ConfigError as err:
            raise ConfigError(f"{preset.path}: analysis: {err}") from None
    return arms


# ---- DVC experiment queue ---------------------------------------------------------------


def hydra_value(value) -> str:
    """A Python value in the Hydra override grammar that ``dvc exp run -S`` parses."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return value if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_\-./]*", value) and value not in ("true", "false", "null") else "'" + value.replace("'", "\\'") + "'"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(hydra_value(v) for v in value) + "]"
    if isinstance(value, dict):
        for k in value:
            if not _NAME.match(str(k)):
                raise ConfigError(f"mapping key {k!r}: -S overrides need keys of letters, digits and _")
        return "{" + ",".join(f"{k}:{hydra_value(v)}" for k, v in value.items()) + "}"
    raise ConfigError(f"cannot express {value!r} as a -S override")


def set_args(base_raw: dict, overrides: dict) -> list[str]:
    """``-S`` arguments: a mapping value replaces the whole mapping (``~key`` then ``+key=...``), a
    key absent from params.yaml is added (``+key=...``), anything else is set (``key=...``)."""
    args = []
    for key, value in overrides.items():
        exists = _exists(base_raw, key)
        current = get_dotted(base_raw, key, default=None)
        if exists and isinstance(current, dict):
            args += ["-S", f"~{key}", "-S", f"+{key}={hydra_value(value)}"]
        elif exists:
            args += ["-S", f"{key}={hydra_value(value)}"]
        else:
            args += ["-S", f"+{key}={hydra_value(value)}"]
    return args


def _exists(raw: dict, key: str) -> bool:
    try:
        get_dotted(raw, key)
        return True
    except KeyError:
        return False


def exp_name(preset: Preset, arm: str) -> str:
    return f"{preset.name}-{arm}"


ARM_TARGET = "analysis"  # an arm runs up to its own analysis stage: verify/report are not needed by the study


def arm_set_args(preset: Preset, base_raw: dict, arm: str) -> list[str]:
    """The arm's ``-S`` arguments: what the queue and the arm workspaces apply to params.yaml."""
    return set_args(base_raw, arm_overrides(preset, base_raw.get("profile", "embedded"), arm))


def queue_commands(preset: Preset, base_raw: dict, dvc: str = "dvc", target: str = ARM_TARGET) -> list[list[str]]:
    """One ``dvc exp run --queue`` per arm (validated first), up to ``target``."""
    validate(preset, base_raw)
    profile = base_raw.get("profile", "embedded")
    return [[dvc, "exp", "run", "--queue", "-n", exp_name(preset, arm), *arm_set_args(preset, base_raw, arm), target] for arm in preset.arms(profile)]


# ---- arm results ----------------------------------------------------------------------


@dataclass
class Arm:
    """One arm's results: its parameters and its phase-3 folder (``<setting>/<group>/<target>``)."""

    name: str
    params: config.Params
    phase3_root: str
    retrieval: dict = field(default_factory=dict)

    def target_dir(self, setting: str, target: str) -> str:
        return analysis.target_dir(self.phase3_root, self.params, setting, target)

    def has(self, setting: str, target: str) -> bool:
        return target in self.params.target.tasks and setting in self.params.intermediate.settings and os.path.isdir(self.target_dir(setting, target))

    def langs(self, target: str, english: bool = False) -> list[str]:
        from xstilts.plan import languages_for

        return [lang for lang in languages_for(self.params, TASKS[target]) if english or lang != "en"]

    def components(self, setting: str, target: str, langs: list[str], split: str = "test") -> list[np.ndarray]:
        """Per language, each test example's (numerator, denominator) of the metric, averaged over seeds."""
        seeds = layout.seed_dirs(self.params, self.target_dir(setting, target))
        return [analysis.seed_averaged_components(seeds, TASKS[target], split, lang) for lang in langs]

    def seed_scores(self, setting: str, target: str, split: str = "test") -> pd.DataFrame:
        """One row per (seed, language) with the task's major score."""
        from xstilts.formats import major_score

        m = io.read_json(os.path.join(self.target_dir(setting, target), "metrics.json"))
        rows = [{"seed": int(seed), "lang": lang, "score": major_score(s)} for seed, run in m["seeds"].items() for lang, s in run["scores"].get(split, {}).items() if s is not None]
        return pd.DataFrame(rows, columns=["seed", "lang", "score"])

    def english_score(self, setting: str, target: str) -> float:
        """Seed mean of the English dev score phase 3 early-stopped on (the training task's dev set,
        e.g. COPA for XCOPA, which has no English test); the English test score where absent."""
        m = io.read_json(os.path.join(self.target_dir(setting, target), "metrics.json"))
        dev = [run["best_dev"] for run in m["seeds"].values() if run.get("best_dev") is not None]
        if dev:
            return float(np.mean(dev))
        en = self.seed_scores(setting, target)
        return float(en[en.lang == "en"].score.mean())

    def zero_shot_per_seed(self, setting: str, target: str, split: str = "test") -> np.ndarray:
        df = self.seed_scores(setting, target, split)
        return df[df.lang != "en"].groupby("seed").score.mean().to_numpy()

    def degenerate(self, setting: str, target: str, lang: str, split: str = "test") -> bool:
        """Every seed predicts one constant output on this language (or scores 0): the model is at its
        floor there and the cell carries no information about the conditions."""
        for rows in self.predictions(setting, target, lang, split):
            if len({json.dumps(r["prediction"], sort_keys=True) for r in rows}) > 1 and any(r["prediction"] == r["gold"] for r in rows):
                return False
        return True

    def predictions(self, setting: str, target: str, lang: str, split: str = "test") -> list[list[dict]]:
        d = Path(self.target_dir(setting, target))
        return [io.read_jsonl(str(p / f"{split}.{lang}.jsonl")) for p in sorted(d.glob("seed*/predictions"))]


def load_arm(arm_dir: str, name: str) -> Arm:
    params = config.load(os.path.join(arm_dir, "params.yaml"))
    retrieval_path = os.path.join(arm_dir, "retrieval", "metrics.json")
    retrieval = io.read_json(retrieval_path) if os.path.exists(retrieval_path) else {}
    return Arm(name, params, os.path.join(arm_dir, "phase3"), retrieval)


def load_arms(arms_dir: str, names: list[str]) -> dict[str, Arm]:
    missing = [n for n in names if not os.path.exists(os.path.join(arms_dir, n, "params.yaml"))]
    if missing:
        raise FileNotFoundError(f"{arms_dir}: no collected results for arm(s) {missing}; run `python -m xstilts.cli study run` (or `study collect`) first")
    return {n: load_arm(os.path.join(arms_dir, n), n) for n in names}


# ---- contrasts ------------------------------------------------------------------------


def contrast(systems: list[list[np.ndarray]], weights, langs: list[str], n_boot: int = 2000, seed: int = 0, alpha: float = 0.05, alternative: str = "two-sided") -> stats.BootstrapResult:
    """Bootstrap of ``sum_k w_k * metric(system_k)``, the metric being the zero-shot language average.

    ``systems[k][l]`` holds per-example (numerator, denominator) components of system k on language
    ``langs[l]``; every system must cover the same test examples (same order). The weights sum to
    zero (a difference, a difference in differences, a least-squares slope), so one
    :func:`stats.paired_bootstrap` on the stacked systems against a null system gives the estimate,
    its CI and p-value with the examples resampled jointly for all systems, stratified by language
    and scored per language (macro average), as the analysis stage's significance tests."""
    w = np.asarray(weights, dtype=float)
    if len(systems) != w.size:
        raise ValueError(f"{len(systems)} systems but {w.size} weights")
    if abs(w.sum()) > 1e-9:
        raise ValueError("contrast weights must sum to zero")
    per_lang = []
    for i, lang in enumerate(langs):
        sizes = {len(s[i]) for s in systems}
        if len(sizes) != 1:
            raise ValueError(f"{lang}: systems have different numbers of test examples {sorted(sizes)}")
        per_lang.append(np.stack([s[i] for s in systems], axis=1))  # (n, K, 2)
    stacked = np.concatenate(per_lang)
    strata = np.concatenate([[lang] * len(x) for lang, x in zip(langs, per_lang)])
    null = np.zeros_like(stacked)
    null[..., 1] = 1.0

    def metric(comp, _refs):
        scores = 100.0 * comp[..., 0].sum(-2) / np.maximum(comp[..., 1].sum(-2), 1e-12)  # (m, n, K) -> (m, K)
        return scores @ w

    return stats.paired_bootstrap(metric, stacked, null, np.zeros(len(strata)), n_boot=n_boot, seed=seed, strata=strata, alpha=alpha, alternative=alternative, vectorized=True)


def zero_shot_score(components: list[np.ndarray]) -> float:
    """The zero-shot language average of the metric from per-language components."""
    return float(np.mean([100.0 * c[:, 0].sum() / max(c[:, 1].sum(), 1e-12) for c in components]))


def macro_f1(rows: list[dict], num_labels: int | None = None) -> float:
    """Macro-F1 of saved single-label predictions (XNLI 3 classes, XCOPA 2 choices) with the
    package's metric; ``num_labels`` defaults to the classes seen."""
    gold = [r["gold"] for r in rows]
    pred = [r["prediction"] for r in rows]
    if not gold:
        return float("nan")
    return metrics.macro_f1(pred, gold, num_labels or max(gold + pred) + 1)


def zero_shot_macro_f1(arm: Arm, setting: str, target: str, split: str = "test") -> float:
    """Secondary metric for classification targets: seed-mean of the language-averaged macro-F1."""
    langs = arm.langs(target)
    per_seed = [np.mean([macro_f1(arm.predictions(setting, target, lang, split)[s]) for lang in langs]) for s in range(len(arm.params.target.seeds))]
    return float(np.mean(per_seed))


def adjust(df: pd.DataFrame, alpha: float, column: str = "p_value", family: pd.Series | None = None) -> pd.DataFrame:
    """Holm (confirmatory family: ``family`` True rows, default all) and BH (all rows) columns.
    Undefined p-values (a degenerate test, e.g. no spread at all) stay NaN and are left out."""
    df = df.copy()
    finite = df[column].notna() if len(df) else pd.Series(dtype=bool)
    df["p_bh"] = np.nan
    if finite.any():
        df.loc[finite, "p_bh"] = stats.benjamini_hochberg(df.loc[finite, column].to_numpy())
    fam = (family if family is not None else pd.Series(True, index=df.index)) & finite
    df["p_holm"] = np.nan
    if fam.any():
        df.loc[fam, "p_holm"] = stats.holm(df.loc[fam, column].to_numpy())
    df["significant"] = df.p_holm < alpha
    return df


# ---- outputs --------------------------------------------------------------------------


def write_outputs(out_dir: str, name: str, markdown: str, tables: dict[str, pd.DataFrame], figure) -> list[str]:
    """results.md, <table>.csv and <name>.png/.pdf in out_dir; returns the written paths."""
    import matplotlib.pyplot as plt

    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for tname, df in tables.items():
        path = os.path.join(out_dir, f"{tname}.csv")
        with io.atomic_path(path) as tmp:
            df.to_csv(tmp, index=False)
        paths.append(path)
    path = os.path.join(out_dir, "results.md")
    with io.atomic_path(path) as tmp:
        Path(tmp).write_text(markdown)
    paths.append(path)
    if figure is not None:
        paths += analysis._save(figure, out_dir, name)
        plt.close(figure)
    return paths


def fmt_p(p: float) -> str:
    return "" if p != p else (f"{p:.3f}" if p >= 0.001 else f"{p:.1e}")


def plt_setup():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="paper")
    return plt, sns


# ---- option checks shared by the studies ----------------------------------------------


def one_arm(arms: dict, options: dict):
    """The arm a single-run study analyses: ``options['arm']`` or the only arm."""
    name = options.get("arm") or (next(iter(arms)) if len(arms) == 1 else None)
    if name not in arms:
        raise ConfigError(f"arm: {name!r} is not an arm of this study (arms: {sorted(arms)}); set analysis.arm")
    return arms[name]


def need_settings(params: config.Params, settings, where: str) -> None:
    for s in settings:
        if s not in params.intermediate.settings:
            raise ConfigError(f"{where}: setting {s!r} is not in intermediate.settings ({sorted(params.intermediate.settings)})")


def need_targets(params: config.Params, targets, where: str) -> None:
    for t in targets:
        if t not in params.target.tasks:
            raise ConfigError(f"{where}: target {t!r} is not in target.tasks ({params.target.tasks})")


def n_boot(options: dict) -> int:
    return int(options.get("n_boot", 2000))


def alpha(options: dict) -> float:
    return float(options.get("alpha", 0.05))


def size_figure(table: pd.DataFrame, per_lang: pd.DataFrame, sizes, quantity: str, label, style: str, ylabel: str, suptitle: str, band: float | None = None):
    """The RQ4/RQ5 figure. (A) ``quantity`` (gain or gap) at both model sizes with 95% CIs, one line
    per row of ``table`` (columns ``<quantity>_{small,large}[_low|_high]``, ``significant``);
    (B) per language, small vs large, with the diagonal (below it: the quantity shrinks)."""
    plt, sns = plt_setup()
    q = quantity
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.6))
    for color, (_, r) in zip(sns.color_palette("deep", len(table)), table.iterrows()):
        y = [r[f"{q}_small"], r[f"{q}_large"]]
        err = np.clip([[y[0] - r[f"{q}_small_low"], y[1] - r[f"{q}_large_low"]], [r[f"{q}_small_high"] - y[0], r[f"{q}_large_high"] - y[1]]], 0, None)
        ax1.errorbar([0, 1], y, yerr=err, marker="o", capsize=3, color=color, label=label(r) + (" *" if r.significant else ""))
    ax1.axhline(0, color="black", lw=0.8)
    if band is not None:
        ax1.axhspan(-band, band, color="grey", alpha=0.15, label=f"+-SESOI {band}")
    ax1.set_xticks([0, 1], sizes)
    ax1.set_xlim(-0.3, 1.3)
    ax1.set_xlabel("model size")
    ax1.set_ylabel(ylabel)
    ax1.set_title(f"A: {q} vs size (* Holm DiD)")
    ax1.legend(fontsize=7)
    small, large = per_lang[f"{q}_small"], per_lang[f"{q}_large"]
    sns.scatterplot(data=per_lang, x=f"{q}_small", y=f"{q}_large", hue="resource_class", style=style, palette="viridis", ax=ax2)
    lim = [min(small.min(), large.min()) - 0.5, max(small.max(), large.max()) + 0.5]
    ax2.plot(lim, lim, color="grey", ls="--", lw=1)
    ax2.set_xlabel(f"{q}, {sizes[0]}")
    ax2.set_ylabel(f"{q}, {sizes[1]}")
    ax2.set_title(f"B: per language (below diagonal: {q} shrinks)")
    ax2.legend(fontsize=7)
    fig.suptitle(suptitle)
    fig.tight_layout()
    return fig
