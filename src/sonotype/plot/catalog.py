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
    figure = Figure(figsize=(width_in, width_in))
    # Fixed margins: the axes carry no ticks, so a layout engine would only cost time.
    ax = figure.add_axes((0.02, 0.02, 0.96, 0.92))
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


def gallery_image(
    spectrograms: np.ndarray,
    *,
    columns: int = 12,
    cell_px: int = 96,
    gap_px: int = 4,
    cmap: str = "magma",
) -> np.ndarray:
    """Spectrogram thumbnails (n, n_freq, n_time) composed into one RGB image, uint8.

    Drawn straight from the arrays (no axes, no layout): each thumbnail is scaled to its
    own minimum and maximum and coloured by ``cmap``, as ``imshow`` does, with low
    frequencies at the bottom, resized to ``cell_px`` square by nearest neighbour, and
    placed in rows of ``columns`` on white with ``gap_px`` between cells. One figure of
    axes per gallery spent most of a catalog's time in matplotlib's layout (see "Speed" in
    docs/discover.md); this takes milliseconds.

    Returns
    -------
    ndarray of uint8, shape (rows * (cell_px + gap_px) - gap_px, columns' width, 3)
    """
    specs = np.asarray(spectrograms, dtype=np.float64)
    if specs.ndim != 3 or not len(specs):
        raise ValueError(f"spectrograms has shape {specs.shape}; pass (n, n_freq, n_time), n >= 1")
    n, n_freq, n_time = specs.shape
    columns = max(1, min(int(columns), n))
    rows = -(-n // columns)
    low = specs.min(axis=(1, 2), keepdims=True)
    span = specs.max(axis=(1, 2), keepdims=True) - low
    # imshow maps a constant image to the colormap's first colour: scale it to 0 too.
    scaled = np.divide(specs - low, span, out=np.zeros_like(specs), where=span > 0)
    # Nearest-neighbour resampling; the frequency axis flipped so low rows are at the bottom.
    pick_f = (n_freq - 1 - (np.arange(cell_px) * n_freq // cell_px))[:, None]
    pick_t = (np.arange(cell_px) * n_time // cell_px)[None, :]
    colours = colormaps[cmap]
    lut = colours(np.arange(colours.N), bytes=True)[:, :3]
    # The colour index of a value in [0, 1], as Colormap.__call__ computes it.
    levels = np.minimum((scaled * colours.N).astype(np.intp), colours.N - 1)
    thumbs = lut[levels[:, pick_f, pick_t]]  # (n, cell_px, cell_px, 3)
    step = cell_px + gap_px
    image = np.full((rows * step - gap_px, columns * step - gap_px, 3), 255, dtype=np.uint8)
    for i, thumb in enumerate(thumbs):
        r, c = divmod(i, columns)
        image[r * step : r * step + cell_px, c * step : c * step + cell_px] = thumb
    return image


def save_image(image: np.ndarray, path: str | os.PathLike[str]) -> Path:
    """Write an RGB(A) uint8 array as a PNG atomically (no figure, no layout).

    zlib level 3 rather than Pillow's 6: 2.5x faster to encode spectrogram thumbnails,
    for files 0-30% larger (measured on 12 thumbnails of 96 x 96).
    """
    from matplotlib.image import imsave

    path = Path(path)
    with atomic_path(path) as tmp:
        imsave(tmp, image, format="png", pil_kwargs={"compress_level": 3})
    return path


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


def heat_colours(values: np.ndarray, *, cmap: str = "Blues", vmin: float = 0.0,
                 vmax: float = 1.0) -> np.ndarray:  # fmt: skip
    """``cmap``'s colour of each value (clipped to ``[vmin, vmax]``) as ``"#rrggbb"``
    strings, same shape as ``values`` (for heatmaps drawn as HTML tables)."""
    values = np.asarray(values, dtype=float)
    scaled = np.clip((values - vmin) / (vmax - vmin), 0.0, 1.0)
    rgb = colormaps[cmap](scaled, bytes=True)[..., :3]
    return np.array(
        [f"#{r:02x}{g:02x}{b:02x}" for r, g, b in rgb.reshape(-1, 3).tolist()], dtype=object
    ).reshape(values.shape)


def _natural(name: str):
    """Sort "2" before "10" but keep non-numbers alphabetical."""
    return (0, int(name), "") if name.lstrip("-").isdigit() else (1, 0, name)
