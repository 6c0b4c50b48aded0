import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sonotype.errors import ParameterError
from sonotype.units import samples_to_seconds, seconds_to_samples


def test_halves_round_up():
    # 0.5 and 1.5 samples at 2500 Hz (0.0002 s, 0.0006 s) go to the later sample.
    assert seconds_to_samples(0.0002, 2500) == 1
    assert seconds_to_samples(0.0006, 2500) == 2
    assert seconds_to_samples(0.00019, 2500) == 0
    np.testing.assert_array_equal(seconds_to_samples([0.0, 1.0, 2.5], 2), [0, 2, 5])


@given(n=st.integers(0, 10**10), sr=st.sampled_from([2500, 8000, 22050, 32000, 44100, 96000]))
def test_samples_round_trip_exactly(n, sr):
    assert seconds_to_samples(samples_to_seconds(n, sr), sr) == n


@given(t=st.floats(0, 1e5, allow_nan=False), sr=st.floats(100, 400000))
def test_seconds_round_trip_within_half_a_sample(t, sr):
    back = samples_to_seconds(seconds_to_samples(t, sr), sr)
    assert abs(back - t) <= 0.5 / sr + 1e-9 * max(t, 1)


@pytest.mark.parametrize("sr", [0, -1, float("nan"), "fast"])
def test_bad_sample_rate(sr):
    with pytest.raises(ParameterError, match="sr="):
        seconds_to_samples(1.0, sr)
