"""Pictures of review runs: accuracy per held-out recording (a jitter plot), learning
curves over training-set size, and accuracy, size and training time across runs.

Each function returns a :class:`matplotlib.figure.Figure` (no pyplot); write one with
:func:`sonotype.plot.catalog.save_figure`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sonotype.errors import ParameterError


def _require(table: pd.DataFrame, columns, *, name: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ParameterError(f"{name} lacks column(s) {', '.join(missing)}")


def jitter_figure(
    recordings: pd.DataFrame, tasks: pd.DataFrame, *, title: str = "", random_state: int = 0
) -> Figure:
    """Accuracy of each task (left) and of each recording within each task (right), one
    point each, jittered sideways; a bar at the mean.

    Parameters
    ----------
    recordings : DataFrame
        task, recording, n, accuracy.
    tasks : DataFrame
        task, accuracy.
    """
    _require(recordings, ("task", "recording", "accuracy"), name="recordings")
    _require(tasks, ("task", "accuracy"), name="tasks")
    rng = np.random.default_rng(random_state)
    figure = Figure(figsize=(6.5, 3.6), layout="constrained")
    axes = figure.subplots(1, 2, sharey=True)
    for ax, values, what in (
        (axes[0], tasks["accuracy"].to_numpy(float), "tasks (folds x replicates)"),
        (axes[1], recordings["accuracy"].to_numpy(float), "held-out recordings per task"),
    ):
        x = rng.uniform(-0.15, 0.15, len(values))
        ax.scatter(x, values, s=18, alpha=0.7, color="tab:blue")
        if len(values):
            ax.hlines(np.nanmean(values), -0.3, 0.3, color="black", linewidth=2)
        ax.set_xlim(-0.5, 0.5)
        ax.set_xticks([])
        ax.set_xlabel(f"{what} (n={len(values)})")
    axes[0].set_ylabel("accuracy of held-out examples")
    axes[0].set_ylim(-0.02, 1.02)
    if title:
        figure.suptitle(title)
    return figure


def size_curve_figure(tasks: pd.DataFrame, *, title: str = "") -> Figure:
    """Accuracy against training examples: each task a point, the mean and its range per
    size a line and a band (a learning curve, as vak's ``learncurve``).

    Parameters
    ----------
    tasks : DataFrame
        size, n_train, accuracy, balanced_accuracy.
    """
    _require(tasks, ("size", "n_train", "accuracy", "balanced_accuracy"), name="tasks")
    figure = Figure(figsize=(6.5, 3.8), layout="constrained")
    ax = figure.subplots()
    for column, colour in (("accuracy", "tab:blue"), ("balanced_accuracy", "tab:orange")):
        ax.scatter(tasks["n_train"], tasks[column], s=14, alpha=0.6, color=colour)
        by = tasks.groupby("size", sort=True).agg(
            n=("n_train", "mean"), mean=(column, "mean"), low=(column, "min"), high=(column, "max")
        )
        ax.plot(by["n"], by["mean"], color=colour, label=column.replace("_", " "))
        ax.fill_between(by["n"], by["low"], by["high"], color=colour, alpha=0.15)
    ax.set_xlabel("training examples (mean per size)")
    ax.set_ylabel("accuracy on the test set")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(loc="lower right")
    if title:
        ax.set_title(title)
    return figure


def compare_figure(runs: pd.DataFrame, *, title: str = "") -> Figure:
    """Accuracy (mean, with the min-max range), trainable parameters and training seconds
    of each run, side by side (SongExplorer's Compare).

    Parameters
    ----------
    runs : DataFrame
        run, accuracy_mean, accuracy_min, accuracy_max, n_parameters, seconds_mean.
    """
    columns = (
        "run",
        "accuracy_mean",
        "accuracy_min",
        "accuracy_max",
        "n_parameters",
        "seconds_mean",
    )
    _require(runs, columns, name="runs")
    figure = Figure(figsize=(max(6.5, 1.2 * len(runs) + 3), 3.8), layout="constrained")
    axes = figure.subplots(1, 3)
    x = np.arange(len(runs))
    mean = runs["accuracy_mean"].to_numpy(float)
    low = mean - runs["accuracy_min"].to_numpy(float)
    high = runs["accuracy_max"].to_numpy(float) - mean
    axes[0].errorbar(x, mean, yerr=[low, high], fmt="o", capsize=4)
    axes[0].set_ylabel("accuracy (mean, min-max)")
    axes[1].bar(x, runs["n_parameters"].to_numpy(float))
    axes[1].set_ylabel("trainable parameters")
    axes[2].bar(x, runs["seconds_mean"].to_numpy(float))
    axes[2].set_ylabel("training seconds (mean)")
    for ax in axes:
        ax.set_xticks(x, runs["run"].tolist(), rotation=45, ha="right")
    if title:
        figure.suptitle(title)
    return figure
