"""Audacity label tracks: the real spinetail labels, every error path, round trips."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sonotype.annotations import infer_format, make_events, read_events, write_events
from sonotype.errors import AnnotationError
from tests.fixtures.shared import data_folder


def write_labels(folder: Path, text: str, name: str = "song.txt") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# --- the real label track -----------------------------------------------------------------


def test_real_labels():
    path = data_folder("format-fixtures") / "spinetail.txt"
    assert infer_format(path).name == "audacity"
    events = read_events(path)
    assert len(events) == 18
    assert events["label"].value_counts().to_dict() == {"SP": 14, "CRER": 4}
    assert set(events["recording"]) == {"spinetail.wav"}  # the audio beside it
    first, last = events.iloc[0], events.iloc[-1]
    assert (first["start_s"], first["stop_s"], first["label"]) == (0.101385, 0.36752, "SP")
    assert (first["low_hz"], first["high_hz"]) == (6441.064453, 12296.577148)
    assert (last["start_s"], last["stop_s"], last["label"]) == (19.073023, 19.465889, "SP")
    assert (last["low_hz"], last["high_hz"]) == (4349.810059, 12296.577148)
    assert events.iloc[7]["low_hz"] == 5827.929351
    assert not events[["low_hz", "high_hz"]].isna().any().any()


# --- reading ------------------------------------------------------------------------------


def test_points_old_form_and_undefined_bounds(tmp_path):
    path = write_labels(
        tmp_path,
        "0.5\t0.5\tclick\r\n"
        "1.0\told form\r\n"
        "\r\n"
        "2.0\t3.0\t\r\n"
        "\\\t-1.000000\t8000.5\r\n"
        "4\t5\ta\tb \r\n",
    )
    events = read_events(path)
    assert events["start_s"].tolist() == [0.5, 1.0, 2.0, 4.0]
    assert events["stop_s"].tolist() == [0.5, 1.0, 3.0, 5.0]
    assert events["label"].tolist() == ["click", "old form", "", "a\tb "]
    np.testing.assert_array_equal(events["low_hz"], [np.nan] * 4)
    np.testing.assert_array_equal(events["high_hz"], [np.nan, np.nan, 8000.5, np.nan])


def test_no_frequency_lines_no_frequency_columns(tmp_path):
    events = read_events(write_labels(tmp_path, "0.1\t0.2\ta\n"))
    assert "low_hz" not in events
    assert events["recording"].tolist() == ["song.wav"]


def test_sniffed_by_content(tmp_path):
    assert infer_format(write_labels(tmp_path, "\n0.1\t0.2\ta\n")).name == "audacity"
    assert infer_format(write_labels(tmp_path, "1.5\t2\n", "b.txt")).name == "audacity"


def test_stop_before_start_names_the_line(tmp_path):
    path = write_labels(tmp_path, "0\t1\ta\n\\\t1\t2\n1.5\t1.2\tb\n")
    with pytest.raises(AnnotationError, match=r"song.txt line 3: stop_s=1.2 is before start_s=1.5"):
        read_events(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("\\\t1\t2\n0\t1\ta\n", "line 1: a frequency line"),
        ("0\t1\ta\n\\\t1\n", "line 2: a frequency line needs"),
        ("0\t1\ta\n\\\tlow\t2\n", "line 2: low_hz 'low' is not a number"),
        ("0\t1\ta\nsoon\t2\tb\n", "line 2: start 'soon' is not a number"),
        ("0\t1\ta\n\\\t300\t200\n", "line 1: high_hz=200 is below low_hz=300"),
    ],
)
def test_bad_files(tmp_path, text, message):
    path = write_labels(tmp_path, text)
    with pytest.raises(AnnotationError, match=message) as info:
        read_events(path, format="audacity")
    assert str(path) in str(info.value)


# --- writing ------------------------------------------------------------------------------


def test_written_file(tmp_path):
    events = make_events(
        "song.wav",
        [0.1, 1.0, 2.0],
        [0.30000000000000004, 1.0, 2.5],
        ["a", "pulse", "c"],
        low_hz=[100.0, np.nan, np.nan],
        high_hz=[200.0, np.nan, 300.0],
    )
    [path] = write_events(events, tmp_path / "song.txt", format="audacity")
    assert path.read_text() == (
        "0.1\t0.30000000000000004\ta\n\\\t100.0\t200.0\n1.0\t1.0\tpulse\n2.0\t2.5\tc\n"
        "\\\t-1.0\t300.0\n"
    )


def test_write_one_file_per_recording(tmp_path):
    events = make_events(["a.wav", "b.flac"], [0.0, 1.0], [1.0, 2.0], ["x", "y"])
    paths = write_events(events, tmp_path / "out", format="audacity")
    assert sorted(p.name for p in paths) == ["a.txt", "b.txt"]


@pytest.mark.parametrize("label", ["a\tb", "a\nb", "a\rb"])
def test_unwritable_labels(tmp_path, label):
    events = make_events("song.wav", [0.0, 1.0], [1.0, 2.0], ["ok", label])
    with pytest.raises(AnnotationError, match=r"row 2: label .* tab or line break"):
        write_events(events, tmp_path / "song.txt", format="audacity")


# --- round trips --------------------------------------------------------------------------

times = st.floats(0, 1e5, allow_nan=False, allow_infinity=False)
texts = st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=6)
bounds = st.one_of(st.just(np.nan), st.floats(0, 96_000, allow_nan=False))


@st.composite
def audacity_events(draw):
    n = draw(st.integers(0, 8))
    start = np.array(draw(st.lists(times, min_size=n, max_size=n)))
    # Some point labels (start == stop), as Audacity makes with a click.
    length = draw(st.lists(st.one_of(st.just(0.0), times), min_size=n, max_size=n))
    pairs = [sorted(p) for p in draw(st.lists(st.tuples(bounds, bounds), min_size=n, max_size=n))]
    with_bounds = draw(st.booleans())
    return make_events(
        "song.wav",
        start,
        start + np.array(length),
        draw(st.lists(texts, min_size=n, max_size=n)),
        low_hz=[p[0] for p in pairs] if with_bounds else None,
        high_hz=[p[1] for p in pairs] if with_bounds else None,
    )


def carried(events: pd.DataFrame) -> pd.DataFrame:
    table = events[["recording", "start_s", "stop_s", "label"]]
    table = table.assign(**{c: events.get(c, np.nan) for c in ("low_hz", "high_hz")})
    return table.astype({"low_hz": float, "high_hz": float})


@settings(max_examples=50, deadline=None)
@given(events=audacity_events())
def test_round_trip(events):
    with tempfile.TemporaryDirectory() as folder:
        [path] = write_events(events, Path(folder) / "song.txt", format="audacity")
        back = read_events(path, format="audacity")
    pd.testing.assert_frame_equal(carried(back), carried(events))
