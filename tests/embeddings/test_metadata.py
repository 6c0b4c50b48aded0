"""Default labels from metadata: folders, time stamps in file names, label columns."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from sonotype.embeddings.metadata import (
    label_codes,
    metadata_labels,
    parse_timestamp,
    season_of,
)
from sonotype.errors import ParameterError


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("20240611_053000.WAV", dt.datetime(2024, 6, 11, 5, 30)),
        ("site/S4A01234_20240611_235959.wav", dt.datetime(2024, 6, 11, 23, 59, 59)),
        ("20240611T053000.flac", dt.datetime(2024, 6, 11, 5, 30)),
        ("rec-20240611-053000.wav", dt.datetime(2024, 6, 11, 5, 30)),
        ("20231225.wav", dt.date(2023, 12, 25)),
        ("20241311_053000.wav", None),  # month 13: not a date
        ("20240611_253000.wav", None),  # hour 25: not a time, and no date-only match either
        ("song_12.wav", None),
        ("1234567820240611_053000.wav", None),  # inside a longer run of digits
        ("20240611_053000/song.wav", None),  # only the file name counts
    ],
)
def test_parse_timestamp(name, expected):
    assert parse_timestamp(name) == expected


def test_a_custom_pattern_and_its_check():
    pattern = r"(?P<day>\d{2})\.(?P<month>\d{2})\.(?P<year>\d{4})"
    assert parse_timestamp("bat 03.08.2022.wav", pattern=pattern) == dt.date(2022, 8, 3)
    with pytest.raises(ParameterError, match="no named group 'day'"):
        parse_timestamp("x", pattern=r"(?P<year>\d{4})(?P<month>\d{2})")


@pytest.mark.parametrize(
    ("month", "north", "south"),
    [(12, "winter", "summer"), (1, "winter", "summer"), (3, "spring", "autumn"),
     (7, "summer", "winter"), (11, "autumn", "spring")],
)  # fmt: skip
def test_seasons(month, north, south):
    assert season_of(month) == north
    assert season_of(month, hemisphere="south") == south


def test_metadata_columns():
    events = pd.DataFrame(
        {
            "recording": ["a/b/20240101_000000.wav", "20240706_130000.wav", "c/x.wav"],
            "label": ["p", "q", None],
            "label:call_type": ["song", "", "call"],
        }
    )
    assert metadata_labels(events, "folder").tolist() == ["a/b", ".", "c"]
    assert metadata_labels(events, "date").tolist() == ["2024-01-01", "2024-07-06", ""]
    assert metadata_labels(events, "month").tolist() == ["2024-01", "2024-07", ""]
    assert metadata_labels(events, "hour").tolist() == ["00", "13", ""]
    assert metadata_labels(events, "time_of_day").tolist() == ["night", "afternoon", ""]
    assert metadata_labels(events, "season", hemisphere="south").tolist() == [
        "summer",
        "winter",
        "",
    ]
    assert metadata_labels(events, "label").tolist() == ["p", "q", ""]
    assert metadata_labels(events, "label:call_type").tolist() == ["song", "", "call"]
    codes, names = label_codes(metadata_labels(events, "label:call_type"))
    assert names == ["call", "song"] and codes.tolist() == [1, -1, 0]


def test_metadata_errors_list_the_choices():
    events = pd.DataFrame({"recording": ["x.wav"], "label": ["a"]})
    with pytest.raises(ParameterError, match="choose one of folder"):
        metadata_labels(events, "weekday")
    with pytest.raises(ParameterError, match="they have label"):
        metadata_labels(events, "label:site")
    with pytest.raises(ParameterError, match="'north' or 'south'"):
        metadata_labels(events, "season", hemisphere="east")
