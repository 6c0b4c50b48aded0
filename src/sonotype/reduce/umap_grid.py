"""UMAP, alone (the ``umap`` reducer) and over a grid of ``n_neighbors`` × ``min_dist``.

A grid repeats no work that its combinations share:

1. The nearest-neighbour graph is computed **once**, for the largest ``n_neighbors``; each
   ``n_neighbors`` uses its first ``k`` columns (a point's ``k`` nearest neighbours are the
   first ``k`` of its ``k_max`` nearest), passed to umap-learn as ``precomputed_knn``. For
   small and medium data (``neighbors="auto"``: up to 4096 rows, or ``n² d ≤ 10¹²``) the
   neighbours are exact (scikit-learn's brute force, then exact pair distances), like
   umap-learn's own fits below 4096 rows; beyond, they come from NN-descent
   (``umap.umap_.nearest_neighbors``), whose search index is kept for ``transform``.
2. The fuzzy simplicial set (``graph_``) is built **once per** ``n_neighbors``, and so is the
   spectral initialisation of the layout, which depends on the graph but not on
   ``min_dist``.
3. Only the layout optimisation runs once per combination, each with its own ``a, b``
   (``find_ab_params(spread, min_dist)``), a random state in the same state as an
   independent ``UMAP(random_state=...)`` fit would have at that point, and the shared
   graph and initialisation. Each combination's result is therefore identical to fitting
   ``umap.UMAP(n_neighbors, min_dist, random_state, precomputed_knn=...)`` on its own (the
   tests check this), and its model is a complete fitted ``umap.UMAP``.

Layouts run in threads (umap-learn's layout kernel is recompiled to release the GIL;
see :mod:`sonotype.reduce.umap_numba`, which also keeps numba's compiled code in a
persistent per-user cache). The number of threads comes from the cores and the memory
estimate (:mod:`sonotype.reduce.memory`). With ``random_state=None`` umap-learn's layout is
itself multi-threaded (numba ``parallel=True``, non-deterministic) and the layouts run one
after the other.

The work is split by topic: :mod:`~sonotype.reduce.umap_numba` (importing umap-learn),
:mod:`~sonotype.reduce.umap_neighbors` (the kNN graph), :mod:`~sonotype.reduce.umap_layout`
(the shared graphs, initialisations and layouts), :mod:`~sonotype.reduce.umap_reducer` (the
``umap`` reducer) and this module (the grid: validation, memory, subsampling, scoring).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from sonotype.checks import (
    check_choice,
    check_int,
    check_int_grid,
    check_matrix,
    check_number,
    check_number_grid,
    check_random_state,
)
from sonotype.errors import ParameterError
from sonotype.numba_cache import numba_cache_dir
from sonotype.reduce.base import Embedding, Progress, TrustworthinessScorer
from sonotype.reduce.memory import (
    available_memory_mb,
    choose_n_workers,
    estimate_peak_mb,
    max_samples_within,
    subsample_groups,
    usable_cores,
)
from sonotype.reduce.umap_layout import run_grid
from sonotype.reduce.umap_neighbors import EXACT_MAX_WORK, NEIGHBORS
from sonotype.reduce.umap_numba import import_umap
from sonotype.reduce.umap_reducer import (
    METRICS,
    MIN_SAMPLES,
    N_EPOCHS_DEFAULT,
    UMAPReducer,
    clamp,
    require_min_samples,
)

__all__ = [
    "DEFAULT_MIN_DIST",
    "DEFAULT_N_NEIGHBORS",
    "EXACT_MAX_WORK",
    "METRICS",
    "MIN_SAMPLES",
    "NEIGHBORS",
    "UMAPReducer",
    "import_umap",
    "numba_cache_dir",
    "umap_grid",
]

DEFAULT_N_NEIGHBORS = (5, 10, 20, 50, 100)
DEFAULT_MIN_DIST = (0.01, 0.05, 0.1, 0.3, 0.5)


def umap_grid(
    X,
    *,
    n_neighbors: Sequence[int] = DEFAULT_N_NEIGHBORS,
    min_dist: Sequence[float] = DEFAULT_MIN_DIST,
    metric: str = "euclidean",
    n_components: int = 2,
    n_epochs: int | None = None,
    neighbors: str = "auto",
    pca_components: int | None = None,
    random_state: int | None = 0,
    groups=None,
    memory_budget_mb: float | None = None,
    n_jobs: int | None = None,
    trustworthiness_samples: int = 2000,
    progress: Progress | None = None,
) -> list[Embedding]:
    """UMAP embeddings of ``X`` for every ``n_neighbors`` × ``min_dist``, sharing work.

    The kNN graph is computed once (for the largest ``n_neighbors``), the fuzzy graph and
    spectral initialisation once per ``n_neighbors``, and only the layout per combination;
    each result equals an independent seeded ``umap.UMAP`` fit on the same kNN graph (see
    the module notes). Layouts run in parallel threads.

    Parameters
    ----------
    X : array, shape (n, d) or (n, ...)
        One row per syllable (flattened spectrograms, embeddings); float32 internally.
    n_neighbors : sequence of int
        Values to try. Values ``>= n`` (rows used) are clamped to ``n - 1`` with a
        warning and recorded in ``extra["n_neighbors_requested"]``; fewer than 5 rows is
        a :class:`ParameterError`.
    min_dist : sequence of float
        Values to try, in ``[0, 1]``.
    metric : {"euclidean", "cosine"}
        Input-space distance (also used for the trustworthiness score).
    n_components : int
        Output dimensions.
    n_epochs : int, optional
        Layout epochs; ``None``: 500 up to 10,000 rows, else 200.
    neighbors : {"auto", "exact", "nndescent"}
        How the kNN graph is found (see :data:`NEIGHBORS`): ``"auto"`` is exact (scikit-learn
        brute force, no numba compilation) while ``n ≤ 4096`` or ``n² d ≤ 10¹²``.
    pca_components : int, optional
        Reduce ``X`` to this many principal components first (fitted once, shared by every
        model, and applied by ``model.transform``).
    random_state : int or None
        Seed of the kNN search, the layouts and the subsamples.
    groups : array of shape (n,), optional
        Group id of each row (song, recording). When the data do not fit the memory
        budget, whole groups are subsampled (seeded; never split); without ``groups``,
        rows are. ``Embedding.indices`` records the rows used.
    memory_budget_mb : float, optional
        Peak memory allowed; default 80% of the memory available now. Data whose
        :func:`~sonotype.reduce.estimate_peak_mb` exceeds it are subsampled (with a
        warning) to the largest size that fits.
    n_jobs : int, optional
        Layouts to run at once (threads); ``None``: as many as cores and memory allow
        (:func:`~sonotype.reduce.choose_n_workers`); ``-1``: one per core.
    trustworthiness_samples : int
        Trustworthiness is computed on at most this many rows (a seeded subsample, the same
        for every combination; see :class:`~sonotype.reduce.TrustworthinessScorer`).
    progress : callable, optional
        Called as ``progress(done, total)`` after each combination.

    Returns
    -------
    list of Embedding
        One per combination, ``n_neighbors``-major, in the order given. ``params`` holds
        ``n_neighbors`` (after clamping), ``min_dist``, ``metric``, ``n_components``,
        ``n_epochs``, ``pca_components`` and ``random_state``; ``model`` is a fitted
        :class:`UMAPReducer` (whose ``transform`` places new rows of the original width);
        ``coords`` are float32; ``trustworthiness`` uses 5 neighbours. Requested values
        that clamp to the same ``n_neighbors`` share one computation.
    """
    X = check_matrix(X, dtype=np.float32, flatten=True)
    n_neighbors = check_int_grid(
        n_neighbors, name="n_neighbors", minimum=2, default=DEFAULT_N_NEIGHBORS
    )
    min_dists = check_number_grid(
        min_dist, name="min_dist", minimum=0, maximum=1, default=DEFAULT_MIN_DIST
    )
    check_choice(metric, name="metric", choices=METRICS)
    n_components = check_int(n_components, name="n_components", minimum=1, default=2)
    if n_epochs is not None:
        n_epochs = check_int(n_epochs, name="n_epochs", minimum=11, default=N_EPOCHS_DEFAULT)
    random_state = check_random_state(random_state)
    check_choice(neighbors, name="neighbors", choices=NEIGHBORS)
    if pca_components is not None:
        check_int(pca_components, name="pca_components", minimum=1, default=None)
    if n_jobs is not None and n_jobs != -1:
        check_int(n_jobs, name="n_jobs", minimum=1, default="None (automatic)")
    if memory_budget_mb is not None:
        check_number(
            memory_budget_mb, name="memory_budget_mb", minimum=0, inclusive="neither",
            unit="MB", hint="or None for 80% of the available memory",
        )  # fmt: skip
    n, d = X.shape
    if groups is not None and len(groups) != n:
        raise ParameterError(
            f"groups has {len(groups)} entries for {n} rows of X; pass one group id per row"
        )
    require_min_samples(n)

    # memory: subsample whole groups when the estimate exceeds the budget
    k_max = clamp(max(n_neighbors), n)
    budget = 0.8 * available_memory_mb() if memory_budget_mb is None else memory_budget_mb
    peak = estimate_peak_mb(n, d, k_max, trustworthiness_samples=trustworthiness_samples)
    rows = np.arange(n, dtype=np.int64)
    if peak > budget:
        limit = max_samples_within(
            budget, d, k_max, trustworthiness_samples=trustworthiness_samples
        )
        if limit < MIN_SAMPLES:
            raise ParameterError(
                f"memory_budget_mb={budget:.0f} is too small for even {MIN_SAMPLES} rows of "
                f"{d} features (estimate: {estimate_peak_mb(MIN_SAMPLES, d, 4):.0f} MB); "
                "raise it"
            )
        rows = subsample_groups(groups, limit, n_samples=n, random_state=random_state)
        warnings.warn(
            f"umap_grid: {n} rows need about {peak:.0f} MB, over the {budget:.0f} MB budget; "
            f"using {len(rows)} rows"
            + (" (whole groups)" if groups is not None else "")
            + ", listed in Embedding.indices",
            UserWarning,
            stacklevel=2,
        )
        X = X[rows]
        require_min_samples(len(X))
    n_used = len(X)

    # clamping
    effective = {k: clamp(k, n_used) for k in n_neighbors}
    clamped = sorted({k for k, e in effective.items() if e != k})
    if clamped:
        warnings.warn(
            f"n_neighbors {clamped} are not less than the {n_used} rows; using "
            f"n_neighbors={n_used - 1} (n - 1) for them",
            UserWarning,
            stacklevel=2,
        )
    ks = list(dict.fromkeys(effective.values()))
    mds = list(dict.fromkeys(min_dists))

    # PCA first, shared
    reducer_params = dict(
        n_components=n_components, metric=metric, n_epochs=n_epochs, neighbors=neighbors,
        pca_components=pca_components, random_state=random_state,
    )  # fmt: skip
    template = UMAPReducer(**reducer_params)
    template._check_params(X)
    pca = template._fit_pca(X)
    Z = X if pca is None else np.ascontiguousarray(pca.transform(X), dtype=np.float32)

    # workers
    if n_jobs == -1:
        n_workers = usable_cores()
    elif n_jobs is None:
        n_workers = choose_n_workers(
            n_used,
            d,
            max(ks),
            n_tasks=len(mds),
            memory_mb=budget,
            trustworthiness_samples=trustworthiness_samples,
        )
    else:
        n_workers = int(n_jobs)

    total = len(ks) * len(mds)
    done = [0]

    def on_done(k, md, model):
        done[0] += 1
        if progress is not None:
            progress(done[0], total)

    models = run_grid(
        Z,
        ks,
        mds,
        metric=metric,
        n_components=n_components,
        n_epochs=n_epochs,
        random_state=random_state,
        neighbors=neighbors,
        n_workers=n_workers,
        on_done=on_done,
    )

    scorer = TrustworthinessScorer(
        X, metric=metric, n_samples=trustworthiness_samples, random_state=random_state
    )
    cache: dict[tuple[int, float], tuple[UMAPReducer, float]] = {}
    results = []
    for k_requested in n_neighbors:
        k = effective[k_requested]
        for md in min_dists:
            if (k, md) not in cache:
                model = UMAPReducer._from_fitted(
                    models[k, md], pca=pca, n_features_in=d, n_neighbors=k, min_dist=md,
                    **reducer_params,
                )  # fmt: skip
                cache[k, md] = model, scorer.score(model.embedding_)
            model, trust = cache[k, md]
            params = {"n_neighbors": k, "min_dist": md, **reducer_params}
            extra = {} if k == k_requested else {"n_neighbors_requested": k_requested}
            results.append(Embedding("umap", params, model.embedding_, rows, model, trust, extra))
    return results
