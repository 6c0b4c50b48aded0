"""Praat TextGrids: long and short forms, UTF-16, point tiers, every error path, round trips."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sonotype.annotations import infer_format, make_events, read_events, write_events
from sonotype.errors import AnnotationError

# As Praat 6 saves it ("Save as text file..."): an IntervalTier and a TextTier. (Praat ends
# most lines with a space; test_trailing_spaces adds them back.)
LONG = """File type = "ooTextFile"
Object class = "TextGrid"

xmin = 0
xmax = 2.5
tiers? <exists>
size = 2
item []:
    item [1]:
        class = "IntervalTier"
        name = "syllables"
        xmin = 0
        xmax = 2.5
        intervals: size = 4
        intervals [1]:
            xmin = 0
            xmax = 0.35
            text = ""
        intervals [2]:
            xmin = 0.35
            xmax = 0.8125
            text = "a"
        intervals [3]:
            xmin = 0.8125
            xmax = 1.9
            text = "the ""long"" one"
        intervals [4]:
            xmin = 1.9
            xmax = 2.5
            text = "   "
    item [2]:
        class = "TextTier"
        name = "clicks"
        xmin = 0
        xmax = 2.5
        points: size = 2
        points [1]:
            number = 0.5
            mark = "click"
        points [2]:
            number = 2.25
            mark = "two
lines"
"""

# The same TextGrid as Praat's "Save as short text file...".
SHORT = """File type = "ooTextFile"
Object class = "TextGrid"

0
2.5
<exists>
2
"IntervalTier"
"syllables"
0
2.5
4
0
0.35
""
0.35
0.8125
"a"
0.8125
1.9
"the ""long"" one"
1.9
2.5
"   "
"TextTier"
"clicks"
0
2.5
2
0.5
"click"
2.25
"two
lines"
"""


def write_grid(folder: Path, text: str, name: str = "song.TextGrid", encoding="utf-8") -> Path:
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def check_song(events: pd.DataFrame) -> None:
    assert events["start_s"].tolist() == [0.35, 0.8125, 0.5, 2.25]
    assert events["stop_s"].tolist() == [0.8125, 1.9, 0.5, 2.25]
    assert events["label"].tolist() == ["a", 'the "long" one', "click", "two\nlines"]
    assert events["label:tier"].tolist() == ["syllables", "syllables", "clicks", "clicks"]
    assert events["recording"].tolist() == ["song.wav"] * 4


# --- reading ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [LONG, SHORT], ids=["long", "short"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16"])
def test_long_and_short_forms(tmp_path, text, encoding):
    path = write_grid(tmp_path, text, encoding=encoding)
    assert infer_format(path).name == "textgrid"
    check_song(read_events(path))


def test_windows_line_ends_and_the_audio_beside(tmp_path):
    (tmp_path / "song.flac").write_bytes(b"")
    events = read_events(write_grid(tmp_path, LONG.replace("\n", "\r\n")))
    assert events["recording"].tolist() == ["song.flac"] * 4
    assert events["label"].tolist()[3] == "two\r\nlines"


def test_trailing_spaces(tmp_path):
    text = LONG.replace("\n", " \n").replace('"two \n', '"two\n')
    check_song(read_events(write_grid(tmp_path, text)))


def test_sniffed_by_content(tmp_path):
    assert infer_format(write_grid(tmp_path, SHORT, "song.txt")).name == "textgrid"


def test_one_named_tier_is_kept_as_a_label(tmp_path):
    one = SHORT.replace("<exists>\n2\n", "<exists>\n1\n").split('"TextTier"')[0]
    events = read_events(write_grid(tmp_path, one))
    assert events["label:tier"].tolist() == ["syllables", "syllables"]


def test_without_the_exists_flag(tmp_path):
    check_song(read_events(write_grid(tmp_path, SHORT.replace("<exists>\n", ""))))


def test_no_tiers(tmp_path):
    text = 'File type = "ooTextFile"\nObject class = "TextGrid"\n\n0\n1\n<absent>\n'
    assert len(read_events(write_grid(tmp_path, text))) == 0


def test_stop_before_start_names_the_line(tmp_path):
    path = write_grid(tmp_path, LONG.replace("xmax = 0.8125\n", "xmax = 0.3\n", 1))
    with pytest.raises(AnnotationError, match=r"line 20: stop_s=0.3 is before start_s=0.35"):
        read_events(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (LONG[: LONG.index("points [2]")], "ends where the time of point 2 of tier 2 should be"),
        (SHORT[: SHORT.index('"the')], "ends where the text of interval 3 of tier 1"),
        (LONG[:200], "cut short"),
        ("", "ends where the file type should be"),
        (LONG.replace('"ooTextFile"', '"ooBinaryFile"'), "not a Praat text file"),
        (LONG.replace('"TextGrid"', '"Pitch 1"'), 'holds a Praat "Pitch 1", not a TextGrid'),
        (SHORT.replace('"TextTier"', '"PitchTier"'), "line 25: tier 2 is a 'PitchTier'"),
        (SHORT.replace("\n4\n0\n", '\n4\n"0"\n'), 'line 13: expected the xmin .* found "0"'),
        (SHORT.replace("\n4\n0\n", "\n-4\n0\n"), "line 12: the number of intervals of tier 1"),
    ],
)
def test_bad_files(tmp_path, text, message):
    path = write_grid(tmp_path, text)
    with pytest.raises(AnnotationError, match=message) as info:
        read_events(path, format="textgrid")
    assert str(info.value).startswith(str(path))


# --- writing ------------------------------------------------------------------------------


def test_written_file_reads_back_and_fills_gaps(tmp_path):
    events = make_events(
        "song.wav", [0.5, 0.1, 1.0, 0.7], [0.9, 0.5, 1.0, 0.7], ["b", 'say "hi"', "p", "q"]
    )
    [path] = write_events(events, tmp_path / "song.TextGrid")
    text = path.read_text()
    assert text.startswith('File type = "ooTextFile"\nObject class = "TextGrid"\n\nxmin = 0\n')
    assert 'name = "labels"' in text and 'name = "points"' in text
    assert "intervals: size = 4" in text  # gap 0-0.1, two syllables, gap 0.9-1.0
    assert 'text = "say ""hi"""' in text
    back = read_events(path)
    assert back["label"].tolist() == ['say "hi"', "b", "q", "p"]
    assert "label:tier" not in back  # only the default tier names


