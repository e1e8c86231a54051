"""Benchmark: BUCC ratio-margin mining (``xstilts.metrics.retrieval.mine_bitext``) at growing sizes.

Workload: n x n random unit vectors of dimension 1024 (XLM-R Large's width), the target side a
noisy copy of the source side so that mining finds pairs, k = 4 as in XTREME. Mining computes the
n x n similarity matrix once, in float32 blocks, takes the top k of every row and every column
from each block, then the margins and the greedy one-to-one selection, so its time grows as n^2;
the last column extrapolates to BUCC's largest side, about 400k sentences.

    PYTHONPATH=. .venv/bin/python benchmarks/bucc_mining.py [--sizes 5000 10000 20000 50000] [--device cpu]

Reports per size: seconds (best of ``--repeats``), similarities per second (n^2 / s: entries of
the one similarity matrix; the float64 NumPy miner it replaced computed the matrix twice) and the
number of pairs mined.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from xstilts.metrics.retrieval import mine_bitext

BUCC_SIDE = 400_000  # sentences per side of the largest BUCC 2018 corpus, roughly


def workload(n: int, dim: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, dim), dtype=np.float32)
    y = x + rng.standard_normal((n, dim), dtype=np.float32)  # cosine ~0.7 to its source
    return x / np.linalg.norm(x, axis=1, keepdims=True), y / np.linalg.norm(y, axis=1, keepdims=True)


def time_mining(n: int, dim: int, k: int, device: str, repeats: int) -> tuple[float, int]:
    x, y = workload(n, dim)
    best, pairs = float("inf"), 0
    for _ in range(repeats):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        start = time.perf_counter()
        pairs = len(mine_bitext(x, y, k=k, device=device))
        best = min(best, time.perf_counter() - start)  # mine_bitext returns host lists: synchronised
    return best, pairs


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[5000, 10000, 20000, 50000])
    ap.add_argument("--dim", type=int, default=1024)
    ap.add_argument("-k", type=int, default=4)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--repeats", type=int, default=1)
    args = ap.parse_args(argv)
    name = torch.cuda.get_device_name() if args.device.startswith("cuda") else f"CPU, {torch.get_num_threads()} torch threads"
    print(f"BUCC mining, dim {args.dim}, k {args.k}, float32 on {args.device} ({name})")
    print(f"{'n x n':>17} {'seconds':>9} {'similarities/s':>15} {'pairs':>7} {'400k x 400k (est.)':>19}")
    for n in args.sizes:
        seconds, pairs = time_mining(n, args.dim, args.k, args.device, args.repeats)
        estimate = seconds * (BUCC_SIDE / n) ** 2
        print(f"{n:>8,} x {n:<7,} {seconds:>9.2f} {n * n / seconds:>15.3g} {pairs:>7,} {estimate / 3600:>17.2f} h", flush=True)


if __name__ == "__main__":
    main()
