"""DAS ``*_annotations.csv``: point events, missing stops, error paths and exact round trips."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sonotype.annotations import FORMATS, infer_format, make_events, read_events, write_events
from sonotype.errors import AnnotationError
from tests.fixtures.shared import data_folder


def write_text(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


# --- real data --------------------------------------------------------------------------------


@pytest.mark.realdata
def test_zebra_finch_syllables_survive_a_trip_through_das(tmp_path):
    # The zebra finch recordings of the DAS paper, as onset,offset,cluster CSVs.
    folder = data_folder("zebra-finch-das") / "train"
    source = sorted(folder.glob("*.csv"))[0]
    events = read_events(source, format="simple-csv")
    (out,) = write_events(events, tmp_path, format="das")
    assert out.name == f"{source.stem}_annotations.csv"
    assert infer_format(out).name == "das"
    back = read_events(out)
    assert back["recording"].tolist() == [f"{source.stem}.wav"] * len(events)
    pd.testing.assert_frame_equal(back, events[back.columns])
    assert out.read_text().splitlines()[0] == "name,start_seconds,stop_seconds"


# --- synthetic files: reading -----------------------------------------------------------------


def test_reads_points_and_intervals(tmp_path):
    path = write_text(
        tmp_path / "song_annotations.csv",
        "name,start_seconds,stop_seconds\npulse,2.5,2.5\nsine,3.0,3.75\n",
    )
    events = read_events(path)
    assert events["recording"].tolist() == ["song.wav", "song.wav"]
    assert events["label"].tolist() == ["pulse", "sine"]
    assert events["start_s"].tolist() == [2.5, 3.0]
    assert events["stop_s"].tolist() == [2.5, 3.75]
    assert (events["kind"] == "annotated").all()


@pytest.mark.parametrize("missing", ["", "nan", "NaN"])
def test_missing_stop_is_a_point_event(tmp_path, missing):
    path = write_text(
        tmp_path / "fly_annotations.csv",
        f"name,start_seconds,stop_seconds\npulse,1.25,{missing}\nsine,2,3\n",
    )
    events = read_events(path)
    assert events["stop_s"].tolist() == [1.25, 3.0]


def test_recording_takes_the_extension_of_the_audio_beside_it(tmp_path):
    (tmp_path / "bird_7.flac").write_bytes(b"")
    path = write_text(tmp_path / "bird_7_annotations.csv", "name,start_seconds,stop_seconds\n")
    header_only = read_events(path)
    assert len(header_only) == 0
    write_text(path, "name,start_seconds,stop_seconds\na,1,2\n")
    assert read_events(path)["recording"].tolist() == ["bird_7.flac"]
    assert read_events(path, recording="x/y.wav")["recording"].tolist() == ["x/y.wav"]


def test_extra_columns_are_kept_and_index_columns_dropped(tmp_path):
    path = write_text(
        tmp_path / "s_annotations.csv",
        ",name,start_seconds,stop_seconds,who\n0,a,1,2,me\n1,b,3,4,you\n",
    )
    events = read_events(path)
    assert events["label:who"].tolist() == ["me", "you"]
    assert [c for c in events.columns if c.startswith("label:")] == ["label:who"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "name,start_seconds,stop_seconds\na,1,2\n\nb,5,4\n",
            r"row 4: stop_s=4 is before start_s=5",
        ),
        (
            "name,start_seconds,stop_seconds\na,1,2\nb,abc,4\n",
            r"row 3: start_s='abc' is not a number",
        ),
        ("name,start_seconds,stop_seconds\na,1,2\nb,3,x\n", r"row 3: stop_s='x' is not a number"),
        ("name,start_seconds,stop_seconds\na,,2\n", r"row 2: start_s is missing"),
        ("name,start_seconds\na,1\n", r"not a DAS file: missing column stop_seconds"),
        ("name,start_seconds,stop_seconds\na,1,2\nb,1,2,3\n", r"row 3 has 4 fields"),
        ("", r"is empty"),
        ("\n \n", r"is empty"),
    ],
)
def test_bad_files_are_named_with_the_row(tmp_path, text, message):
    path = write_text(tmp_path / "bad_annotations.csv", text)
    with pytest.raises(AnnotationError, match=r"bad_annotations\.csv:? .*" + message):
        read_events(path)


# --- synthetic files: writing -----------------------------------------------------------------


def test_write_gives_one_file_per_recording(tmp_path):
    events = make_events(["a.wav", "b.wav", "a.wav"], [1.0, 2.0, 3.0], [1.0, 2.5, 3.5], list("xyz"))
    written = write_events(events, tmp_path / "out", format="das")
    assert [p.name for p in written] == ["a_annotations.csv", "b_annotations.csv"]
    assert written[0].read_text().splitlines() == [
        "name,start_seconds,stop_seconds",
        "x,1.0,1.0",
        "z,3.0,3.5",
    ]
    back = pd.concat([read_events(p) for p in written], ignore_index=True)
    assert sorted(back["label"]) == ["x", "y", "z"]


def test_suffix_and_filename_for():
    das = FORMATS.get("das")
    assert das.filename_for("sub/song.wav") == "song_annotations.csv"
    assert das.per_recording
    assert infer_format("x/song_annotations.csv") is das


# --- round trips ------------------------------------------------------------------------------

labels = st.one_of(
    st.sampled_from(["pulse", "NA", "nan", "", "1.5", "a,b", 'say "hi"', "ünï"]),
    st.text(st.characters(codec="utf-8", categories=["L", "N", "P"]), min_size=1, max_size=8),
)


@st.composite
def das_events(draw):
    n = draw(st.integers(0, 20))
    start = np.array(draw(st.lists(st.floats(0, 1e5), min_size=n, max_size=n)))
    length = draw(st.lists(st.one_of(st.just(0.0), st.floats(0, 100)), min_size=n, max_size=n))
    return make_events(
        "rec.wav", start, start + np.array(length), draw(st.lists(labels, min_size=n, max_size=n))
    )


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(events=das_events())
def test_round_trip_is_exact(tmp_path, events):
    path = tmp_path / "rec_annotations.csv"
    write_events(events, path, overwrite=True)
    back = read_events(path)
    columns = sorted(FORMATS.get("das").carries)
    pd.testing.assert_frame_equal(back[columns], events[columns])
