"""The ``complex`` embedder: complex spectrograms as features whose plain distance is one
of song_phenotyping's complex-spectrogram distances (:mod:`sonotype.distances`)."""

from __future__ import annotations

import numpy as np

from sonotype.checks import check_choice
from sonotype.distances.metrics import METRICS, distance_features, feature_metric
from sonotype.embed.base import Embedder, register_embedder
from sonotype.errors import ParameterError


@register_embedder("complex")
class ComplexEmbedder(Embedder):
    """Feature vectors of complex spectrograms for a phase-aware distance.

    The reducers and clusterers then use the distance unchanged: pass ``metric_``
    (``"euclidean"`` or ``"cosine"``) as their ``metric``.

    Parameters
    ----------
    metric : {"complex-l2", "phase-aware", "group-delay", "instantaneous-frequency"}

    Attributes
    ----------
    metric_ : str
        The reducer metric under which the features give ``metric``.
    input_shape_ : tuple of int
        ``(n_freq, n_time)`` of the spectrograms.
    n_components_ : int

    Examples
    --------
    >>> S = np.ones((3, 4, 5), dtype=np.complex64)
    >>> emb = ComplexEmbedder(metric="phase-aware").fit(S)
    >>> emb.metric_, emb.transform(S).shape
    ('cosine', (3, 60))
    """

    def __init__(self, metric: str = "phase-aware") -> None:
        self.metric = metric

    def fit(self, X, y=None) -> ComplexEmbedder:
        """Check the metric and the spectrograms ``X`` (complex, ``(n, n_freq, n_time)``)."""
        check_choice(self.metric, name="metric", choices=METRICS)
        features = distance_features(X, metric=self.metric)
        self.input_shape_ = tuple(int(s) for s in np.shape(X)[1:])
        self.n_components_ = features.shape[1]
        self.metric_ = feature_metric(self.metric)
        return self

    def transform(self, X) -> np.ndarray:
        """The features, float32, shape ``(n, n_components_)``."""
        self._check_fitted()
        if tuple(np.shape(X)[1:]) != self.input_shape_:
            raise ParameterError(
                f"X rows have shape {tuple(np.shape(X)[1:])}, but this embedder was fitted on "
                f"{self.input_shape_}; make the spectrograms with the same parameters"
            )
        return distance_features(X, metric=self.metric)
