"""Interval arithmetic, exact streaming quantiles, the registry and parameter errors."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sonotype.detect import DETECTORS, make_detector
from sonotype.detect.base import close_gaps, complement, drop_short, parse_pair, runs, union
from sonotype.detect.statistics import exact_quantiles
from sonotype.errors import ParameterError


def test_runs_and_complement():
    mask = np.array([1, 1, 0, 0, 1, 0, 1, 1, 1], bool)
    found = runs(mask)
    assert found.tolist() == [[0, 2], [4, 5], [6, 9]]
    assert complement(found, 9).tolist() == [[2, 4], [5, 6]]
    assert runs(np.zeros(5, bool)).shape == (0, 2)
    assert complement(np.zeros((0, 2), np.int64), 4).tolist() == [[0, 4]]


@given(st.lists(st.booleans(), max_size=60), st.integers(0, 6))
def test_close_gaps_equals_filling_short_gaps_of_the_mask(bits, min_gap):
    mask = np.array(bits, bool)
    expected = mask.copy()
    for start, stop in complement(runs(mask), len(mask)):
        if start > 0 and stop < len(mask) and stop - start < min_gap:
            expected[start:stop] = True
    assert close_gaps(runs(mask), min_gap).tolist() == runs(expected).tolist()


def test_drop_short_and_union():
    a = np.array([[0, 2], [5, 9]])
    assert drop_short(a, 3).tolist() == [[5, 9]]
    assert union(a, np.array([[1, 3], [9, 10], [20, 21]])).tolist() == [[0, 3], [5, 10], [20, 21]]


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