def test_tiers_from_the_tier_column(tmp_path):
    events = make_events(
        "song.wav",
        [0.0, 0.2, 0.1, 0.3],
        [0.5, 0.2, 0.4, 0.3],
        ["a", "click", "b", "c"],
        extra_labels={"tier": ["bird 1", "bird 1", "bird 2", "bird 2"]},
    )
    [path] = write_events(events, tmp_path / "song.TextGrid")
    assert "size = 4\n" in path.read_text()  # an interval and a point tier per bird
    back = read_events(path)
    assert sorted(zip(back["label:tier"], back["label"], strict=True)) == [
        ("bird 1", "a"),
        ("bird 1", "click"),
        ("bird 2", "b"),
        ("bird 2", "c"),
    ]


def test_overlapping_intervals_are_refused(tmp_path):
    events = make_events("song.wav", [0.0, 1.2, 1.0], [0.5, 1.8, 1.5], ["a", "b", "c"])
    with pytest.raises(AnnotationError) as info:
        write_events(events, tmp_path / "song.TextGrid")
    message = str(info.value)
    assert "row 3 ('c', 1-1.5 s) and row 2 ('b', 1.2-1.8 s) overlap in tier 'labels'" in message
    assert "label:tier" in message
    assert not (tmp_path / "song.TextGrid").exists()


def test_points_at_the_same_time_are_refused(tmp_path):
    events = make_events("song.wav", [0.3, 0.3], [0.3, 0.3], ["a", "b"])
    with pytest.raises(AnnotationError, match=r"row 1 .* and row 2 .* both at 0.3 s in tier"):
        write_events(events, tmp_path / "song.TextGrid")


