"""evsonganaly .not.mat: the real Bengalese finch songs, every error path, round trips."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.io
from hypothesis import given, settings
from hypothesis import strategies as st

from sonotype.annotations import infer_format, make_events, read_events, write_events
from sonotype.annotations.formats.notmat import read_notmat_segmentation
from sonotype.errors import AnnotationError
from tests.fixtures.shared import data_folder

SONG = "gy6or6_baseline_230312_0808.138.cbin"


def save_mat(path: Path, **variables) -> Path:
    with open(path, "wb") as f:
        scipy.io.savemat(f, variables, format="5", oned_as="column")
    return path


# --- the real songs -----------------------------------------------------------------------


def test_real_songs():
    files = sorted(data_folder("bengalese-finch-gy6or6").glob("*.not.mat"))
    assert len(files) == 10
    assert {infer_format(f).name for f in files} == {"notmat"}
    tables = [read_events(f) for f in files]
    events = pd.concat(tables, ignore_index=True)
    assert len(events) == 601
    assert set(events["label"]) == set("abcdefghijk")
    assert events["recording"].nunique() == 10
    assert [t["recording"].iloc[0] + ".not.mat" for t in tables] == [f.name for f in files]
    assert (events["stop_s"] > events["start_s"]).all()


def test_real_song_times():
    events = read_events(data_folder("bengalese-finch-gy6or6") / f"{SONG}.not.mat")
    assert len(events) == 78
    assert set(events["recording"]) == {SONG}
    assert "".join(events["label"]).startswith("iiiiabcdeefghjk")
    assert events["start_s"].iloc[0] == pytest.approx(1.27778125, abs=1e-12)
    assert events["stop_s"].iloc[0] == pytest.approx(1.35121875, abs=1e-12)
    assert events["start_s"].iloc[2] == pytest.approx(1.60534375, abs=1e-12)


def test_real_segmentation():
    path = data_folder("bengalese-finch-gy6or6") / f"{SONG}.not.mat"
    assert read_notmat_segmentation(path) == {
        "threshold": 1500.0,
        "min_int_ms": 6.0,
        "min_dur_ms": 10.0,
        "sm_win_ms": 2.0,
        "sr": 32000.0,
    }


# --- reading errors -----------------------------------------------------------------------

GOOD = {
    "onsets": np.array([10.0, 50.0]),
    "offsets": np.array([30.0, 80.0]),
    "labels": "ab",
    "Fs": 32000.0,
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"onsets": None}, "no 'onsets' variable"),
        ({"labels": None}, "no 'labels' variable"),
        ({"offsets": np.array([30.0])}, "2 onsets, 1 offsets and 2 labels"),
        ({"labels": "abc"}, "2 onsets, 2 offsets and 3 labels"),
        ({"labels": np.array([1.0, 2.0])}, "'labels' holds numbers"),
        ({"onsets": "xy"}, "'onsets' holds text \\('xy'\\)"),
        ({"labels": np.array(["a", "b"], dtype=object)}, "'labels' holds a cell array"),
        ({"onsets": np.ones((2, 2))}, r"'onsets' has shape \(2, 2\)"),
        ({"offsets": np.array([30.0, 40.0])}, r"syllable 2: stop_s=0.04 is before start_s=0.05"),
    ],
)
def test_bad_files(tmp_path, change, message):
    variables = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    path = save_mat(tmp_path / "song.wav.not.mat", **variables)
    with pytest.raises(AnnotationError, match=message) as info:
        read_events(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    "content", [b"", b"not a MATLAB file at all" * 20, b"MATLAB 5.0" + bytes(200)]
)
def test_not_a_matlab_file(tmp_path, content):
    path = tmp_path / "song.wav.not.mat"
    path.write_bytes(content)
    with pytest.raises(AnnotationError, match="is not a MATLAB v5 MAT-file") as info:
        read_events(path)
    assert str(info.value).startswith(str(path))
    with pytest.raises(AnnotationError, match="MATLAB"):
        read_notmat_segmentation(path)


def test_empty_song(tmp_path):
    path = save_mat(tmp_path / "song.wav.not.mat", onsets=np.zeros((0, 1)), offsets=[], labels="")
    assert len(read_events(path)) == 0


def test_segmentation_missing(tmp_path):
    path = save_mat(tmp_path / "song.wav.not.mat", **GOOD)
    with pytest.raises(AnnotationError, match="no 'threshold' variable"):
        read_notmat_segmentation(path)


# --- writing ------------------------------------------------------------------------------


def test_written_file(tmp_path):
    events = make_events("song.wav", [0.5, 0.1], [0.6, 0.2], ["b", "a"])
    [path] = write_events(events, tmp_path / "song.wav.not.mat", sr=44100)
    mat = scipy.io.loadmat(path)
    assert mat["onsets"].shape == (2, 1)
    np.testing.assert_allclose(mat["onsets"].ravel(), [100.0, 500.0])
    np.testing.assert_allclose(mat["offsets"].ravel(), [200.0, 600.0])
    np.testing.assert_allclose(mat["durations"].ravel(), [100.0, 100.0])
    np.testing.assert_allclose(mat["pauses"].ravel(), [300.0])
    assert mat["labels"].tolist() == ["ab"]
    assert mat["fname"].tolist() == ["song.wav"]
    assert mat["bout_duration"].item() == pytest.approx(500.0)
    assert mat["num_syls"].item() == 2
    assert read_notmat_segmentation(path) == {
        "threshold": 0.0,
        "min_int_ms": 5.0,
        "min_dur_ms": 20.0,
        "sm_win_ms": 2.0,
        "sr": 44100.0,
    }


def test_sample_rate_from_the_recording_beside(tmp_path):
    import soundfile

    soundfile.write(tmp_path / "song.wav", np.zeros(2205, dtype=np.float32), 22050)
    events = make_events("song.wav", [0.0], [0.05], ["a"])
    [path] = write_events(events, tmp_path, format="notmat")
    assert path.name == "song.wav.not.mat"
    assert read_notmat_segmentation(path)["sr"] == 22050.0


def test_write_needs_a_sample_rate(tmp_path):
    events = make_events("song.wav", [0.0], [0.05], ["a"])
    with pytest.raises(AnnotationError, match=r"needs the sample rate of 'song\.wav'"):
        write_events(events, tmp_path / "song.wav.not.mat")


def test_multi_character_labels_are_refused(tmp_path):
    events = make_events("song.wav", [0.0, 1.0], [0.5, 1.5], ["a", "syll_1"])
    with pytest.raises(AnnotationError, match="row 2: label 'syll_1' is not a single") as info:
        write_events(events, tmp_path / "song.wav.not.mat", sr=32000)
    assert "one character per syllable" in str(info.value)
    assert not (tmp_path / "song.wav.not.mat").exists()


# --- round trips --------------------------------------------------------------------------

times = st.floats(0, 1e4, allow_nan=False, allow_infinity=False)
characters = st.characters(exclude_categories=("Cs", "Cc"))


@st.composite
def notmat_events(draw):
    n = draw(st.integers(0, 10))
    start = np.array(draw(st.lists(times, min_size=n, max_size=n)))
    stop = start + np.array(draw(st.lists(times, min_size=n, max_size=n)))
    labels = draw(st.lists(characters, min_size=n, max_size=n))
    return make_events("song.cbin", start, stop, labels)


@settings(max_examples=50, deadline=None)
@given(events=notmat_events())
def test_round_trip(events):
    with tempfile.TemporaryDirectory() as folder:
        [path] = write_events(events, Path(folder) / "song.cbin.not.mat", sr=32000)
        back = read_events(path)
    # Written in time order; times pass through float64 milliseconds.
    events = events.sort_values("start_s", kind="stable", ignore_index=True)
    columns = ["recording", "label"]
    pd.testing.assert_frame_equal(back[columns], events[columns])
    for column in ("start_s", "stop_s"):
        np.testing.assert_allclose(back[column], events[column], rtol=0, atol=1e-9)
