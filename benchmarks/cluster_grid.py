"""Benchmark: the HDBSCAN grid against scikit-learn and fast-hdbscan, fit by fit.

Run by hand: ``python benchmarks/cluster_grid.py [--n 20000 100000 500000] [--repeats 3]``.

A 4 x 3 grid (min_cluster_size 5, 10, 20, 50 x min_samples 1, 5, 10) on 2-D points: eight
blobs plus 5% uniform background. sonotype builds one mutual-reachability MST per
min_samples (Boruvka over a KD-tree); scikit-learn's HDBSCAN (Prim, O(n^2)) and fast-hdbscan
(Boruvka, numba) refit everything for each of the 12 combinations. Every measurement runs in
its own process (after a warm-up fit there, so numba's compilation or cache loading is not
counted), tools alternating within each repeat; it reports the wall time of the 12 fits and
the process's peak resident memory, medians over repeats, and the ratios. Labels are
compared with scikit-learn's (identical, every combination) and fast-hdbscan's (ARI).

scikit-learn takes minutes per fit from 100,000 points: with ``--sklearn-fits-max-n``
(default 20,000) and above, it fits one combination per min_samples (its MST dominates;
the cluster selection is cheap) and the 12-fit time is estimated as 4x that, marked "est.";
above ``--sklearn-max-n`` (default 100,000) it is skipped.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import statistics
import time

import numpy as np

SIZES, SAMPLES = (5, 10, 20, 50), (1, 5, 10)


def make_points(n: int) -> np.ndarray:
    """Eight blobs of different spreads plus 5% uniform background, seeded."""
    from sklearn.datasets import make_blobs

    rng = np.random.default_rng(0)
    n_noise = n // 20
    X, _ = make_blobs(n - n_noise, centers=8, cluster_std=rng.uniform(0.5, 2.0, 8),
                      random_state=0)  # fmt: skip
    return np.vstack([X, rng.uniform(X.min(0), X.max(0), size=(n_noise, 2))])


def _fits(tool: str, X: np.ndarray, combos) -> list[np.ndarray]:
    if tool == "sonotype":
        from sonotype.cluster import HDBSCANGrid

        sizes = sorted({m for m, _ in combos})
        samples = sorted({s for _, s in combos})
        grid = HDBSCANGrid(min_cluster_size=sizes, min_samples=samples).fit(X)
        return [c.labels for c in grid.clusterings_]
    if tool == "sklearn":
        from sklearn.cluster import HDBSCAN

        kw = {"copy": True}
    else:
        from fast_hdbscan import HDBSCAN

        kw = {}
    return [HDBSCAN(min_cluster_size=m, min_samples=s, **kw).fit(X).labels_ for m, s in combos]


def _child(tool: str, n: int, combos, queue) -> None:
    """One measurement in a fresh process: warm up, fit, report time, peak RSS, labels."""
    _fits(tool, make_points(2000), [(10, 5)])  # numba compilation / cache loading
    X = make_points(n)
    start = time.perf_counter()
    labels = _fits(tool, X, combos)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put((seconds, peak_mb, labels))


def measure(tool: str, n: int, combos) -> tuple[float, float, list[np.ndarray]]:
    context = mp.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_child, args=(tool, n, combos, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def available(tool: str) -> bool:
    try:
        __import__({"sklearn": "sklearn", "fast_hdbscan": "fast_hdbscan"}.get(tool, "sonotype"))
    except ImportError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[20000, 100000, 500000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sklearn-fits-max-n", type=int, default=20000)
    parser.add_argument("--sklearn-max-n", type=int, default=100000)
    args = parser.parse_args()
    from sklearn.metrics import adjusted_rand_score

    full = [(m, s) for m in SIZES for s in SAMPLES]
    for n in args.n:
        tools = {"sonotype": (full, 1.0)}
        if not available("sklearn") or n > args.sklearn_max_n:
            print(f"n={n}: scikit-learn skipped (O(n^2) Prim: hours at this size)")
        elif n > args.sklearn_fits_max_n:
            tools["sklearn"] = ([(10, s) for s in SAMPLES], len(SIZES))
        else:
            tools["sklearn"] = (full, 1.0)
        if available("fast_hdbscan"):
            tools["fast_hdbscan"] = (full, 1.0)
        else:
            print(f"n={n}: fast-hdbscan skipped (not installed)")
        times = {tool: [] for tool in tools}
        peaks = {tool: [] for tool in tools}
        labels = {}
        for _ in range(args.repeats):
            for tool, (combos, scale) in tools.items():  # alternating within each repeat
                seconds, peak, found = measure(tool, n, combos)
                times[tool].append(seconds * scale)
                peaks[tool].append(peak)
                labels[tool] = dict(zip(combos, found, strict=True))
        ours = labels["sonotype"]
        print(f"n={n}: 12 HDBSCAN combinations, {args.repeats} repeats, medians")
        base = statistics.median(times["sonotype"])
        for tool in tools:
            t, p = statistics.median(times[tool]), statistics.median(peaks[tool])
            note = " (est.: 4 x one fit per min_samples)" if tools[tool][1] != 1.0 else ""
            line = f"  {tool:13s} {t:8.1f} s{note}  peak {p:7.0f} MB"
            line += f"  time / sonotype {t / base:5.2f}x"
            if tool == "sklearn":
                same = sum(np.array_equal(ours[c], lab) for c, lab in labels[tool].items())
                line += f"  identical labels {same}/{len(labels[tool])}"
            elif tool == "fast_hdbscan":
                aris = [adjusted_rand_score(ours[c], lab) for c, lab in labels[tool].items()]
                line += f"  ARI vs sonotype min {min(aris):.3f}"
            print(line, flush=True)


if __name__ == "__main__":
    main()
