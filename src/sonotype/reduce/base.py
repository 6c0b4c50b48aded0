"""What a reducer is, the registry of reducers, the :class:`Embedding` result, and the
trustworthiness score that grids report.

A *reducer* maps ``(n, d)`` embeddings (flattened spectrograms, network features) to a few
dimensions (``n_components``, usually 2) for plotting and clustering. Reducers follow the
scikit-learn estimator contract: ``__init__`` only stores its keyword arguments, ``fit``
validates them and the data and returns ``self``, fitted attributes end in ``_``
(``embedding_``: the coordinates of the training rows), ``transform`` places new rows in the
fitted space, and anything stochastic takes a ``random_state``. Third-party reducers
register themselves through the ``sonotype.reducers`` entry-point group.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from sonotype.checks import check_int, check_matrix
from sonotype.errors import ParameterError
from sonotype.registry import Registry

#: ``progress(done, total)``, called after each combination of a grid.
Progress = Callable[[int, int], None]

REDUCERS: Registry[type] = Registry("reducer", entry_point_group="sonotype.reducers")

R = TypeVar("R", bound=type)


def register_reducer(name: str) -> Callable[[R], R]:
    """Class decorator: register a reducer class under ``name`` (and set ``cls.name``)."""

    def decorate(cls: R) -> R:
        REDUCERS.add(name, cls)
        cls.name = name
        return cls

    return decorate


def reducer_parameters(cls: type) -> list[str]:
    """The keyword parameters of a reducer class, in signature order.

    Examples
    --------
    >>> reducer_parameters(REDUCERS.get("pca"))
    ['n_components', 'whiten', 'random_state']
    """
    signature = inspect.signature(cls.__init__)
    return [
        p.name
        for p in signature.parameters.values()
        if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]


def make_reducer(name: str, **params: Any):
    """An unfitted reducer ``name`` with ``params``; unknown parameters are an error that
    lists the valid ones.

    Examples
    --------
    >>> make_reducer("pca", n_components=3)
    PCAReducer(n_components=3)
    >>> make_reducer("pca", perplexity=30)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sonotype.errors.ParameterError: reducer 'pca' has no parameter perplexity; its ...
    """
    cls = REDUCERS.get(name)
    valid = reducer_parameters(cls)
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise ParameterError(
            f"reducer {name!r} has no parameter {', '.join(unknown)}; its parameters are "
            f"{', '.join(valid) or '(none)'}"
        )
    return cls(**params)


# -- the estimator base class ----------------------------------------------------------------


class Reducer(BaseEstimator, ABC):
    """Base class of sonotype's reducers (a scikit-learn estimator).

    Subclasses implement :meth:`_fit` (returning the training coordinates) and
    :meth:`_transform`. A subclass with a ``pca_components`` parameter gets an optional
    principal-component step first: ``fit`` then keeps ``pca_`` and ``transform`` applies
    it to new rows before the reducer proper.

    After ``fit``: ``embedding_`` (float32, shape ``(n, n_components)``), ``n_features_in_``
    and ``pca_`` (``None`` when no PCA step ran).
    """

    #: Registry name, set by :func:`register_reducer`.
    name: ClassVar[str] = ""

    def fit(self, X, y=None):
        """Fit to ``X`` (shape ``(n, d)``); returns ``self``."""
        X = check_matrix(X, min_rows=2, dtype=np.float32, flatten=True)
        self._check_params(X)
        self.pca_ = self._fit_pca(X)
        Z = X if self.pca_ is None else self._apply_pca(X)
        self.embedding_ = np.asarray(self._fit(Z), dtype=np.float32)
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X) -> np.ndarray:
        """Coordinates of new rows in the fitted space, float32, ``(m, n_components)``."""
        self._check_fitted()
        X = check_matrix(X, dtype=np.float32, flatten=True)
        if X.shape[1] != self.n_features_in_:
            raise ParameterError(
                f"X has {X.shape[1]} features per row but {type(self).__name__} was fitted "
                f"with {self.n_features_in_}; pass rows made the same way as the training rows"
            )
        Z = X if self.pca_ is None else self._apply_pca(X)
        return np.asarray(self._transform(Z), dtype=np.float32)

    def fit_transform(self, X, y=None) -> np.ndarray:
        """Fit to ``X`` and return the coordinates of its rows (``embedding_``)."""
        return self.fit(X, y).embedding_

    # -- for subclasses

    def _check_params(self, X: np.ndarray) -> None:
        """Raise :class:`ParameterError` for parameters unusable with ``X``."""

    @abstractmethod
    def _fit(self, Z: np.ndarray) -> np.ndarray:
        """Fit to ``Z`` (after any PCA) and return its coordinates."""

    @abstractmethod
    def _transform(self, Z: np.ndarray) -> np.ndarray:
        """Coordinates of new rows ``Z`` (after any PCA)."""

    def _fit_pca(self, X: np.ndarray):
        n_pca = getattr(self, "pca_components", None)
        if n_pca is None:
            return None
        n_pca = check_int(n_pca, name="pca_components", minimum=1, default=None)
        limit = min(X.shape)
        if n_pca > limit:
            raise ParameterError(
                f"pca_components={n_pca} is more than min(n_samples, n_features)={limit}; "
                f"pass at most {limit}, or None to skip the PCA step"
            )
        from sklearn.decomposition import PCA

        seed = getattr(self, "random_state", None)
        return PCA(n_components=n_pca, random_state=seed).fit(X)

    def _apply_pca(self, X: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(self.pca_.transform(X), dtype=np.float32)

    def _check_fitted(self) -> None:
        try:
            check_is_fitted(self, "embedding_")
        except NotFittedError:
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit(X) first"
            ) from None


# -- results ---------------------------------------------------------------------------------


@dataclass(eq=False)
class Embedding:
    """One reduction of ``n`` rows: coordinates, the rows they belong to, the fitted model
    and its trustworthiness.

    Parameters
    ----------
    method : str
        Registry name of the reducer (``"umap"``, ``"tsne"``, ``"pca"``).
    params : dict
        The parameter values actually used (after any clamping), for provenance.
    coords : ndarray of float32, shape (n_used, n_components)
        Coordinates of the rows ``indices`` of the input.
    indices : ndarray of int64, shape (n_used,)
        Input rows that ``coords`` belong to, ascending: ``coords[i]`` is row
        ``indices[i]``. All rows (``arange(n)``) unless the input was subsampled.
    model : Reducer, optional
        The fitted reducer; ``model.transform(rows)`` places new rows in this space.
    trustworthiness : float, optional
        :func:`sklearn.manifold.trustworthiness` of ``coords`` (5 neighbours), in
        ``[0, 1]``; see :class:`TrustworthinessScorer` for the subsample it is computed on.
    extra : dict
        Anything else worth recording (``n_neighbors_requested`` when it was clamped).

    Examples
    --------
    >>> e = Embedding("umap", {"n_neighbors": 10, "min_dist": 0.1}, np.zeros((4, 2)),
    ...               np.arange(4))
    >>> e.name, e.coords.dtype, e.n_samples
    ('umap(n_neighbors=10, min_dist=0.1)', dtype('float32'), 4)
    """

    method: str
    params: dict[str, Any]
    coords: np.ndarray
    indices: np.ndarray
    model: Any = None
    trustworthiness: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.coords = np.asarray(self.coords, dtype=np.float32)
        self.indices = np.asarray(self.indices, dtype=np.int64)

    @property
    def name(self) -> str:
        """The method with its parameters, ``"umap(n_neighbors=10, min_dist=0.1, ...)"``."""
        inside = ", ".join(f"{key}={value!r}" for key, value in self.params.items())
        return f"{self.method}({inside})"

    @property
    def n_samples(self) -> int:
        """Number of rows embedded."""
        return len(self.coords)

    def __repr__(self) -> str:
        t = "None" if self.trustworthiness is None else f"{self.trustworthiness:.4f}"
        return f"Embedding({self.name}, n={self.n_samples}, trustworthiness={t})"


# -- trustworthiness -------------------------------------------------------------------------


class TrustworthinessScorer:
    """Trustworthiness of many embeddings of the same rows, on one fixed subsample.

    Computes exactly :func:`sklearn.manifold.trustworthiness` (Venna and Kaski's score: 1
    when every point's ``n_neighbors`` nearest neighbours in the embedding are also among
    its nearest in the input), but prepares the input-space ranks once, so that scoring
    each embedding of a grid costs only a nearest-neighbour search in 2-D.

    For more than ``n_samples`` rows the score is computed on a seeded random subsample of
    ``n_samples`` rows (the same one for every embedding): neighbours are then taken within
    the subsample, in both spaces. The cost is ``O(n_samples²)`` memory and time
    (2000 rows: about 64 MB, under a second), independent of ``n``.

    Parameters
    ----------
    X : array, shape (n, d)
        The input rows.
    metric : str
        Input-space distance, as in :func:`sklearn.metrics.pairwise_distances`.
    n_neighbors : int
        Neighbours considered (scikit-learn's default: 5).
    n_samples : int
        Rows to score on at most.
    random_state : int or None
        Seed of the subsample (``None``: seed 0, so the subsample is still fixed).

    Attributes
    ----------
    indices : ndarray of int64
        Rows of ``X`` the score is computed on (ascending).

    Examples
    --------
    >>> from sklearn.manifold import trustworthiness
    >>> rng = np.random.default_rng(0)
    >>> X, Y = rng.normal(size=(60, 5)), rng.normal(size=(60, 2))
    >>> score = TrustworthinessScorer(X).score(Y)
    >>> bool(np.isclose(score, trustworthiness(X, Y, n_neighbors=5)))
    True
    """

    def __init__(
        self,
        X,
        *,
        metric: str = "euclidean",
        n_neighbors: int = 5,
        n_samples: int = 2000,
        random_state: int | None = 0,
    ) -> None:
        from sklearn.metrics import pairwise_distances

        X = np.asarray(X)
        n = len(X)
        n_samples = check_int(n_samples, name="trustworthiness_samples", minimum=2, default=2000)
        if n > n_samples:
            rng = np.random.default_rng(0 if random_state is None else random_state)
            self.indices = np.sort(rng.choice(n, size=n_samples, replace=False))
        else:
            self.indices = np.arange(n)
        m = len(self.indices)
        # scikit-learn requires n_neighbors < m / 2
        self.n_neighbors = min(int(n_neighbors), max(1, (m - 1) // 2))
        dist = pairwise_distances(X[self.indices], metric=metric)
        np.fill_diagonal(dist, np.inf)
        order = np.argsort(dist, axis=1)
        del dist
        # rank[i, j]: position of j in i's neighbour list (1 = nearest), as in scikit-learn
        self._rank = np.empty((m, m), dtype=np.int32)
        self._rank[np.arange(m)[:, None], order] = np.arange(1, m + 1, dtype=np.int32)

    def score(self, coords) -> float:
        """Trustworthiness of ``coords`` (all ``n`` rows, or just those in ``indices``)."""
        from sklearn.neighbors import NearestNeighbors

        coords = np.asarray(coords, dtype=np.float64)
        if len(coords) != len(self.indices):
            coords = coords[self.indices]
        m, k = len(coords), self.n_neighbors
        if not np.isfinite(coords).all():
            return float("nan")
        ind = NearestNeighbors(n_neighbors=k).fit(coords).kneighbors(return_distance=False)
        ranks = self._rank[np.arange(m)[:, None], ind].astype(np.int64) - k
        t = np.sum(ranks[ranks > 0])
        return float(1.0 - t * (2.0 / (m * k * (2.0 * m - 3.0 * k - 1.0))))
