"""Every text writer's output, byte for byte, on a table of awkward values.

The files in ``golden/`` were written by the writers as they were before they were
vectorised (issue 13): a faster writer must produce exactly the same bytes. Regenerate them
only for a deliberate change of output, with ``python tests/annotations/test_writers_golden.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from sonotype.annotations import make_events, write_events

GOLDEN = Path(__file__).parent / "golden"
#: The text formats (evsonganaly's .not.mat holds a creation date, so its bytes vary).
TEXT_FORMATS = (
    "audacity",
    "bacpipe",
    "das",
    "dcase",
    "raven",
    "simple-csv",
    "songexplorer",
    "textgrid",
)


def awkward_events():
    """Times and bounds whose shortest text is long, tiny, huge or exact; labels with commas,
    quotes and non-ASCII; missing optional values; two recordings and two channels."""
    start = np.array(
        [0.0, 0.1 + 0.2, 1 / 3, 2.0**-30, 1e-7, 12345.678901234567, 3.0, 0.5, 7.25, 99999.5]
    )
    stop = start + np.array([0.0, 0.1, 1e-9, 0.25, 2 / 3, 1e-3, 0.0, 1e-12, 0.75, 1e5])
    labels = ["a", "b,c", 'say "hi"', "café", "x y", "syll_10", "pulse", "ω", "a'b", "z"]
    recordings = ["bird1.wav"] * 6 + ["sub/bird2.wav"] * 4
    return make_events(
        recordings,
        start,
        stop,
        labels,
        kind=["annotated"] * 5 + ["detected"] * 5,
        channel=[0, 1, 0, 1, 0, 0, 1, 0, 1, 0],
        source=["me"] * 3 + ["model, v2"] * 7,
        low_hz=[np.nan, 100.0, 1 / 7, 2500.5, 0.0, np.nan, 1e4, 3.3, 12.0, 8.0],
        high_hz=[np.nan, 200.0, 1.0, 3000.25, 1e-3, np.nan, 2e4, 4.4, 12.0, 9e9],
        score=[0.1, np.nan, 1 / 3, 1.0, 0.0, 0.999999999, np.nan, 0.5, 2**-20, 1e-300],
        extra_labels={"call": ["", "x,y", "q", "é", "", "n", "m", "'", "l", "k"]},
    )


def write_all(folder: Path, fmt: str) -> list[Path]:
    events = awkward_events()
    if fmt == "textgrid":
        # One tier per label: the overlapping events cannot share one.
        events = events.drop(columns="label:call").assign(**{"label:tier": events["label"]})
    if fmt == "dcase":
        events = events.assign(**{"label:dcase": ["POS", "UNK"] * 5}).drop(columns="label:call")
    return write_events(events, str(folder / fmt) + "/", format=fmt, sr=32000)


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_writer_output_is_byte_identical_to_before(fmt, tmp_path):
    written = write_all(tmp_path, fmt)
    expected = sorted(p.relative_to(GOLDEN / fmt) for p in (GOLDEN / fmt).rglob("*") if p.is_file())
    assert sorted(p.relative_to(tmp_path / fmt) for p in written) == expected
    for name in expected:
        assert (tmp_path / fmt / name).read_bytes() == (GOLDEN / fmt / name).read_bytes(), name


if __name__ == "__main__":
    import shutil

    for fmt in TEXT_FORMATS:
        shutil.rmtree(GOLDEN / fmt, ignore_errors=True)
        print(fmt, write_all(GOLDEN, fmt), file=sys.stderr)
