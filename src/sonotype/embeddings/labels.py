"""Labels for the rows of an embedding set: from annotations by overlap, or from metadata.

A window (or event) of an embedding set takes the label of the annotations it overlaps.
**Overlap** between a row ``[a, b)`` and an annotation ``[c, d)`` of the same recording is
the time they share divided by the *shorter* of the two durations, so it is 1 when either
lies wholly inside the other: a 0.1 s call inside a 3 s window counts fully, and so does a
3 s window inside a 10 s annotated chorus. A point annotation (``start_s == stop_s``) inside
a row overlaps it fully. Rows and annotations are matched by recording only (not channel).
A row takes a label when its overlap with that label's annotations reaches ``min_overlap``
(default :data:`MIN_OVERLAP`, 0.5: at least half of the shorter one lies in the other).

- Single-label: the label with the most shared seconds among those that reach the minimum
  (ties: the alphabetically first).
- Multi-label: every label that reaches it, as a sorted tuple.

Rows with no label are the ``background`` class (by default for windows: what a detector
must learn to ignore), or left out (``background=None``; by default for events, which were
selected because they are sounds).

``--labels-from`` names where labels come from (:func:`resolve_labels`):

- ``SOURCE``: stored events of that source (e.g. ``import --source alice``), by overlap;
- ``kind:KIND``: stored events of that kind (e.g. ``kind:annotated``), by overlap;
- ``meta:KEY``: metadata of each row (``meta:folder``, ``meta:season``, ``meta:label:call_type``;
  see :mod:`sonotype.embeddings.metadata`), no overlap needed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sonotype.embeddings.metadata import metadata_labels
from sonotype.errors import ParameterError

#: The default minimum overlap (fraction of the shorter of row and annotation).
MIN_OVERLAP = 0.5
#: The default name of the class of rows that overlap no annotation.
BACKGROUND = "background"
#: Rows (in time order) compared with their candidate annotations at a time.
_ROWS = 1024
#: Row x annotation pairs compared at a time (a few float64 arrays of this many values), so
#: memory stays bounded whatever the annotations.
_PAIRS = 2_000_000


def overlap_labels(
    rows: pd.DataFrame,
    annotations: pd.DataFrame,
    *,
    min_overlap: float = MIN_OVERLAP,
    multi_label: bool = False,
    background: str | None = BACKGROUND,
    column: str = "label",
):
    """The label(s) of each row from the annotations it overlaps.

    Parameters
    ----------
    rows : DataFrame
        Events (windows or events of an embedding set): ``recording``, ``start_s``, ``stop_s``.
    annotations : DataFrame
        Events with ``recording``, ``start_s``, ``stop_s`` and ``column``.
    min_overlap : float in (0, 1]
        See the module notes.
    multi_label : bool
        Return every label that reaches the minimum (a tuple per row) instead of one.
    background : str or None
        The label of rows that overlap nothing (``""``/empty tuple when None: left out).
    column : str
        The annotations' label column (``label`` or a ``label:NAME`` column).

    Returns
    -------
    ndarray of object, shape (n_rows,)
        One string per row (``""`` for a row left out), or one tuple of strings per row.

    Examples
    --------
    >>> from sonotype.annotations.events import make_events
    >>> windows = make_events("a.wav", [0.0, 1.0, 2.0], [1.0, 2.0, 3.0], "window")
    >>> calls = make_events("a.wav", [0.2, 1.9], [0.4, 2.6], ["chip", "trill"])
    >>> overlap_labels(windows, calls).tolist()
    ['chip', 'background', 'trill']
    """
    if not 0 < min_overlap <= 1:
        raise ParameterError(
            f"min_overlap={min_overlap} must be in (0, 1]; the default is {MIN_OVERLAP}",
            parameter="min_overlap",
        )
    if column not in annotations.columns:
        raise ParameterError(
            f"label column {column!r} is not in the annotations; they have "
            f"{', '.join(c for c in annotations.columns if c.startswith('label'))}",
            parameter="label_column",
        )
    n = len(rows)
    found: list[dict[str, float]] = [{} for _ in range(n)]
    rec = rows["recording"].astype(str).to_numpy()
    row_start = rows["start_s"].to_numpy(float)
    row_stop = rows["stop_s"].to_numpy(float)
    annotations = annotations[annotations[column].fillna("").astype(str) != ""]
    by_recording = {name: group for name, group in annotations.groupby("recording", sort=False)}
    for name, positions in pd.Series(np.arange(n)).groupby(rec, sort=False):
        group = by_recording.get(name)
        if group is None:
            continue
        group = group.sort_values("start_s", kind="mergesort")
        c_all = group["start_s"].to_numpy(float)
        d_all = group["stop_s"].to_numpy(float)
        reach = np.maximum.accumulate(d_all)  # the latest stop among annotations so far
        names_all = group[column].astype(str).to_numpy()
        # Rows in time order, a block at a time: each block meets only the annotations that
        # start before its end and reach past its start (found by binary search), so long
        # recordings with many windows and annotations cost time near-linear in their sizes.
        positions = positions.to_numpy()[np.argsort(row_start[positions], kind="mergesort")]
        for first in range(0, len(positions), _ROWS):
            block = positions[first : first + _ROWS]
            a = row_start[block][:, None]
            b = row_stop[block][:, None]
            lo = int(np.searchsorted(reach, a.min(), side="left"))
            hi = int(np.searchsorted(c_all, b.max(), side="right"))
            if hi <= lo:
                continue
            for part in range(lo, hi, max(1, _PAIRS // len(block))):
                sl = slice(part, min(hi, part + max(1, _PAIRS // len(block))))
                _add_overlaps(found, block, a, b, c_all[sl], d_all[sl], names_all[sl],
                              min_overlap)  # fmt: skip
    out = np.empty(n, dtype=object)
    for i, labels in enumerate(found):
        if multi_label:
            out[i] = tuple(sorted(labels)) or ((background,) if background else ())
        elif labels:
            out[i] = min(labels, key=lambda label: (-labels[label], label))
        else:
            out[i] = background or ""
    return out


def _add_overlaps(found, block, a, b, c, d, names, min_overlap: float) -> None:
    """Add to ``found`` the shared seconds of each row of ``block`` (starts ``a``, stops ``b``,
    column vectors) with each annotation (``c``, ``d``, ``names``) it overlaps enough."""
    shared = np.minimum(b, d) - np.maximum(a, c)
    row_point = (b - a) <= 0
    ann_point = (d - c) <= 0
    # A point annotation inside a row (half-open, so a point on a boundary goes to one window
    # of a tiling), or a point row inside an annotation, overlaps fully.
    in_row = (c >= a) & ((c < b) | (row_point & (c == a)))
    in_ann = (a >= c) & ((a < d) | (ann_point & (a == c)))
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = shared / np.minimum(b - a, d - c)
    fraction = np.where(ann_point, in_row, np.where(row_point, in_ann, fraction))
    hit_rows, hit_cols = np.nonzero(fraction >= min_overlap - 1e-9)
    for r, k in zip(hit_rows, hit_cols, strict=True):
        slot = found[block[r]]
        slot[names[k]] = slot.get(names[k], 0.0) + max(float(shared[r, k]), 0.0)


def resolve_labels(
    project,
    rows: pd.DataFrame,
    labels_from: str,
    *,
    unit: str = "windows",
    min_overlap: float = MIN_OVERLAP,
    background: str | None = "auto",
    column: str = "label",
) -> np.ndarray:
    """One label per row (``""``: left out) from ``labels_from`` (see the module notes).

    ``background="auto"`` means :data:`BACKGROUND` for a windows set and left out for an
    events set. ``project`` is a :class:`~sonotype.store.Project` (it is read only for
    ``SOURCE`` and ``kind:KIND``).
    """
    if background == "auto":
        background = BACKGROUND if unit == "windows" else None
    if not labels_from or not labels_from.strip():
        raise ParameterError(
            "--labels-from is empty; give an events source (alice), kind:annotated or meta:folder",
            parameter="labels_from",
        )
    if labels_from.startswith("meta:"):
        values = metadata_labels(rows, labels_from.removeprefix("meta:"))
        return values.to_numpy(dtype=object)
    if labels_from.startswith("kind:"):
        kind = labels_from.removeprefix("kind:")
        annotations = project.events(kinds=[kind])
        what = f"kind {kind!r}"
    else:
        annotations = project.events(sources=[labels_from])
        what = f"source {labels_from!r}"
    annotations = annotations[annotations["kind"] != "window"]
    if annotations.empty:
        sources = sorted(set(project.events()["source"].astype(str)) - {""})
        raise ParameterError(
            f"--labels-from {labels_from!r}: the project has no events of {what}; "
            f"its sources are {', '.join(sources) or 'none'} (or use kind:annotated, "
            "meta:folder)",
            parameter="labels_from",
        )
    return overlap_labels(
        rows, annotations, min_overlap=min_overlap, background=background, column=column
    )
