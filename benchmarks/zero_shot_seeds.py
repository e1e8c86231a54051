"""Benchmark: how robust is single-seed zero-shot transfer? Re-runs phase 3 of one intermediate
setting (default ``none``) with several seeds on the encoder a finished ``dvc repro`` left in
``outputs/``, and prints, per zero-shot (target, language) cell, the mean, range and share of
seeds above chance (``xstilts.analysis.above_chance_by_seed``), then for each k how many k-seed
subsets leave some cell's mean at or below chance (``seed_subsets_at_or_below_chance``): what a
k-seed default risks. Nothing under ``outputs/`` changes.

``--dropout`` overrides ``model.dropout`` for phase 3 only (the encoder keeps its phase-1/2 weights).

    PYTHONPATH=. .venv/bin/python benchmarks/zero_shot_seeds.py [--setting none] [--seeds 0,1,2,3,4,5] [--dropout 0.1] [--out /tmp/zs]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time

from xstilts import analysis, config, layout, pipeline


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--setting", default="none")
    ap.add_argument("--seeds", default="0,1,2,3,4,5")
    ap.add_argument("--dropout", type=float, default=None)
    ap.add_argument("--out", default="/tmp/xstilts-zero-shot-seeds")
    a = ap.parse_args()
    params = config.load(a.params)
    seeds = [int(s) for s in a.seeds.split(",")]
    params = dataclasses.replace(params, target=dataclasses.replace(params.target, seeds=seeds))
    if a.dropout is not None:
        params = dataclasses.replace(params, model=dataclasses.replace(params.model, dropout=a.dropout))
    start = time.perf_counter()
    for group in params.target.groups:
        pipeline.run_phase3_group(params, a.setting, group, os.path.join("outputs/phase2", a.setting), "outputs/phase1", "outputs/features", os.path.join(a.out, a.setting, group))
    # this run's setting only: the params' other settings have no folder under --out
    one = dataclasses.replace(params, intermediate=dataclasses.replace(params.intermediate, settings={a.setting: params.intermediate.settings[a.setting]}))
    phase3 = layout.read_phase3_metrics(one, a.out)
    scores = analysis.collect_scores(phase3)
    chance = analysis.chance_levels(phase3)
    table = analysis.above_chance_by_seed(scores, chance, a.setting)
    print(table.round(1).to_markdown(index=False))
    print(f"\n{int((table.above == 1).sum())} of {len(table)} zero-shot cells above chance with every seed; "
          f"{int((table['mean'] > table.chance).sum())} with the seed mean; "
          f"{(table.above * table.seeds).sum():.0f} of {table.seeds.sum()} (cell, seed) runs above chance; {time.perf_counter() - start:.0f} s")
    for k in range(1, len(seeds) + 1):
        failing, total = analysis.seed_subsets_at_or_below_chance(scores, chance, a.setting, k)
        print(f"{k} seed(s): {failing} of {total} seed subsets leave some zero-shot cell's mean at or below chance")


if __name__ == "__main__":
    main()
