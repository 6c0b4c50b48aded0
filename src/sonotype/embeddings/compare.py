"""Compare embedding sets (one per model) on the same rows and the same labels.

For each set, on the rows every set has (same recording, span and channel; the intersection,
in one order, so each model is judged on identical data):

- **probe**: a linear probe (:func:`~sonotype.embeddings.probes.train_probe`, split by
  recording, the same split for every set): test accuracy, macro accuracy, macro F1;
- **k-NN**: the test rows classified by their ``knn_k`` (5) nearest training rows by cosine
  distance (scikit-learn ``KNeighborsClassifier``): accuracy and macro accuracy;
- **silhouette** of the true labels in the embedding space (cosine; on a seeded subsample of
  at most 5,000 labelled rows): how compact and separate the classes are without any fit;
- **clustering**, as ``sonotype discover`` clusters: a UMAP grid (``reduce="umap"``, the
  discover ``small`` grid: ``n_neighbors`` 10, 30 x ``min_dist`` 0.05, 0.3; inputs first
  reduced to 50 principal components when wider, given more than 50 rows) or a 2-D PCA
  (``reduce="pca"``, fast), then the HDBSCAN grid (``min_cluster_size`` 10, 30 x
  ``min_samples`` 1, 5), every clustering scored against the labels. Two numbers each for
  AMI and ARI: **selected**, the clustering the discover selection picks without labels
  (best composite score), and **best**, the grid's highest (chosen *with* the labels: an
  upper bound, optimistic by construction);
- **embedding time** (``seconds`` in the set's info, as ``sonotype embed`` records it) and
  **size** (dimensions; MB of the vectors).

With models instead of sets (``sonotype compare-models --models birdnet,flat,pca``),
:func:`embed_models` first makes one set per model on the same units through
:func:`~sonotype.embeddings.embed.embed_project` (``sonotype embed --model``'s API, so each
recording already embedded by a model is found in the cache, not embedded again).

Above ``max_rows`` common labelled rows, a seeded random subsample of that many (the same for
every set) is compared, so UMAP and the silhouette stay tractable; the table says so.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sonotype.embeddings.probes import split_by_recording, split_groups, train_probe
from sonotype.errors import ParameterError

SMALL_GRID = {
    "n_neighbors": (10, 30),
    "min_dist": (0.05, 0.3),
    "min_cluster_size": (10, 30),
    "min_samples": (1, 5),
}
REDUCERS = ("umap", "pca")
CLUSTER_SCORES = ("ami_selected", "ari_selected", "ami_best", "ari_best", "n_clusters_selected")
#: Inputs wider than this are reduced by PCA before UMAP (as discover embeds syllables in 32).
UMAP_PCA_COMPONENTS = 50


@dataclass
class Comparison:
    """The table (one row per set) and, per set, 2-D coordinates and labels for a scatter."""

    table: pd.DataFrame
    scatters: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    n_rows: int = 0
    n_common: int = 0
    subsampled: bool = False


def parse_models(text: str) -> list[str]:
    """``--models birdnet,flat,pca`` as a list: at least two, none twice.

    Examples
    --------
    >>> parse_models("birdnet, flat,pca")
    ['birdnet', 'flat', 'pca']
    """
    models = [m.strip() for m in text.split(",") if m.strip()]
    if len(models) < 2 or len(set(models)) < len(models):
        raise ParameterError(
            f"--models {text!r}: name at least two different models, comma-separated, e.g. "
            "birdnet,flat,pca (`sonotype models` lists them)",
            parameter="models",
        )
    return models


def embed_models(
    project,
    models: Sequence[str],
    *,
    windows: tuple[float, float] | None = None,
    kind: str | None = None,
    source: str | None = None,
    recordings: str | None = None,
    random_state: int = 0,
    executor=None,
    progress: Callable[[str], None] | None = None,
) -> list:
    """One embedding set per model on the same units, as ``sonotype embed --model M`` makes it.

    Each set gets embed's default name (``MODEL-windows`` or ``MODEL-KIND``,
    :func:`~sonotype.embeddings.embed.default_set_name`), replacing a set of that name; the
    recordings a model has embedded before, with the same units, come from the cache.

    Parameters
    ----------
    project : Project
    models : sequence of str
        Models as ``--model`` names them.
    windows : (float, float), optional
        ``(window_s, hop_s)``: every recording cut into windows (exactly one of ``windows``
        and ``kind``).
    kind, source : str, optional
        The stored events of this kind (and source).
    recordings : str, optional
        Only recordings matching this glob.
    random_state : int
        Seed of the ``pca`` embedder.
    executor : Executor, optional
    progress : callable, optional
        Called with ``"MODEL"`` as each model starts.

    Returns
    -------
    list of EmbeddingSet
        In the order of ``models``.
    """
    from sonotype.embeddings.embed import embed_project

    sets = []
    for model in models:
        if progress:
            progress(model)
        outcome = embed_project(
            project,
            model,
            windows=windows,
            kind=None if windows else kind,
            source=None if windows else source,
            recordings=recordings,
            random_state=random_state,
            executor=executor,
            command="compare-models",
        )
        if outcome.failures:
            first, why = next(iter(outcome.failures.items()))
            raise ParameterError(
                f"--models: {model} failed on {len(outcome.failures)} recording(s), so the "
                f"sets would not share their rows; the first: {first}: {why}",
                parameter="models",
            )
        sets.append(outcome.embedding)
    return sets


def _keys(events: pd.DataFrame) -> pd.Series:
    # Rounded to the microsecond: sets made separately store the same window's times through
    # different arithmetic.
    return (
        events["recording"].astype(str)
        + "\0" + events["start_s"].round(6).astype(str)
        + "\0" + events["stop_s"].round(6).astype(str)
        + "\0" + events["channel"].astype(str)
    )  # fmt: skip


def common_rows(sets: Sequence) -> list[np.ndarray]:
    """Per set, the positions of the rows every set has, in one shared order."""
    if not sets:
        raise ParameterError("--embeddings: name at least one set", parameter="embeddings")
    keys = [_keys(s.events) for s in sets]
    shared = pd.Index(keys[0].drop_duplicates())
    for other in keys[1:]:
        shared = shared.intersection(pd.Index(other), sort=False)
    shared = shared.sort_values()
    if not len(shared):
        raise ParameterError(
            f"--embeddings {','.join(s.name for s in sets)}: the sets share no rows (same "
            "recording, start, stop, channel); embed the same windows or events with each model",
            parameter="embeddings",
        )
    out = []
    for key in keys:
        first = pd.Series(np.arange(len(key)), index=key.to_numpy())
        first = first[~first.index.duplicated()]
        out.append(first.loc[shared].to_numpy())
    return out


def knn_scores(X_train, y_train, X_test, y_test, *, k: int = 5) -> dict[str, float]:
    """Accuracy and macro accuracy of a cosine k-NN classifier."""
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.neighbors import KNeighborsClassifier

    knn = KNeighborsClassifier(n_neighbors=min(k, len(y_train)), metric="cosine")
    predicted = knn.fit(X_train, y_train).predict(X_test)
    return {
        "knn_accuracy": float(np.mean(predicted == y_test)),
        "knn_macro_accuracy": float(balanced_accuracy_score(y_test, predicted)),
    }


def label_silhouette(X, y, *, max_rows: int = 5000, random_state: int = 0) -> float:
    """Silhouette (cosine) of the labels ``y`` in ``X``; NaN with fewer than 2 labels."""
    from sklearn.metrics import silhouette_score

    if len(set(y)) < 2 or len(y) < 3:
        return math.nan
    rng = np.random.default_rng(random_state)
    pick = rng.permutation(len(y))[:max_rows]
    if len(set(y[pick])) < 2:
        return math.nan
    return float(silhouette_score(np.asarray(X)[pick], y[pick], metric="cosine"))


def clustering_scores(
    X, y, *, reduce: str = "umap", grid=SMALL_GRID, random_state: int = 0, groups=None
) -> tuple[dict[str, float], np.ndarray]:
    """AMI and ARI, selected and best, of the discover clustering of ``X`` against ``y``;
    and the 2-D coordinates of the selected clustering's reduction (``(n, 2)``)."""
    from sonotype.cluster import best_clustering, hdbscan_grid

    X = np.asarray(X, dtype=np.float32)
    if reduce == "umap":
        from sonotype.reduce import umap_grid

        reductions = umap_grid(
            X,
            n_neighbors=grid["n_neighbors"],
            min_dist=grid["min_dist"],
            pca_components=UMAP_PCA_COMPONENTS if min(X.shape) > UMAP_PCA_COMPONENTS else None,
            random_state=random_state,
            groups=groups,
        )
    elif reduce == "pca":
        from sonotype.reduce import make_reducer
        from sonotype.reduce.base import Embedding

        coords = make_reducer("pca", n_components=2, random_state=random_state).fit_transform(X)
        reductions = [Embedding("pca", {"n_components": 2}, coords, np.arange(len(X)))]
    else:
        raise ParameterError(
            f"reduce={reduce!r}: choose one of {', '.join(REDUCERS)}", parameter="reduce"
        )
    clusterings = {}
    for reduction in reductions:
        clusterings[reduction.name] = hdbscan_grid(
            reduction.coords,
            min_cluster_size=grid["min_cluster_size"],
            min_samples=grid["min_samples"],
            true_labels=y[reduction.indices],
            random_state=random_state,
        )
    every = [c for group in clusterings.values() for c in group]
    try:
        key, selected = best_clustering(clusterings)
    except ParameterError:  # no clustering found 2 clusters
        key, selected = next(iter(clusterings)), None
    reduction = next(r for r in reductions if r.name == key)
    coords = np.full((len(X), 2), np.nan, dtype=np.float32)
    coords[reduction.indices] = reduction.coords[:, :2]
    scores = {
        "ami_selected": selected.scores.get("ami", math.nan) if selected else math.nan,
        "ari_selected": selected.scores.get("ari", math.nan) if selected else math.nan,
        "ami_best": max(c.scores.get("ami", math.nan) for c in every),
        "ari_best": max(c.scores.get("ari", math.nan) for c in every),
        "n_clusters_selected": selected.n_clusters if selected else 0,
    }
    return scores, coords


