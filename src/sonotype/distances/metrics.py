"""song_phenotyping's complex-spectrogram distances, vectorised as feature maps.

The four distances between complex spectrograms ``S1, S2`` of one shape
``(n_freq, n_time)``:

- ``"complex-l2"``: ``||S1 - S2||`` (Frobenius);
- ``"phase-aware"``: ``1 - (0.8 m + 0.2 c)``, with ``m`` the cosine similarity of the
  magnitudes and ``c`` the phase coherence, the mean of ``cos(phase1 - phase2)``;
- ``"group-delay"``: ``||GD1 - GD2||``, with ``GD = -d(phase)/d(frequency)``;
- ``"instantaneous-frequency"``: ``||IF1 - IF2||``, with ``IF = d(phase)/d(time)``.

Each equals a plain distance between feature vectors, so that all pairs cost one matrix
product instead of a Python call per pair:

- complex L2 is the Euclidean distance between ``[Re S, Im S]``;
- phase-aware: with ``f = [sqrt(0.8) |S| / ||S||, sqrt(0.2 / N) cos(phase),
  sqrt(0.2 / N) sin(phase)]`` (``N`` bins), ``f1 . f2 = 0.8 m + 0.2 c`` and
  ``||f|| = 1``, so the distance is ``1 - f1 . f2``, the cosine distance of ``f``;
- group delay and instantaneous frequency are Euclidean distances between the phase
  differences of neighbouring bins (along frequency) or frames (along time), taken as the
  principal value ``angle(S[k + 1] conj(S[k]))``: this equals numpy's
  ``diff(unwrap(angle(S)))`` along that axis, which keeps every step within ``[-pi, pi]``.

Two deliberate differences from song_phenotyping's code: its group delay unwraps the phase
along time (numpy's default axis) before differencing along frequency, which leaves
arbitrary multiples of 2 pi in the result; here the phase is unwrapped along the axis it
is differenced on, as the definition says. And a bin of exactly zero magnitude has phase 0
in the features (numpy's ``angle(0)``), where song_phenotyping's ``cos(angle(S1 conj S2))``
counts such a pair as fully coherent.
"""

from __future__ import annotations

import numpy as np

from sonotype.checks import check_choice
from sonotype.errors import ParameterError

METRICS = ("complex-l2", "phase-aware", "group-delay", "instantaneous-frequency")
_FEATURE_METRIC = {
    "complex-l2": "euclidean",
    "phase-aware": "cosine",
    "group-delay": "euclidean",
    "instantaneous-frequency": "euclidean",
}
# song_phenotyping's weights of magnitude similarity and phase coherence.
_MAGNITUDE_WEIGHT, _PHASE_WEIGHT = 0.8, 0.2


def _check_specs(specs) -> np.ndarray:
    specs = np.asarray(specs)
    if specs.ndim != 3 or not np.iscomplexobj(specs):
        raise ParameterError(
            f"spectrograms have shape {specs.shape} and dtype {specs.dtype}; these distances "
            "need complex spectrograms of one shape, (n, n_freq, n_time) (event_stfts makes them)"
        )
    if not np.isfinite(specs).all():
        raise ParameterError("spectrograms hold NaN or infinite values")
    return specs


def feature_metric(metric: str) -> str:
    """The reducer metric (``"euclidean"`` or ``"cosine"``) under which the features of
    :func:`distance_features` give ``metric``."""
    return _FEATURE_METRIC[check_choice(metric, name="metric", choices=METRICS)]


