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

Layouts run in threads. umap-learn's per-epoch layout kernel is compiled without
``nogil``, so threads would take turns; on first use sonotype replaces it (in umap-learn's
``layouts`` module) by the same Python function compiled with ``nogil=True`` and
``cache=True``. The layouts of one grid then run truly in parallel in one process: no
process pool, so neither a second numba compilation nor a second copy of the data and
graph per worker. The number of threads comes from the cores and the memory estimate
(:mod:`sonotype.reduce.memory`). With ``random_state=None`` umap-learn's layout is itself
multi-threaded (numba ``parallel=True``, non-deterministic) and the layouts run one after
the other.

numba compilation cache: umap-learn compiles most of its functions without
``cache=True``, so every new process paid ~15-25 s compiling them (here, measured). The
first time sonotype imports umap-learn (never at ``import sonotype``) it points numba's
cache at a persistent per-user folder, ``$SONOTYPE_CACHE_DIR/numba`` or
``~/.cache/sonotype/numba`` (or ``$XDG_CACHE_HOME/sonotype/numba``; a ``NUMBA_CACHE_DIR``
set by the user wins), and turns caching on for umap-learn's compiled functions (one
cache entry per function and signature; numba invalidates entries when umap-learn or
numba change). A fresh process then imports umap-learn and fits a small UMAP in ~4 s
instead of ~25 s. pynndescent's NN-descent cannot be cached (its functions take the
distance function as an argument, whose type numba ties to a memory address), so the
NN-descent path still compiles for 20-50 s per process; hence exact neighbours whenever
they are affordable.
"""

from __future__ import annotations

import copy
import os
import sys
import threading
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from numbers import Real
from pathlib import Path
from typing import Any

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
from sonotype.reduce.base import (
    Embedding,
    Progress,
    Reducer,
    TrustworthinessScorer,
    register_reducer,
)
from sonotype.reduce.memory import (
    available_memory_mb,
    choose_n_workers,
    estimate_peak_mb,
    max_samples_within,
    subsample_groups,
    usable_cores,
)

#: Distances the grid supports in the input space.
METRICS = ("euclidean", "cosine")

#: How the kNN graph is found: ``"exact"`` (scikit-learn's brute force: BLAS, no numba
#: compilation, exact), ``"nndescent"`` (pynndescent, approximate: scales to large ``n``
#: but compiles for 20-50 s in every new process, since pynndescent cannot cache its
#: NN-descent functions), or ``"auto"``.
NEIGHBORS = ("auto", "exact", "nndescent")

#: ``"auto"`` finds neighbours exactly up to 4096 rows (as umap-learn does) and whenever
#: ``n² d`` is at most this (20,000 rows of 2,500 values, 10,000 of 10,000): about 1.5 min
#: of brute force on 2 cores, comparable to NN-descent's run time plus compilation there.
EXACT_MAX_WORK = 1e12

#: Fewest rows a UMAP can be fitted on (``n_neighbors`` is then clamped to ``n - 1``).
MIN_SAMPLES = 5

DEFAULT_N_NEIGHBORS = (5, 10, 20, 50, 100)
DEFAULT_MIN_DIST = (0.01, 0.05, 0.1, 0.3, 0.5)

# -- importing umap-learn with a persistent numba cache --------------------------------------

_import_lock = threading.Lock()
_umap = None
_nogil_layout = False


def numba_cache_dir() -> Path:
    """The per-user folder for numba's compiled code: ``$SONOTYPE_CACHE_DIR/numba``, else
    ``$XDG_CACHE_HOME/sonotype/numba``, else ``~/.cache/sonotype/numba``."""
    root = os.environ.get("SONOTYPE_CACHE_DIR")
    if root:
        return Path(root).expanduser() / "numba"
    cache_home = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache_home).expanduser() / "sonotype" / "numba"


def _point_numba_cache() -> None:
    """Set numba's cache folder (unless the user set ``NUMBA_CACHE_DIR``)."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    path = numba_cache_dir()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return  # numba falls back to its own locations
    os.environ["NUMBA_CACHE_DIR"] = str(path)  # read when numba is imported (and by children)
    if "numba" in sys.modules:  # already imported: later cache locators read config
        sys.modules["numba"].config.CACHE_DIR = str(path)


