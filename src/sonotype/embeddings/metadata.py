"""Default labels from metadata: one column per event from its recording's folder, the time
stamp in its file name, or any of its own label columns.

These are the labels a user has before annotating anything: colour a scatter plot by site
(folder), by time of day or by season, or compare embedding models on how well they separate
sites. :func:`metadata_labels` returns one string per event (``""`` where the value is
unknown, e.g. a file name without a time stamp), so plots, probes and model comparison treat
every labelling alike.

Time stamps are read from the file name (not the file's modification time, which copying
changes). The recognised pattern is the one AudioMoth, Song Meter and most recorders write:
eight date digits, an optional ``_``/``-``/``T`` and six time digits,
``YYYYMMDD_HHMMSS`` (``20240611_053000.WAV``, ``S4A01234_20240611_053000.wav``,
``20240611T053000``), with the date and time checked for validity. A file name with a date
only (``20240611.wav``) gives a date but no time. Pass another regular expression with named
groups ``year``, ``month``, ``day`` (and optionally ``hour``, ``minute``, ``second``) as
``pattern`` for other conventions.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from pathlib import PurePosixPath

import numpy as np
import pandas as pd

from sonotype.errors import ParameterError

#: Eight date digits, then optionally a separator and six time digits, not inside a longer
#: run of digits.
DEFAULT_PATTERN = (
    r"(?<!\d)(?P<year>(?:19|20)\d{2})(?P<month>\d{2})(?P<day>\d{2})"
    r"(?:[_T-]?(?P<hour>\d{2})(?P<minute>\d{2})(?P<second>\d{2}))?(?!\d)"
)

#: The metadata a labelling can be made from (besides ``label`` and ``label:*`` columns).
KEYS = ("folder", "recording", "date", "month", "hour", "time_of_day", "season")

#: Parts of the day by the hour the time stamp gives (local time as the recorder wrote it):
#: night 00-05, morning 06-11, afternoon 12-17, evening 18-23.
TIMES_OF_DAY = ("night", "morning", "afternoon", "evening")

#: Meteorological seasons: in the northern hemisphere winter is December-February, spring
#: March-May, summer June-August, autumn September-November; the southern hemisphere swaps
#: winter and summer, spring and autumn.
_NORTH_SEASONS = ("winter", "spring", "summer", "autumn")
_SWAP = {"winter": "summer", "summer": "winter", "spring": "autumn", "autumn": "spring"}


def parse_timestamp(name: str, *, pattern: str | re.Pattern = DEFAULT_PATTERN):
    """The date and time in a file name, or None when it has none.

    Parameters
    ----------
    name : str
        A file name or path; only its last part is searched.
    pattern : str or compiled regex
        With named groups ``year``, ``month``, ``day`` and optionally ``hour``, ``minute``,
        ``second``. The last match in the name wins (a serial number before the time stamp
        is skipped).

    Returns
    -------
    datetime.datetime, datetime.date or None
        A datetime when the name carries a time, a date when only a date, None when neither
        (or when the digits are no valid date, e.g. month 13).

    Examples
    --------
    >>> parse_timestamp("site1/20240611_053000.WAV")
    datetime.datetime(2024, 6, 11, 5, 30)
    >>> parse_timestamp("S4A01234_20231225.wav")
    datetime.date(2023, 12, 25)
    >>> parse_timestamp("song_12.wav") is None
    True
    """
    regex = re.compile(pattern) if isinstance(pattern, str) else pattern
    for group in ("year", "month", "day"):
        if group not in regex.groupindex:
            raise ParameterError(
                f"pattern={regex.pattern!r} has no named group {group!r}; name the date's "
                "parts (?P<year>...), (?P<month>...) and (?P<day>...)",
                parameter="pattern",
            )
    matches = list(regex.finditer(PurePosixPath(str(name)).name))
    for match in reversed(matches):
        parts = match.groupdict()
        try:
            date = dt.date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
            if parts.get("hour") is None:
                return date
            return dt.datetime(
                date.year, date.month, date.day,
                int(parts["hour"]), int(parts.get("minute") or 0), int(parts.get("second") or 0),
            )  # fmt: skip
        except ValueError:  # month 13, hour 25: not a time stamp
            continue
    return None


def season_of(month: int, *, hemisphere: str = "north") -> str:
    """The meteorological season of ``month`` (1-12) in ``hemisphere`` ("north"/"south")."""
    if hemisphere not in ("north", "south"):
        raise ParameterError(
            f"hemisphere={hemisphere!r}: must be 'north' or 'south'", parameter="hemisphere"
        )
    season = _NORTH_SEASONS[(month % 12) // 3]
    return season if hemisphere == "north" else _SWAP[season]


def metadata_labels(
    events: pd.DataFrame,
    by: str,
    *,
    pattern: str | re.Pattern = DEFAULT_PATTERN,
    hemisphere: str = "north",
) -> pd.Series:
    """One label per event from metadata, aligned with ``events``' index.

    Parameters
    ----------
    events : DataFrame
        An Events table (or any table with a ``recording`` column, and the label columns
        asked for).
    by : str
        ``folder`` (the recording's folder, ``"."`` for the audio root), ``recording``,
        ``date`` (``YYYY-MM-DD``), ``month`` (``YYYY-MM``), ``hour`` (``"05"``),
        ``time_of_day`` (see :data:`TIMES_OF_DAY`), ``season`` (see :func:`season_of`), or
        ``label`` / any ``label:NAME`` column of the table.
    pattern : str or compiled regex
        How time stamps are read from file names (see :func:`parse_timestamp`).
    hemisphere : {"north", "south"}
        For ``season``.

    Returns
    -------
    Series of str
        ``""`` where the value is unknown (no time stamp, no time in it, an empty label).

    Examples
    --------
    >>> ev = pd.DataFrame({"recording": ["a/20240611_063000.wav", "b/20241224_190000.wav"]})
    >>> metadata_labels(ev, "folder").tolist()
    ['a', 'b']
    >>> metadata_labels(ev, "time_of_day").tolist()
    ['morning', 'evening']
    >>> metadata_labels(ev, "season").tolist()
    ['summer', 'winter']
    """
    if by == "label" or by.startswith("label:"):
        if by not in events.columns:
            have = [c for c in events.columns if c == "label" or c.startswith("label:")]
            raise ParameterError(
                f"labels {by!r}: the events have no column {by!r}; they have "
                f"{', '.join(have) or 'no label columns'}",
                parameter="labels_from",
            )
        return events[by].fillna("").astype(str)
    if by not in KEYS:
        raise ParameterError(
            f"metadata {by!r} is unknown; choose one of {', '.join(KEYS)}, label or label:NAME",
            parameter="labels_from",
        )
    season_of(1, hemisphere=hemisphere)  # check it before any work
    # Per recording, not per event: a project has far fewer recordings than events.
    names = pd.unique(events["recording"].astype(str))
    values = {name: _value(name, by, pattern, hemisphere) for name in names}
    return events["recording"].astype(str).map(values).astype(str)


def _value(name: str, by: str, pattern, hemisphere: str) -> str:
    path = PurePosixPath(name)
    if by == "folder":
        return str(path.parent)
    if by == "recording":
        return name
    stamp = parse_timestamp(name, pattern=pattern)
    if stamp is None:
        return ""
    if by == "date":
        return f"{stamp:%Y-%m-%d}"
    if by == "month":
        return f"{stamp:%Y-%m}"
    if by == "season":
        return season_of(stamp.month, hemisphere=hemisphere)
    if not isinstance(stamp, dt.datetime):
        return ""  # a date without a time
    if by == "hour":
        return f"{stamp.hour:02d}"
    return TIMES_OF_DAY[stamp.hour // 6]


def label_codes(labels: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Integer codes for string labels, ``""`` (unknown) coded -1; and the sorted names."""
    values = np.asarray(labels, dtype=object).astype(str)
    names = sorted(set(values) - {""})
    lookup = {name: i for i, name in enumerate(names)}
    return np.array([lookup.get(v, -1) for v in values], dtype=np.int64), names
