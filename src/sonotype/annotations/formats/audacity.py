"""Audacity label tracks (File > Export > Labels).

One line per label, ``start<TAB>stop<TAB>label`` in seconds, with no header. A label drawn with
a spectral selection is followed by a line that starts with a backslash and gives its lower and
upper frequency in Hz; Audacity writes -1 for a bound it does not know::

    0.101385	0.367520	SP
    \\	6441.064453	12296.577148
    0.506924	3.041545	CRER

A point label has ``start == stop``. Audacity also reads the older ``start<TAB>label`` form
(a point label), and so does this reader.

Audacity files do not name their recording: it is the audio file beside the label file with
the same stem (``spinetail.txt`` -> ``spinetail.wav``), or ``FormatOptions.recording``. They
have no channel either; every event is on channel 0.

Writing uses full float precision (``repr``) and writes a frequency line for every event with
a known bound (-1 for the other, as Audacity does). Labels cannot contain tabs or line breaks.
"""

from __future__ import annotations

import math
import re
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

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
# The first label line of an Audacity export: two numbers, then an optional label.
_LABEL_LINE = re.compile(rf"^\s*{_NUMBER}\t{_NUMBER}(?:\t.*)?$")
#: Audacity's value for an unknown frequency bound.
UNDEFINED_HZ = -1.0


@register_format
class Audacity(AnnotationFormat):
    """Audacity label track export, optionally with frequency lines.

    Examples
    --------
    Two labels, the first with frequency bounds 6441-12297 Hz::

        0.101385	0.367520	SP
        \\	6441.064453	12296.577148
        0.506924	3.041545	CRER
    """

    name = "audacity"
    description = "Audacity label track (.txt): start, stop, label, optional frequency lines"
    suffixes = ()
    per_recording = True
    carries = frozenset({"recording", "start_s", "stop_s", "label", "low_hz", "high_hz"})
    time_unit = "seconds"

    def sniff(self, path: Path, head: str) -> bool:
        if not path.name.lower().endswith(".txt"):
            return False
        first = next((line for line in head.splitlines() if line.strip()), "")
        return bool(_LABEL_LINE.match(first))

    def filename_for(self, recording: str) -> str:
        return f"{Path(recording).stem}.txt"

    def read(self, path: Path, options: FormatOptions) -> pd.DataFrame:
        starts, stops, labels, rows = [], [], [], []
        low, high = [], []
        # Only \n, \r\n and \r end a line: str.splitlines would also split labels at \u2028.
        lines = re.split(r"\r\n|\r|\n", open_text(path, options))
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            fields = line.split("\t")
            if fields[0].strip() == "\\":
                if not rows:
                    raise AnnotationFormatError(
                        path,
                        f"line {number}: a frequency line (starting with \\) before any label "
                        "line; each one gives the bounds of the label line above it",
                    )
                if len(fields) < 3:
                    raise AnnotationError(
                        path,
                        f"line {number}: a frequency line needs \\<TAB>low_hz<TAB>high_hz, "
                        f"got {line!r}",
                    )
                low[-1] = _frequency(fields[1], "low_hz", number, path)
                high[-1] = _frequency(fields[2], "high_hz", number, path)
                continue
            start = _number(fields[0])
            if start is None:
                raise AnnotationFormatError(
                    path,
                    f"line {number}: start {fields[0]!r} is not a number; an Audacity label "
                    "line is start<TAB>stop<TAB>label in seconds",
                )
            stop = _number(fields[1]) if len(fields) > 1 else start
            if stop is None:
                # Audacity's older form "start<TAB>label" is a point label.
                stop, label = start, "\t".join(fields[1:])
            else:
                label = "\t".join(fields[2:])
            starts.append(start)
            stops.append(stop)
            labels.append(label)
            low.append(math.nan)
            high.append(math.nan)
            rows.append(f"line {number}")

        events = pd.DataFrame(
            {
                "recording": options.recording_for(path),
                "start_s": np.asarray(starts, dtype=np.float64),
                "stop_s": np.asarray(stops, dtype=np.float64),
                "label": pd.Series(labels, dtype=object),
            }
        )
        if not all(map(math.isnan, low + high)):
            events["low_hz"] = np.asarray(low, dtype=np.float64)
            events["high_hz"] = np.asarray(high, dtype=np.float64)
        return validate_events(events, where=str(path), rows=rows, fill_defaults=True)

    def write(self, events: pd.DataFrame, path: Path, options: FormatOptions) -> None:
        labels = events["label"]
        bad = np.flatnonzero(labels.str.contains(r"[\t\r\n]", regex=True).to_numpy())
        if len(bad):
            i = bad[0]
            raise AnnotationError(
                path,
                f"row {i + 1}: label {labels.iloc[i]!r} contains a tab or line break, which an "
                "Audacity label file cannot hold; replace them with spaces",
            )
        n = len(events)
        nan = np.full(n, np.nan)
        low = events["low_hz"].to_numpy() if "low_hz" in events else nan
        high = events["high_hz"].to_numpy() if "high_hz" in events else nan
        lines = []
        rows = zip(
            events["start_s"].tolist(),
            events["stop_s"].tolist(),
            labels.tolist(),
            low.tolist(),
            high.tolist(),
            strict=True,
        )
        for start, stop, label, lo, hi in rows:
            # repr: the shortest text that reads back as the very same float.
            lines.append(f"{start!r}\t{stop!r}\t{label}")
            if not (math.isnan(lo) and math.isnan(hi)):
                lines.append(f"\\\t{_bound(lo)}\t{_bound(hi)}")
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def _number(text: str) -> float | None:
    text = text.strip()
    if not re.fullmatch(_NUMBER, text):
        return None
    return float(text)


def _frequency(text: str, name: str, number: int, path: Path) -> float:
    value = _number(text)
    if value is None:
        raise AnnotationError(path, f"line {number}: {name} {text.strip()!r} is not a number")
    # Audacity writes -1 for a bound that was not set.
    return math.nan if value < 0 else value


def _bound(value: float) -> str:
    return repr(UNDEFINED_HZ if math.isnan(value) else value)
