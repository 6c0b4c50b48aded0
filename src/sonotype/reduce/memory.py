"""How much memory a UMAP grid needs, how many workers fit, and subsampling by group.

The estimate is a formula in the data's size, calibrated against the peak resident memory
(``VmHWM``) of fresh processes running :func:`sonotype.reduce.umap_grid`; see
:func:`estimate_peak_mb`. Subsampling never splits a group (a song, a recording), so that
within-song syllable-type distributions are preserved.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from sonotype.errors import ParameterError

#: Resident memory of a process that has imported numpy, scipy, scikit-learn, numba,
#: pynndescent and umap-learn and has run a small UMAP grid (measured: 310-340 MB).
BASE_MB = 330.0

#: Bytes per (row, feature): the float32 input and the copy of it (``X[index]``) that
#: umap-learn makes while it builds each fuzzy graph (calibrated: 7.2).
BYTES_PER_VALUE = 8.0

#: Bytes per (row, neighbour), with ``k`` the largest ``n_neighbors``: the shared kNN graph
#: (int32 indices, float32 distances, float64 while scikit-learn computes it), the
#: intermediate sparse matrices of the fuzzy graph being built, the pruned graphs kept for
#: every ``n_neighbors`` (shared by their layouts and models), and one layout's per-edge
#: sampling schedules (float64) (calibrated: 87).
BYTES_PER_EDGE = 90.0

#: Bytes per (row, neighbour) for each further layout running at once (calibrated: 66).
BYTES_PER_EDGE_PER_EXTRA_WORKER = 70.0

#: Bytes per squared trustworthiness row: the ``m x m`` float32 distances, their int64
#: argsort and the int32 ranks (:class:`~sonotype.reduce.TrustworthinessScorer`).
BYTES_PER_TRUSTWORTHINESS_PAIR = 16.0


def estimate_peak_mb(
    n_samples: int,
    n_features: int,
    n_neighbors: int,
    *,
    n_workers: int = 1,
    trustworthiness_samples: int = 2000,
) -> float:
    """Estimated peak resident memory (MB) of a process running
    :func:`~sonotype.reduce.umap_grid`, input included.

    ``peak = 330 + (8 n d + 90 n k + 70 n k (w - 1) + 16 m²) / 2**20``

    for ``n`` rows of ``d`` features, ``k`` the largest ``n_neighbors``, ``w`` layouts at
    once (``n_workers``) and ``m = min(n, trustworthiness_samples)``. The terms are the
    module's constants (:data:`BASE_MB`, :data:`BYTES_PER_VALUE`, :data:`BYTES_PER_EDGE`,
    :data:`BYTES_PER_EDGE_PER_EXTRA_WORKER`, :data:`BYTES_PER_TRUSTWORTHINESS_PAIR`).
    The coefficients were fitted (least squares, then rounded up) to the peak resident
    memory (``VmHWM``, reset after the input was made) of fresh processes running a
    2 x 4 grid, at 10 sizes from 1,000 to 40,000 rows, 64 to 4,096 features, ``k`` 10 to
    100 and 1 or 2 workers (``benchmarks/reduce_grid.py --calibrate``); the formula is
    within 10% of every measurement. Not included: the caller's own copy of the input when
    it is not already float32, and NN-descent's random projection forest for large inputs
    (``neighbors="nndescent"``), about ``(5 + n^0.25) · (2 n / k) · d · 4`` bytes.

    Examples
    --------
    >>> round(estimate_peak_mb(20_000, 4096, 100))
    1188
    >>> round(estimate_peak_mb(20_000, 4096, 100, n_workers=2))
    1321
    """
    n, d, k = int(n_samples), int(n_features), int(n_neighbors)
    m = min(n, int(trustworthiness_samples))
    total = (
        BYTES_PER_VALUE * n * d
        + BYTES_PER_EDGE * n * k
        + BYTES_PER_EDGE_PER_EXTRA_WORKER * n * k * (max(1, int(n_workers)) - 1)
        + BYTES_PER_TRUSTWORTHINESS_PAIR * m * m
    )
    return BASE_MB + total / 2**20


def max_samples_within(
    budget_mb: float,
    n_features: int,
    n_neighbors: int,
    *,
    n_workers: int = 1,
    trustworthiness_samples: int = 2000,
) -> int:
    """The largest number of rows whose :func:`estimate_peak_mb` fits in ``budget_mb``
    (0 when not even one row fits).

    Examples
    --------
    >>> n = max_samples_within(1000, 4096, 50)
    >>> estimate_peak_mb(n, 4096, 50) <= 1000 < estimate_peak_mb(n + 1, 4096, 50)
    True
    """

    def fits(n: int) -> bool:
        peak = estimate_peak_mb(
            n,
            n_features,
            min(n_neighbors, max(1, n - 1)),
            n_workers=n_workers,
            trustworthiness_samples=trustworthiness_samples,
        )
        return peak <= budget_mb

    if not fits(1):
        return 0
    lo, hi = 1, 2
    while fits(hi):
        lo, hi = hi, hi * 2
        if hi > 2**40:  # pragma: no cover - unbounded budget
            return hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    return lo


def available_memory_mb() -> float:
    """Memory available to new allocations without swapping (MB): ``MemAvailable`` from
    ``/proc/meminfo``, else free physical pages from :func:`os.sysconf`, else 4096."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
        return 4096.0


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS reports it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


