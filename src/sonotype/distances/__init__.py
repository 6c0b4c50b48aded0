"""Distances between complex spectrograms (magnitude and phase), after song_phenotyping.

:mod:`~sonotype.distances.spectra` cuts fixed-size complex spectrograms of events;
:mod:`~sonotype.distances.metrics` holds the four distances, each as a reference pair
function and as a vectorised feature map whose Euclidean or cosine distance equals it, so
the reducers (``metric="euclidean"`` or ``"cosine"``) and clusterers use them unchanged,
and as precomputed distance matrices.
"""

from sonotype.distances.metrics import (
    METRICS,
    distance_features,
    feature_metric,
    pair_distance,
    pairwise_distances,
)
from sonotype.distances.spectra import event_stfts

__all__ = [
    "METRICS",
    "distance_features",
    "event_stfts",
    "feature_metric",
    "pair_distance",
    "pairwise_distances",
]
