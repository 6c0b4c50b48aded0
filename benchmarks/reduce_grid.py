"""Benchmark: sonotype's UMAP grid against one umap-learn fit per combination in a pool.

Run by hand: ``python benchmarks/reduce_grid.py [--n 20000] [--grid 5x5] [--workers N]``
(``--sonotype-only`` skips the naive pool, for sizes where it would take hours);
``--calibrate`` instead measures the peak memory of :func:`sonotype.reduce.umap_grid` at a
few sizes against :func:`sonotype.reduce.estimate_peak_mb`.

The data are synthetic syllables: flattened 64 x 64 "spectrograms" (4096 values) made from
12 syllable types, each a few smooth harmonic-like stripes whose pitch, onset and
loudness vary per rendition along a low-dimensional manifold, plus noise (standard
deviation 0.4, against peaks of 1: trustworthiness then ranges 0.9-0.99); rows come in
songs of about 20 syllables (the ``groups``).

Both contenders run in fresh processes started by this script (so that each pays its own
imports and numba compilation, as a user's run does):

- **sonotype**: ``umap_grid(X, n_neighbors=..., min_dist=...)``: one kNN graph, one fuzzy
  graph and spectral initialisation per ``n_neighbors``, layouts in threads.
- **naive**: what song_phenotyping does: a ``ProcessPoolExecutor`` with ``--workers``
  processes, each combination an independent ``umap.UMAP(n_neighbors, min_dist,
  random_state=0).fit_transform(X)`` (plain umap-learn, its own numba caching only).

Reported: wall time of each (and their ratio), peak memory (the summed resident memory of
the process tree, sampled every 0.1 s), and the mean trustworthiness of each grid, scored
by the same :class:`~sonotype.reduce.TrustworthinessScorer` (2000 seeded rows, 5
neighbours); the difference must be under 0.01.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

N_NEIGHBORS = (5, 10, 20, 50, 100)
MIN_DIST = (0.01, 0.05, 0.1, 0.3, 0.5)

SONOTYPE_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import numpy as np
from sonotype.reduce import umap_grid
X = np.load(sys.argv[1])
groups = np.load(sys.argv[2])
spec = json.loads(sys.argv[3])
t1 = time.perf_counter()
results = umap_grid(X, n_neighbors=spec["n_neighbors"], min_dist=spec["min_dist"],
                    groups=groups, n_jobs=spec["workers"])
t2 = time.perf_counter()
np.save(sys.argv[4], np.stack([e.coords for e in results]))
peak = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
print(json.dumps({"load_s": t1 - t0, "grid_s": t2 - t1, "vmhwm_mb": peak / 1024,
                  "trust": [e.trustworthiness for e in results]}))
"""

NAIVE_CHILD = r"""
import json, multiprocessing, sys, time, warnings
from concurrent.futures import ProcessPoolExecutor
import numpy as np
X = np.load(sys.argv[1])
spec = json.loads(sys.argv[3])

def fit(params):
    k, md = params
    import umap
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        coords = umap.UMAP(n_neighbors=k, min_dist=md, random_state=0).fit_transform(X)
    peak = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
    return coords.astype(np.float32), peak / 1024

if __name__ == "__main__":
    combos = [(k, md) for k in spec["n_neighbors"] for md in spec["min_dist"]]
    t1 = time.perf_counter()
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=spec["workers"], mp_context=context) as pool:
        out = list(pool.map(fit, combos))
    t2 = time.perf_counter()
    np.save(sys.argv[4], np.stack([c for c, _ in out]))
    print(json.dumps({"grid_s": t2 - t1, "worker_vmhwm_mb": max(p for _, p in out)}))
"""

CALIBRATE_CHILD = r"""
import json, sys
import numpy as np
from sonotype.reduce import umap_grid
n, d, k, workers = map(int, sys.argv[1:5])
rng = np.random.default_rng(0)
W = rng.normal(size=(8, d)).astype(np.float32)
X = np.empty((n, d), dtype=np.float32)
for i in range(0, n, 1000):  # in blocks: no large temporaries
    block = rng.normal(size=(min(1000, n - i), 8)).astype(np.float32) @ W
    X[i : i + len(block)] = block + rng.normal(size=block.shape).astype(np.float32)
try:  # reset VmHWM to the current resident memory: count only what the grid adds
    open("/proc/self/clear_refs", "w").write("5")
except OSError:
    pass
umap_grid(X, n_neighbors=(max(2, k // 2), k), min_dist=(0.1, 0.3, 0.5, 0.8), n_epochs=20,
          n_jobs=workers)
peak = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
print(json.dumps({"vmhwm_mb": peak / 1024}))
"""


