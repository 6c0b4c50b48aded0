import numpy as np
import pytest

from sonotype.errors import ParameterError
from sonotype.motifs.profile import exclusion_zone, matrix_profile, window_validity


def _naive(series, m, valid):
    """Every pair of windows, one at a time: the mean over dimensions of z-normalised
    Euclidean distances (a constant window counts as all zeros)."""
    d, n = series.shape[0], series.shape[1] - m + 1

    def z(x):
        s = x.std()
        return np.zeros_like(x) if s < 1e-7 else (x - x.mean()) / s

    out = np.full(n, np.inf)
    for i in range(n):
        for j in range(n):
            if abs(i - j) <= exclusion_zone(m) or not (valid[i] and valid[j]):
                continue
            dist = np.mean([np.linalg.norm(z(series[k, i:i + m]) - z(series[k, j:j + m]))
                            for k in range(d)])  # fmt: skip
            out[i] = min(out[i], dist)
    return out


@pytest.mark.parametrize("lengths", [None, [30, 25, 25]])
def test_numpy_engine_equals_naive_reference(rng, lengths):
    series = rng.random((3, 80))
    series[:, 40:55] = 0.25  # a constant stretch, as silence gives in CENS
    mp = matrix_profile(series, window=10, lengths=lengths, engine="numpy", block_rows=17)
    valid = np.ones(71, bool) if lengths is None else window_validity(lengths, 10)
    np.testing.assert_allclose(mp.distances, _naive(series, 10, valid), atol=1e-9)
    finite = np.isfinite(mp.distances)
    assert (mp.indices[~finite] == -1).all()
    assert (np.abs(mp.indices[finite] - np.flatnonzero(finite)) > exclusion_zone(10)).all()


@pytest.mark.slow
@pytest.mark.parametrize("lengths", [None, [150, 120, 130]])
def test_numpy_engine_equals_stumpy_mstump(rng, lengths):
    pytest.importorskip("stumpy")
    series = rng.random((12, 400))
    a = matrix_profile(series, window=20, lengths=lengths, engine="numpy")
    b = matrix_profile(series, window=20, lengths=lengths, engine="stumpy")
    np.testing.assert_allclose(a.distances, b.distances, atol=1e-9)
    assert (a.indices == b.indices).mean() > 0.99  # ties may pick either neighbour


def test_window_validity_marks_straddling_windows():
    assert window_validity([3, 4], 2).tolist() == [True, True, False, True, True, True]


def test_bad_inputs_are_clear_errors():
    with pytest.raises(ParameterError, match="at least"):
        matrix_profile(np.zeros((12, 5)), window=5)
    with pytest.raises(ParameterError, match="sum"):
        matrix_profile(np.zeros((12, 50)), window=5, lengths=[10, 10])
    with pytest.raises(ParameterError, match="engine"):
        matrix_profile(np.zeros((12, 50)), window=5, engine="gpu")
