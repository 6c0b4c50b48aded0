"""Benchmark: the shared HDBSCAN grid against independent scikit-learn fits.

Run by hand: ``python benchmarks/cluster_grid.py [--n 20000]``.

A 4 x 3 grid (min_cluster_size 5, 10, 20, 50 x min_samples 1, 5, 10) on 2-D points: eight
blobs plus 5% uniform background. sonotype builds one mutual-reachability tree per
min_samples; scikit-learn's HDBSCAN refits everything for each combination. Prints both wall
times, their ratio, and checks that every combination gives identical labels.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.cluster import HDBSCAN
from sklearn.datasets import make_blobs

from sonotype.cluster import HDBSCANGrid, score_clusterings

SIZES, SAMPLES = (5, 10, 20, 50), (1, 5, 10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    n_noise = args.n // 20
    X, _ = make_blobs(args.n - n_noise, centers=8, cluster_std=rng.uniform(0.5, 2.0, 8),
                      random_state=0)  # fmt: skip
    X = np.vstack([X, rng.uniform(X.min(0), X.max(0), size=(n_noise, 2))])

    t0 = time.perf_counter()
    grid = HDBSCANGrid(min_cluster_size=SIZES, min_samples=SAMPLES).fit(X)
    shared = time.perf_counter() - t0
    t0 = time.perf_counter()
    score_clusterings(X, grid.clusterings_)
    scoring = time.perf_counter() - t0

    t0 = time.perf_counter()
    identical = 0
    for c in grid.clusterings_:
        reference = HDBSCAN(
            min_cluster_size=c.params["min_cluster_size"], min_samples=c.params["min_samples"]
        ).fit(X)
        identical += np.array_equal(reference.labels_, c.labels)
    independent = time.perf_counter() - t0

    n = len(grid.clusterings_)
    print(f"{n} HDBSCAN combinations on {args.n} points")
    print(f"sonotype shared grid: {shared:.1f} s (+ {scoring:.1f} s to score all {n})")
    print(f"scikit-learn, one fit per combination: {independent:.1f} s")
    print(f"speed-up: {independent / shared:.2f}x; identical labels in {identical}/{n}")


if __name__ == "__main__":
    main()