def compare_sets(
    sets: Sequence,
    labels: Callable[[object], np.ndarray] | np.ndarray,
    *,
    reduce: str | None = "umap",
    knn_k: int = 5,
    test_fraction: float = 0.25,
    max_rows: int = 20000,
    group_s: float | None = None,
    random_state: int = 0,
    fold: int = 0,
    progress: Callable[[str], None] | None = None,
) -> Comparison:
    """Compare embedding ``sets`` on their common rows (see the module notes).

    Parameters
    ----------
    sets : sequence of EmbeddingSet
    labels : callable or array
        ``labels(events)`` gives one label per row of an Events table (``""``: left out),
        called on the common rows of the first set; or an array aligned with the rows of
        the first set (all of them).
    reduce : {"umap", "pca"} or None
        None leaves the clustering out (its scores NaN), e.g. for the other folds of a
        cross-validation: clustering does not depend on the split.
    knn_k, test_fraction, max_rows, random_state
        See the module notes.
    group_s : float, optional
        Split by blocks of this many seconds within recordings instead of by recording
        (see :func:`~sonotype.embeddings.probes.split_groups`).
    fold : int
        Which fold of the split is tested (see
        :func:`~sonotype.embeddings.probes.split_by_recording`).
    progress : callable, optional
        Called with the name of each set as its work starts.

    Returns
    -------
    Comparison
    """
    if max_rows < 10:
        raise ParameterError(f"max_rows={max_rows} must be at least 10", parameter="max_rows")
    positions = common_rows(sets)
    rows = sets[0].events.iloc[positions[0]].reset_index(drop=True)
    if callable(labels):
        y = np.asarray(labels(rows), dtype=object).astype(str)
    else:
        y = np.asarray(labels, dtype=object).astype(str)
        if len(y) != len(sets[0].events):
            raise ParameterError(
                f"{len(y)} labels for the {len(sets[0].events)} rows of {sets[0].name!r}"
            )
        y = y[positions[0]]
    labelled = np.flatnonzero(y != "")
    subsampled = len(labelled) > max_rows
    if subsampled:
        rng = np.random.default_rng(random_state)
        labelled = np.sort(rng.choice(labelled, size=max_rows, replace=False))
    if len(np.unique(y[labelled])) < 2:
        raise ParameterError(
            f"the {len(labelled)} labelled common rows have fewer than 2 labels; "
            "check --labels-from",
            parameter="labels_from",
        )
    y = y[labelled]
    groups = split_groups(rows, group_s=group_s)[labelled]
    train, test = split_by_recording(
        y, groups, test_fraction=test_fraction, random_state=random_state, fold=fold
    )
    table, scatters = [], {}
    for s, pos in zip(sets, positions, strict=True):
        if progress:
            progress(s.name)
        X = np.asarray(s.vectors[pos[labelled]], dtype=np.float32)
        _, probe = train_probe(X, y, groups, test_fraction=test_fraction,
                               random_state=random_state, fold=fold, name=s.name)  # fmt: skip
        row = {
            "set": s.name,
            "model": s.model,
            "dimensions": s.dimensions,
            "rows": len(y),
            "probe_accuracy": probe.accuracy,
            "probe_macro_accuracy": probe.macro_accuracy,
            "probe_macro_f1": probe.macro_f1,
            **knn_scores(X[train], y[train], X[test], y[test], k=knn_k),
            "silhouette": label_silhouette(X, y, random_state=random_state),
        }
        if reduce is None:  # the caller wants the split-dependent scores only
            cluster, coords = dict.fromkeys(CLUSTER_SCORES, math.nan), None
        else:
            cluster, coords = clustering_scores(
                X, y, reduce=reduce, random_state=random_state, groups=pd.factorize(groups)[0]
            )
        row.update(cluster)
        seconds = s.info.get("seconds")
        row["embed_seconds"] = float(seconds) if seconds is not None else math.nan
        row["size_mb"] = s.vectors.shape[0] * s.dimensions * 4 / 1e6
        table.append(row)
        if coords is not None:
            scatters[s.name] = (coords, y)
    return Comparison(pd.DataFrame(table), scatters, len(y), len(positions[0]), subsampled)
