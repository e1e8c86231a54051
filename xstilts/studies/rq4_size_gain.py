"""RQ4: does the English intermediate-task gain shrink from a smaller to a larger model?

Grid: two arms that differ only in the model (embedded: the tiny XLM-R at two widths/depths, each
pretrained by phase 1; paper: ``xlm-roberta-base`` vs ``xlm-roberta-large``), each running
``none`` and the intermediate tasks (SQuAD, HellaSwag; never MNLI for XNLI, its own training data)
on XNLI (+ PAWS-X).

Estimand: Delta_m = score(intermediate) - score(none) per model m; DiD = Delta_large - Delta_small
(H1 "the gain diminishes": DiD < 0). Also the relative error reduction Delta_m / (100 - score_none).

Tests:

* DiD by a paired bootstrap over the shared test examples (all four cells score the same
  examples; stratified by language), Holm over (intermediate, target);
* with >= 3 seeds per cell, the seed-level DiD bootstrap (:func:`stats.diff_in_diff_bootstrap`,
  studentized; captures fine-tuning variance, which the example bootstrap does not);
* "the gain has vanished" at the large size: equivalence by CI inclusion (TOST at alpha <=> the
  1 - 2 alpha CI of Delta_large inside +-SESOI).

Figure ``rq4_size_gain``: (A) Delta vs model size, one line per (intermediate, target), 95% CIs;
(B) per-language Delta_small vs Delta_large with the diagonal, coloured by resource class.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from xstilts import languages, stats
from xstilts.config import ConfigError
from xstilts.studies import common


def _opts(options: dict) -> dict:
    return {"sizes": options.get("sizes", ["small", "large"]), "intermediates": options.get("intermediates", []), "targets": options.get("targets", ["xnli"]),
            "baseline": options.get("baseline", "none"), "sesoi": float(options.get("sesoi", 0.5)), "alpha": common.alpha(options), "alternative": options.get("alternative", "two-sided")}


def check(options: dict, arms: dict) -> None:
    o = _opts(options)
    if len(o["sizes"]) != 2 or any(s not in arms for s in o["sizes"]):
        raise ConfigError(f"sizes: two arm names, smaller model first (arms: {sorted(arms)})")
    if not o["intermediates"]:
        raise ConfigError("intermediates: name at least one intermediate setting")
    for size in o["sizes"]:
        common.need_settings(arms[size], [o["baseline"], *o["intermediates"]], f"arm {size}")
        common.need_targets(arms[size], o["targets"], f"arm {size}")


def analyse(arms: dict, options: dict, out_dir: str, title: str = "RQ4") -> dict:
    o = _opts(options)
    nb, a = common.n_boot(options), common.alpha(options)
    small, large = (arms[s] for s in o["sizes"])
    rows, per_lang = [], []
    for target in o["targets"]:
        langs = small.langs(target)
        comp = {(m.name, s): m.components(s, target, langs) for m in (small, large) for s in [o["baseline"], *o["intermediates"]]}
        for inter in o["intermediates"]:
            row = {"target": target, "intermediate": inter, "overlap": common.analysis.overlap_flag(small.params.intermediate.settings[inter], target)}
            for m, tag in ((small, "small"), (large, "large")):
                g = common.contrast([comp[(m.name, inter)], comp[(m.name, o["baseline"])]], [1, -1], langs, n_boot=nb, seed=0, alpha=a)
                base = common.zero_shot_score(comp[(m.name, o["baseline"])])
                row.update({f"none_{tag}": base, f"gain_{tag}": g.estimate, f"gain_{tag}_low": g.ci_low, f"gain_{tag}_high": g.ci_high,
                            f"rel_error_reduction_{tag}": g.estimate / max(100.0 - base, 1e-9)})
            did = common.contrast([comp[(large.name, inter)], comp[(large.name, o["baseline"])], comp[(small.name, inter)], comp[(small.name, o["baseline"])]],
                                  [1, -1, -1, 1], langs, n_boot=nb, seed=0, alpha=a, alternative=o["alternative"])
            row.update({"did": did.estimate, "did_low": did.ci_low, "did_high": did.ci_high, "p_value": did.p_value})
            cells = {(tag, c): m.zero_shot_per_seed(s, target) for m, tag in ((small, "small"), (large, "large")) for c, s in (("none", o["baseline"]), ("int", inter))}
            if min(len(v) for v in cells.values()) >= 3:  # with 2 seeds a cell resample often has zero variance (infinite t*)
                sd = stats.diff_in_diff_bootstrap(cells, n_boot=nb, seed=0, alpha=a, sizes=("small", "large"), conditions=("none", "int"), alternative=o["alternative"])
                row.update({"did_seeds_low": sd.ci_low, "did_seeds_high": sd.ci_high, "p_seeds": sd.p_value})
            else:
                row.update({"did_seeds_low": np.nan, "did_seeds_high": np.nan, "p_seeds": np.nan})
            eq = common.contrast([comp[(large.name, inter)], comp[(large.name, o["baseline"])]], [1, -1], langs, n_boot=nb, seed=0, alpha=2 * a)
            row.update({"equiv_ci_low": eq.ci_low, "equiv_ci_high": eq.ci_high, "gain_vanished": bool(-o["sesoi"] < eq.ci_low and eq.ci_high < o["sesoi"])})
            rows.append(row)
            for i, lang in enumerate(langs):
                d = {tag: common.zero_shot_score([comp[(m.name, inter)][i]]) - common.zero_shot_score([comp[(m.name, o["baseline"])][i]]) for m, tag in ((small, "small"), (large, "large"))}
                per_lang.append({"target": target, "intermediate": inter, "lang": lang, "resource_class": languages.get(lang).resource_class, "gain_small": d["small"], "gain_large": d["large"]})
    table = common.adjust(pd.DataFrame(rows), a)
    per_lang = pd.DataFrame(per_lang)
    fig = _figure(table, per_lang, o)
    md = _markdown(title, o, small, large, table)
    paths = common.write_outputs(out_dir, "rq4_size_gain", md, {"rq4_did": table, "rq4_per_language": per_lang}, fig)
    return {"paths": paths, "table": table, "per_language": per_lang}


def _figure(table, per_lang, o):
    return common.size_figure(table, per_lang, o["sizes"], "gain", lambda r: f"{r.intermediate} -> {r.target}", "intermediate",
                              "zero-shot gain over none (95% CI)", "RQ4: does the intermediate-task gain shrink with model size?", band=o["sesoi"])


def _markdown(title, o, small, large, table) -> str:
    t = table.assign(p_value=table.p_value.map(common.fmt_p), p_holm=table.p_holm.map(common.fmt_p), p_bh=table.p_bh.map(common.fmt_p), p_seeds=table.p_seeds.map(common.fmt_p))
    return "\n".join([f"# {title}", "",
                      f"Sizes: `{small.name}` ({small.params.model.name_or_path if small.params.model.source == 'hub' else f'{small.params.model.num_layers}x{small.params.model.hidden_size}'}) and "
                      f"`{large.name}` ({large.params.model.name_or_path if large.params.model.source == 'hub' else f'{large.params.model.num_layers}x{large.params.model.hidden_size}'}); seeds {small.params.target.seeds}.",
                      f"DiD = gain_large - gain_small ({o['alternative']}); `p_value`: paired bootstrap over shared test examples (stratified by language), Holm over rows; "
                      f"`p_seeds`: seed-level studentized DiD bootstrap (needs >= 3 seeds per cell). `gain_vanished`: the {100 - 200 * o['alpha']:.0f}% CI of the large model's gain lies within +-{o['sesoi']} (TOST).", "",
                      t.round(2).to_markdown(index=False), ""])
