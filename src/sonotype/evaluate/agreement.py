"""Agreement between two annotators of the same recordings.

Neither annotator is the truth, so the summary is symmetric: swapping them swaps the
``_a`` and ``_b`` columns and leaves F1 and kappa unchanged.

- Events are matched one to one as by :func:`~sonotype.evaluate.match_events`; F1
  (``2 matched / (n_a + n_b)``) is the F1 of either annotator scored against the other.
- For intervals, Cohen's kappa over time: each label in each recording and channel
  divides time into four parts (annotated by both, by A only, by B only, by neither),
  measured exactly from the interval boundaries. The time judged is each recording's
  duration, when ``durations_s`` gives it, else the annotated span of the recording and
  channel: from the first onset to the last offset of either annotator, any label. The
  four durations are summed over recordings and channels, and kappa is
  ``(p_o - p_e) / (1 - p_e)`` with ``p_o`` the fraction of time on which they agree and
  ``p_e`` the agreement expected by chance from each annotator's fraction of labelled
  time. The ``"(all)"`` row pools the four durations of every label. Kappa is NaN where it
  is undefined (no annotated time, or a label covering all of it for both).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from sonotype.errors import ParameterError
from sonotype.evaluate._checks import (
    ALL_LABELS,
    TIME_EPSILON_S,
    as_events,
    ratio,
    select_labels,
)
from sonotype.evaluate.matching import Criterion, match_validated
from sonotype.evaluate.overlap import coverage_durations

#: Columns of the table :func:`annotator_agreement` returns, in order.
AGREEMENT_COLUMNS = (
    "label",
    "n_a",
    "n_b",
    "matched",
    "only_a",
    "only_b",
    "f1",
    "a_duration_s",
    "b_duration_s",
    "both_duration_s",
    "kappa",
)


def annotator_agreement(
    a: pd.DataFrame,
    b: pd.DataFrame,
    *,
    tolerance_s: float = 0.01,
    offset_tolerance_s: float | None = None,
    min_iou: float | None = None,
    labels: str | Iterable[str] | None = None,
    durations_s: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Symmetric agreement between annotators ``a`` and ``b`` (see the module notes).

    Parameters
    ----------
    a, b : DataFrame
        Events tables of the two annotators, with the same recording names.
    tolerance_s, offset_tolerance_s, min_iou : float, optional
        How events match, as for :func:`~sonotype.evaluate.match_events`.
    labels : str or sequence of str, optional
        Compare only these labels; all by default.
    durations_s : mapping of str to float, optional
        Duration in seconds of every recording, by name: kappa then judges all of each
        recording's time, not only its annotated span.

    Returns
    -------
    DataFrame
        Columns :data:`AGREEMENT_COLUMNS`, one row per label and a last ``"(all)"`` row:
        event counts (``matched``, ``only_a``, ``only_b``), F1, the labelled time of each
        annotator and of both (union of each label's intervals, seconds), and kappa.

    Examples
    --------
    >>> from sonotype.annotations import make_events
    >>> a = make_events("s.wav", [0.0, 2.0], [1.0, 3.0], "x")
    >>> b = make_events("s.wav", [0.0], [1.0], "x")
    >>> row = annotator_agreement(a, b).iloc[0]
    >>> int(row.matched), int(row.only_a), round(float(row.f1), 3), round(float(row.kappa), 3)
    (1, 1, 0.667, 0.4)
    """
    a, b = as_events(a, name="a"), as_events(b, name="b")
    criterion = Criterion.check(
        tolerance_s=tolerance_s, offset_tolerance_s=offset_tolerance_s, min_iou=min_iou
    )
    chosen = select_labels(labels, a, b)
    spans = _spans(a, b, durations_s)
    matches = match_validated(a, b, criterion=criterion, labels=chosen)

    def count(column: pd.Series) -> np.ndarray:
        counts = column.value_counts().reindex(chosen, fill_value=0).to_numpy()
        return np.append(counts, counts.sum()).astype(np.int64)

    n_a, n_b, matched = count(a["label"]), count(b["label"]), count(matches["label"])

    a_kept, b_kept = a[a["label"].isin(chosen)], b[b["label"].isin(chosen)]
    cover = coverage_durations(a_kept, b_kept, keys=("recording", "channel", "label"))
    per_label = cover.groupby("label")[["both_s", "only_a_s", "only_b_s"]].sum()
    per_label = per_label.reindex(chosen, fill_value=0.0)
    both = np.append(per_label["both_s"], per_label["both_s"].sum())
    only_a = np.append(per_label["only_a_s"], per_label["only_a_s"].sum())
    only_b = np.append(per_label["only_b_s"], per_label["only_b_s"].sum())
    total = np.full(len(both), spans)
    total[-1] = spans * len(chosen)
    return pd.DataFrame(
        {
            "label": [*chosen, ALL_LABELS],
            "n_a": n_a,
            "n_b": n_b,
            "matched": matched,
            "only_a": n_a - matched,
            "only_b": n_b - matched,
            "f1": ratio(2 * matched, n_a + n_b),
            "a_duration_s": both + only_a,
            "b_duration_s": both + only_b,
            "both_duration_s": both,
            "kappa": cohen_kappa_durations(
                both_s=both, only_a_s=only_a, only_b_s=only_b, total_s=total
            ),
        },
        columns=list(AGREEMENT_COLUMNS),
    )