def _cache_umap_functions(umap_modules) -> int:
    """Turn numba caching on for umap-learn's compiled functions; returns how many.

    Two dispatchers compiled from the same Python function (umap-learn's serial and parallel
    layout kernels) would share one cache entry, so only the first one of each (serial
    before parallel) is cached.
    """
    from numba.core.caching import NullCache
    from numba.core.dispatcher import Dispatcher

    seen: set[int] = set()
    enabled = 0
    for module in umap_modules:
        dispatchers = [obj for obj in vars(module).values() if isinstance(obj, Dispatcher)]
        dispatchers.sort(key=lambda d: bool(d.targetoptions.get("parallel")))
        for dispatcher in dispatchers:
            if id(dispatcher.py_func) in seen:
                continue
            seen.add(id(dispatcher.py_func))
            if isinstance(dispatcher._cache, NullCache):
                try:
                    dispatcher.enable_caching()
                except RuntimeError:  # no writable cache location: stays uncached
                    continue
                enabled += 1
    return enabled


def _release_gil_in_layout(layouts) -> bool:
    """Compile umap-learn's serial per-epoch layout kernel with ``nogil=True`` (and
    ``cache=True``) in place of its own, so that layouts can run in parallel threads."""
    import numba

    name = "_nb_optimize_layout_euclidean_single_epoch"
    current = getattr(layouts, name, None)
    py_func = getattr(layouts, "_optimize_layout_euclidean_single_epoch", None)
    if current is None or py_func is None:
        return False  # another umap-learn version: layouts run one at a time
    if current.targetoptions.get("nogil"):
        return True
    try:
        kernel = numba.njit(py_func, fastmath=True, parallel=False, nogil=True, cache=True)
    except RuntimeError:
        kernel = numba.njit(py_func, fastmath=True, parallel=False, nogil=True)
    setattr(layouts, name, kernel)
    return True


def import_umap():
    """Import umap-learn with numba's persistent cache configured (see the module notes).

    Returns the ``umap`` module. Thread-safe; the set-up runs once per process.
    """
    global _umap, _nogil_layout
    with _import_lock:
        if _umap is None:
            _point_numba_cache()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                import umap
                import umap.distances
                import umap.layouts
                import umap.sparse
                import umap.spectral
                import umap.umap_
                import umap.utils
            _nogil_layout = _release_gil_in_layout(umap.layouts)
            _cache_umap_functions(
                [umap.umap_, umap.layouts, umap.utils, umap.distances, umap.spectral, umap.sparse]
            )
            _umap = umap
    return _umap


# -- the shared computations -----------------------------------------------------------------


def _resolve_neighbors(neighbors: str, n_samples: int, n_features: int) -> str:
    """``"exact"`` or ``"nndescent"`` for ``neighbors="auto"`` (see :data:`EXACT_MAX_WORK`)."""
    check_choice(neighbors, name="neighbors", choices=NEIGHBORS)
    if neighbors != "auto":
        return neighbors
    exact = n_samples <= 4096 or n_samples * n_samples * n_features <= EXACT_MAX_WORK
    return "exact" if exact else "nndescent"


