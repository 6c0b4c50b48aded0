"""Raven selection tables: the real dawn-chorus table, every error path, round trips."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sonotype.annotations import infer_format, make_events, read_events, write_events
from sonotype.annotations.formats.raven import is_raven_measurement, table_stem
from sonotype.errors import AnnotationError
from tests.fixtures.shared import data_folder

TABLE = "Recording_1_Segment_07.Table.1.selections.txt"
HEADER = "Selection\tView\tChannel\tBegin Time (s)\tEnd Time (s)\tLow Freq (Hz)\tHigh Freq (Hz)"


def write_table(folder: Path, lines: list[str], name: str = "song.Table.1.selections.txt"):
    path = folder / name
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    return path


# --- the real table -----------------------------------------------------------------------


def test_real_table():
    path = data_folder("format-fixtures") / TABLE
    assert infer_format(path).name == "raven"
    events = read_events(path)
    assert len(events) == 279
    assert events["label"].value_counts().to_dict() == {
        "WOTH": 67,
        "EATO": 63,
        "TUTI": 54,
        "NOCA": 37,
        "BCCH": 34,
        "OVEN": 14,
        "BAWW": 8,
        "WITU": 2,
    }
    # No audio named Recording_1_Segment_07.* lies beside it (only the -snippet), so .wav.
    assert set(events["recording"]) == {"Recording_1_Segment_07.wav"}
    assert set(events["channel"]) == {0}
    assert set(events["kind"]) == {"annotated"}
    first, last = events.iloc[0], events.iloc[-1]
    assert (first["start_s"], first["stop_s"]) == (0.17809591100000002, 3.390418452)
    assert (first["low_hz"], first["high_hz"], first["label"]) == (1340.5, 2899.9, "NOCA")
    assert (last["start_s"], last["stop_s"]) == (299.298056346, 299.984055411)
    assert (last["low_hz"], last["high_hz"], last["label"]) == (2133.9, 2981.9, "TUTI")
    assert not [c for c in events.columns if c.startswith("label:")]


def test_real_table_recording_option():
    path = data_folder("format-fixtures") / TABLE
    events = read_events(path, recording="Recording_1_Segment_07-snippet.wav")
    assert set(events["recording"]) == {"Recording_1_Segment_07-snippet.wav"}


# --- reading ------------------------------------------------------------------------------


def test_one_row_per_selection_prefers_the_spectrogram_view(tmp_path):
    path = write_table(
        tmp_path,
        [
            HEADER + "\tAnnotation\tNotes\tDelta Time (s)\tAvg Power Density (dB FS/Hz)",
            "1\tWaveform 1\t2\t0.5\t1.25\t\t\tWOTH\tfar\t0.75\t-80.1",
            "1\tSpectrogram 1\t2\t0.5\t1.25\t2000\t4000\tWOTH\tfar\t0.75\t-80.1",
            "2\tSpectrogram 1\t1\t2\t3\t100.5\t200\tNOCA\t\t1\t-70",
            "2\tWaveform 1\t1\t2\t3\t\t\tNOCA\t\t1\t-70",
        ],
    )
    events = read_events(path)
    assert events["start_s"].tolist() == [0.5, 2.0]
    assert events["channel"].tolist() == [1, 0]
    assert events["low_hz"].tolist() == [2000.0, 100.5]
    assert events["high_hz"].tolist() == [4000.0, 200.0]
    assert events["label"].tolist() == ["WOTH", "NOCA"]
    # Measurements are dropped; the other annotation column is an extra label.
    assert [c for c in events.columns if c.startswith("label:")] == ["label:Notes"]
    assert events["label:Notes"].tolist() == ["far", ""]
    assert set(events["recording"]) == {"song.wav"}


def test_recording_from_begin_file_and_begin_path(tmp_path):
    path = write_table(
        tmp_path,
        [
            HEADER + "\tBegin Path\tBegin File\tSpecies",
            "1\tSpectrogram 1\t1\t0\t1\t1\t2\tC:\\data\\a.wav\t\tX",
            "2\tSpectrogram 1\t1\t0\t1\t1\t2\t/data/b.flac\tc.wav\tY",
        ],
    )
    assert read_events(path)["recording"].tolist() == ["a.wav", "c.wav"]


def test_recording_from_stem_with_the_audio_beside(tmp_path):
    (tmp_path / "dawn.flac").write_bytes(b"")
    path = write_table(
        tmp_path, [HEADER, "1\tSpectrogram 1\t1\t0\t1\t\t"], "dawn.Table.2.selections.txt"
    )
    events = read_events(path)
    assert events["recording"].tolist() == ["dawn.flac"]
    assert events["label"].tolist() == [""]  # no annotation column at all
    assert "low_hz" not in events  # all bounds empty


def test_table_stem():
    assert table_stem("Recording_1_Segment_07.Table.1.selections.txt") == "Recording_1_Segment_07"
    assert table_stem("x.selections.txt") == "x"
    assert table_stem("x.txt") == "x"


def test_is_raven_measurement():
    for name in ("Delta Time (s)", "Begin File", "Peak Freq (Hz)", "Max Power (dB FS/Hz)"):
        assert is_raven_measurement(name)
    for name in ("Species", "Annotation", "Call type"):
        assert not is_raven_measurement(name)


def test_sniffed_without_the_suffix(tmp_path):
    path = write_table(tmp_path, [HEADER, "1\tSpectrogram 1\t1\t0\t1\t1\t2"], "boxes.txt")
    assert infer_format(path).name == "raven"


def test_header_only_reads_as_no_events(tmp_path):
    path = write_table(tmp_path, [HEADER + "\tAnnotation"])
    assert len(read_events(path)) == 0


def test_stop_before_start_names_the_line(tmp_path):
    path = write_table(
        tmp_path,
        [HEADER, "1\tSpectrogram 1\t1\t0\t1\t1\t2", "2\tSpectrogram 1\t1\t1.5\t1.2\t1\t2"],
    )
    with pytest.raises(AnnotationError, match=r"line 3: stop_s=1.2 is before start_s=1.5"):
        read_events(path)


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (
            ["Selection\tView\tChannel\tEnd Time (s)", "1\tSpectrogram 1\t1\t2"],
            "missing column Begin Time",
        ),
        ([HEADER, "x\tSpectrogram 1\t1\t0\t1\t1\t2"], r"line 2: Selection='x' is not a whole"),
        ([HEADER, "1\tSpectrogram 1\t0\t0\t1\t1\t2"], r"line 2: Channel='0' must be a whole"),
        ([HEADER, "1\tSpectrogram 1\t1\t0\t1\t1\t2\textra"], "line 2: 8 tab-separated fields"),
        ([HEADER, "1\tSpectrogram 1\t1\tsoon\t1\t1\t2"], r"line 2: start_s='soon' is not a"),
        ([HEADER, "1\tSpectrogram 1\t1\t0\t1\t3\t2"], "line 2: high_hz=2 is below low_hz=3"),
        (["", HEADER], "empty first line"),
        (["Selection\tView\tView", "1\t2\t3"], "'View' appears more than once"),
    ],
)
def test_bad_tables(tmp_path, lines, message):
    path = write_table(tmp_path, lines)
    with pytest.raises(AnnotationError, match=message) as info:
        read_events(path)
    assert str(path) in str(info.value)


# --- writing ------------------------------------------------------------------------------


def test_written_file(tmp_path):
    events = make_events(
        "song.wav",
        [0.1, 2.0],
        [0.30000000000000004, 2.5],
        ["a", "b"],
        channel=[0, 1],
        low_hz=[100.0, np.nan],
        high_hz=[200.0, np.nan],
        extra_labels={"call_type": ["x", "y"]},
    )
    [path] = write_events(events, tmp_path / "song.Table.1.selections.txt")
    assert path.read_text().splitlines() == [
        HEADER + "\tBegin File\tAnnotation\tcall_type",
        "1\tSpectrogram 1\t1\t0.1\t0.30000000000000004\t100.0\t200.0\tsong.wav\ta\tx",
        "2\tSpectrogram 1\t2\t2.0\t2.5\t\t\tsong.wav\tb\ty",
    ]


def test_write_one_file_per_recording(tmp_path):
    events = make_events(["a.wav", "b.wav"], [0.0, 1.0], [1.0, 2.0], ["x", "y"])
    paths = write_events(events, tmp_path / "out", format="raven")
    assert sorted(p.name for p in paths) == [
        "a.Table.1.selections.txt",
        "b.Table.1.selections.txt",
    ]
    back = pd.concat([read_events(p) for p in sorted(paths)], ignore_index=True)
    assert back["recording"].tolist() == ["a.wav", "b.wav"]


@pytest.mark.parametrize(
    ("label", "extra", "message"),
    [
        ("a\tb", {}, r"row 1: label='a\\tb' contains a tab"),
        ("a\nb", {}, "contains a tab or line break"),
        ("a", {"Annotation": ["x"]}, "label:Annotation"),
        ("a", {"Delta Time (s)": ["x"]}, "Raven's own"),
    ],
)
def test_unwritable_events(tmp_path, label, extra, message):
    events = make_events("song.wav", [0.0], [1.0], [label], extra_labels=extra)
    path = tmp_path / "song.Table.1.selections.txt"
    with pytest.raises(AnnotationError, match=message):
        write_events(events, path)
    assert not path.exists()


# --- round trips --------------------------------------------------------------------------

times = st.floats(0, 1e5, allow_nan=False, allow_infinity=False)
texts = st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=6)
bounds = st.one_of(st.just(np.nan), st.floats(0, 96_000, allow_nan=False))


@st.composite
def raven_events(draw):
    n = draw(st.integers(0, 8))
    start = np.array(draw(st.lists(times, min_size=n, max_size=n)))
    stop = start + np.array(draw(st.lists(times, min_size=n, max_size=n)))
    pairs = [sorted(p) for p in draw(st.lists(st.tuples(bounds, bounds), min_size=n, max_size=n))]
    with_bounds = draw(st.booleans())
    return make_events(
        "song.wav",
        start,
        stop,
        draw(st.lists(texts, min_size=n, max_size=n)),
        channel=draw(st.lists(st.integers(0, 7), min_size=n, max_size=n)),
        low_hz=[p[0] for p in pairs] if with_bounds else None,
        high_hz=[p[1] for p in pairs] if with_bounds else None,
        extra_labels={"call_type": draw(st.lists(texts, min_size=n, max_size=n))},
    )


def carried(events: pd.DataFrame) -> pd.DataFrame:
    """The columns Raven carries; absent frequency bounds are all unknown."""
    table = events[["recording", "start_s", "stop_s", "label", "channel", "label:call_type"]]
    table = table.assign(**{c: events.get(c, np.nan) for c in ("low_hz", "high_hz")})
    return table.astype({"low_hz": float, "high_hz": float})


@settings(max_examples=50, deadline=None)
@given(events=raven_events())
def test_round_trip(events):
    with tempfile.TemporaryDirectory() as folder:
        [path] = write_events(events, Path(folder) / "song.Table.1.selections.txt")
        back = read_events(path)
    pd.testing.assert_frame_equal(carried(back), carried(events))
