"""The shared work of a UMAP grid: one kNN graph, per ``n_neighbors`` one fuzzy graph and
one spectral initialisation, and per combination only the layout, run in threads.

Each combination's layout starts from a random state in the same state as an independent
``umap.UMAP(random_state=...)`` fit would have at that point, so that its result is
identical to that fit on the same kNN graph (see :mod:`sonotype.reduce.umap_grid`).
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from sonotype.reduce.umap_neighbors import nearest_neighbors, resolve_neighbors
from sonotype.reduce.umap_numba import import_umap, layout_releases_gil


def fit_graph(umap, Z, knn, k: int, *, metric, n_components, n_epochs, random_state):
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


def shared_init(umap, model, Z, *, n_components, n_epochs, random_state):
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


def layout(umap, model, min_dist: float, init, state):
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


def run_grid(
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
    method = resolve_neighbors(neighbors, *Z.shape)
    knn = nearest_neighbors(
        umap, Z, max(ks), metric=metric, method=method, random_state=random_state
    )
    if random_state is None or not layout_releases_gil():
        n_workers = 1  # parallel numba layouts must not be launched from several threads
    results: dict[tuple[int, float], Any] = {}
    pool = ThreadPoolExecutor(max_workers=n_workers) if n_workers > 1 else None
    futures = {}
    try:
        for k in ks:
            model = fit_graph(
                umap,
                Z,
                knn,
                k,
                metric=metric,
                n_components=n_components,
                n_epochs=n_epochs,
                random_state=random_state,
            )
            init, state = shared_init(
                umap, model, Z, n_components=n_components, n_epochs=n_epochs,
                random_state=random_state,
            )  # fmt: skip
            for min_dist in min_dists:
                if pool is None:
                    results[k, min_dist] = layout(umap, model, min_dist, init, state)
                    if on_done is not None:
                        on_done(k, min_dist, results[k, min_dist])
                else:
                    future = pool.submit(layout, umap, model, min_dist, init, state)
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
