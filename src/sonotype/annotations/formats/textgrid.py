"""Praat TextGrids, in the long and the short text form, UTF-8 or UTF-16.

A TextGrid holds tiers over one sound. An ``IntervalTier`` divides the time from ``xmin`` to
``xmax`` into contiguous intervals, each with a text (empty for the gaps between sounds); a
``TextTier`` (point tier) holds time points, each with a mark. The long form, which Praat
writes by default, names every value::

    File type = "ooTextFile"
    Object class = "TextGrid"

    xmin = 0
    xmax = 1.5
    tiers? <exists>
    size = 2
    item []:
        item [1]:
            class = "IntervalTier"
            name = "syllables"
            xmin = 0
            xmax = 1.5
            intervals: size = 3
            intervals [1]:
                xmin = 0
                xmax = 0.4
                text = ""
            intervals [2]:
                xmin = 0.4
                xmax = 0.9
                text = "a ""loud"" one"
            intervals [3]:
                xmin = 0.9
                xmax = 1.5
                text = ""
        item [2]:
            class = "TextTier"
            name = "clicks"
            xmin = 0
            xmax = 1.5
            points: size = 1
            points [1]:
                number = 1.2
                mark = "click"

The short form holds the same values in the same order without their names. Both are read
here as one stream of numbers and strings (Praat's own reading ignores the names too); a quote
inside a text is doubled.

Reading makes an interval event of every interval with a non-blank text and a point event of
every point (intervals with a blank text are the gaps between sounds). Each event's tier name
goes into ``label:tier``, unless every tier carries the default name this writer gives to
events without one (IntervalTier "labels", TextTier "points"): so writing and reading back
is lossless, and a file with just those tiers reads as a plain table.
The recording is the audio file beside the TextGrid with the same stem, or
``FormatOptions.recording``. Intervals of one tier that overlap (Praat never writes them) are
an error naming the line, the tier and both intervals; ``--undefined--`` and ``nan`` times
read as missing, which validation then reports with their line.

Writing produces the long form in UTF-8: one tier per value of ``label:tier`` (an IntervalTier
for its interval events and a TextTier for its point events), else an IntervalTier "labels"
and a TextTier "points". Gaps between intervals become empty intervals, because an
IntervalTier must cover ``xmin .. xmax``; overlapping intervals in one tier, or two points at
the same time in one tier, cannot be written (the error suggests a ``label:tier`` column, or
the option ``FormatOptions.option_names["tier_by"]`` names, such as ``--tier-by``).
``xmax`` is the end of the last event (1 s when that is 0, since Praat needs
``xmax > xmin``). Other ``label:*`` columns, channels and
frequency bounds have no place in a TextGrid.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from sonotype.annotations.events import validate_events
from sonotype.annotations.formats.base import (
    AnnotationFormat,
    FormatOptions,
    open_text,
    register_format,
)
from sonotype.errors import AnnotationError, AnnotationFormatError

TIER_COLUMN = "label:tier"
#: How far an interval may start before the previous one ends and still count as touching it:
#: far below one sample at any audio rate, to allow for the rounding of other writers.
_TOLERANCE_S = 1e-7
INTERVAL_TIER, POINT_TIER = "IntervalTier", "TextTier"
#: Tier names used when the events have no ``label:tier`` column.
DEFAULT_TIERS = {INTERVAL_TIER: "labels", POINT_TIER: "points"}

# One token of a Praat text file. Strings may span lines; a doubled quote is a quote. Words
# ("xmin", "item"), bracketed indices ("[3]") and punctuation are the names of the long form,
# skipped; "!" starts a comment.
_TOKEN = re.compile(
    r'"(?P<string>(?:[^"]|"")*)"'
    r"|(?P<flag><exists>|<absent>)"
    r"|(?P<number>--undefined--|[-+]?(?:\d+\.?\d*|\.\d+|(?i:nan|inf(?:inity)?))"
    r"(?:[eE][-+]?\d+)?)(?![\w.])"
    r"|(?P<skip>\[[^\]\n]*\]|[A-Za-z_]\w*\??|!.*|[^\s\"])"
)


@register_format
class TextGrid(AnnotationFormat):
    """Praat TextGrid (long or short text form); interval and point tiers.

    Examples
    --------
    The short form of a TextGrid with one IntervalTier "song" holding one syllable "a" from
    0.4 to 0.9 s::

        File type = "ooTextFile"
        Object class = "TextGrid"

        0
        1.5
        <exists>
        1
        "IntervalTier"
        "song"
        0
        1.5
        3
        0
        0.4
        ""
        0.4
        0.9
        "a"
        0.9
        1.5
        ""
    """

    name = "textgrid"
    description = "Praat TextGrid (.TextGrid): interval and point tiers, long or short form"
    suffixes = (".textgrid",)
    per_recording = True
    carries = frozenset({"recording", "start_s", "stop_s", "label", TIER_COLUMN})
    time_unit = "seconds"

    def sniff(self, path: Path, head: str) -> bool:
        return 'Object class = "TextGrid' in head

    def filename_for(self, recording: str) -> str:
        return f"{Path(recording).stem}.TextGrid"

    def read(self, path: Path, options: FormatOptions) -> pd.DataFrame:
        tiers = _parse(open_text(path, options), path)
        starts, stops, labels, names, rows = [], [], [], [], []
        for tier in tiers:
            for start, stop, text, line in tier["items"]:
                if tier["class"] == INTERVAL_TIER and not text.strip():
                    continue  # an empty interval is a gap between sounds
                starts.append(start)
                stops.append(stop)
                labels.append(text)
                names.append(tier["name"])
                rows.append(f"line {line}")
        events = pd.DataFrame(
            {
                "recording": options.recording_for(path),
                "start_s": np.asarray(starts, dtype=np.float64),
                "stop_s": np.asarray(stops, dtype=np.float64),
                "label": pd.Series(labels, dtype=object),
            }
        )
        # Tier names are labels too, except the default names the writer gives to unnamed
        # events: so a write-then-read round trip gives back the same columns.
        if not all(tier["name"] == DEFAULT_TIERS[tier["class"]] for tier in tiers):
            events[TIER_COLUMN] = pd.Series(names, dtype=object)
        return validate_events(events, where=str(path), rows=rows, fill_defaults=True)

    def write(self, events: pd.DataFrame, path: Path, options: FormatOptions) -> None:
        start = events["start_s"].to_numpy()
        stop = events["stop_s"].to_numpy()
        point = start == stop
        if TIER_COLUMN in events:
            named = events[TIER_COLUMN].to_numpy(dtype=object)
        else:
            named = np.full(len(events), "", dtype=object)
        # A blank tier name falls back to the default name of its tier class.
        tier_names = np.where(
            named == "",
            np.where(point, DEFAULT_TIERS[POINT_TIER], DEFAULT_TIERS[INTERVAL_TIER]),
            named,
        )
        xmax = float(stop.max()) if len(stop) else 0.0
        if xmax <= 0:
            xmax = 1.0  # Praat needs xmax > xmin, even for points at 0 only
        tiers = []
        for name in dict.fromkeys(tier_names.tolist()):
            in_tier = tier_names == name
            for tier_class, mask in ((INTERVAL_TIER, ~point), (POINT_TIER, point)):
                rows = np.flatnonzero(in_tier & mask)
                if len(rows):
                    rows = rows[np.argsort(start[rows], kind="stable")]
                    tiers.append((tier_class, name, rows))

        lines = [
            'File type = "ooTextFile"',
            'Object class = "TextGrid"',
            "",
            "xmin = 0",
            f"xmax = {xmax!r}",
            "tiers? <exists>",
            f"size = {len(tiers)}",
            "item []:",
        ]
        labels = events["label"].tolist()
        if "tier_by" in options.option_names:
            fix = f"pass {options.option_names['tier_by']} label to write one tier per label"
        else:
            fix = "add a label:tier column that puts them in different tiers (a copy of label)"
        for number, (tier_class, name, rows) in enumerate(tiers, start=1):
            if tier_class == INTERVAL_TIER:
                items = list(_intervals(rows, start, stop, labels, xmax, name, path, fix))
            else:
                _check_points(rows, start, labels, name, path, fix)
                items = [(start[i], None, labels[i]) for i in rows]
            kind = "intervals" if tier_class == INTERVAL_TIER else "points"
            lines += [
                f"    item [{number}]:",
                f'        class = "{tier_class}"',
                f"        name = {_quote(name)}",
                "        xmin = 0",
                f"        xmax = {xmax!r}",
                f"        {kind}: size = {len(items)}",
            ]
            for k, (a, b, text) in enumerate(items, start=1):
                lines.append(f"        {kind} [{k}]:")
                if tier_class == INTERVAL_TIER:
                    lines.append(f"            xmin = {float(a)!r}")
                    lines.append(f"            xmax = {float(b)!r}")
                    lines.append(f"            text = {_quote(text)}")
                else:
                    lines.append(f"            number = {float(a)!r}")
                    lines.append(f"            mark = {_quote(text)}")
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _intervals(
    rows: np.ndarray,
    start: np.ndarray,
    stop: np.ndarray,
    labels: list[str],
    xmax: float,
    tier: str,
    path: Path,
    fix: str,
) -> Iterator[tuple[float, float, str]]:
    """The intervals of one IntervalTier: the events in time order, with gaps filled."""
    at = 0.0
    previous = None
    for i in rows:
        if start[i] < at:
            raise AnnotationError(
                path,
                f"events in row {previous + 1} ({labels[previous]!r}, {start[previous]:g}-"
                f"{stop[previous]:g} s) and row {i + 1} ({labels[i]!r}, {start[i]:g}-"
                f"{stop[i]:g} s) overlap in tier {tier!r}, and a Praat IntervalTier cannot "
                f"hold overlapping intervals; {fix}",
            )
        if start[i] > at:
            yield at, start[i], ""
        yield start[i], stop[i], labels[i]
        at, previous = stop[i], i
    if at < xmax:
        yield at, xmax, ""


def _check_points(
    rows: np.ndarray, start: np.ndarray, labels: list[str], tier: str, path: Path, fix: str
) -> None:
    same = np.flatnonzero(np.diff(start[rows]) == 0)
    if len(same):
        a, b = rows[same[0]], rows[same[0] + 1]
        raise AnnotationError(
            path,
            f"point events in row {a + 1} ({labels[a]!r}) and row {b + 1} ({labels[b]!r}) are "
            f"both at {start[a]:g} s in tier {tier!r}, and a Praat TextTier holds one point "
            f"per time; {fix}",
        )


class _Tokens:
    """The numbers, strings and flags of a Praat text file, in order, with line numbers."""

    def __init__(self, text: str, path: Path) -> None:
        self.path = path
        newlines = [m.start() for m in re.finditer("\n", text)]
        self.items = []
        for match in _TOKEN.finditer(text):
            if match.lastgroup == "skip":
                continue
            line = bisect.bisect_left(newlines, match.start()) + 1
            self.items.append((match.lastgroup, match.group(match.lastgroup), line))
        self.position = 0

    def next(self, kind: str, what: str) -> tuple[str, int]:
        if self.position >= len(self.items):
            raise AnnotationFormatError(
                self.path,
                f"the file ends where {what} should be; it seems cut short (an interrupted "
                "save or copy?)",
            )
        found, value, line = self.items[self.position]
        self.position += 1
        if found != kind:
            shown = f'"{value}"' if found == "string" else value
            raise AnnotationFormatError(
                self.path, f"line {line}: expected {what} ({kind}), found {shown}"
            )
        return value, line

    def peek(self) -> str | None:
        """The kind of the next token, if any."""
        return self.items[self.position][0] if self.position < len(self.items) else None

    def number(self, what: str) -> tuple[float, int]:
        value, line = self.next("number", what)
        # Praat writes --undefined-- for a missing value; validation then names the line.
        return (math.nan if value == "--undefined--" else float(value)), line

    def string(self, what: str) -> tuple[str, int]:
        value, line = self.next("string", what)
        return value.replace('""', '"'), line

    def count(self, what: str) -> int:
        value, line = self.number(what)
        if not np.isfinite(value) or value < 0 or value != int(value):
            raise AnnotationFormatError(self.path, f"line {line}: {what} is {value:g}, not a count")
        return int(value)


def _parse(text: str, path: Path) -> list[dict]:
    """The tiers of a TextGrid: dicts of class, name and items (start, stop, text, line)."""
    tokens = _Tokens(text, path)
    file_type, _ = tokens.string("the file type")
    if not file_type.startswith("ooTextFile"):
        raise AnnotationFormatError(
            path,
            f'file type "{file_type}" is not a Praat text file ("ooTextFile"); save the '
            "TextGrid from Praat as a text file or a short text file",
        )
    object_class, _ = tokens.string("the object class")
    if not object_class.startswith("TextGrid"):
        raise AnnotationFormatError(path, f'holds a Praat "{object_class}", not a TextGrid')
    tokens.number("the TextGrid's xmin")
    tokens.number("the TextGrid's xmax")
    # Some non-Praat writers leave out the "tiers? <exists>" flag.
    if tokens.peek() == "flag":
        exists, _ = tokens.next("flag", "<exists> or <absent>")
        if exists == "<absent>":
            return []
    tiers = []
    for t in range(1, tokens.count("the number of tiers") + 1):
        tier_class, line = tokens.string(f"the class of tier {t}")
        if tier_class not in (INTERVAL_TIER, POINT_TIER):
            raise AnnotationFormatError(
                path,
                f"line {line}: tier {t} is a {tier_class!r}; a TextGrid holds "
                f"{INTERVAL_TIER}s and {POINT_TIER}s",
            )
        name, _ = tokens.string(f"the name of tier {t}")
        tokens.number(f"the xmin of tier {t}")
        tokens.number(f"the xmax of tier {t}")
        items = []
        if tier_class == INTERVAL_TIER:
            for k in range(1, tokens.count(f"the number of intervals of tier {t}") + 1):
                where = f"interval {k} of tier {t}"
                start, line = tokens.number(f"the xmin of {where}")
                stop, _ = tokens.number(f"the xmax of {where}")
                label, _ = tokens.string(f"the text of {where}")
                if items and start < items[-1][1] - _TOLERANCE_S:
                    before = items[-1]
                    raise AnnotationFormatError(
                        path,
                        f"line {line}: interval {k} of tier {t} ({name!r}, {label!r}, "
                        f"{start:g}-{stop:g} s) starts before interval {k - 1} ({before[2]!r}, "
                        f"{before[0]:g}-{before[1]:g} s) ends; the intervals of a Praat "
                        "IntervalTier follow one another without overlap: fix the times, or "
                        "move one of the sounds to a tier of its own",
                    )
                items.append((start, stop, label, line))
        else:
            for k in range(1, tokens.count(f"the number of points of tier {t}") + 1):
                where = f"point {k} of tier {t}"
                time, line = tokens.number(f"the time of {where}")
                mark, _ = tokens.string(f"the mark of {where}")
                items.append((time, time, mark, line))
        tiers.append({"class": tier_class, "name": name, "items": items})
    return tiers