def choose_n_workers(
    n_samples: int,
    n_features: int,
    n_neighbors: int,
    *,
    n_tasks: int,
    memory_mb: float | None = None,
    n_cores: int | None = None,
    trustworthiness_samples: int = 2000,
) -> int:
    """How many layouts of a grid to run at once: as many as there are cores and tasks,
    and as fit in ``memory_mb`` (default: 80% of :func:`available_memory_mb`) by
    :func:`estimate_peak_mb`; at least 1.

    Examples
    --------
    >>> choose_n_workers(20_000, 4096, 100, n_tasks=5, memory_mb=64_000, n_cores=4)
    4
    >>> choose_n_workers(20_000, 4096, 100, n_tasks=5, memory_mb=1400, n_cores=4)
    2
    """
    memory_mb = 0.8 * available_memory_mb() if memory_mb is None else float(memory_mb)
    n_cores = usable_cores() if n_cores is None else int(n_cores)
    workers = max(1, min(n_cores, int(n_tasks)))
    while workers > 1 and (
        estimate_peak_mb(
            n_samples,
            n_features,
            n_neighbors,
            n_workers=workers,
            trustworthiness_samples=trustworthiness_samples,
        )
        > memory_mb
    ):
        workers -= 1
    return workers


def subsample_groups(
    groups: Sequence | np.ndarray | None,
    max_samples: int,
    *,
    n_samples: int | None = None,
    random_state: int | None = 0,
) -> np.ndarray:
    """Rows of a seeded random subsample of whole groups, at most ``max_samples`` rows.

    Groups (songs, recordings) are shuffled with ``random_state`` and taken in that order
    while they fit; a group that would overflow the budget is skipped and smaller ones
    after it are still tried. No group is ever split. With ``groups=None`` every row is its
    own group (pass ``n_samples`` then).

    Parameters
    ----------
    groups : array of shape (n,), or None
        Group id of each row (any hashable values: ints, strings).
    max_samples : int
        Row budget.
    n_samples : int, optional
        Number of rows, needed when ``groups`` is None.
    random_state : int or None
        Seed of the shuffle.

    Returns
    -------
    ndarray of int64
        Selected rows, ascending (original order). All rows when they fit the budget.

    Raises
    ------
    ParameterError
        When ``max_samples`` is smaller than every group.

    Examples
    --------
    >>> songs = np.repeat(["a", "b", "c", "d"], [3, 5, 2, 4])
    >>> rows = subsample_groups(songs, 8, random_state=1)
    >>> sorted(set(songs[rows].tolist())), len(rows) <= 8
    (['a', 'b'], True)
    """
    if groups is None:
        if n_samples is None:
            raise ParameterError("subsample_groups needs n_samples when groups is None")
        codes = np.arange(int(n_samples))
    else:
        groups = np.asarray(groups)
        if groups.ndim != 1:
            raise ParameterError(
                f"groups has shape {groups.shape}; pass one group id per row (1-D)"
            )
        if n_samples is not None and len(groups) != n_samples:
            raise ParameterError(
                f"groups has {len(groups)} entries for {n_samples} rows; pass one group id per row"
            )
        _, codes = np.unique(groups, return_inverse=True)
    n = len(codes)
    if n <= max_samples:
        return np.arange(n, dtype=np.int64)
    sizes = np.bincount(codes)
    if sizes.min() > max_samples:
        raise ParameterError(
            f"max_samples={max_samples} is smaller than the smallest group ({sizes.min()} "
            "rows), so no whole group fits; raise the memory budget or pass smaller groups"
        )
    order = np.random.default_rng(random_state).permutation(len(sizes))
    keep = np.zeros(len(sizes), dtype=bool)
    total = 0
    for g in order:
        if total + sizes[g] <= max_samples:
            keep[g] = True
            total += sizes[g]
            if total == max_samples:
                break
    return np.flatnonzero(keep[codes]).astype(np.int64)
