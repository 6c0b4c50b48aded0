"""Tests of sonotype.checks: the one set of parameter checks."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from sonotype.checks import (
    check_choice,
    check_int,
    check_int_grid,
    check_matrix,
    check_number,
    check_number_grid,
    check_random_state,
    check_sample_rate,
    check_text,
)
from sonotype.errors import ParameterError


def test_messages_name_the_parameter_value_constraint_and_default():
    with pytest.raises(ParameterError) as caught:
        check_number(-3, name="time_sigma", minimum=0, inclusive="neither", default=9)
    assert str(caught.value) == "time_sigma=-3 must be a number > 0; the default is 9"
    assert caught.value.parameter == "time_sigma"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: check_int(1.5, name="k", minimum=1), "k=1.5 must be an integer >= 1"),
        (lambda: check_int(True, name="k"), "k=True must be an integer"),
        (
            lambda: check_int(11, name="k", minimum=1, maximum=10),
            r"k=11 must be an integer in \[1, 10\]",
        ),
        (lambda: check_number("1", name="x"), "x='1' must be a number"),
        (lambda: check_number(float("nan"), name="x"), "x=nan must be a number"),
        (
            lambda: check_number(0, name="x", minimum=0, maximum=1, inclusive="right"),
            r"x=0 must be a number in \(0, 1\]",
        ),
        (
            lambda: check_number(float("inf"), name="gap_s", minimum=0, unit="seconds"),
            "gap_s=inf must be a finite number of seconds >= 0",
        ),
        (
            lambda: check_number(2, name="q", maximum=1, hint="it is a quantile"),
            "q=2 must be a number <= 1; it is a quantile",
        ),
        (
            lambda: check_choice("x", name="mode", choices=("a", "b"), default="a"),
            "mode='x' must be one of 'a', 'b'; the default is 'a'",
        ),
        (lambda: check_choice([1], name="mode", choices=("a",)), r"mode=\[1\] must be one of 'a'"),
        (lambda: check_text("", name="background"), "background='' must be a non-empty str"),
        (lambda: check_int_grid((), name="k", minimum=2), r"k=\(\) must be non-empty"),
        (
            lambda: check_int_grid([2, 1], name="k", minimum=2, default="range(2, 5)"),
            r"k=\(2, 1\) must hold integers >= 2; the default is range\(2, 5\)",
        ),
        (
            lambda: check_number_grid([0.1, 2], name="min_dist", minimum=0, maximum=1),
            r"min_dist=\(0.1, 2\) must hold numbers in \[0, 1\]",
        ),
        (lambda: check_random_state(-1), "random_state=-1 must be an integer >= 0"),
        (lambda: check_sample_rate(0), "sr=0 must be a number of samples per second > 0"),
    ],
)
def test_each_check_refuses_bad_values_with_a_clear_message(call, message):
    with pytest.raises(ParameterError, match=message) as caught:
        call()
    assert caught.value.parameter is not None


def test_valid_values_come_back_converted():
    assert check_int(np.int64(3), name="k") == 3
    assert type(check_int(np.int64(3), name="k")) is int
    assert check_number(np.float32(0.5), name="x", minimum=0, maximum=1) == 0.5
    assert check_number(np.array(2.0), name="x") == 2.0
    assert check_number(float("inf"), name="x", minimum=0, allow_inf=True) == float("inf")
    assert check_number(0, name="x", minimum=0) == 0.0
    assert check_int_grid(5, name="k", minimum=2) == (5,)
    assert check_int_grid([3, 2, 3], name="k", minimum=2) == (3, 2)
    assert check_number_grid(0.5, name="d", minimum=0) == (0.5,)
    assert check_random_state(7) == 7
    assert check_sample_rate(np.int32(44100)) == 44100.0


def test_unknown_inclusive_is_refused():
    with pytest.raises(ParameterError, match="inclusive='open' must be one of"):
        check_number(1, name="x", minimum=0, inclusive="open")


@pytest.mark.parametrize(
    ("X", "kwargs", "match"),
    [
        (np.zeros(5), {}, r"got shape \(5,\)"),
        (np.zeros((2, 3, 4)), {}, "2-D"),
        (np.array([["a", "b"]]), {}, "dtype"),
        (np.zeros((1, 2)), {"min_rows": 2}, "at least 2 rows"),
        (np.zeros((3, 2)), {"n_rows": 4}, r"row-aligned with the table, one row per row \(4\)"),
        (
            np.array([[0.0, np.inf], [1.0, 2.0]]),
            {},
            r"NaN or infinite values in 1 of 2 rows \(first: row 0\)",
        ),
    ],
)
def test_check_matrix_refuses_bad_input(X, kwargs, match):
    with pytest.raises(ParameterError, match=match) as caught:
        check_matrix(X, name="embeddings", **kwargs)
    assert caught.value.parameter == "embeddings"


def test_check_matrix_flattens_and_converts():
    X = check_matrix(np.ones((4, 3, 2), dtype=np.float64), dtype=np.float32, flatten=True)
    assert X.shape == (4, 6)
    assert X.dtype == np.float32
    assert X.flags.c_contiguous


def test_the_parameter_name_survives_pickling():
    error = pickle.loads(pickle.dumps(ParameterError("x=1 must be 2", parameter="x")))
    assert error.parameter == "x"
    assert str(error) == "x=1 must be 2"
    assert ParameterError("plain").parameter is None