def test_write_one_file_per_recording(tmp_path):
    events = make_events(["a.wav", "b.wav"], [0.0, 1.0], [1.0, 2.0], ["x", "y"])
    paths = write_events(events, tmp_path / "out", format="textgrid")
    assert sorted(p.name for p in paths) == ["a.TextGrid", "b.TextGrid"]


# --- round trips --------------------------------------------------------------------------

texts = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=6).filter(str.strip)
cuts = st.lists(st.floats(0, 1e5, allow_nan=False), min_size=0, max_size=9, unique=True)


@st.composite
def tier_events(draw, tier: str | None):
    """Non-overlapping intervals (touching or with gaps) and distinct points of one tier."""
    edges = sorted(draw(cuts))
    contiguous = draw(st.booleans())
    if contiguous:
        pairs = list(itertools.pairwise(edges))
    else:
        pairs = list(zip(edges[::2], edges[1::2], strict=False))
    points = draw(st.lists(st.floats(0, 1e5, allow_nan=False), max_size=4, unique=True))
    start = [a for a, _ in pairs] + points
    stop = [b for _, b in pairs] + points
    labels = draw(st.lists(texts, min_size=len(start), max_size=len(start)))
    return start, stop, labels, [tier] * len(start)


@st.composite
def textgrid_events(draw):
    names = draw(st.one_of(st.just([None]), st.lists(st.sampled_from(["song", "calls",
        "bird 2"]), min_size=1, max_size=3, unique=True)))  # fmt: skip
    parts = [draw(tier_events(name)) for name in names]
    start, stop, labels, tiers = (list(itertools.chain(*(p[i] for p in parts))) for i in range(4))
    extra = {} if names == [None] else {"tier": tiers}
    return make_events("song.wav", start, stop, labels, extra_labels=extra)


def in_order(events: pd.DataFrame) -> pd.DataFrame:
    # An empty table writes no tiers, so its tier column cannot come back.
    names = ("recording", "start_s", "stop_s", "label", "label:tier" if len(events) else "")
    columns = [c for c in names if c in events]
    return events[columns].sort_values(columns[1:], ignore_index=True)


@settings(max_examples=50, deadline=None)
@given(events=textgrid_events())
def test_round_trip(events):
    with tempfile.TemporaryDirectory() as folder:
        [path] = write_events(events, Path(folder) / "song.TextGrid")
        back = read_events(path)
    pd.testing.assert_frame_equal(in_order(back), in_order(events))


# --- overlaps on reading, tiers named by the caller's option ----------------------------------


def test_overlapping_intervals_in_a_file_are_an_error_naming_tier_and_interval(tmp_path):
    # Interval 3 starts at 0.6 s, before interval 2 (0.35-0.8125 s) ends.
    text = SHORT.replace('0.8125\n1.9\n"the', '0.6\n1.9\n"the')
    for grid in (text, LONG.replace("xmin = 0.8125", "xmin = 0.6")):
        path = write_grid(tmp_path, grid)
        with pytest.raises(AnnotationError) as info:
            read_events(path)
        message = str(info.value)
        assert message.startswith(f"{path} line ")
        assert (
            "interval 3 of tier 1 ('syllables', 'the \"long\" one', 0.6-1.9 s) starts before "
            "interval 2 ('a', 0.35-0.8125 s) ends"
        ) in message


def test_intervals_touching_within_rounding_are_read(tmp_path):
    text = SHORT.replace('0.8125\n1.9\n"the', '0.81249999999\n1.9\n"the')
    events = read_events(write_grid(tmp_path, text))
    assert events["start_s"].tolist()[:2] == [0.35, 0.81249999999]


def test_overlap_message_names_the_tier_by_option_when_given(tmp_path):
    events = make_events("song.wav", [0.0, 0.2], [0.5, 0.8], ["a", "b"])
    with pytest.raises(AnnotationError, match=r"pass --tier-by label to write one tier per label"):
        write_events(events, tmp_path / "song.TextGrid", option_names={"tier_by": "--tier-by"})
    with pytest.raises(AnnotationError, match=r"overlap .* add a label:tier column"):
        write_events(events, tmp_path / "song.TextGrid")
