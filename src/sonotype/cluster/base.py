"""What a clustering is, the registry of clusterers, and the input checks they share.

A *clusterer* here is a grid estimator: one fit runs a method over a grid of parameter
values and yields one :class:`Clustering` per combination, so that work shared between
combinations (HDBSCAN's minimum spanning tree, the agglomerative merge tree) is done once.
Grid estimators follow the scikit-learn contract: ``__init__`` only stores its keyword
arguments, ``fit`` validates them and sets ``clusterings_``, and ``fit`` returns ``self``.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator

from sonotype.errors import ParameterError
from sonotype.registry import Registry

#: ``progress(done, total)``, called after each combination of a grid.
Progress = Callable[[int, int], None]

#: Label of points that belong to no cluster (HDBSCAN's outliers).
NOISE = -1


@dataclass(eq=False)
class Clustering:
    """One clustering of ``n`` points: labels row-aligned with the data, and its scores.

    Parameters
    ----------
    method : str
        Registry name of the clusterer that made it (``"hdbscan"``, ``"kmeans"``, ...).
    params : dict
        The parameter values of this grid combination, for provenance and ranking tables.
    labels : ndarray of int64, shape (n,)
        Cluster index of each point, ``0 .. n_clusters - 1``; ``-1`` marks noise.
    probabilities : ndarray of float64, shape (n,), optional
        Strength of each point's membership in its cluster, in ``[0, 1]`` (HDBSCAN);
        0 for noise. ``None`` for methods without a notion of membership strength.
    scores : dict
        Scores from :func:`~sonotype.cluster.score_clustering`; empty until scored.
    extra : dict
        Method-specific results (k-means ``inertia`` and ``centers``, for example).

    Examples
    --------
    >>> c = Clustering("kmeans", {"n_clusters": 2}, np.array([0, 0, 1, -1]))
    >>> c.name, c.n_clusters, c.noise_fraction
    ('kmeans(n_clusters=2)', 2, 0.25)
    """

    method: str
    params: dict[str, Any]
    labels: np.ndarray
    probabilities: np.ndarray | None = None
    scores: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.labels = np.asarray(self.labels).astype(np.int64, copy=False)

    @property
    def name(self) -> str:
        """The method with its parameters, ``"hdbscan(min_cluster_size=5, min_samples=1)"``."""
        inside = ", ".join(f"{key}={value!r}" for key, value in self.params.items())
        return f"{self.method}({inside})"

    @property
    def n_clusters(self) -> int:
        """Number of clusters, noise not counted."""
        return int(np.unique(self.labels[self.labels != NOISE]).size)

    @property
    def noise_fraction(self) -> float:
        """Fraction of points labelled noise (0 for methods that assign every point)."""
        return float(np.mean(self.labels == NOISE)) if self.labels.size else 0.0

    def __repr__(self) -> str:
        return (
            f"Clustering({self.name}, n={self.labels.size}, n_clusters={self.n_clusters}, "
            f"noise_fraction={self.noise_fraction:.3f}, scored={bool(self.scores)})"
        )


class ClustererGrid(BaseEstimator):
    """Base class of grid clusterers; subclasses set :attr:`name` and implement ``fit``.

    After ``fit(X)``: ``clusterings_`` (list of unscored :class:`Clustering`, in grid
    order), ``n_features_in_`` and ``n_samples_fit_``.
    """

    #: Registry name.
    name: ClassVar[str]

    @abstractmethod
    def fit(self, X, y=None, *, progress: Progress | None = None) -> ClustererGrid:
        """Cluster ``X`` (shape ``(n, d)``) once per grid combination; returns ``self``."""


CLUSTERERS: Registry[type[ClustererGrid]] = Registry(
    "clusterer", entry_point_group="sonotype.clusterers"
)


def register_clusterer(cls: type[ClustererGrid]) -> type[ClustererGrid]:
    """Class decorator: register ``cls`` under ``cls.name``."""
    CLUSTERERS.add(cls.name, cls)
    return cls


def make_clusterer(name: str, **params: Any) -> ClustererGrid:
    """An unfitted grid clusterer ``name``; unknown parameters are an error listing valid ones.

    Examples
    --------
    >>> make_clusterer("kmeans", n_clusters=(2, 3))
    KMeansGrid(n_clusters=(2, 3))
    """
    cls = CLUSTERERS.get(name)
    valid = set(cls._get_param_names())
    unknown = sorted(set(params) - valid)
    if unknown:
        raise ParameterError(
            f"clusterer {name!r} has no parameter {', '.join(unknown)}; its parameters are "
            f"{', '.join(sorted(valid))}"
        )
    return cls(**params)


# -- input checks ----------------------------------------------------------------------------


def check_labels(labels: Any, *, n: int, name: str = "labels") -> np.ndarray:
    """Cluster labels as int64 of length ``n``, ``-1`` for noise and no other negative."""
    array = np.asarray(labels)
    if array.ndim != 1 or array.shape[0] != n:
        raise ParameterError(
            f"{name} has shape {array.shape}; it must hold one label per row of X ({n})",
            parameter=name,
        )
    if (
        array.size
        and not np.issubdtype(array.dtype, np.integer)
        and (not np.issubdtype(array.dtype, np.floating) or not np.all(array == np.round(array)))
    ):
        raise ParameterError(
            f"{name} must be integer cluster indices (-1 for noise); got dtype {array.dtype}",
            parameter=name,
        )
    array = array.astype(np.int64)
    if array.size and array.min() < NOISE:
        raise ParameterError(
            f"{name} holds {int(array.min())}; cluster labels must be >= 0, or -1 for noise",
            parameter=name,
        )
    return array


def relabel(labels: np.ndarray) -> np.ndarray:
    """Labels renumbered ``0, 1, ...`` in order of first appearance; noise stays ``-1``.

    Examples
    --------
    >>> relabel(np.array([7, 7, -1, 3, 7])).tolist()
    [0, 0, -1, 1, 0]
    """
    labels = np.asarray(labels, dtype=np.int64)
    out = np.full(labels.shape, NOISE, dtype=np.int64)
    clustered = labels != NOISE
    values, first, inverse = np.unique(labels[clustered], return_index=True, return_inverse=True)
    order = np.empty(values.size, dtype=np.int64)
    order[np.argsort(first, kind="stable")] = np.arange(values.size)
    out[clustered] = order[inverse]
    return out
