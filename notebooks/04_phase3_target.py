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
# # Phase 3: target-task fine-tuning and zero-shot evaluation
# **In:** the phase-2 encoder of one setting, the targets of one group (`target.groups`), their English training data and every language's dev/test features. **Out:** `outputs/phase3/<setting>/<group>/<target>/` — `metrics.json` (per seed: steps, best English dev, scores per split and language; chance levels), `seed<k>/curve.json`, `seed<k>/train.log` (every progress line) and `seed<k>/predictions/<split>.<lang>.jsonl` (every example's prediction and gold); the seed-mean curves for `dvc plots` in `plots_dir`.

# %%
from xstilts.explore import work_from_repo_root
work_from_repo_root();

# %% tags=["parameters"]
params_path = "params.yaml"
setting = "none"
group = "all"
phase1_dir = "outputs/phase1"
phase2_dir = "outputs/phase2/none"
features_dir = "outputs/features"
out_dir = "outputs/phase3/none/all"
plots_dir = "outputs/curves/phase3/none-all"

# %%
from xstilts import config, pipeline
params = config.load(params_path)
results = pipeline.run_phase3_group(params, setting, group, phase2_dir, phase1_dir, features_dir, out_dir)

# %% [markdown]
# ## Each target
# For every target: each seed's run in one row (steps, training seconds, final loss, best English dev, its log file); the English dev curve early stopping watched (one line per seed; a table when each seed has one point) and the training loss; the test score per language (seed mean, min, max) beside its chance level; the same as a figure (grey: English, the training language); and the first predictions of the first seed in each language beside the gold (NLI labels, NER/POS tags, QA answers).

# %%
# %matplotlib inline
import pandas as pd
from IPython.display import Image, Markdown, display
pd.set_option('display.max_colwidth', 80)

# %%
import os
from xstilts.explore import target
from xstilts.tasks import TASKS
store = pipeline.store_for(params)
for name in params.target.groups[group]:
    target_dir = os.path.join(out_dir, name)
    target.plot_tables(target_dir, os.path.join(plots_dir, name))
    display(Markdown(f'### {name} ({TASKS[name].metric})'))
    display(target.training(target_dir))
    display(target.dev_curve(target_dir))
    display(target.loss_curve(target_dir))
    table = target.language_table(target_dir)
    display(table)
    display(target.language_figure(table, f'{name}: test score per language ({setting})'))
    display(pd.concat([target.predictions(target_dir, name, TASKS[name].load(store, 'test', lang), lang, n=2) for lang in table.index], ignore_index=True))
