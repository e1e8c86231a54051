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
# # Retrieval: BUCC mining and Tatoeba straight from the phase-2 encoders
# **In:** every setting's phase-2 encoder, the phase-1 tokenizer, the BUCC and Tatoeba data. **Out:** `outputs/retrieval/metrics.json` (per setting, task and language) and `<setting>/<task>/<lang>.jsonl` (Tatoeba: every query's neighbour; BUCC: the mined pairs kept). Sentences are mean-pooled hidden states of layer `retrieval.layer`; BUCC's margin threshold is tuned on dev and reused on test.

# %%
from xstilts.explore import work_from_repo_root
work_from_repo_root();

# %% tags=["parameters"]
params_path = "params.yaml"
phase1_dir = "outputs/phase1"
phase2_root = "outputs/phase2"
out_dir = "outputs/retrieval"

# %%
from xstilts import config, pipeline
params = config.load(params_path)
metrics = pipeline.run_retrieval(params, list(params.intermediate.settings), phase2_root, phase1_dir, out_dir)

# %%
# %matplotlib inline
import pandas as pd
from IPython.display import Image, Markdown, display
pd.set_option('display.max_colwidth', 80)

# %% [markdown]
# ## The data
# The first query of each retrieval task in every language beside its gold English sentence.

# %%
from xstilts.explore import data
for task in params.retrieval.tasks:
    display(data.examples_across_languages(params, task, 'test', 0))

# %% [markdown]
# ## Tatoeba
# Accuracy of the nearest English neighbour, per language and setting, with chance (one over the number of English sentences).

# %%
from xstilts.explore import retrieval
retrieval.score_table(metrics, 'tatoeba', 'accuracy') if any('tatoeba' in m for m in metrics.values()) else 'tatoeba not configured'

# %% [markdown]
# ## BUCC: margin scores and the threshold
# F1 per language and setting, the dev-tuned thresholds, then for the baseline encoder in one language: every candidate pair's ratio-margin score (gold pairs against the rest) with the threshold, and the best pairs it mines.

# %%
has_bucc = any('bucc2018' in m for m in metrics.values())
if has_bucc:
    display(retrieval.score_table(metrics, 'bucc2018', 'f1'))
    display(retrieval.score_table(metrics, 'bucc2018', 'threshold', digits=6).drop(columns='chance'))

# %%
if has_bucc:
    setting = next(iter(metrics))  # the first setting: the baseline, none
    lang = sorted(metrics[setting]['bucc2018'])[0]
    threshold = metrics[setting]['bucc2018'][lang]['threshold']
    cands, complete = retrieval.candidates(params, setting, lang, phase2_root, phase1_dir, out_dir)
    display(retrieval.margin_figure(cands, threshold, f'BUCC {lang}-en, {setting}' + ('' if complete else ' (kept pairs only)')))
    display(retrieval.mined_pairs(cands, threshold, n=5))