def _pair_distances(Z: np.ndarray, Q: np.ndarray, indices: np.ndarray, metric: str):
    """Distances from each row of ``Q`` to the rows ``indices`` of ``Z``, computed pair by
    pair from differences (float32 values, float64 sums), in blocks of about 16 MB."""
    n, k = indices.shape
    out = np.empty((n, k), dtype=np.float64)
    if metric == "cosine":
        norms_z = np.linalg.norm(Z, axis=1).astype(np.float64)
        norms_q = np.linalg.norm(Q, axis=1).astype(np.float64)
    step = max(1, 2**22 // max(1, k * Z.shape[1]))
    for start in range(0, n, step):
        rows = slice(start, start + step)
        neighbours = Z[indices[rows]]  # (b, k, d)
        if metric == "cosine":
            dots = np.einsum("bkd,bd->bk", neighbours, Q[rows], dtype=np.float64)
            denom = norms_z[indices[rows]] * norms_q[rows, None]
            with np.errstate(invalid="ignore", divide="ignore"):
                cos = np.where(denom > 0, dots / denom, 0.0)
            out[rows] = 1.0 - np.clip(cos, -1.0, 1.0)
        else:
            diff = neighbours - Q[rows, None, :]
            out[rows] = np.sqrt(np.einsum("bkd,bkd->bk", diff, diff, dtype=np.float64))
    return out


def _exact_knn(Z: np.ndarray, Q: np.ndarray | None, k: int, *, metric: str):
    """Exact ``k`` nearest rows of ``Z`` for each row of ``Q`` (``None``: of ``Z`` itself,
    each row first at distance 0), as int32 indices and float32 distances, nearest first.

    scikit-learn's brute force finds the neighbours (BLAS, chunked); their distances are
    then recomputed pair by pair, because the ``|x|² - 2 x·y + |y|²`` expansion leaves a
    row's distance to itself (or to a duplicate) slightly above 0, and umap-learn takes the
    first distance above 0 as a point's distance to its nearest neighbour (``rho``).
    """
    from sklearn.neighbors import NearestNeighbors

    search = NearestNeighbors(n_neighbors=k, algorithm="brute", metric=metric).fit(Z)
    indices = search.kneighbors(Z if Q is None else Q, return_distance=False)
    dists = _pair_distances(Z, Z if Q is None else Q, indices, metric)
    if Q is None:
        is_self = indices == np.arange(len(Z))[:, None]
        dists[is_self] = 0.0
        order = np.lexsort((~is_self, dists), axis=1)  # by distance, self before duplicates
    else:
        order = np.argsort(dists, axis=1, kind="stable")
    indices = np.take_along_axis(indices, order, axis=1)
    dists = np.take_along_axis(dists, order, axis=1)
    return indices.astype(np.int32), dists.astype(np.float32)


def _nearest_neighbors(umap, Z: np.ndarray, k: int, *, metric: str, method: str, random_state):
    """kNN graph of the rows of ``Z``: int32 indices and float32 distances, ``(n, k)``, each
    row's own index first, plus the NN-descent search index (``None`` for ``"exact"``)."""
    if method == "exact":
        indices, dists = _exact_knn(Z, None, k, metric=metric)
        return indices, dists, None
    from sklearn.utils import check_random_state as sk_random_state

    indices, dists, index = umap.umap_.nearest_neighbors(
        Z,
        k,
        metric,
        {},
        metric in ("cosine", "correlation"),  # angular random projection trees, as UMAP
        sk_random_state(random_state),
        low_memory=True,
        use_pynndescent=True,
        # as umap.UMAP: a seeded fit builds its graph in one thread, reproducibly
        n_jobs=1 if random_state is not None else -1,
        verbose=False,
    )
    return indices, dists, index


def _fit_graph(umap, Z, knn, k: int, *, metric, n_components, n_epochs, random_state):
    """A ``umap.UMAP`` fitted up to its fuzzy graph (``transform_mode="graph"``)."""
    indices, dists, index = knn
    knn_arg = (np.ascontiguousarray(indices[:, :k]), np.ascontiguousarray(dists[:, :k]))
    model = umap.UMAP(
        n_neighbors=k,
        metric=metric,
        n_components=n_components,
        n_epochs=n_epochs,
        random_state=random_state,
        precomputed_knn=knn_arg if index is None else (*knn_arg, index),
        transform_mode="graph",
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="n_jobs value", category=UserWarning)
        warnings.filterwarnings("ignore", message="precomputed_knn", category=UserWarning)
        model.fit(Z)
    if index is None:
        # exact neighbours: no search index; make the model what umap-learn's own exact
        # (small data) fit makes, whose transform computes exact distances to _raw_data
        model._small_data = True
        del model._knn_search_index
    return model


def _pruned_graph(graph, n_epochs: int | None):
    """The graph as ``simplicial_set_embedding`` prunes it before laying it out (edges
    too weak to be sampled once in ``n_epochs`` are dropped)."""
    graph = graph.tocoo(copy=True)
    graph.sum_duplicates()
    default_epochs = 500 if graph.shape[0] <= 10000 else 200
    epochs = default_epochs if n_epochs is None else n_epochs
    threshold = graph.data.max() / float(epochs if epochs > 10 else default_epochs)
    graph.data[graph.data < threshold] = 0.0
    graph.eliminate_zeros()
    return graph


def _shared_init(umap, model, Z, *, n_components, n_epochs, random_state):
    """Prune ``model.graph_`` as every layout would (so that the layouts can share it
    read-only), and compute the spectral initialisation (with umap-learn's scaling and
    jitter) once; returns it with the state of the random generator after it, which is the
    state an independent fit has at that point."""
    from sklearn.utils import check_random_state as sk_random_state

    rng = sk_random_state(random_state)
    graph = _pruned_graph(model.graph_, n_epochs)
    model.graph_ = graph.tocsr()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        spectral = umap.spectral.spectral_layout(
            Z,
            graph,
            n_components,
            rng,
            metric=model._input_distance_func,
            metric_kwds=model._metric_kwds,
        )
    init = umap.umap_.noisy_scale_coords(spectral, rng, max_coord=10, noise=0.0001)
    if len(np.unique(init, axis=0)) < len(init):  # would be jittered again: let UMAP do it
        return "spectral", None
    return init, rng.get_state()


def _layout(umap, model, min_dist: float, init, state):
    """A copy of the graph-fitted ``model`` laid out with ``min_dist``: a fitted UMAP."""
    from sklearn.utils import check_random_state as sk_random_state

    fitted = copy.copy(model)
    fitted.min_dist = min_dist
    fitted._a, fitted._b = umap.umap_.find_ab_params(fitted.spread, min_dist)
    # graph_ is shared: pruned already, so the layout's own in-place pruning writes nothing
    if state is None:
        rng = sk_random_state(model.random_state)
    else:
        rng = np.random.RandomState()
        rng.set_state(state)
    embedding, _ = fitted._fit_embed_data(fitted._raw_data, fitted.n_epochs, init, rng)
    disconnected = np.asarray(fitted.graph_.sum(axis=1)).ravel() == 0
    embedding[disconnected] = np.nan
    fitted.embedding_ = embedding
    fitted.transform_mode = "embedding"
    fitted._n_features_out = embedding.shape[1]
    return fitted


def _run_grid(
    Z: np.ndarray,
    ks: Sequence[int],
    min_dists: Sequence[float],
    *,
    metric: str,
    n_components: int,
    n_epochs: int | None,
    random_state: int | None,
    neighbors: str,
    n_workers: int,
    on_done=None,
) -> dict[tuple[int, float], Any]:
    """Fitted ``umap.UMAP`` models for every ``(k, min_dist)``, sharing the kNN graph and,
    per ``k``, the fuzzy graph and the initialisation."""
    umap = import_umap()
    method = _resolve_neighbors(neighbors, *Z.shape)
    knn = _nearest_neighbors(
        umap, Z, max(ks), metric=metric, method=method, random_state=random_state
    )
    if random_state is None or not _nogil_layout:
        n_workers = 1  # parallel numba layouts must not be launched from several threads
    results: dict[tuple[int, float], Any] = {}
    pool = ThreadPoolExecutor(max_workers=n_workers) if n_workers > 1 else None
    futures = {}
    try:
        for k in ks:
            model = _fit_graph(
                umap,
                Z,
                knn,
                k,
                metric=metric,
                n_components=n_components,
                n_epochs=n_epochs,
                random_state=random_state,
            )
            init, state = _shared_init(
                umap, model, Z, n_components=n_components, n_epochs=n_epochs,
                random_state=random_state,
            )  # fmt: skip
            for min_dist in min_dists:
                if pool is None:
                    results[k, min_dist] = _layout(umap, model, min_dist, init, state)
                    if on_done is not None:
                        on_done(k, min_dist, results[k, min_dist])
                else:
                    future = pool.submit(_layout, umap, model, min_dist, init, state)
                    futures[future] = (k, min_dist)
            del model
        for future, key in futures.items():
            results[key] = future.result()
            if on_done is not None:
                on_done(*key, results[key])
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    return results


def _exact_neighbor_input(model, Z: np.ndarray):
    """For an exact-neighbour ``model``: a copy of it that transforms sparse distances, and
    the sparse ``(m, n_train)`` matrix of distances from each row of ``Z`` to its
    ``n_neighbors`` nearest training rows (umap-learn's documented transform of
    ``metric="precomputed"`` models). The neighbours are found by :func:`_exact_knn`
    rather than by umap-learn's pairwise distances with a per-pair Python callable."""
    import scipy.sparse

    k = int(model._n_neighbors)
    indices, dists = _exact_knn(model._raw_data, Z, k, metric=model.metric)
    m, n_train = len(Z), model._raw_data.shape[0]
    proxy = copy.copy(model)
    proxy.metric = "precomputed"
    distances = scipy.sparse.csr_matrix(
        (dists.astype(np.float32).ravel(), indices.ravel(), np.arange(0, m * k + 1, k)),
        shape=(m, n_train),
    )
    return proxy, distances


# -- validation ------------------------------------------------------------------------------


def _check_n_epochs(n_epochs) -> int | None:
    if n_epochs is None:
        return None
    return check_int(n_epochs, name="n_epochs", minimum=11, default="None (200 or 500)")


def _clamp(n_neighbors: int, n_samples: int) -> int:
    return min(n_neighbors, n_samples - 1)


def _check_enough_rows(n: int) -> None:
    if n < MIN_SAMPLES:
        raise ParameterError(
            f"X has {n} rows; UMAP needs at least {MIN_SAMPLES} (n_neighbors is clamped to "
            "n - 1 below that many neighbours); pass more syllables"
        )


# -- the reducer -----------------------------------------------------------------------------


@register_reducer("umap")
class UMAPReducer(Reducer):
    """UMAP (umap-learn), with sonotype's persistent numba cache and optional PCA first.

    Fits exactly like a grid of one combination (:func:`umap_grid`): an NN-descent kNN
    graph with a search index (so that :meth:`transform` places new rows), the fuzzy graph
    and a seeded layout.

    Parameters
    ----------
    n_components : int
        Output dimensions.
    n_neighbors : int
        Neighbours in the kNN graph (including the point itself); larger values give a
        more global view. Clamped to ``n - 1`` for fewer rows, with a warning; the value
        used is ``n_neighbors_``.
    min_dist : float
        Smallest distance between points in the layout, in ``[0, 1]``; small values pack
        clusters tightly.
    metric : {"euclidean", "cosine"}
        Input-space distance.
    n_epochs : int, optional
        Layout epochs; ``None``: 500 up to 10,000 rows, else 200 (umap-learn's default).
    neighbors : {"auto", "exact", "nndescent"}
        How the kNN graph is found (see :data:`NEIGHBORS`); ``"auto"``: exactly for small
        and medium data (no numba compilation), by NN-descent for large.
    pca_components : int, optional
        Reduce to this many principal components first (faster kNN on wide inputs such as
        4096-value spectrograms).
    random_state : int or None
        Seed; ``0`` by default so that results are reproducible. ``None``: umap-learn's
        non-deterministic multi-threaded layout.

    Attributes
    ----------
    embedding_ : ndarray of float32, shape (n, n_components)
        Coordinates of the training rows.
    umap_ : umap.UMAP
        The fitted umap-learn model.
    pca_ : sklearn.decomposition.PCA or None
        The PCA step, when ``pca_components`` is set.
    n_neighbors_ : int
        ``n_neighbors`` after clamping.
    n_features_in_ : int
        Values per input row.
    """

    def __init__(
        self,
        n_components: int = 2,
        *,
        n_neighbors: int = 15,
        min_dist: float = 0.1,
        metric: str = "euclidean",
        n_epochs: int | None = None,
        neighbors: str = "auto",
        pca_components: int | None = None,
        random_state: int | None = 0,
    ) -> None:
        self.n_components = n_components
        self.n_neighbors = n_neighbors
        self.min_dist = min_dist
        self.metric = metric
        self.n_epochs = n_epochs
        self.neighbors = neighbors
        self.pca_components = pca_components
        self.random_state = random_state

    def _check_params(self, X: np.ndarray) -> None:
        check_int(self.n_components, name="n_components", minimum=1, default=2)
        check_int(self.n_neighbors, name="n_neighbors", minimum=2, default=15)
        check_number(self.min_dist, name="min_dist", minimum=0, maximum=1, default=0.1)
        check_choice(self.metric, name="metric", choices=METRICS)
        check_choice(self.neighbors, name="neighbors", choices=NEIGHBORS)
        _check_n_epochs(self.n_epochs)
        check_random_state(self.random_state)
        _check_enough_rows(len(X))

    def _fit(self, Z: np.ndarray) -> np.ndarray:
        k = _clamp(int(self.n_neighbors), len(Z))
        if k != self.n_neighbors:
            warnings.warn(
                f"n_neighbors={self.n_neighbors} is not less than the {len(Z)} rows; using "
                f"n_neighbors={k} (n - 1)",
                UserWarning,
                stacklevel=3,
            )
        models = _run_grid(
            Z,
            (k,),
            (float(self.min_dist),),
            metric=self.metric,
            n_components=int(self.n_components),
            n_epochs=self.n_epochs,
            random_state=self.random_state,
            neighbors=self.neighbors,
            n_workers=1,
        )
        self.umap_ = models[k, float(self.min_dist)]
        self.n_neighbors_ = k
        return self.umap_.embedding_

    def _transform(self, Z: np.ndarray) -> np.ndarray:
        model = self.umap_
        if getattr(model, "_small_data", False):
            model, Z = _exact_neighbor_input(model, Z)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return model.transform(Z)

    @classmethod
    def _from_fitted(cls, umap_model, *, pca, n_features_in: int, **params) -> UMAPReducer:
        """A fitted reducer around a umap.UMAP fitted by the grid."""
        reducer = cls(**params)
        reducer.umap_ = umap_model
        reducer.pca_ = pca
        reducer.n_neighbors_ = int(umap_model.n_neighbors)
        reducer.embedding_ = np.asarray(umap_model.embedding_, dtype=np.float32)
        reducer.n_features_in_ = n_features_in
        return reducer


# -- the grid --------------------------------------------------------------------------------


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
    n_epochs = _check_n_epochs(n_epochs)
    random_state = check_random_state(random_state)
    check_choice(neighbors, name="neighbors", choices=NEIGHBORS)
    if pca_components is not None:
        check_int(pca_components, name="pca_components", minimum=1, default=None)
    if n_jobs is not None and n_jobs != -1:
        check_int(n_jobs, name="n_jobs", minimum=1, default="None (automatic)")
    if memory_budget_mb is not None and not (
        isinstance(memory_budget_mb, Real) and memory_budget_mb > 0
    ):
        raise ParameterError(
            f"memory_budget_mb={memory_budget_mb!r} must be a positive number of MB, or None "
            "for 80% of the available memory"
        )
    n, d = X.shape
    if groups is not None and len(groups) != n:
        raise ParameterError(
            f"groups has {len(groups)} entries for {n} rows of X; pass one group id per row"
        )
    _check_enough_rows(n)

    # memory: subsample whole groups when the estimate exceeds the budget
    k_max = _clamp(max(n_neighbors), n)
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
        _check_enough_rows(len(X))
    n_used = len(X)

    # clamping
    effective = {k: _clamp(k, n_used) for k in n_neighbors}
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

    models = _run_grid(
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
