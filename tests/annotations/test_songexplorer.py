"""SongExplorer CSV: real tutorial annotations, error paths, and round trips within a sample."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sonotype.annotations import FORMATS, infer_format, make_events, read_events, write_events
from sonotype.annotations.formats.songexplorer import source_from_name
from sonotype.errors import AnnotationError
from tests.fixtures.shared import data_folder

SR = 2500
PERSON1 = {
    "20161207T102314_ch1": {"mel-pulse": 67, "mel-sine": 15, "ambient": 18},
    "PS_20130625111709_ch3": {"mel-pulse": 73, "mel-sine": 11, "ambient": 15},
}
NOTSONG = {
    "20161207T102314_ch1": {"not_mel-pulse": 101, "not_mel-sine": 75},
    "PS_20130625111709_ch3": {"not_mel-pulse": 37, "not_mel-sine": 49},
}


def write_text(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


def write_wav(path, sr: int, seconds: float = 0.1):
    sf.write(path, np.zeros(int(sr * seconds), dtype=np.float32), sr, subtype="PCM_16")
    return path


# --- real data --------------------------------------------------------------------------------


@pytest.mark.realdata
@pytest.mark.parametrize("stem", sorted(PERSON1))
def test_person1_gives_pulse_points_and_song_intervals(stem):
    path = data_folder("drosophila-songexplorer") / f"{stem}.wav-annotated-person1.csv"
    events = read_events(path)
    assert events["label"].value_counts().to_dict() == PERSON1[stem]
    assert (events["recording"] == f"{stem}.wav").all()
    assert (events["kind"] == "annotated").all()
    assert (events["source"] == "person1").all()
    pulses = events[events["label"] == "mel-pulse"]
    assert (pulses["start_s"] == pulses["stop_s"]).all()
    intervals = events[events["label"] != "mel-pulse"]
    assert (intervals["start_s"] < intervals["stop_s"]).all()


@pytest.mark.realdata
def test_person1_exact_times_are_ticks_over_the_wav_sample_rate():
    path = data_folder("drosophila-songexplorer") / "20161207T102314_ch1.wav-annotated-person1.csv"
    # sr= is only a fallback: the WAV beside the file says 2500 Hz.
    events = read_events(path, sr=1000)
    first = events.iloc[0]
    assert (first["label"], first["start_s"], first["stop_s"]) == ("ambient", 2103 / SR, 4445 / SR)
    assert (events.iloc[1]["start_s"], events.iloc[1]["stop_s"]) == (6287 / SR, 9415 / SR)
    pulse = events.iloc[26]  # line 27: 20161207T102314_ch1.wav,222315,222315,annotated,mel-pulse
    assert (pulse["label"], pulse["start_s"], pulse["stop_s"]) == (
        "mel-pulse",
        222315 / SR,
        222315 / SR,
    )


@pytest.mark.realdata
@pytest.mark.parametrize("stem", sorted(NOTSONG))
def test_notsong_gives_negative_intervals(stem):
    path = data_folder("drosophila-songexplorer") / f"{stem}.wav-annotated-notsong.csv"
    events = read_events(path)
    assert events["label"].value_counts().to_dict() == NOTSONG[stem]
    assert (events["start_s"] < events["stop_s"]).all()
    assert (events["source"] == "notsong").all()
    first = pd.read_csv(path, header=None).iloc[0]
    assert events.iloc[0]["start_s"] == first[1] / SR
    assert events.iloc[0]["stop_s"] == first[2] / SR


@pytest.mark.realdata
def test_infer_format_picks_songexplorer_for_the_real_files():
    for path in sorted(data_folder("drosophila-songexplorer").glob("*.csv")):
        assert infer_format(path).name == "songexplorer"


@pytest.mark.realdata
def test_real_file_rewritten_gives_the_same_rows(tmp_path):
    folder = data_folder("drosophila-songexplorer")
    original = folder / "PS_20130625111709_ch3.wav-annotated-person1.csv"
    out = tmp_path / "copy.csv"
    write_events(read_events(original), out, format="songexplorer", audio_dirs=[folder])
    assert out.read_text().splitlines() == original.read_text().splitlines()


@pytest.mark.realdata
def test_real_file_without_its_wav_reads_with_audio_dirs_or_sr(tmp_path):
    folder = data_folder("drosophila-songexplorer")
    name = "20161207T102314_ch1.wav-annotated-person1.csv"
    copy = shutil.copy(folder / name, tmp_path / name)
    expected = read_events(folder / name)
    pd.testing.assert_frame_equal(read_events(copy, audio_dirs=[folder]), expected)
    pd.testing.assert_frame_equal(read_events(copy, sr=SR), expected)


# --- synthetic files: reading -----------------------------------------------------------------


def test_sample_rate_comes_from_the_wav_beside_the_file(tmp_path):
    write_wav(tmp_path / "a.wav", 8000)
    write_wav(tmp_path / "b.wav", 4000)
    path = write_text(
        tmp_path / "x.csv", "a.wav,8000,16000,annotated,song\nb.wav,4000,4000,predicted,pulse\n"
    )
    events = read_events(path)
    assert events["start_s"].tolist() == [1.0, 1.0]
    assert events["stop_s"].tolist() == [2.0, 1.0]
    assert events["kind"].tolist() == ["annotated", "predicted"]
    assert events["source"].tolist() == ["", ""]


def test_missing_sample_rate_says_how_to_give_it(tmp_path):
    path = write_text(tmp_path / "x.csv", "song.wav,10,20,annotated,a\n")
    with pytest.raises(AnnotationError, match=r"x\.csv.*sample rate.*song\.wav.*sr=HZ.*audio_dirs"):
        read_events(path, format="songexplorer")
    cli_names = {"sr": "--sample-rate", "audio_dirs": "--audio"}
    with pytest.raises(AnnotationError, match=r"pass --sample-rate HZ or .*\(--audio DIR\)") as e:
        read_events(path, format="songexplorer", option_names=cli_names)
    assert "sr=" not in str(e.value)
    assert read_events(path, format="songexplorer", sr=10)["stop_s"].tolist() == [2.0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "s.wav,10,20,annotated,a\ns.wav,50,40,annotated,b\n",
            r"row 2: stop_s=4 is before start_s=5",
        ),
        (
            "s.wav,10,20,annotated,a\ns.wav,abc,40,annotated,b\n",
            r"row 2: start_tick='abc' is not a",
        ),
        ("s.wav,10,20.5,annotated,a\n", r"row 1: stop_tick='20.5' is not a whole number"),
        ("s.wav,10,,annotated,a\n", r"row 1: stop_tick='' is not a whole number"),
        ("s.wav,10,20,annotated\n", r"row 1 has 4 fields.*wav,start_tick,stop_tick,kind,label"),
        ("s.wav,10,20,annotated,a\ns.wav,1,2,annotated,a,extra\n", r"row 2 has 6 fields"),
        ("s.wav,10,20,annotated,a\ns.wav,1,2,annotated,\n", r"row 2: label is empty"),
        ("s.wav,10,20,,a\n", r"row 1: kind is empty"),
        ("s.wav,-10,20,annotated,a\n", r"row 1: start_s=-1 is negative"),
    ],
)
def test_bad_rows_are_named(tmp_path, text, message):
    path = write_text(tmp_path / "bad.csv", text)
    with pytest.raises(AnnotationError, match=r"bad\.csv:? " + message):
        read_events(path, format="songexplorer", sr=10)


def test_blank_lines_do_not_shift_row_numbers(tmp_path):
    path = write_text(tmp_path / "x.csv", "s.wav,1,2,annotated,a\n\ns.wav,9,3,annotated,b\n")
    with pytest.raises(AnnotationError, match="row 3: stop_s"):
        read_events(path, format="songexplorer", sr=10)


@pytest.mark.parametrize("text", ["", "\n\n  \n"])
def test_empty_file_is_an_empty_table(tmp_path, text):
    # SongExplorer has no header: a file with no rows is a file with no events.
    events = read_events(write_text(tmp_path / "x.csv", text), format="songexplorer")
    assert len(events) == 0
    assert list(events.columns[:7]) == [
        "recording", "start_s", "stop_s", "label", "kind", "channel", "source",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("PS_20130625111709_ch3.wav-annotated-person1.csv", "person1"),
        ("song.wav-annotated-notsong.csv", "notsong"),
        ("song.wav-predicted-1.0pr.csv", "1.0pr"),
        ("song.wav-detected.csv", ""),
        ("song-annotated.csv", ""),
        ("notes.csv", ""),
    ],
)
def test_source_comes_from_songexplorer_file_names(name, source):
    assert source_from_name(name) == source


def test_source_option_overrides_the_file_name(tmp_path):
    path = write_text(tmp_path / "s.wav-annotated-person1.csv", "s.wav,1,2,annotated,a\n")
    assert read_events(path, sr=10, source="me")["source"].tolist() == ["me"]


def test_sniff_tells_songexplorer_from_headed_csv(tmp_path):
    ours = write_text(tmp_path / "ours.csv", "s.wav,1,2,annotated,a\n")
    headed = write_text(tmp_path / "headed.csv", "onset_s,offset_s,label\n1,2,a\n")
    fmt = FORMATS.get("songexplorer")
    assert infer_format(ours) is fmt
    assert not fmt.sniff(headed, headed.read_text())
    assert not fmt.sniff(ours.with_suffix(".txt"), ours.read_text())
    assert not fmt.sniff(ours, "wav,start,stop,kind,label\n")


# --- synthetic files: writing -----------------------------------------------------------------


def test_write_rows_without_header_in_ticks(tmp_path):
    events = make_events(["s.wav", "s.wav"], [1.0, 2.5], [1.5, 2.5], ["sine", "pulse"])
    (out,) = write_events(events, tmp_path / "s-annotated.csv", format="songexplorer", sr=2500)
    assert out.read_text().splitlines() == [
        "s.wav,2500,3750,annotated,sine",
        "s.wav,6250,6250,annotated,pulse",
    ]


def test_write_takes_the_sample_rate_from_the_output_folder(tmp_path):
    write_wav(tmp_path / "s.wav", 1000)
    events = make_events("s.wav", [1.0], [2.0], ["a"])
    (out,) = write_events(events, tmp_path / "s.csv", format="songexplorer", sr=5)
    assert out.read_text() == "s.wav,1000,2000,annotated,a\n"


def test_write_without_a_sample_rate_is_an_error(tmp_path):
    events = make_events("nowhere.wav", [1.0], [2.0], ["a"])
    with pytest.raises(AnnotationError, match=r"sample rate of 'nowhere\.wav'.*pass sr=HZ"):
        write_events(events, tmp_path / "x.csv", format="songexplorer")
    assert list(tmp_path.iterdir()) == []


def test_filename_for_follows_songexplorer():
    assert FORMATS.get("songexplorer").filename_for("dir/song.wav") == "song-annotated.csv"


# --- round trips ------------------------------------------------------------------------------

labels = st.one_of(
    st.sampled_from(["mel-pulse", "NA", "nan", "1.5", "a,b", 'say "hi"', "ünï"]),
    st.text(st.characters(codec="utf-8", categories=["L", "N", "P"]), min_size=1, max_size=8),
)


@st.composite
def songexplorer_events(draw):
    n = draw(st.integers(0, 20))
    start = draw(st.lists(st.floats(0, 1e4), min_size=n, max_size=n))
    # A third of the events are points, the rest intervals up to a minute long.
    length = draw(
        st.lists(
            st.one_of(st.just(0.0), st.floats(0, 60), st.floats(0, 60)), min_size=n, max_size=n
        )
    )
    return make_events(
        draw(st.lists(st.sampled_from(["a.wav", "sub/b.wav"]), min_size=n, max_size=n)),
        start,
        np.add(start, length),
        draw(st.lists(labels, min_size=n, max_size=n)),
        kind=draw(st.lists(st.sampled_from(["annotated", "predicted"]), min_size=n, max_size=n)),
    )


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(events=songexplorer_events(), sr=st.sampled_from([2500, 22050, 44100.0]))
def test_round_trip_within_one_sample(tmp_path, events, sr):
    path = tmp_path / "x-annotated.csv"
    write_events(events, path, format="songexplorer", sr=sr, overwrite=True)
    back = read_events(path, format="songexplorer", sr=sr)
    for name in ("recording", "label", "kind"):
        assert back[name].tolist() == events[name].tolist()
    for name in ("start_s", "stop_s"):
        assert np.all(np.abs(back[name] - events[name]) <= 0.5 / sr + 1e-9)
    # Points stay points; a second trip changes nothing.
    points = (events["start_s"] == events["stop_s"]).to_numpy()
    assert np.array_equal(back["start_s"].to_numpy()[points], back["stop_s"].to_numpy()[points])
    write_events(back, path, format="songexplorer", sr=sr, overwrite=True)
    pd.testing.assert_frame_equal(read_events(path, format="songexplorer", sr=sr), back)
