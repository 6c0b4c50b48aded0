"""Exact streaming quantiles, the registry and parameter errors (interval arithmetic:
tests/test_intervals.py)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sonotype.detect import DETECTORS, make_detector
from sonotype.detect.base import parse_pair
from sonotype.detect.statistics import exact_quantiles
from sonotype.errors import ParameterError


@given(
    st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=1, max_size=300),
    st.integers(1, 50),
)
def test_exact_quantiles_equal_numpy(values, chunk):
    x = np.array(values)
    qs = [0.0, 0.1, 0.5, 0.77, 1.0]

    def stream():
        return (x[i : i + chunk] for i in range(0, len(x), chunk))

    np.testing.assert_array_equal(exact_quantiles(stream, qs), np.quantile(x, qs))


def test_pairs_and_unknown_parameters():
    assert parse_pair("9,4", "time_sigma", default="9,4").signal == 9
    with pytest.raises(ParameterError, match="time_sigma='9' must be two numbers"):
        parse_pair("9", "time_sigma", default="9,4")
    assert {"time-freq", "amplitude"} <= set(DETECTORS.names())
    with pytest.raises(ParameterError, match="has no parameter time_sgima; its parameters"):
        make_detector("time-freq", time_sgima="9,4")
    with pytest.raises(ParameterError, match="unknown detector 'energy'; valid names"):
        make_detector("energy")
