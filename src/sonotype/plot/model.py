"""Pictures of a classifier's accuracy: confusion, precision-recall, learning, checkpoints and
the post-processing learned from the annotations.

Each function returns a :class:`matplotlib.figure.Figure` (no pyplot); write one with
:func:`sonotype.plot.catalog.save_figure`. The tables they draw come from
:mod:`sonotype.models.accuracy` and from training.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure

from sonotype.errors import ParameterError

#: Marker of the chosen thresholds, one per precision-to-recall ratio (cycled).
RATIO_MARKERS = ("o", "s", "^", "D", "v", "P")


def confusion_figure(confusion: pd.DataFrame, *, title: str = "") -> Figure:
    """A heat map of a confusion table, coloured by row fraction, counts written in the cells.

    Parameters
    ----------
    confusion : DataFrame
        Counts; rows are human labels, columns predicted labels (as
        :attr:`~sonotype.models.accuracy.AccuracyResult.confusion`). Need not be square.
    title : str

    Returns
    -------
    Figure
        One heat-map axes (plus its colour bar). Each cell shows its count; the colour is the
        count divided by the row's sum (a row summing to zero stays blank).
    """
    counts = confusion.to_numpy(dtype=float)
    sums = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        fractions = np.where(sums > 0, counts / sums, np.nan)
    n_rows, n_columns = counts.shape
    width = 1.6 + 0.55 * max(n_columns, 3)
    height = 1.2 + 0.5 * max(n_rows, 3)
    figure = Figure(figsize=(width + 1.2, height), layout="constrained")
    ax = figure.add_subplot()
    image = ax.imshow(fractions, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(n_columns), [str(c) for c in confusion.columns])
    ax.set_yticks(range(n_rows), [str(r) for r in confusion.index])
    ax.tick_params(axis="x", labelrotation=90)
    ax.set_xlabel(str(confusion.columns.name or "predicted"))
    ax.set_ylabel(str(confusion.index.name or "truth"))
    for (r, c), count in np.ndenumerate(counts):
        dark = np.isfinite(fractions[r, c]) and fractions[r, c] > 0.6
        ax.text(c, r, f"{count:.0f}", ha="center", va="center", fontsize=7,
                color="white" if dark else "black")  # fmt: skip
    figure.colorbar(image, ax=ax, shrink=0.7, label="fraction of row")
    ax.set_title(title, loc="left", fontsize=10)
    return figure


def pr_curves_figure(
    pr_curves: dict[str, pd.DataFrame], thresholds: pd.DataFrame, *, title: str = ""
) -> Figure:
    """One precision-recall curve per label, with a marker at each chosen threshold.

    Parameters
    ----------
    pr_curves : dict of str to DataFrame
        Per label, columns ``precision`` and ``recall`` (as
        :attr:`~sonotype.models.accuracy.AccuracyResult.pr_curves`). Empty curves are left out.
    thresholds : DataFrame
        Columns ``label``, ``pr_ratio``, ``precision`` and ``recall``; rows with NaN
        precision or recall are left out.
    title : str

    Returns
    -------
    Figure
        One axes: recall on x, precision on y. The curves are the lines labelled with the
        label names (in the legend); the threshold markers are lines whose labels start with
        ``"_threshold"`` (kept out of the legend), one marker shape per ratio.
    """
    _require(thresholds, ("label", "pr_ratio", "precision", "recall"), name="thresholds")
    figure = Figure(figsize=(6.0, 5.0), layout="constrained")
    ax = figure.add_subplot()
    names = list(pr_curves)
    palette = colormaps["tab20" if len(names) > 10 else "tab10"]
    ratios = list(pd.unique(thresholds["pr_ratio"]))
    for i, label in enumerate(names):
        curve = pr_curves[label]
        if not len(curve):
            continue
        _require(curve, ("precision", "recall"), name=f"pr_curves[{label!r}]")
        color = palette(i % palette.N)
        recall, precision = curve["recall"].to_numpy(), curve["precision"].to_numpy()
        ax.plot(recall, precision, drawstyle="steps-post", color=color, lw=1.5, label=label)
        chosen = thresholds[(thresholds["label"] == label)].dropna(subset=["precision", "recall"])
        for row in chosen.itertuples(index=False):
            marker = RATIO_MARKERS[ratios.index(row.pr_ratio) % len(RATIO_MARKERS)]
            ax.plot([row.recall], [row.precision], marker=marker, ms=7, ls="none", color=color,
                    mec="black", mew=0.6, label=f"_threshold {label} {row.pr_ratio:g}")  # fmt: skip
    for j, ratio in enumerate(ratios):  # legend entries for the marker shapes
        ax.plot([], [], marker=RATIO_MARKERS[j % len(RATIO_MARKERS)], ls="none", color="0.5",
                mec="black", mew=0.6, label=f"pr ratio {ratio:g}")  # fmt: skip
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.grid(alpha=0.3)
    if names:
        ax.legend(fontsize=8, loc="lower left")
    ax.set_title(title, loc="left", fontsize=10)
    return figure


def learning_curve_figure(curve: pd.DataFrame, *, title: str = "") -> Figure:
    """Loss, accuracy and per-label F1 against training step.

    Parameters
    ----------
    curve : DataFrame
        Columns ``step``, ``train_loss``, ``train_accuracy``, ``validation_loss``,
        ``validation_accuracy`` and optionally ``f1:<label>`` columns; NaN where a quantity
        was not measured at that step (validation is usually measured less often).
    title : str

    Returns
    -------
    Figure
        Two axes sharing x: losses (train and validation), then accuracies and each label's
        F1 (dashed). Each line joins the steps where its quantity was measured.
    """
    columns = ("step", "train_loss", "train_accuracy", "validation_loss", "validation_accuracy")
    _require(curve, columns, name="curve")
    figure = Figure(figsize=(7.0, 6.0), layout="constrained")
    loss_ax, accuracy_ax = figure.subplots(2, 1, sharex=True)
    step = curve["step"].to_numpy(dtype=float)

    def draw(ax, column: str, **style) -> None:
        values = curve[column].to_numpy(dtype=float)
        measured = np.isfinite(values)
        ax.plot(step[measured], values[measured], label=column, **style)

    draw(loss_ax, "train_loss", color="C0", lw=1)
    draw(loss_ax, "validation_loss", color="C1", lw=1.5, marker=".")
    loss_ax.set_ylabel("loss")
    loss_ax.legend(fontsize=8)
    loss_ax.grid(alpha=0.3)
    draw(accuracy_ax, "train_accuracy", color="C0", lw=1)
    draw(accuracy_ax, "validation_accuracy", color="C1", lw=1.5, marker=".")
    f1_columns = [c for c in curve.columns if str(c).startswith("f1:")]
    palette = colormaps["tab20" if len(f1_columns) > 8 else "tab10"]
    for i, column in enumerate(f1_columns):
        draw(accuracy_ax, column, color=palette((i + 2) % palette.N), lw=1, ls="--")
    accuracy_ax.set_ylabel("accuracy, F1")
    accuracy_ax.set_xlabel("step")
    accuracy_ax.set_ylim(-0.02, 1.02)
    accuracy_ax.legend(fontsize=7, ncols=2 if len(f1_columns) > 4 else 1)
    accuracy_ax.grid(alpha=0.3)
    loss_ax.set_title(title, loc="left", fontsize=10)
    return figure


def checkpoints_figure(table: pd.DataFrame, *, title: str = "") -> Figure:
    """Validation scores of each saved checkpoint against its step, the best one marked.

    Parameters
    ----------
    table : DataFrame
        Columns ``step`` and ``macro_f1``, one row per checkpoint; optionally ``objective``
        (the post-processed ethogram's validation objective), which then ranks them.
    title : str

    Returns
    -------
    Figure
        One axes with the window F1 line (label ``"macro F1"``), the objective line (label
        ``"objective"``) when given, and a star at the best checkpoint (label ``"best"``;
        the earliest step among equals), its step written beside it.
    """
    _require(table, ("step", "macro_f1"), name="table")
    ordered = table.sort_values("step", kind="stable")
    step = ordered["step"].to_numpy(dtype=float)
    f1 = ordered["macro_f1"].to_numpy(dtype=float)
    ranked = f1
    figure = Figure(figsize=(6.0, 3.5), layout="constrained")
    ax = figure.add_subplot()
    ax.plot(step, f1, marker=".", color="C0", label="macro F1")
    if "objective" in ordered.columns:
        ranked = ordered["objective"].to_numpy(dtype=float)
        ax.plot(step, ranked, marker=".", color="C2", label="objective")
    if np.isfinite(ranked).any():
        best = int(np.nanargmax(ranked))
        ax.plot([step[best]], [ranked[best]], marker="*", ms=14, ls="none", color="C3",
                label="best")  # fmt: skip
        ax.annotate(f"step {step[best]:g}: {ranked[best]:.3f}", (step[best], ranked[best]),
                    xytext=(6, -12), textcoords="offset points", fontsize=8)  # fmt: skip
    ax.set_xlabel("checkpoint step")
    ax.set_ylabel("validation score")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title(title, loc="left", fontsize=10)
    return figure


def intervals_figure(
    intervals: pd.DataFrame,
    *,
    min_gap_s: dict[str, float],
    min_duration_s: dict[str, float],
    bounds: dict[str, dict] | None = None,
    title: str = "",
) -> Figure:
    """Per label, the annotated gaps and durations, the chosen minimum gap and duration marked.

    Parameters
    ----------
    intervals : DataFrame
        Columns ``label``, ``duration_s`` and ``gap_s`` (NaN for the last event of a
        recording), as :func:`sonotype.models.postprocess.annotation_intervals` gives.
    min_gap_s, min_duration_s : dict of str to float, seconds
        The chosen values per label.
    bounds : dict of str to dict, optional
        Per label, ``max_min_gap_s`` and ``max_min_duration_s``: drawn dashed.
    title : str

    Returns
    -------
    Figure
        One row per label (those of ``min_gap_s``), two axes each: histograms of the gaps
        and of the durations in ms (log scale), a solid line (label ``"chosen"``) at the
        chosen value and a dashed one (label ``"bound"``) at the bound.
    """
    _require(intervals, ("label", "duration_s", "gap_s"), name="intervals")
    labels = list(min_gap_s)
    figure = Figure(figsize=(8.0, 1.2 + 1.6 * max(len(labels), 1)), layout="constrained")
    axes = figure.subplots(max(len(labels), 1), 2, squeeze=False)
    for row, label in enumerate(labels):
        mine = intervals[intervals["label"] == label]
        for column, (values, chosen, key, name) in enumerate(
            (
                (mine["gap_s"], min_gap_s.get(label, 0.0), "max_min_gap_s", "gap after"),
                (mine["duration_s"], min_duration_s.get(label, 0.0), "max_min_duration_s",
                 "duration"),
            )
        ):  # fmt: skip
            ax = axes[row, column]
            ms = 1000 * values.dropna().to_numpy(dtype=float)
            positive = ms[ms > 0]
            if len(positive):
                low, high = max(positive.min(), 0.1), max(positive.max(), 0.2)
                edges = np.geomspace(low / 1.1, high * 1.1, 30)
                ax.hist(np.clip(ms, low, None), bins=edges, color="0.6")
                ax.set_xscale("log")
            ax.axvline(max(1000 * chosen, 0.1), color="C3", lw=1.5, label="chosen")
            if bounds and label in bounds:
                bound = 1000 * float(bounds[label].get(key, np.nan))
                if np.isfinite(bound) and bound > 0:
                    ax.axvline(bound, color="C3", lw=1, ls="--", label="bound")
            ax.set_title(f"{label}: {name} (chosen {1000 * chosen:.3g} ms)", fontsize=8, loc="left")
            ax.tick_params(labelsize=7)
            if row == len(labels) - 1:
                ax.set_xlabel("ms")
    if labels:
        axes[0, 1].legend(fontsize=7)
    figure.suptitle(title, x=0.01, ha="left", fontsize=10)
    return figure


def _require(table: object, columns, *, name: str) -> None:
    if not isinstance(table, pd.DataFrame):
        raise ParameterError(
            f"{name} must be a pandas DataFrame, got {type(table).__name__}; give a table "
            f"with the columns {', '.join(columns)}"
        )
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ParameterError(
            f"{name} lacks the column(s) {', '.join(missing)} (it has "
            f"{', '.join(map(str, table.columns)) or 'none'}); it needs {', '.join(columns)}"
        )
