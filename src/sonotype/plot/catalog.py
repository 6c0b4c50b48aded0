"""Pictures for a repertoire catalog: the embedding, cluster galleries, transitions."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure

from sonotype.atomic import atomic_path


def save_figure(figure: Figure, path: str | os.PathLike[str], *, dpi: int = 100) -> Path:
    """Write ``figure`` as a PNG atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=dpi)
    return path


def embedding_figure(
    coords: np.ndarray,
    labels: Sequence,
    *,
    title: str = "",
    noise_label=-1,
    width_in: float = 6.5,
) -> Figure:
    """A 2-D scatter of ``coords`` (n, 2) coloured by ``labels``; noise points in grey.

    Each label's name is written at its median position, so a catalog can be read without
    matching colours to a legend.
    """
    labels = np.asarray(labels).astype(str)
    figure = Figure(figsize=(width_in, width_in), layout="constrained")
    ax = figure.add_subplot()
    noise = labels == str(noise_label)
    ax.scatter(*coords[noise].T, s=4, color="0.8", linewidths=0, label="noise")
    names = sorted(set(labels[~noise]), key=_natural)
    palette = colormaps["tab20" if len(names) > 10 else "tab10"]
    for i, name in enumerate(names):
        members = labels == name
        ax.scatter(*coords[members].T, s=6, color=palette(i % palette.N), linewidths=0)
        x, y = np.median(coords[members], axis=0)
        box = {"boxstyle": "round,pad=0.15", "fc": "white", "alpha": 0.7, "lw": 0}
        ax.annotate(name, (x, y), fontsize=9, weight="bold", ha="center", va="center", bbox=box)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, loc="left", fontsize=10)
    return figure


def gallery_figure(
    spectrograms: np.ndarray, *, titles: Sequence[str] = (), columns: int = 8, cell_in: float = 1.0
) -> Figure:
    """Spectrogram thumbnails (n, n_freq, n_time) in a grid, low frequencies at the bottom."""
    n = len(spectrograms)
    rows = max(1, -(-n // columns))
    figure = Figure(figsize=(columns * cell_in, rows * cell_in * 1.1), layout="constrained")
    for i in range(rows * columns):
        ax = figure.add_subplot(rows, columns, i + 1)
        ax.set_axis_off()
        if i < n:
            ax.imshow(spectrograms[i], origin="lower", aspect="auto", cmap="magma")
            if i < len(titles):
                ax.set_title(titles[i], fontsize=6)
    return figure


def transitions_figure(probabilities: pd.DataFrame, *, title: str = "") -> Figure:
    """A heatmap of first-order transition probabilities (rows: from, columns: to)."""
    size = 1.0 + 0.45 * max(len(probabilities.columns), 3)
    figure = Figure(figsize=(size + 1.2, size), layout="constrained")
    ax = figure.add_subplot()
    image = ax.imshow(probabilities.to_numpy(dtype=float), cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(probabilities.columns)), [str(c) for c in probabilities.columns])
    ax.set_yticks(range(len(probabilities.index)), [str(r) for r in probabilities.index])
    ax.set_xlabel("next")
    ax.set_ylabel("from")
    ax.tick_params(axis="x", labelrotation=90)
    values = probabilities.to_numpy(dtype=float)
    for (r, c), value in np.ndenumerate(values):
        if value >= 0.05:
            ax.text(c, r, f"{value:.2f}".lstrip("0"), ha="center", va="center", fontsize=6,
                    color="white" if value > 0.6 else "black")  # fmt: skip
    figure.colorbar(image, ax=ax, shrink=0.7, label="probability")
    ax.set_title(title, loc="left", fontsize=10)
    return figure


def _natural(name: str):
    """Sort "2" before "10" but keep non-numbers alphabetical."""
    return (0, int(name), "") if name.lstrip("-").isdigit() else (1, 0, name)
