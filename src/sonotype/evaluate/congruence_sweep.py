"""Congruence as a model's threshold varies, and the thresholds that dense annotation favours.

SongExplorer's "dense P/R": a model's thresholds chosen on sparse annotation (``sonotype
accuracy``) need not give the wanted balance of false alarms and misses on a densely
annotated recording, where each label's prevalence is known. :func:`threshold_sweep`
re-thresholds the model's stored probabilities at a grid of thresholds (the same for every
label, as SongExplorer's sweep) and measures the congruence at each;
:func:`dense_thresholds` picks, per label, the threshold whose precision-to-recall ratio
against the humans is nearest each wanted ratio, as a thresholds file that ``sonotype
ethogram --thresholds`` reads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from sonotype.errors import ParameterError
from sonotype.evaluate._checks import ALL_LABELS
from sonotype.evaluate.congruence import LEVELS, _model_columns, congruence

#: Columns of the table :func:`threshold_sweep` returns, in order.
SWEEP_COLUMNS = (
    "level", "threshold", "label", "true_positives", "false_positives", "false_negatives",
    "precision", "recall", "f1",
)  # fmt: skip


def threshold_sweep(
    humans: Mapping[str, pd.DataFrame],
    predict: Callable[[float], pd.DataFrame],
    thresholds: Sequence[float],
    *,
    model: str,
    portions: pd.DataFrame,
    labels: Sequence[str],
    tolerance_s: float = 0.0,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """The model's congruence with the humans at each threshold.

    Parameters
    ----------
    humans : mapping of str to DataFrame
        Each human annotator's Events table.
    predict : callable
        ``predict(threshold)``: the model's events with every label thresholded there.
    thresholds : sequence of float
        The thresholds to try, in [0, 1].
    model : str
        The model's party name (distinct from the humans').
    portions, labels, tolerance_s
        As for :func:`~sonotype.evaluate.congruence.congruence`.
    progress : callable, optional
        Called with (thresholds done, thresholds in all).

    Returns
    -------
    DataFrame
        Columns :data:`SWEEP_COLUMNS`, one row per level, threshold and label (and
        ``"(all)"``): the model's true positives (``everyone``), false positives (``only
        MODEL``) and false negatives (``not MODEL``: every human but not the model), in
        sounds at the event level and seconds at the sample level, with precision, recall
        and F1.
    """
    grid = [float(t) for t in thresholds]
    if not grid or not all(0.0 <= t <= 1.0 for t in grid):
        raise ParameterError(
            f"thresholds={thresholds!r} must be one or more numbers in [0, 1]",
            parameter="thresholds",
        )
    if model in humans:
        raise ParameterError(f"model={model!r} is also the name of a human annotator")
    parties = [*humans, model]
    tp, fp, fn = _model_columns(parties, model)
    rows = []
    for i, threshold in enumerate(grid):
        result = congruence(
            {**humans, model: predict(threshold)},
            model=model,
            portions=portions,
            labels=labels,
            tolerance_s=tolerance_s,
        )
        for level in LEVELS:
            summary = result.summary(level)
            rows.append(
                pd.DataFrame(
                    {
                        "level": level,
                        "threshold": threshold,
                        "label": summary["label"],
                        "true_positives": summary[tp],
                        "false_positives": summary[fp],
                        "false_negatives": summary[fn],
                        "precision": summary["precision"],
                        "recall": summary["recall"],
                        "f1": summary["f1"],
                    }
                )
            )
        if progress:
            progress(i + 1, len(grid))
    return pd.concat(rows, ignore_index=True)[list(SWEEP_COLUMNS)]


def _distance(curve: pd.DataFrame, ratio: float) -> pd.Series:
    """``|log(precision / recall) - log(ratio)|``, rounded so that equal ratios tie; NaN
    where precision or recall is 0 or undefined."""
    precision, recall = curve["precision"].astype(float), curve["recall"].astype(float)
    usable = (precision > 0) & (recall > 0)  # NaN compares False
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.abs(np.log(precision / recall) - np.log(ratio)).round(12)
    return value.where(usable)


def dense_thresholds(
    sweep: pd.DataFrame, pr_ratios: Sequence[float] = (1.0,), *, level: str = "event"
) -> pd.DataFrame:
    """Per label and wanted precision-to-recall ratio, the swept threshold whose ratio is
    nearest (in log ratio; ties go to the higher F1, then to the threshold nearest the ratio
    at the other level, then its higher F1, then the lower threshold).

    Thresholds where precision or recall is 0 or undefined are not candidates; a label with
    none gets NaN (``sonotype ethogram`` then predicts nothing of it).

    Returns
    -------
    DataFrame
        Columns ``label``, ``pr_ratio``, ``threshold``, ``precision``, ``recall`` (the
        thresholds file format of :func:`sonotype.models.accuracy.read_thresholds`), plus
        ``f1`` and ``level``.
    """
    if level not in LEVELS:
        raise ParameterError(
            f"level={level!r} must be one of {', '.join(LEVELS)}", parameter="level"
        )
    ratios = [float(r) for r in pr_ratios]
    if not ratios or not all(np.isfinite(r) and r > 0 for r in ratios):
        raise ParameterError(
            f"pr_ratios={pr_ratios!r} must be finite numbers > 0", parameter="pr_ratios"
        )
    table = sweep[(sweep["level"] == level) & (sweep["label"] != ALL_LABELS)]
    other = sweep[(sweep["level"] != level) & (sweep["label"] != ALL_LABELS)]
    other = other.set_index(["label", "threshold"])
    rows = []
    for label, curve in table.groupby("label", sort=False):
        curve = curve.reset_index(drop=True)
        # The same thresholds at the other level break ties at this one (e.g. when every
        # threshold is perfect at the event level).
        twin = other.reindex(pd.MultiIndex.from_arrays([[label] * len(curve), curve["threshold"]]))
        for ratio in ratios:
            distance = _distance(curve, ratio)
            if distance.isna().all():
                rows.append((label, ratio, np.nan, np.nan, np.nan, np.nan))
                continue
            ranked = curve.assign(
                distance=distance.fillna(np.inf),
                f1_=-curve["f1"].fillna(0.0),
                twin_distance=_distance(twin, ratio).fillna(np.inf).to_numpy(),
                twin_f1=-twin["f1"].fillna(0.0).to_numpy(),
            )
            best = ranked.sort_values(
                ["distance", "f1_", "twin_distance", "twin_f1", "threshold"]
            ).iloc[0]
            rows.append(
                (label, ratio, best["threshold"], best["precision"], best["recall"], best["f1"])
            )
    out = pd.DataFrame(
        rows, columns=["label", "pr_ratio", "threshold", "precision", "recall", "f1"]
    )
    return out.assign(level=level)