def distance_features(specs, *, metric: str) -> np.ndarray:
    """Feature vectors whose :func:`feature_metric` distance is ``metric`` (see the module).

    Parameters
    ----------
    specs : ndarray, complex, shape (n, n_freq, n_time)
    metric : {"complex-l2", "phase-aware", "group-delay", "instantaneous-frequency"}

    Returns
    -------
    ndarray, float32, shape (n, d)

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> S = rng.normal(size=(2, 4, 5)) + 1j * rng.normal(size=(2, 4, 5))
    >>> f = distance_features(S, metric="complex-l2")
    >>> bool(np.isclose(np.linalg.norm(f[0] - f[1]), np.linalg.norm(S[0] - S[1]), rtol=1e-5))
    True
    """
    metric = check_choice(metric, name="metric", choices=METRICS)
    specs = _check_specs(specs)
    n = len(specs)
    if metric == "complex-l2":
        features = np.concatenate([specs.real.reshape(n, -1), specs.imag.reshape(n, -1)], axis=1)
    elif metric == "phase-aware":
        magnitude = np.abs(specs).reshape(n, -1).astype(np.float64)
        norms = np.linalg.norm(magnitude, axis=1, keepdims=True)
        if (norms == 0).any():
            raise ParameterError(
                f"spectrogram {int(np.flatnonzero(norms[:, 0] == 0)[0])} is all zeros; the "
                "phase-aware distance (a cosine of magnitudes) is undefined for it"
            )
        phase = np.angle(specs).reshape(n, -1)
        scale = np.sqrt(_PHASE_WEIGHT / phase.shape[1])
        features = np.concatenate(
            [np.sqrt(_MAGNITUDE_WEIGHT) * magnitude / norms,
             scale * np.cos(phase), scale * np.sin(phase)], axis=1,
        )  # fmt: skip
    elif metric == "group-delay":
        features = -np.angle(specs[:, 1:, :] * np.conj(specs[:, :-1, :])).reshape(n, -1)
    else:
        features = np.angle(specs[:, :, 1:] * np.conj(specs[:, :, :-1])).reshape(n, -1)
    return np.ascontiguousarray(features, dtype=np.float32)


def pairwise_distances(specs, *, metric: str, other=None) -> np.ndarray:
    """All distances ``metric`` between the spectrograms (and ``other``'s, if given).

    Computed from :func:`distance_features` with one matrix product (float64), e.g. for
    ``sklearn.cluster.HDBSCAN(metric="precomputed")`` or ``umap.UMAP(metric="precomputed")``.

    Returns
    -------
    ndarray, float64, shape (n, n) or (n, len(other))
    """
    a = distance_features(specs, metric=metric).astype(np.float64)
    b = a if other is None else distance_features(other, metric=metric).astype(np.float64)
    gram = a @ b.T
    if feature_metric(metric) == "cosine":  # unit vectors: 1 - f1 . f2
        out = 1.0 - gram
    else:
        squared = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * gram
        out = np.sqrt(np.maximum(squared, 0.0))
    if other is None:
        np.fill_diagonal(out, 0.0)
    return out


def pair_distance(spec1, spec2, *, metric: str) -> float:
    """One distance between two complex spectrograms, as song_phenotyping computes it (the
    reference the vectorised forms are tested against; see the module for the two
    deliberate differences)."""
    metric = check_choice(metric, name="metric", choices=METRICS)
    s1, s2 = np.asarray(spec1), np.asarray(spec2)
    if s1.shape != s2.shape or s1.ndim != 2:
        raise ParameterError(
            f"spectrograms of shapes {s1.shape} and {s2.shape}: need one 2-D shape"
        )
    if metric == "complex-l2":
        return float(np.linalg.norm(s1 - s2))
    if metric == "phase-aware":
        m1, m2 = np.abs(s1), np.abs(s2)
        magnitude = np.dot(m1.ravel(), m2.ravel()) / (np.linalg.norm(m1) * np.linalg.norm(m2))
        coherence = np.mean(np.cos(np.angle(s1) - np.angle(s2)))
        return float(1 - (_MAGNITUDE_WEIGHT * magnitude + _PHASE_WEIGHT * coherence))
    axis = 0 if metric == "group-delay" else 1
    sign = -1.0 if metric == "group-delay" else 1.0
    d1 = sign * np.diff(np.unwrap(np.angle(s1), axis=axis), axis=axis)
    d2 = sign * np.diff(np.unwrap(np.angle(s2), axis=axis), axis=axis)
    return float(np.linalg.norm(d1 - d2))
