"""The fast reading of regular Raven tables leaves any table with a blank line (or one of
white space only) to the general reading, wherever that line is."""

from __future__ import annotations

import pytest

from sonotype.annotations.formats.raven import _read_regular

HEAD = "Selection\tView\tChannel\tBegin Time (s)\tEnd Time (s)\tAnnotation"
ROW1 = "1\tSpectrogram 1\t1\t0.5\t1.0\ta"
ROW2 = "2\tSpectrogram 1\t1\t1.5\t2.0\tb"


@pytest.mark.parametrize(
    "text",
    [
        f"{HEAD}\n\n{ROW1}\n{ROW2}\n",
        f"{HEAD}\n{ROW1}\n \t\n{ROW2}\n",
        f"{HEAD}\n{ROW1}\n{ROW2}\n\n",
        f"{HEAD}\n{ROW1}\n{ROW2}\n  ",
    ],
)
def test_blank_lines_anywhere_leave_the_table_to_the_general_reading(text):
    assert _read_regular(text) is None


def test_a_regular_table_is_read_fast():
    result = _read_regular(f"{HEAD}\n{ROW1}\n{ROW2}\n")
    assert result is not None
    assert result[0]["Annotation"].tolist() == ["a", "b"]
