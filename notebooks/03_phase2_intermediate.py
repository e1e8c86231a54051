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
# # Phase 2: English intermediate-task training
# **In:** the phase-1 encoder, the English features of the setting's intermediate tasks, `intermediate.*`. **Out:** `outputs/phase2/<setting>/` — `encoder/` (the only thing carried forward: task heads are discarded), `metrics.json` (steps, sampling probabilities, each task's dev score), `curve.json` (the loss per logged step), `train.log` (every progress line); and the loss curve for `dvc plots` in `plots_dir`. `none` is the baseline: the phase-1 encoder unchanged.

# %%
from xstilts.explore import work_from_repo_root
work_from_repo_root();

# %% tags=["parameters"]
params_path = "params.yaml"
setting = "none"
phase1_dir = "outputs/phase1"
features_dir = "outputs/features"
out_dir = "outputs/phase2/none"
plots_dir = "outputs/curves/phase2/none"

# %%
from xstilts import config, pipeline
params = config.load(params_path)
metrics = pipeline.run_phase2(params, setting, phase1_dir, features_dir, out_dir)

# %% [markdown]
# ## The mixture
# The setting's tasks, their English training examples, the probability the sampler draws each with, the steps that gives it, and its own dev score after training.

# %%
# %matplotlib inline
import pandas as pd
from IPython.display import Image, Markdown, display
pd.set_option('display.max_colwidth', 80)

# %%
import os
from xstilts import io
from xstilts.explore import intermediate
intermediate.mixture(metrics, io.read_json(os.path.join(features_dir, 'summary.json')))

# %% [markdown]
# ## Training
# The run in one row (steps, training seconds, final loss; every progress line is in the `log` file), then the multi-task loss against step (none for the baseline); the same curve is written for `dvc plots`.

# %%
intermediate.training(out_dir, metrics)

# %%
intermediate.plot_tables(out_dir, plots_dir)
intermediate.loss_curve(out_dir) or 'the baseline trains nothing'
