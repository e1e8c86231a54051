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
# # Report: paper/generated/*.tex from the metrics, then paper/report.pdf
# **In:** `outputs/analysis`, `outputs/verify`, `paper/report.tex`. **Out:** `paper/generated/` (tables: results, significance, claims; figures) and `paper/report.pdf`; `paper/report.tex` only `\input`s them. Building the PDF needs latexmk (`tools/install_tex.sh`).

# %%
from xstilts.explore import work_from_repo_root
work_from_repo_root();

# %% tags=["parameters"]
params_path = "params.yaml"
analysis_dir = "outputs/analysis"
verify_dir = "outputs/verify"
paper_dir = "paper"

# %%
from xstilts import config, report
params = config.load(params_path)
result = report.run(analysis_dir, verify_dir, paper_dir, params)

# %%
# %matplotlib inline
import pandas as pd
from IPython.display import Image, Markdown, display
pd.set_option('display.max_colwidth', 80)

# %% [markdown]
# ## What the report holds
# The generated files the PDF inputs, and the verdicts it prints.

# %%
import os
pd.DataFrame([{'file': p, 'bytes': os.path.getsize(p)} for p in result['generated']] + ([{'file': result['pdf'], 'bytes': os.path.getsize(result['pdf'])}] if result['pdf'] else []))

# %%
from xstilts.explore import results
results.verdict_counts(results.claims(verify_dir))
