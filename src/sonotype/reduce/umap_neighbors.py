"""The kNN graph of a UMAP: exact (scikit-learn's brute force, then exact pair distances)
or by NN-descent (umap-learn's ``nearest_neighbors``, with a search index for
``transform``), and exact neighbours of new rows for models fitted on exact ones.
"""

from __future__ import annotations

import copy

import numpy as np

from sonotype.checks import check_choice

#: How the kNN graph is found: ``"exact"`` (scikit-learn's brute force: BLAS, no numba
#: compilation, exact), ``"nndescent"`` (pynndescent, approximate: scales to large ``n``
#: but compiles for 20-50 s in every new process, since pynndescent cannot cache its
#: NN-descent functions), or ``"auto"``.
NEIGHBORS = ("auto", "exact", "nndescent")

#: ``"auto"`` finds neighbours exactly up to 4096 rows (as umap-learn does) and whenever
#: ``n² d`` is at most this (20,000 rows of 2,500 values, 10,000 of 10,000): about 1.5 min
#: of brute force on 2 cores, comparable to NN-descent's run time plus compilation there.
EXACT_MAX_WORK = 1e12


def resolve_neighbors(neighbors: str, n_samples: int, n_features: int) -> str:
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


def exact_knn(Z: np.ndarray, Q: np.ndarray | None, k: int, *, metric: str):
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


def nearest_neighbors(umap, Z: np.ndarray, k: int, *, metric: str, method: str, random_state):
    """kNN graph of the rows of ``Z``: int32 indices and float32 distances, ``(n, k)``, each
    row's own index first, plus the NN-descent search index (``None`` for ``"exact"``)."""
    if method == "exact":
        indices, dists = exact_knn(Z, None, k, metric=metric)
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


def exact_neighbor_input(model, Z: np.ndarray):
    """For an exact-neighbour ``model``: a copy of it that transforms sparse distances, and
    the sparse ``(m, n_train)`` matrix of distances from each row of ``Z`` to its
    ``n_neighbors`` nearest training rows (umap-learn's documented transform of
    ``metric="precomputed"`` models). The neighbours are found by :func:`exact_knn`
    rather than by umap-learn's pairwise distances with a per-pair Python callable."""
    import scipy.sparse

    k = int(model._n_neighbors)
    indices, dists = exact_knn(model._raw_data, Z, k, metric=model.metric)
    m, n_train = len(Z), model._raw_data.shape[0]
    proxy = copy.copy(model)
    proxy.metric = "precomputed"
    distances = scipy.sparse.csr_matrix(
        (dists.astype(np.float32).ravel(), indices.ravel(), np.arange(0, m * k + 1, k)),
        shape=(m, n_train),
    )
    return proxy, distances
