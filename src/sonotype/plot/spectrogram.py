"""Spectrograms with time and frequency axes and annotations drawn on them.

Uses matplotlib's object interface with the Agg renderer (no pyplot, no display needed).
Interval events are drawn as boxes (spanning their frequency bounds when known, the whole
height otherwise) labelled with their label; point events as ticks along the top.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from sonotype.atomic import atomic_path
from sonotype.audio import Recording
from sonotype.spectral import power_to_db
from sonotype.spectral.stream import spectrogram_of

#: Most labels shown as text above their boxes; beyond, the legend alone names them.
MAX_BOX_LABELS = 60


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
    low, high = freq_range_hz or (0.0, recording.sr / 2)
    ax.set_ylim(low, high)
    ax.set_xlim(start_s, stop_s)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("frequency (Hz)")
    ax.set_title(title or f"{recording.path.name}  channel {channel}", loc="left", fontsize=10)
    if events is not None and len(events):
        _draw_events(ax, events, channel=channel, span=(start_s, stop_s), band=(low, high))
    return figure


def save_spectrogram(path: str | os.PathLike[str], recording: Recording, **kwargs) -> Path:
    """Render :func:`spectrogram_figure` to a PNG file at ``path`` (written atomically)."""
    path = Path(path)
    figure = spectrogram_figure(recording, **kwargs)
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png")
    return path


def _draw_events(ax, events: pd.DataFrame, *, channel: int, span, band) -> None:
    start, stop = span
    visible = events[
        (events["channel"] == channel) & (events["stop_s"] >= start) & (events["start_s"] <= stop)
    ]
    if visible.empty:
        return
    labels = sorted(visible["label"].unique())
    palette = colormaps["tab10" if len(labels) <= 10 else "tab20"]
    colours = {label: palette(i % palette.N) for i, label in enumerate(labels)}
    points = visible[visible["start_s"] == visible["stop_s"]]
    boxes = visible[visible["start_s"] < visible["stop_s"]]
    low_band, high_band = band
    has_bounds = {"low_hz", "high_hz"} <= set(boxes.columns)
    show_text = len(boxes) <= MAX_BOX_LABELS
    for row in boxes.itertuples(index=False):
        low = row.low_hz if has_bounds and not np.isnan(row.low_hz) else low_band
        high = row.high_hz if has_bounds and not np.isnan(row.high_hz) else high_band
        ax.add_patch(
            Rectangle(
                (row.start_s, low),
                row.stop_s - row.start_s,
                high - low,
                fill=False,
                edgecolor=colours[row.label],
                linewidth=1.2,
            )
        )
        if show_text:
            ax.text(
                row.start_s,
                min(high, high_band),
                row.label,
                color="white",
                fontsize=7,
                va="top",
                ha="left",
                bbox={"facecolor": colours[row.label], "alpha": 0.7, "pad": 1, "linewidth": 0},
            )
    if len(points):
        top = high_band - 0.07 * (high_band - low_band)
        ax.vlines(
            points["start_s"],
            top,
            high_band,
            colors=[colours[label] for label in points["label"]],
            linewidth=1.5,
        )
    handles = [
        Line2D([], [], color=colours[label], linewidth=2)
        if (points["label"] == label).any() and not (boxes["label"] == label).any()
        else Patch(edgecolor=colours[label], facecolor="none", linewidth=1.5)
        for label in labels
    ]
    ax.legend(
        handles,
        labels,
        loc="upper left",
        bbox_to_anchor=(1.005, 1.0),
        fontsize=8,
        frameon=False,
        borderaxespad=0,
    )
