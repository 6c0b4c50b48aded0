"""bacpipe ``annotations.csv``: label:* columns, label:label, errors and exact round trips."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sonotype.annotations import (
    FORMATS,
    extra_label_columns,
    infer_format,
    make_events,
    read_events,
    write_events,
)
from sonotype.errors import AnnotationError
from tests.fixtures.shared import data_folder

HEADER = "audiofilename,start,end"


def write_text(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


# --- real data --------------------------------------------------------------------------------


@pytest.mark.realdata
def test_real_annotations_keep_every_label_column():
    path = data_folder("birds-bacpipe-fewshot") / "annotations.csv"
    assert infer_format(path).name == "bacpipe"
    events = read_events(path)
    assert len(events) == 37
    assert extra_label_columns(events) == ["label:species", "label:call_type"]
    assert events["label"].tolist() == events["label:species"].tolist()
    first = events.iloc[0]
    assert first["recording"] == "audio/FewShot/CHE_01_20190101_163410.wav"
    assert (first["start_s"], first["stop_s"]) == (0.0, 5.0)
    assert (first["label"], first["label:call_type"]) == ("Tree Pipit", "A")
    assert events["label:call_type"].value_counts().to_dict().keys() <= {"A", "B"}
    # Fixed 5 s windows.
    assert ((events["stop_s"] - events["start_s"]) == 5.0).all()
    assert events["label"].value_counts()["Common Cuckoo"] == 6


@pytest.mark.realdata
def test_real_annotations_written_back_read_the_same(tmp_path):
    path = data_folder("birds-bacpipe-fewshot") / "annotations.csv"
    events = read_events(path)
    (out,) = write_events(events, tmp_path / "annotations.csv", format="bacpipe")
    assert out.read_text().splitlines()[0] == path.read_text().splitlines()[0]
    pd.testing.assert_frame_equal(read_events(out), events)


# --- synthetic files: reading -----------------------------------------------------------------


def test_label_label_column_is_the_label_only(tmp_path):
    path = write_text(
        tmp_path / "annotations.csv",
        f"{HEADER},label:species,label:label\nx.wav,0,5,Tree Pipit,song\n",
    )
    events = read_events(path)
    assert events["label"].tolist() == ["song"]
    assert extra_label_columns(events) == ["label:species"]


def test_other_columns_become_extra_labels(tmp_path):
    path = write_text(
        tmp_path / "annotations.csv", f"{HEADER},label:species,site\nx.wav,0,5,Wren,north\n"
    )
    events = read_events(path, format="bacpipe")
    assert events["label:site"].tolist() == ["north"]


def test_header_only_is_an_empty_table_with_its_labels(tmp_path):
    events = read_events(write_text(tmp_path / "a.csv", f"{HEADER},label:species\n"))
    assert len(events) == 0
    assert extra_label_columns(events) == ["label:species"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"{HEADER},label:x\na.wav,1,2,a\na.wav,5,4,b\n", r"row 3: stop_s=4 is before start_s=5"),
        (f"{HEADER},label:x\na.wav,1,2,a\na.wav,1,two,b\n", r"row 3: stop_s='two' is not a number"),
        (f"{HEADER},label:x\n,1,2,a\n", r"row 2: recording is empty"),
        ("audiofilename,start,label:x\na.wav,1,a\n", r"not a bacpipe file: missing column end"),
        (f"{HEADER},species\na.wav,1,2,a\n", r"no label:NAME column"),
        ("", r"is empty"),
    ],
)
def test_bad_files_are_named_with_the_row(tmp_path, text, message):
    path = write_text(tmp_path / "bad.csv", text)
    with pytest.raises(AnnotationError, match=r"bad\.csv:? .*" + message):
        read_events(path, format="bacpipe")


def test_sniff_by_header(tmp_path):
    bacpipe = FORMATS.get("bacpipe")
    assert bacpipe.sniff(tmp_path / "a.csv", f"{HEADER},label:species\n")
    assert not bacpipe.sniff(tmp_path / "a.csv", f"{HEADER},species\n")
    assert not bacpipe.sniff(tmp_path / "a.txt", f"{HEADER},label:species\n")
    assert not bacpipe.per_recording


# --- synthetic files: writing -----------------------------------------------------------------


def test_write_without_extra_labels_uses_label_label(tmp_path):
    events = make_events(["a/x.wav", "y.wav"], [0.0, 1.25], [5.0, 2.0], ["wren", "robin"])
    (out,) = write_events(events, tmp_path / "annotations.csv", format="bacpipe")
    assert out.read_text().splitlines() == [
        f"{HEADER},label:label",
        "a/x.wav,0.0,5.0,wren",
        "y.wav,1.25,2.0,robin",
    ]
    pd.testing.assert_frame_equal(read_events(out), events)


def test_write_adds_label_label_when_label_differs_from_the_first_extra(tmp_path):
    events = make_events(
        "x.wav", [0.0, 1.0], [1.0, 2.0], ["song", "call"], extra_labels={"species": ["w", "w"]}
    )
    (out,) = write_events(events, tmp_path / "a.csv", format="bacpipe")
    assert out.read_text().splitlines()[0] == f"{HEADER},label:label,label:species"
    pd.testing.assert_frame_equal(read_events(out), events)


# --- round trips ------------------------------------------------------------------------------

labels = st.one_of(
    st.sampled_from(["Tree Pipit", "NA", "nan", "", "1.5", "a,b", 'say "hi"', "ünï"]),
    st.text(st.characters(codec="utf-8", categories=["L", "N", "P"]), min_size=1, max_size=8),
)


@st.composite
def bacpipe_events(draw):
    n = draw(st.integers(0, 20))
    start = np.array(draw(st.lists(st.floats(0, 1e5), min_size=n, max_size=n)))
    length = draw(st.lists(st.one_of(st.just(0.0), st.floats(0, 100)), min_size=n, max_size=n))
    label = draw(st.lists(labels, min_size=n, max_size=n))
    extras = {}
    for name in draw(st.lists(st.sampled_from(["species", "call_type", "x y"]), unique=True)):
        # Often the label is the first extra label, as in bacpipe's own files.
        same = not extras and draw(st.booleans())
        extras[name] = label if same else draw(st.lists(labels, min_size=n, max_size=n))
    return make_events(
        draw(st.lists(st.sampled_from(["a.wav", "audio/FewShot/b.WAV"]), min_size=n, max_size=n)),
        start,
        start + np.array(length),
        label,
        extra_labels=extras,
    )


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(events=bacpipe_events())
def test_round_trip_is_exact(tmp_path, events):
    path = tmp_path / "annotations.csv"
    write_events(events, path, format="bacpipe", overwrite=True)
    back = read_events(path)
    columns = ["recording", "start_s", "stop_s", "label", *extra_label_columns(events)]
    assert extra_label_columns(back) == extra_label_columns(events)
    pd.testing.assert_frame_equal(back[columns], events[columns])
