"""Pictures of an autoencoder: reconstruction previews and the learning curve.

Each function returns a :class:`matplotlib.figure.Figure` (no pyplot); write one with
:func:`sonotype.plot.catalog.save_figure`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sonotype.errors import ParameterError


def reconstruction_figure(
    clean: np.ndarray,
    noisy: np.ndarray,
    reconstructed: np.ndarray,
    *,
    titles: list[str] | None = None,
) -> Figure:
    """Rows of (clean, corrupted, reconstructed) spectrograms ``(n, F, T)``, one column
    per example; row 0 (the lowest frequency) at the bottom of each image."""
    if not (clean.shape == noisy.shape == reconstructed.shape) or clean.ndim != 3:
        raise ParameterError(
            f"clean {clean.shape}, noisy {noisy.shape} and reconstructed "
            f"{reconstructed.shape} must be the same (n, n_freq, n_time) shape"
        )
    n = len(clean)
    figure = Figure(figsize=(1.4 * max(n, 1), 4.4), layout="constrained")
    axes = figure.subplots(3, max(n, 1), squeeze=False)
    for row, (name, images) in enumerate(
        (("clean", clean), ("corrupted", noisy), ("reconstructed", reconstructed))
    ):
        for column in range(max(n, 1)):
            ax = axes[row, column]
            ax.set_xticks([])
            ax.set_yticks([])
            if column < n:
                ax.imshow(
                    images[column], origin="lower", aspect="auto", vmin=0, vmax=1, cmap="magma"
                )
            if column == 0:
                ax.set_ylabel(name, fontsize=8)
            if row == 0 and titles and column < len(titles):
                ax.set_title(titles[column], fontsize=7)
    return figure


def loss_figure(curve: pd.DataFrame, *, title: str = "") -> Figure:
    """Training and validation loss (mean squared error) per epoch, log scale."""
    if "epoch" not in curve or "train_loss" not in curve:
        raise ParameterError("the learning curve needs epoch and train_loss columns")
    figure = Figure(figsize=(5, 3), layout="constrained")
    ax = figure.subplots()
    ax.plot(curve["epoch"], curve["train_loss"], label="training (corrupted input)")
    if "validation_loss" in curve:
        ax.plot(curve["epoch"], curve["validation_loss"], label="validation (clean input)")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean squared error")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    return figure