def synthetic_syllables(n: int, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` flattened 64 x 64 syllable spectrograms (float32, ``(n, 4096)``), their type
    labels, and song ids (groups of about 20 syllables)."""
    rng = np.random.default_rng(seed)
    n_types, size = 12, 64
    f = np.arange(size)[:, None]
    t = np.arange(size)[None, :]
    labels = rng.integers(n_types, size=n)
    # per type: fundamental, slope (frequency modulation), harmonics, duration
    base = rng.uniform(6, 20, n_types)
    slope = rng.uniform(-0.25, 0.25, n_types)
    harmonics = rng.integers(1, 4, n_types)
    duration = rng.uniform(20, 60, n_types)
    X = np.empty((n, size * size), dtype=np.float32)
    # per rendition: pitch shift, onset, loudness (the low-dimensional manifold)
    pitch = rng.normal(0, 1.2, n)
    onset = rng.uniform(0, 4, n)
    loud = rng.uniform(0.6, 1.0, n)
    for i in range(n):
        c = labels[i]
        on = (t >= onset[i]) & (t < onset[i] + duration[c])
        spec = np.zeros((size, size), dtype=np.float32)
        for h in range(1, harmonics[c] + 1):
            track = h * (base[c] + pitch[i] + slope[c] * (t - onset[i]))
            spec += np.exp(-0.5 * ((f - track) / 1.2) ** 2) * on / h
        X[i] = (loud[i] * spec).ravel()
    X += rng.normal(0, 0.4, X.shape).astype(np.float32)
    groups = np.repeat(np.arange(n // 20 + 1), 20)[:n]
    return X, labels, groups


class TreeMemory:
    """Samples the summed resident memory (VmRSS) of a process and its descendants."""

    def __init__(self, pid: int, interval_s: float = 0.1) -> None:
        self.pid, self.interval_s, self.peak_mb = pid, interval_s, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _tree(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
        tree, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            tree.append(pid)
            todo.extend(children.get(pid, []))
        return tree

    def _rss_mb(self, pid: int) -> float:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    def _run(self) -> None:
        while not self._stop.is_set():
            total = sum(self._rss_mb(pid) for pid in self._tree())
            self.peak_mb = max(self.peak_mb, total)
            self._stop.wait(self.interval_s)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak_mb


def run_child(code: str, *args: str) -> tuple[dict, float, float]:
    """Run ``code`` in a fresh Python; returns its JSON output, wall seconds, peak tree MB."""
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[1] / "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    t0 = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    memory = TreeMemory(process.pid)
    out, err = process.communicate()
    wall = time.perf_counter() - t0
    peak = memory.stop()
    if process.returncode:
        raise RuntimeError(f"child failed:\n{err[-3000:]}")
    return json.loads(out.strip().splitlines()[-1]), wall, peak


def parse_grid(text: str) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """``"3x3"``: evenly spaced picks (ends included) of the default 5 x 5 grid."""
    a, b = (int(v) for v in text.lower().split("x"))

    def pick(values, m):
        return tuple(
            values[i] for i in np.unique(np.linspace(0, len(values) - 1, m).round().astype(int))
        )

    return pick(N_NEIGHBORS, a), pick(MIN_DIST, b)


def benchmark(n: int, grid: str, workers: int, *, sonotype_only: bool = False) -> None:
    from sonotype.reduce import TrustworthinessScorer, estimate_peak_mb

    n_neighbors, min_dist = parse_grid(grid)
    spec = {"n_neighbors": n_neighbors, "min_dist": min_dist, "workers": workers}
    print(f"{n} synthetic syllables of 64 x 64; grid n_neighbors={n_neighbors} x "
          f"min_dist={min_dist}; {workers} workers; {os.cpu_count()} cores")  # fmt: skip
    t = time.perf_counter()
    X, _, groups = synthetic_syllables(n)
    print(f"data: {time.perf_counter() - t:.1f} s")
    with tempfile.TemporaryDirectory() as tmp:
        x_path, g_path = f"{tmp}/X.npy", f"{tmp}/groups.npy"
        np.save(x_path, X)
        np.save(g_path, groups)
        ours, ours_wall, ours_peak = run_child(
            SONOTYPE_CHILD, x_path, g_path, json.dumps(spec), f"{tmp}/ours.npy"
        )
        estimate = estimate_peak_mb(n, X.shape[1], max(n_neighbors), n_workers=workers)
        print(f"sonotype: {ours_wall:.1f} s wall ({ours['load_s']:.1f} s start-up, "
              f"{ours['grid_s']:.1f} s grid), peak {ours_peak:.0f} MB "
              f"(VmHWM {ours['vmhwm_mb']:.0f} MB; estimate "
              f"{estimate:.0f} MB)")  # fmt: skip
        if sonotype_only:
            print(f"mean trustworthiness: sonotype {np.mean(ours['trust']):.4f}")
            return
        naive, naive_wall, naive_peak = run_child(
            NAIVE_CHILD, x_path, g_path, json.dumps(spec), f"{tmp}/naive.npy"
        )
        print(f"naive:    {naive_wall:.1f} s wall ({naive['grid_s']:.1f} s in the pool), "
              f"peak {naive_peak:.0f} MB (largest worker VmHWM "
              f"{naive['worker_vmhwm_mb']:.0f} MB)")  # fmt: skip
        ours_coords, naive_coords = np.load(f"{tmp}/ours.npy"), np.load(f"{tmp}/naive.npy")
    scorer = TrustworthinessScorer(X, n_samples=2000, random_state=0)
    t_ours = np.array([scorer.score(c) for c in ours_coords])
    t_naive = np.array([scorer.score(c) for c in naive_coords])
    np.testing.assert_allclose(t_ours, ours["trust"], atol=1e-6)
    print("trustworthiness per combination (n_neighbors, min_dist): sonotype / naive")
    combos = [(k, d) for k in n_neighbors for d in min_dist]
    for (k, d), a, b in zip(combos, t_ours, t_naive, strict=True):
        print(f"  ({k:3d}, {d:4.2f}): {a:.4f} / {b:.4f}")
    diff = t_ours.mean() - t_naive.mean()
    verdict = "within" if abs(diff) < 0.01 else "NOT within"
    print(f"mean trustworthiness: sonotype {t_ours.mean():.4f}, naive {t_naive.mean():.4f}, "
          f"difference {diff:+.4f} ({verdict} 0.01)")  # fmt: skip
    print(f"wall time ratio naive / sonotype: {naive_wall / ours_wall:.2f}x; "
          f"peak memory ratio: {naive_peak / ours_peak:.2f}x")  # fmt: skip


def calibrate() -> None:
    from sonotype.reduce import estimate_peak_mb

    sizes = [
        (1000, 64, 10, 1),
        (2000, 4096, 30, 1),
        (5000, 1024, 50, 1),
        (5000, 1024, 50, 2),
        (10000, 256, 100, 1),
        (10000, 256, 100, 2),
        (20000, 64, 100, 2),
    ]
    print("n, d, k, workers: measured VmHWM MB / estimate MB")
    for n, d, k, w in sizes:
        out, wall, _ = run_child(CALIBRATE_CHILD, str(n), str(d), str(k), str(w))
        est = estimate_peak_mb(n, d, k, n_workers=w)
        print(f"{n:6d} {d:5d} {k:4d} {w}: {out['vmhwm_mb']:7.0f} / {est:7.0f} "
              f"({est / out['vmhwm_mb'] - 1:+.0%}) [{wall:.0f} s]", flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000, help="syllables (default 20000)")
    parser.add_argument("--grid", default="5x5", help="n_neighbors x min_dist picks, e.g. 3x3")
    parser.add_argument("--workers", type=int, default=os.cpu_count(), help="pool size")
    parser.add_argument("--calibrate", action="store_true", help="check the memory estimate")
    parser.add_argument(
        "--sonotype-only", action="store_true", help="skip the naive pool (for large sizes)"
    )
    args = parser.parse_args()
    if args.calibrate:
        calibrate()
    else:
        benchmark(args.n, args.grid, args.workers, sonotype_only=args.sonotype_only)


if __name__ == "__main__":
    main()
