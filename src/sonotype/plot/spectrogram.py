"""Spectrograms with time and frequency axes and annotations drawn on them.

Uses matplotlib's object interface with the Agg renderer (no pyplot, no display needed).
Interval events are drawn as boxes (spanning their frequency bounds when known, the whole
height otherwise) labelled with their label; point events as ticks along the top. Only the
events inside the span are drawn, all boxes as one collection, so a table of a million
events draws in seconds; label text is cut to :data:`MAX_LABEL_CHARS` characters and the
legend names at most :data:`MAX_LEGEND_LABELS` labels.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sonotype.atomic import atomic_path
from sonotype.audio import Recording
from sonotype.errors import ParameterError
from sonotype.spectral import power_to_db
from sonotype.spectral.stream import spectrogram_of

#: Most labels shown as text above their boxes; beyond, the legend alone names them.
MAX_BOX_LABELS = 60
#: Most labels named in the legend; the rest are counted.
MAX_LEGEND_LABELS = 20
#: Longest label text drawn; longer labels are cut.
MAX_LABEL_CHARS = 24
#: Image formats written, by file name suffix.
IMAGE_FORMATS = ("png", "jpg", "jpeg", "pdf", "svg", "tif", "tiff", "webp")


def choose_stft(sr: int, n_samples: int, *, max_frames: int = 2400) -> tuple[int, int]:
    """``(n_fft, hop_length)`` for a picture: a ~16 ms window (a power of two between 64 and
    2048 samples) and a hop that keeps at most ``max_frames`` columns.

    Examples
    --------
    >>> choose_stft(32000, 32000 * 5)
    (512, 128)
    >>> choose_stft(2500, 2500 * 10)
    (64, 16)
    """
    n_fft = int(2 ** np.clip(round(math.log2(max(sr * 0.016, 1))), 6, 11))
    hop_length = max(n_fft // 4, math.ceil(n_samples / max_frames))
    return n_fft, hop_length


def spectrogram_figure(
    recording: Recording,
    *,
    start_s: float = 0.0,
    stop_s: float | None = None,
    channel: int = 0,
    events: pd.DataFrame | None = None,
    freq_range_hz: tuple[float, float] | None = None,
    dynamic_range_db: float = 70.0,
    title: str | None = None,
    width_in: float = 11.0,
    height_in: float = 4.0,
) -> Figure:
    """A figure of the span's spectrogram with ``events`` (an Events table) drawn on it.

    Only the events of this recording's ``channel`` that overlap the span are drawn (the
    caller passes the events of one recording).
    """
    stop_s = recording.duration_s if stop_s is None else stop_s
    n_fft, hop_length = choose_stft(recording.sr, round((stop_s - start_s) * recording.sr))
    spec = spectrogram_of(
        recording,
        start_s=start_s,
        stop_s=stop_s,
        channel=channel,
        n_fft=n_fft,
        hop_length=hop_length,
    )
    S_db = power_to_db(spec.values, ref=np.max, top_db=dynamic_range_db)

    figure = Figure(figsize=(width_in, height_in), dpi=100, layout="constrained")
    ax = figure.add_subplot()
    half_hop = hop_length / recording.sr / 2
    ax.imshow(
        S_db,
        origin="lower",
        aspect="auto",
        cmap="magma",
        interpolation="nearest",
        extent=(
            spec.times_s[0] - half_hop,
            spec.times_s[-1] + half_hop,
            spec.frequencies_hz[0],
            spec.frequencies_hz[-1],
        ),
    )
    low, high = _band(freq_range_hz, sr=recording.sr)
    ax.set_ylim(low, high)
    ax.set_xlim(start_s, stop_s)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("frequency (Hz)")
    ax.set_title(title or f"{recording.path.name}  channel {channel}", loc="left", fontsize=10)
    if events is not None and len(events):
        _draw_events(ax, events, channel=channel, span=(start_s, stop_s), band=(low, high))
    return figure


def _band(freq_range_hz, *, sr: float) -> tuple[float, float]:
    if freq_range_hz is None:
        return 0.0, sr / 2
    low, high = (float(v) for v in freq_range_hz)
    if not 0 <= low < high:  # also NaN
        raise ParameterError(
            f"freq_range_hz={freq_range_hz!r} must be (low, high) with 0 <= low < high, in Hz"
        )
    return low, high


def save_spectrogram(path: str | os.PathLike[str], recording: Recording, **kwargs) -> Path:
    """Render :func:`spectrogram_figure` to ``path`` (written atomically) in the image format
    its suffix names (one of :data:`IMAGE_FORMATS`)."""
    path = Path(path)
    image_format = image_format_of(path)
    figure = spectrogram_figure(recording, **kwargs)
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format=image_format)
    return path


def image_format_of(path: str | os.PathLike[str]) -> str:
    """The image format a file name's suffix names, e.g. ``"png"`` for ``song.PNG``.

    Raises
    ------
    ParameterError
        The suffix names none of :data:`IMAGE_FORMATS`.
    """
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in IMAGE_FORMATS:
        valid = ", ".join(f".{name}" for name in IMAGE_FORMATS)
        shown = f"suffix .{suffix}" if suffix else "no suffix"
        raise ParameterError(f"{path} has {shown}; an image file name ends in one of {valid}")
    return suffix


def _draw_events(ax, events: pd.DataFrame, *, channel: int, span, band) -> None:
    start, stop = span
    visible = events[
        (events["channel"] == channel) & (events["stop_s"] >= start) & (events["start_s"] <= stop)
    ]
    if visible.empty:
        return
    labels = sorted(visible["label"].unique())
    palette = colormaps["tab10" if len(labels) <= 10 else "tab20"]
    colour_of = {label: palette(i % palette.N) for i, label in enumerate(labels)}
    low_band, high_band = band
    is_point = (visible["start_s"] == visible["stop_s"]).to_numpy()
    points, boxes = visible[is_point], visible[~is_point]
    # Boxes span their frequency bounds when known, the shown band otherwise.
    low = _column_or(boxes, "low_hz", low_band)
    high = _column_or(boxes, "high_hz", high_band)
    box_starts = boxes["start_s"].to_numpy(float)
    box_stops = boxes["stop_s"].to_numpy(float)
    if len(boxes):
        # One collection for every box: one artist per box takes minutes for many events.
        corners = np.stack(
            [
                np.stack([box_starts, low], axis=1),
                np.stack([box_stops, low], axis=1),
                np.stack([box_stops, high], axis=1),
                np.stack([box_starts, high], axis=1),
            ],
            axis=1,
        )
        ax.add_collection(
            PolyCollection(
                corners,
                facecolors="none",
                edgecolors=[colour_of[label] for label in boxes["label"]],
                linewidths=1.2,
            )
        )
    if len(boxes) <= MAX_BOX_LABELS:
        tops = np.minimum(high, high_band)
        for x, y, label in zip(box_starts, tops, boxes["label"], strict=True):
            ax.text(
                x,
                y,
                shorten(label),
                color="white",
                fontsize=7,
                va="top",
                ha="left",
                clip_on=True,
                bbox={"facecolor": colour_of[label], "alpha": 0.7, "pad": 1, "linewidth": 0},
            )
    if len(points):
        top = high_band - 0.07 * (high_band - low_band)
        ax.vlines(
            points["start_s"].to_numpy(float),
            top,
            high_band,
            colors=[colour_of[label] for label in points["label"]],
            linewidth=1.5,
        )
    box_labels = set(boxes["label"])
    shown = labels[:MAX_LEGEND_LABELS]
    handles = [
        Patch(edgecolor=colour_of[label], facecolor="none", linewidth=1.5)
        if label in box_labels
        else Line2D([], [], color=colour_of[label], linewidth=2)
        for label in shown
    ]
    names = [shorten(label) for label in shown]
    if len(labels) > len(shown):
        handles.append(Patch(facecolor="none", edgecolor="none"))
        names.append(f"and {len(labels) - len(shown)} more labels")
    ax.legend(
        handles,
        names,
        loc="upper left",
        bbox_to_anchor=(1.005, 1.0),
        fontsize=8,
        frameon=False,
        borderaxespad=0,
    )


def shorten(label: str, *, max_chars: int = MAX_LABEL_CHARS) -> str:
    """``label`` cut to ``max_chars`` characters (an ellipsis marks the cut).

    Examples
    --------
    >>> shorten("a" * 40, max_chars=5)
    'aaaa…'
    """
    label = str(label)
    return label if len(label) <= max_chars else label[: max_chars - 1] + "…"


def _column_or(table: pd.DataFrame, column: str, default: float) -> np.ndarray:
    if column not in table.columns:
        return np.full(len(table), float(default))
    values = table[column].to_numpy(float)
    return np.where(np.isnan(values), default, values)