def cohen_kappa_durations(
    *,
    both_s: np.ndarray,
    only_a_s: np.ndarray,
    only_b_s: np.ndarray,
    total_s: np.ndarray,
) -> np.ndarray:
    """Cohen's kappa of two binary annotations from the durations of their 2 x 2 table.

    Parameters
    ----------
    both_s, only_a_s, only_b_s : array_like, seconds
        Time labelled by both annotators, by A only, by B only.
    total_s : array_like, seconds
        All the time judged; the rest (``total_s`` minus the three) is labelled by neither.

    Returns
    -------
    ndarray
        Kappa; NaN where the total is 0 or chance agreement is 1.

    Examples
    --------
    >>> float(cohen_kappa_durations(both_s=1.0, only_a_s=0.0, only_b_s=0.0, total_s=4.0))
    1.0
    """
    both, only_a, only_b, total = np.broadcast_arrays(
        *(np.asarray(x, dtype=np.float64) for x in (both_s, only_a_s, only_b_s, total_s))
    )
    p_a = ratio(both + only_a, total)
    p_b = ratio(both + only_b, total)
    observed = ratio(total - only_a - only_b, total)
    chance = p_a * p_b + (1 - p_a) * (1 - p_b)
    with np.errstate(invalid="ignore"):
        kappa = ratio(observed - chance, 1 - chance)
    # Chance agreement within rounding of 1 (a label filling all the time) is undefined too.
    return np.where(np.abs(1 - chance) < 1e-12, np.nan, kappa)


def _spans(a: pd.DataFrame, b: pd.DataFrame, durations_s: Mapping[str, float] | None) -> float:
    """Total time judged: summed over the (recording, channel) pairs of either table."""
    both = pd.concat([a, b], ignore_index=True)
    if len(both) == 0:
        return 0.0
    grouped = both.groupby(["recording", "channel"])
    if durations_s is None:
        return float((grouped["stop_s"].max() - grouped["start_s"].min()).sum())
    if not isinstance(durations_s, Mapping):
        raise ParameterError(
            f"durations_s={durations_s!r} must map recording names to durations in seconds"
        )
    ends = grouped["stop_s"].max()
    total = 0.0
    for (recording, _), end in ends.items():
        if recording not in durations_s:
            raise ParameterError(
                f"durations_s has no duration for recording {recording!r}; give every "
                "recording's duration, or None to judge the annotated span"
            )
        duration = float(durations_s[recording])
        if not np.isfinite(duration) or duration < end - TIME_EPSILON_S:
            raise ParameterError(
                f"durations_s[{recording!r}]={durations_s[recording]!r} must be a finite "
                f"duration covering the annotations, which end at {end:g} s"
            )
        total += duration
    return total
