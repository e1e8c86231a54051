"""RQ5: does model size shrink the gap between English intermediate training and target-language
fine-tuning?

Grid: per model size, a zero-shot arm (``target.regime: zero_shot``; settings ``none`` = Z and an
intermediate task = ZI) and target-language arms: translate-train-all (TT, machine-translated
training data for every evaluated language: XNLI, XQuAD, MLQA, PAWS-X) and in-language (IL, gold
training data per language: PAN-X, UD-POS, TyDiQA), each with ``none``.

Estimand per (task, regime R): Gap_m = score(R) - score(ZI) for model m; DiD = Gap_large -
Gap_small (H1: the gap shrinks, DiD < 0); also the fraction of the gap closed by intermediate
training, (ZI - Z) / (R - Z).

Tests: the gap and the DiD by a paired bootstrap over the shared test examples (stratified by
language), Holm over (task, regime).

Figure ``rq5_size_gap``: (A) gap vs model size, one line per (task, regime), 95% CIs (as mT5's
Fig. 2); (B) per-language gap, small vs large, coloured by resource class.
"""

from __future__ import annotations

import pandas as pd

from xstilts import languages
from xstilts.config import ConfigError
from xstilts.studies import common

REGIMES = ("translate_train", "in_language")


def _opts(options: dict) -> dict:
    return {"cells": options.get("cells") or {}, "intermediate": options.get("intermediate"), "baseline": options.get("baseline", "none"),
            "targets": options.get("targets"), "alternative": options.get("alternative", "two-sided")}


def check(options: dict, arms: dict) -> None:
    o = _opts(options)
    if len(o["cells"]) != 2:
        raise ConfigError("cells: two sizes (smaller first), each {zero_shot: arm, translate_train: arm, in_language: arm}")
    if not o["intermediate"]:
        raise ConfigError("intermediate: name the intermediate setting of ZI")
    regimes = None
    for size, cell in o["cells"].items():
        if "zero_shot" not in cell:
            raise ConfigError(f"cells.{size}: needs a zero_shot arm")
        for regime, arm in cell.items():
            if regime not in ("zero_shot",) + REGIMES:
                raise ConfigError(f"cells.{size}.{regime}: unknown regime (zero_shot, {', '.join(REGIMES)})")
            if arm not in arms:
                raise ConfigError(f"cells.{size}.{regime}: {arm!r} is not an arm (arms: {sorted(arms)})")
            if arms[arm].target.regime != regime:
                raise ConfigError(f"cells.{size}.{regime}: arm {arm!r} has target.regime {arms[arm].target.regime!r}")
            common.need_settings(arms[arm], [o["baseline"]] + ([o["intermediate"]] if regime == "zero_shot" else []), f"cells.{size}.{regime}")
        if regimes is not None and set(cell) != regimes:
            raise ConfigError("cells: both sizes need the same regimes")
        regimes = set(cell)
    if not regimes & set(REGIMES):
        raise ConfigError("cells: need a translate_train or in_language arm")


def analyse(arms: dict, options: dict, out_dir: str, title: str = "RQ5") -> dict:
    o = _opts(options)
    nb, a = common.n_boot(options), common.alpha(options)
    sizes = list(o["cells"])
    rows, per_lang = [], []
    zs = {s: arms[o["cells"][s]["zero_shot"]] for s in sizes}
    for regime in REGIMES:
        if regime not in o["cells"][sizes[0]]:
            continue
        alt = {s: arms[o["cells"][s][regime]] for s in sizes}
        targets = [t for t in (o["targets"] or alt[sizes[0]].params.target.tasks) if all(t in alt[s].params.target.tasks and t in zs[s].params.target.tasks for s in sizes)]
        for target in targets:
            langs = zs[sizes[0]].langs(target)
            comp = {}
            for s in sizes:
                comp[(s, "R")] = alt[s].components(o["baseline"], target, langs)
                comp[(s, "ZI")] = zs[s].components(o["intermediate"], target, langs)
                comp[(s, "Z")] = zs[s].components(o["baseline"], target, langs)
            row = {"target": target, "regime": regime}
            for s, tag in zip(sizes, ("small", "large")):
                g = common.contrast([comp[(s, "R")], comp[(s, "ZI")]], [1, -1], langs, n_boot=nb, seed=0, alpha=a)
                z, zi, r = (common.zero_shot_score(comp[(s, k)]) for k in ("Z", "ZI", "R"))
                row.update({f"Z_{tag}": z, f"ZI_{tag}": zi, f"R_{tag}": r, f"gap_{tag}": g.estimate, f"gap_{tag}_low": g.ci_low, f"gap_{tag}_high": g.ci_high,
                            f"closed_{tag}": (zi - z) / (r - z) if abs(r - z) > 1e-9 else float("nan")})
            did = common.contrast([comp[(sizes[1], "R")], comp[(sizes[1], "ZI")], comp[(sizes[0], "R")], comp[(sizes[0], "ZI")]], [1, -1, -1, 1], langs, n_boot=nb, seed=0, alpha=a, alternative=o["alternative"])
            row.update({"did": did.estimate, "did_low": did.ci_low, "did_high": did.ci_high, "p_value": did.p_value})
            rows.append(row)
            for i, lang in enumerate(langs):
                gap = {s: common.zero_shot_score([comp[(s, "R")][i]]) - common.zero_shot_score([comp[(s, "ZI")][i]]) for s in sizes}
                per_lang.append({"target": target, "regime": regime, "lang": lang, "resource_class": languages.get(lang).resource_class, "gap_small": gap[sizes[0]], "gap_large": gap[sizes[1]]})
    if not rows:
        raise ConfigError("no (target, regime) cell is present in every arm")
    table = common.adjust(pd.DataFrame(rows), a)
    per_lang = pd.DataFrame(per_lang)
    fig = _figure(table, per_lang, sizes)
    md = "\n".join([f"# {title}", "", f"Sizes {sizes}; ZI = `{o['intermediate']}` (zero-shot regime), R = `{o['baseline']}` trained under each target-language regime. "
                    "gap = R - ZI; DiD = gap_large - gap_small; `closed` = (ZI - Z) / (R - Z). Paired bootstrap over shared test examples (stratified by language), Holm over rows.", "",
                    table.assign(p_value=table.p_value.map(common.fmt_p), p_holm=table.p_holm.map(common.fmt_p), p_bh=table.p_bh.map(common.fmt_p)).round(2).to_markdown(index=False), ""])
    paths = common.write_outputs(out_dir, "rq5_size_gap", md, {"rq5_gap_did": table, "rq5_per_language": per_lang}, fig)
    return {"paths": paths, "table": table, "per_language": per_lang}


def _figure(table, per_lang, sizes):
    return common.size_figure(table, per_lang, sizes, "gap", lambda r: f"{r.target} ({r.regime})", "target",
                              "target-language regime - ZI (95% CI)", "RQ5: does size shrink the gap to target-language fine-tuning?")
