"""Input checks shared by the evaluation functions: tables, tolerances, label choices."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import numpy as np
import pandas as pd

from sonotype.annotations.events import validate_events
from sonotype.errors import AnnotationError, ParameterError

#: Label of the micro-averaged row that sums every label's counts (or durations).
ALL_LABELS = "(all)"

#: Time differences within this much of a tolerance count as inside it, so that times
#: written in decimal match as a person reads them (1.01 - 1.00 is 0.010000000000000009).
TIME_EPSILON_S = 1e-9

#: Likewise for intersection-over-union thresholds.
IOU_EPSILON = 1e-9


def as_events(table: object, *, name: str) -> pd.DataFrame:
    """``table`` validated as an Events table (fresh RangeIndex), or a ParameterError."""
    if not isinstance(table, pd.DataFrame):
        raise ParameterError(
            f"{name} must be an Events table (a pandas DataFrame), got {type(table).__name__}; "
            "read one with sonotype.annotations.read_events or build one with make_events"
        )
    try:
        return validate_events(table, where=name)
    except AnnotationError as error:
        raise ParameterError(
            f"{name} is not an Events table: {error.problem}; "
            "see sonotype.annotations.events for the columns it needs"
        ) from None


def select_labels(labels: str | Iterable[str] | None, *tables: pd.DataFrame) -> list[str]:
    """The labels to evaluate: all labels of ``tables`` (sorted) or the ones asked for.

    Labels asked for must occur in at least one of the tables.
    """
    present = sorted(set().union(*(t["label"].unique().tolist() for t in tables)))
    if labels is None:
        return present
    asked = [labels] if isinstance(labels, str) else [str(label) for label in labels]
    asked = list(dict.fromkeys(asked))
    if not asked and present:
        raise ParameterError(
            "labels=[] names no label; pass None to evaluate every label", parameter="labels"
        )
    unknown = [label for label in asked if label not in set(present)]
    if unknown:
        shown = ", ".join(present) if present else "none (the tables are empty)"
        raise ParameterError(
            f"labels={asked!r}: {', '.join(map(repr, unknown))} "
            f"{'occurs' if len(unknown) == 1 else 'occur'} in neither table; "
            f"the labels present are {shown}",
            parameter="labels",
        )
    return asked


def group_codes(
    frames: Iterable[pd.DataFrame], keys: tuple[str, ...]
) -> tuple[list[np.ndarray], pd.DataFrame]:
    """Integer codes of the ``keys`` combinations across several tables.

    Returns one code array per table and the table of unique key combinations (row ``i``
    is code ``i``; codes follow the sorted order of the keys).
    """
    frames = list(frames)
    bounds = np.cumsum([0, *(len(f) for f in frames)])
    combined = np.zeros(bounds[-1], np.int64)
    for key in keys:
        values = np.concatenate([f[key].to_numpy() for f in frames])
        distinct, code = np.unique(values, return_inverse=True)
        # Renumber after each key so the combined code never overflows.
        _, combined = np.unique(combined * len(distinct) + code.ravel(), return_inverse=True)
        combined = combined.ravel()
    _, first = np.unique(combined, return_index=True)
    uniques = {
        key: np.concatenate([f[key].to_numpy() for f in frames])[first] if len(first) else []
        for key in keys
    }
    table = pd.DataFrame({k: pd.Series(v, dtype=frames[0][k].dtype) for k, v in uniques.items()})
    return [combined[a:b] for a, b in itertools.pairwise(bounds)], table


def ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``numerator / denominator`` with NaN where the denominator is 0."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    out = np.full(np.broadcast(numerator, denominator).shape, np.nan)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out
