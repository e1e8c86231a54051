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
# # Embedded benchmark
# **In:** `params.yaml` (`data.*`). **Out:** `data/embedded/` (embedded profile: a deterministic synthetic multilingual benchmark written in the Hub's schemas, with `manifest.json`) or, in the paper profile, only `manifest.json` (nothing is downloaded here; a local mirror is read, never written); `outputs/benchmark/manifest.json` records the source, and a mirror's files. A missing hand-supplied input (CCGbank) stops the run here.

# %%
from xstilts.explore import work_from_repo_root
work_from_repo_root();

# %% tags=["parameters"]
params_path = "params.yaml"
out_dir = "data/embedded"
manifest_path = "outputs/benchmark/manifest.json"

# %%
from xstilts import config, pipeline
params = config.load(params_path)
manifest = pipeline.build_benchmark(params, out_dir, manifest_path)

# %% [markdown]
# ## Where each dataset comes from
# Every task of the benchmark: its role in the paper, format, metric, number of languages (in XTREME), Hub source and licence.

# %%
# %matplotlib inline
import pandas as pd
from IPython.display import Image, Markdown, display
pd.set_option('display.max_colwidth', 80)

# %%
from xstilts.explore import data
data.dataset_card(data.benchmark_tasks(manifest))

# %% [markdown]
# ## What this stage wrote
# Rows per task (embedded: files in the Hub layout; paper: the pinned revisions).

# %%
files = data.benchmark_files(manifest)
files.groupby('task').agg(files=('file', 'count'), rows=('rows', 'sum')) if 'task' in files else files
