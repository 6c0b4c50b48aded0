import numpy as np
import pytest

from sonotype.distances import (
    METRICS,
    distance_features,
    feature_metric,
    pair_distance,
    pairwise_distances,
)
from sonotype.errors import ParameterError


def _specs(rng, n=6, shape=(9, 7)):
    return (rng.normal(size=(n, *shape)) + 1j * rng.normal(size=(n, *shape))).astype(np.complex64)


@pytest.mark.parametrize("metric", METRICS)
def test_vectorised_distances_equal_the_pair_reference(rng, metric):
    specs = _specs(rng)
    matrix = pairwise_distances(specs, metric=metric)
    reference = np.array([[pair_distance(a, b, metric=metric) for b in specs] for a in specs])
    np.testing.assert_allclose(matrix, reference, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("metric", METRICS)
def test_features_under_their_reducer_metric_give_the_distance(rng, metric):
    from sklearn.metrics import pairwise_distances as sk_distances

    specs = _specs(rng)
    features = distance_features(specs, metric=metric)
    got = sk_distances(features.astype(np.float64), metric=feature_metric(metric))
    np.testing.assert_allclose(got, pairwise_distances(specs, metric=metric), atol=1e-5)


def test_phase_aware_is_zero_for_itself_and_grows_with_a_phase_shift(rng):
    S = _specs(rng, n=1)[0]
    shifted = np.stack([S, S * np.exp(0.5j), S * np.exp(3.0j)])
    d = pairwise_distances(shifted, metric="phase-aware")[0]
    assert d[0] == 0 and 0 < d[1] < d[2] <= 0.4 + 1e-6  # magnitudes equal: only phase


def test_group_delay_sees_a_time_shift_that_magnitude_does_not():
    n = 256
    clicks = np.zeros((2, n))
    clicks[0, 60], clicks[1, 64] = 1.0, 1.0  # the same click, 4 samples later
    specs = np.fft.rfft(clicks, axis=1)[:, :, None] * np.ones((1, 1, 3))
    assert np.allclose(np.abs(specs[0]), np.abs(specs[1]))
    gd = -np.angle(specs[:, 1:, 0] * np.conj(specs[:, :-1, 0]))
    # the group delay of a click k samples in is 2 pi k / n per bin: 4 samples later, larger
    np.testing.assert_allclose(gd[1] - gd[0], 2 * np.pi * 4 / n, atol=1e-6)
    assert pairwise_distances(specs, metric="group-delay")[0, 1] > 1


def test_bad_input_is_a_clear_error(rng):
    with pytest.raises(ParameterError, match="complex"):
        distance_features(np.ones((2, 3, 4)), metric="complex-l2")
    with pytest.raises(ParameterError, match="metric"):
        distance_features(_specs(rng), metric="phase")
    with pytest.raises(ParameterError, match="all zeros"):
        distance_features(np.zeros((2, 3, 4), complex), metric="phase-aware")
