"""evsonganaly ``.not.mat`` files (Brainard lab; the Bengalese Finch Song Repository).

evsonganaly, a MATLAB GUI, segments a song into syllables by thresholding its smoothed
amplitude and saves, beside each song ``NAME``, a MATLAB v5 file ``NAME.not.mat`` holding:

=============  ==========================================================================
variable       meaning
=============  ==========================================================================
onsets         syllable onsets in milliseconds, a column vector
offsets        syllable offsets in milliseconds, a column vector
labels         a char string with one character per syllable (``'iiabcdeefg'``)
Fs             sample rate of the song in Hz
fname          the song's file name
threshold      amplitude threshold of the segmentation
min_int        shortest silent gap kept between syllables, ms
min_dur        shortest syllable kept, ms
sm_win         width of the smoothing window, ms
=============  ==========================================================================

Some versions add ``durations``, ``pauses``, ``bout_duration`` and ``num_syls``, which follow
from the onsets and offsets. For example (as MATLAB shows it)::

    onsets = [1277.78; 1452.47]    offsets = [1351.22; 1535.81]    labels = 'ia'
    Fs = 32000    threshold = 1500    min_int = 6    min_dur = 10    sm_win = 2

The recording is the file name without ``.not.mat`` (``song.cbin.not.mat`` annotates
``song.cbin``); every syllable is on channel 0. :func:`read_notmat_segmentation` returns the
segmentation parameters, so a segmenter can reproduce evsonganaly's. Files are read with
:func:`~sonotype.annotations.formats.matfile.read_mat5`, which checks every size a damaged
file declares (scipy's ``loadmat`` can crash the process on those).

Writing needs one-character labels and the song's sample rate (from the recording beside the
file, else ``sr``). The segmentation parameters, which an Events table does not hold, get
evsonganaly's defaults: ``threshold`` 0 (unknown), ``min_int`` 5 ms, ``min_dur`` 20 ms,
``sm_win`` 2 ms. Syllables are written in time order.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import scipy.io

from sonotype.annotations.events import validate_events
from sonotype.annotations.formats.base import (
    AnnotationFormat,
    FormatOptions,
    register_format,
)
from sonotype.annotations.formats.matfile import read_mat5
from sonotype.errors import AnnotationError, AnnotationFormatError

SUFFIX = ".not.mat"
#: Segmentation parameters written when the events do not come with their own
#: (evsonganaly's defaults; threshold 0 says the threshold is unknown).
DEFAULT_SEGMENTATION = {"threshold": 0.0, "min_int": 5.0, "min_dur": 20.0, "sm_win": 2.0}


@register_format
class NotMat(AnnotationFormat):
    """evsonganaly ``.not.mat``: syllable onsets and offsets in ms, one character per label.

    Examples
    --------
    >>> from sonotype.annotations import read_events
    >>> events = read_events("gy6or6_baseline_230312_0808.138.cbin.not.mat")  # doctest: +SKIP
    >>> events["recording"][0]  # doctest: +SKIP
    'gy6or6_baseline_230312_0808.138.cbin'
    """

    name = "notmat"
    description = "evsonganaly .not.mat (MATLAB): syllable onsets/offsets in ms, 1-char labels"
    suffixes = (SUFFIX,)
    per_recording = True
    carries = frozenset({"recording", "start_s", "stop_s", "label"})
    time_unit = "milliseconds"

    def filename_for(self, recording: str) -> str:
        return f"{Path(recording).name}{SUFFIX}"

    def read(self, path: Path, options: FormatOptions) -> pd.DataFrame:
        mat = _load(path)
        onsets = _vector(mat, "onsets", path)
        offsets = _vector(mat, "offsets", path)
        labels = _labels(mat, path)
        if not len(onsets) == len(offsets) == len(labels):
            raise AnnotationFormatError(
                path,
                f"{len(onsets)} onsets, {len(offsets)} offsets and {len(labels)} labels; "
                "evsonganaly stores one of each per syllable, so the file is inconsistent",
            )
        recording = options.recording or path.name[: -len(SUFFIX)]
        events = pd.DataFrame(
            {
                "recording": recording,
                "start_s": onsets / 1000.0,
                "stop_s": offsets / 1000.0,
                "label": pd.Series(labels, dtype=object),
            }
        )
        rows = [f"syllable {i + 1}" for i in range(len(events))]
        return validate_events(events, where=str(path), rows=rows, fill_defaults=True)

    def write(self, events: pd.DataFrame, path: Path, options: FormatOptions) -> None:
        labels = events["label"]
        bad = np.flatnonzero((labels.str.len() != 1).to_numpy())
        if len(bad):
            i = bad[0]
            raise AnnotationError(
                path,
                f"row {i + 1}: label {labels.iloc[i]!r} is not a single character; evsonganaly "
                "stores one character per syllable, so map the labels to single characters "
                "first (e.g. syll_0 -> a, syll_1 -> b)",
            )
        recording = events["recording"].iloc[0] if len(events) else path.name[: -len(SUFFIX)]
        sr = options.sample_rate(recording, path, what="evsonganaly's Fs")

        order = np.argsort(events["start_s"].to_numpy(), kind="stable")
        onsets = events["start_s"].to_numpy()[order] * 1000.0
        offsets = events["stop_s"].to_numpy()[order] * 1000.0
        mat = {
            "fname": recording,
            "Fs": float(sr),
            "labels": "".join(labels.to_numpy()[order]),
            "onsets": onsets.reshape(-1, 1),
            "offsets": offsets.reshape(-1, 1),
            **DEFAULT_SEGMENTATION,
            "durations": (offsets - onsets).reshape(-1, 1),
            "pauses": (onsets[1:] - offsets[:-1]).reshape(-1, 1),
            "bout_duration": float(offsets[-1] - onsets[0]) if len(onsets) else 0.0,
            "num_syls": float(len(onsets)),
        }
        # savemat gets an open file: given a name it would append ".mat" to it.
        with open(path, "wb") as f:
            scipy.io.savemat(f, mat, format="5", oned_as="column")


def read_notmat_segmentation(path: str | Path) -> dict[str, float]:
    """The segmentation parameters evsonganaly stored in a ``.not.mat`` file.

    Parameters
    ----------
    path : path
        A ``.not.mat`` file.

    Returns
    -------
    dict
        ``threshold`` (amplitude, in the units of the smoothed song), ``min_int_ms``,
        ``min_dur_ms``, ``sm_win_ms`` and ``sr`` (the song's sample rate in Hz), as floats.

    Raises
    ------
    AnnotationError
        The file is not a MATLAB file or lacks one of the parameters.

    Examples
    --------
    >>> read_notmat_segmentation("gy6or6_baseline_230312_0808.138.cbin.not.mat")  # doctest: +SKIP
    {'threshold': 1500.0, 'min_int_ms': 6.0, 'min_dur_ms': 10.0, 'sm_win_ms': 2.0, 'sr': 32000.0}
    """
    path = Path(path)
    mat = _load(path)
    names = {"threshold": "threshold", "min_int_ms": "min_int", "min_dur_ms": "min_dur"}
    names |= {"sm_win_ms": "sm_win", "sr": "Fs"}
    return {key: _scalar(mat, variable, path) for key, variable in names.items()}


def _load(path: Path) -> dict:
    # Not scipy.io.loadmat: its compiled reader crashes the process on some damaged files.
    return read_mat5(path)


def _vector(mat: dict, name: str, path: Path) -> np.ndarray:
    if name not in mat:
        raise AnnotationFormatError(path, f"no {name!r} variable; not an evsonganaly .not.mat")
    value = mat[name]
    if not isinstance(value, np.ndarray):
        shown = f"text ({value[:20]!r})" if isinstance(value, str) else str(value)
        raise AnnotationFormatError(
            path, f"{name!r} holds {shown}; evsonganaly stores numbers in ms"
        )
    if value.ndim > 2 or (value.ndim == 2 and min(value.shape) > 1):
        raise AnnotationFormatError(
            path, f"{name!r} has shape {value.shape}; evsonganaly stores a vector"
        )
    return value.ravel()


def _labels(mat: dict, path: Path) -> list[str]:
    if "labels" not in mat:
        raise AnnotationFormatError(path, "no 'labels' variable; not an evsonganaly .not.mat")
    value = mat["labels"]
    if not isinstance(value, str):
        if isinstance(value, np.ndarray) and value.size == 0:
            return []
        shown = "numbers" if isinstance(value, np.ndarray) else str(value)
        raise AnnotationFormatError(
            path,
            f"'labels' holds {shown}; evsonganaly stores a char string with one character "
            "per syllable",
        )
    return list(value)


def _scalar(mat: dict, name: str, path: Path) -> float:
    if name not in mat:
        raise AnnotationFormatError(
            path, f"no {name!r} variable, so its segmentation parameters are unknown"
        )
    value = mat[name]
    if not isinstance(value, np.ndarray) or value.size != 1:
        shown = f"shape {value.shape}" if isinstance(value, np.ndarray) else repr(value)
        raise AnnotationFormatError(path, f"{name!r} should be one number, found {shown}")
    return float(value.ravel()[0])
