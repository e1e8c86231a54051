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
# # Phase 1: the pretrained multilingual masked LM
# **In:** the benchmark's MLM corpus (`corpus/*.txt`), `model.*`, `phase1.*`. **Out:** `outputs/phase1/` — `tokenizer/`, `encoder/`, the MLM head, `curve.json` (the MLM loss per logged step), `train.log` (every progress line) and `metrics.json`; the loss for `dvc plots` in `plots_dir`. Embedded: a unigram tokenizer and a tiny XLM-R trained with MLM; paper: XLM-R Large at a pinned revision from the Hub (fails fast offline).

# %%
from xstilts.explore import work_from_repo_root
work_from_repo_root();

# %% tags=["parameters"]
params_path = "params.yaml"
out_dir = "outputs/phase1"
plots_dir = "outputs/curves/phase1"

# %%
from xstilts import config, pipeline
params = config.load(params_path)
metrics = pipeline.run_phase1(params, out_dir)
metrics

# %%
# %matplotlib inline
import pandas as pd
from IPython.display import Image, Markdown, display
pd.set_option('display.max_colwidth', 80)

# %% [markdown]
# ## The run
# Steps, training seconds and the final MLM loss; every progress line is in the `log` file (none for a Hub checkpoint: nothing trains here).

# %%
from xstilts.explore import pretraining
pretraining.training(out_dir, metrics)

# %% [markdown]
# ## The tokenizer's view of each language
# The first line of each language's MLM corpus, cut into subword pieces by the tokenizer trained on it (embedded profile; `02_features` shows one sentence and its translations). More pieces per word means the vocabulary serves that language less well.

# %%
import os
from xstilts.tokenization import load_tokenizer
tokenizer = load_tokenizer(os.path.join(out_dir, 'tokenizer'))
pretraining.segmentation(tokenizer, pretraining.corpus_sentences(params)) if params.model.source == 'scratch' else 'XLM-R is loaded, not trained here: see 02_features'

# %% [markdown]
# ## The masked-LM curve
# Training loss against optimiser step (embedded profile only: the paper profile does not train phase 1); the same curve is written for `dvc plots`.

# %%
pretraining.plot_tables(out_dir, plots_dir)
pretraining.mlm_curve(out_dir) if params.model.source == 'scratch' else 'XLM-R is loaded, not trained here'
