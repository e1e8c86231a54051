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
# # Data: task datasets and tokenized caches
# **In:** the benchmark, the phase-1 tokenizer, the tasks the configuration uses. **Out:** `outputs/features/<task>/<split>.<lang>.parquet`, `keys.json` (cache key: tokenizer hash, max length, preprocessing-code hash; a stale cache is refused) and `summary.json`.

# %%
from xstilts.explore import work_from_repo_root
work_from_repo_root();

# %% tags=["parameters"]
params_path = "params.yaml"
phase1_dir = "outputs/phase1"
out_dir = "outputs/features"

# %%
from xstilts import config, pipeline
params = config.load(params_path)
summary = pipeline.build_features(params, phase1_dir, out_dir)

# %% [markdown]
# ## Split sizes
# Examples per task, split and language. Intermediate tasks and the targets' training data are English; the targets are evaluated in every language.

# %%
# %matplotlib inline
import pandas as pd
from IPython.display import Image, Markdown, display
pd.set_option('display.max_colwidth', 80)

# %%
from xstilts.explore import data
data.split_sizes(summary)

# %% [markdown]
# ## The same example in every language
# The first test example of each target task, side by side (XTREME's evaluation sets are translations of each other). Labels by name, tags as `token/TAG`.

# %%
for task in params.target.tasks:
    display(data.examples_across_languages(params, task, 'test', 0))

# %% [markdown]
# ## The tokenizer's view of each language
# One sentence and its translations (the first premise of a sentence-pair target) cut into subword pieces by the phase-1 tokenizer. More pieces per word means the vocabulary serves that language less well.

# %%
import os
from xstilts.explore import pretraining
from xstilts.tokenization import load_tokenizer
pretraining.segmentation(load_tokenizer(os.path.join(phase1_dir, 'tokenizer')), pretraining.parallel_sentences(params))
