"""The Events schema: canonical columns and dtypes, and row-level errors."""

import numpy as np
import pandas as pd
import pytest

from sonotype.annotations import (
    REQUIRED_COLUMNS,
    concat_events,
    empty_events,
    is_point,
    make_events,
    validate_events,
)
from sonotype.errors import AnnotationError


def _table(**overrides):
    table = {
        "recording": ["a.wav", "a.wav", "b.wav"],
        "start_s": [0.1, 0.5, 1.0],
        "stop_s": [0.2, 0.5, 1.5],
        "label": ["x", "pulse", "y"],
        "kind": "annotated",
        "channel": 0,
        "source": "",
    }
    table.update(overrides)
    return pd.DataFrame(table)


def test_canonical_columns_and_dtypes():
    events = validate_events(_table(score=[0.9, np.nan, 0.1], **{"label:call": ["c", "d", "e"]}))
    assert list(events.columns) == [*REQUIRED_COLUMNS, "score", "label:call"]
    assert events["start_s"].dtype == np.float64
    assert events["channel"].dtype == np.int64
    assert is_point(events).tolist() == [False, True, False]


def test_make_events_broadcasts_and_names_extra_labels():
    events = make_events("a.wav", [0.0, 1.0], [0.5, 1.0], "a", extra_labels={"type": ["t", "u"]})
    assert events["recording"].tolist() == ["a.wav", "a.wav"]
    assert events["label:type"].tolist() == ["t", "u"]


def test_empty_and_concat():
    assert len(empty_events()) == 0
    assert list(empty_events().columns) == list(REQUIRED_COLUMNS)
    a = make_events("a.wav", [0.0], [1.0], "x", low_hz=100.0)
    b = make_events("b.wav", [0.0], [1.0], "y", extra_labels={"k": ["v"]})
    both = concat_events([a, b])
    assert len(both) == 2
    assert np.isnan(both["low_hz"].iloc[1])
    assert both["label:k"].tolist() == ["", "v"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"stop_s": [0.2, 0.4, 1.5]}, r"row 2: stop_s=0.4 is before start_s=0.5; swap them"),
        ({"start_s": [0.1, np.nan, 1.0]}, r"row 2: start_s is missing \(NaN\)"),
        ({"start_s": [-0.1, 0.5, 1.0]}, r"row 1: start_s=-0.1 is negative"),
        ({"stop_s": [0.2, 0.5, np.inf]}, r"row 3: stop_s=inf is not finite"),
        ({"start_s": [0.1, "soon", 1.0]}, r"row 2: start_s='soon' is not a number"),
        ({"label": ["x", None, "y"]}, r"row 2: label is missing"),
        ({"channel": [0, -1, 0]}, r"row 2: channel=-1 must be a whole number >= 0"),
        ({"low_hz": [100, 500, 0], "high_hz": [200, 400, 10]}, r"row 2: high_hz=400 is below"),
    ],
)
def test_row_level_errors(overrides, message):
    with pytest.raises(AnnotationError, match=rf"^notes\.csv {message}"):
        validate_events(_table(**overrides), where="notes.csv")


def test_error_counts_other_bad_rows_and_uses_given_row_names():
    table = _table(stop_s=[0.0, 0.1, 0.2])
    with pytest.raises(AnnotationError, match=r"line 18: .* \(2 more rows have this problem\)"):
        validate_events(table, where="x.txt", rows=["line 18", "line 19", "line 20"])


def test_missing_and_unknown_columns():
    with pytest.raises(AnnotationError, match="missing columns stop_s, label"):
        validate_events(_table().drop(columns=["stop_s", "label"]))
    with pytest.raises(AnnotationError, match=r"unknown column species; rename .* label:species"):
        validate_events(_table(species=["a", "b", "c"]))


def test_fill_defaults():
    events = validate_events(
        _table().drop(columns=["kind", "channel", "source"]), fill_defaults=True
    )
    assert events["kind"].tolist() == ["annotated"] * 3
    assert events["channel"].tolist() == [0, 0, 0]
