# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python (xstilts)
#     language: python
#     name: xstilts
# ---

# %% [markdown]
# # Analysis: results table, significance against the baseline, figures
# **In:** every phase-3 `metrics.json` and per-example predictions, the retrieval metrics. **Out:** `outputs/analysis/` — `scores.csv` (one row per setting, task, seed, split, language), `results.csv`/`results.md` (setting x task), `significance.csv`, `chance.csv`, `zero_shot.md`, `metrics.json`, and the figures `gain_heatmap` and `per_language` (PNG and PDF).

# %%
from xstilts.explore import work_from_repo_root
work_from_repo_root();

# %% tags=["parameters"]
params_path = "params.yaml"
phase3_root = "outputs/phase3"
retrieval_dir = "outputs/retrieval"
out_dir = "outputs/analysis"

# %%
from xstilts import analysis, config
params = config.load(params_path)
result = analysis.run(params, phase3_root, retrieval_dir, out_dir)

# %%
# %matplotlib inline
import pandas as pd
from IPython.display import Image, Markdown, display
pd.set_option('display.max_colwidth', 80)

# %% [markdown]
# ## Zero-shot results
# Setting x target: the mean over seeds of the non-English language average (XTREME's zero-shot score), the baseline first.

# %%
from xstilts.explore import results
results.zero_shot_table(result['table'], params.analysis.baseline)

# %% [markdown]
# ## Gains over the baseline
# Each cell: the zero-shot gain of an intermediate setting over no intermediate task; `*` = significant after Holm's correction; hatched = the intermediate task is the target's own training data.

# %%
import os
heatmap = os.path.join(out_dir, 'gain_heatmap.png')
Image(heatmap) if os.path.exists(heatmap) else 'no comparison with the baseline (a single setting)'

# %% [markdown]
# ## Significance, read out
# Paired bootstrap over test examples (languages as strata), Holm's correction across all comparisons; one sentence per comparison.

# %%
results.significance_reading(result['significance'], params.analysis.alpha)

# %% [markdown]
# ## Per language
# Every task's score per language and setting (points: seed mean; bars: seed range).

# %%
Image(os.path.join(out_dir, 'per_language.png'))
