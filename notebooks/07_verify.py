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
# # Verify: our results against the published figures
# **In:** `outputs/analysis`, `outputs/phase3`, `xstilts/references.yaml`. **Out:** `outputs/verify/claims.csv`, `claims.md`, `metrics.json`. Every claim and number of the paper is checked: reproduced / not reproduced / not run, with the reason. Numeric figures apply to the paper profile only; directional claims are checked on any results.

# %%
from xstilts.explore import work_from_repo_root
work_from_repo_root();

# %% tags=["parameters"]
params_path = "params.yaml"
results_dir = "outputs"
out_dir = "outputs/verify"

# %%
from xstilts import config, verify
params = config.load(params_path)
result = verify.run(results_dir, out_dir, params)

# %%
# %matplotlib inline
import pandas as pd
from IPython.display import Image, Markdown, display
pd.set_option('display.max_colwidth', 80)

# %% [markdown]
# ## Verdicts
# Claims per role (the paper's claims, context figures, sanity checks) and verdict.

# %%
from xstilts.explore import results
claims = results.claims(out_dir)
results.verdict_counts(claims)

# %% [markdown]
# ## Each claim, its verdict and its evidence
# `evidence` names the paper's table or figure the claim rests on; `observed` is what this run measured.

# %%
claims
