"""Anchor, positive and negative spans drawn from a motif set, in birdclef-2022's four
partitions.

Each class (a group of the motif set: a label, a recording, or a cluster's label) has a
motif pair (two copies of one recurring stretch) and the spans its motif was searched in.
Its *neighbouring* classes are the ``n_neighbours`` classes whose motifs are closest to its
own (the matrix profile's distance between the motifs' CENS); every other class is a
*non-neighbour*. A triplet's anchor is a copy of its class's motif, shifted in time by up
to ``shift_s``; its positive is, in turn,

- ``self``: a copy of the same motif, shifted independently, or
- ``neighbour``: a copy of a neighbouring class's motif;

and its negative, in turn,

- ``motif``: a copy of a random non-neighbouring class's motif, or
- ``clip``: a random span of a random non-neighbouring class.

The four combinations are drawn equally often, and every class anchors the same number of
triplets (classes in the wild are not balanced; the embedding should still separate them).
The table holds only recordings and times: the spectrograms are cut when training reads
them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from sonotype.checks import check_int, check_number
from sonotype.errors import ParameterError
from sonotype.motifs.features import CensSettings, span_cens
from sonotype.motifs.profile import znormalised_windows

POSITIVES = ("self", "neighbour")
NEGATIVES = ("motif", "clip")
COLUMNS = [
    "class", "positive_kind", "negative_kind",
    "anchor_recording", "anchor_start_s",
    "positive_recording", "positive_start_s",
    "negative_recording", "negative_start_s",
]  # fmt: skip


def motif_distances(cens: list[np.ndarray]) -> np.ndarray:
    """Distances between motifs (each ``(12, m)`` CENS of one length): the mean over
    dimensions of z-normalised Euclidean distances, as in the matrix profile."""
    m = min(c.shape[1] for c in cens)
    d = cens[0].shape[0]
    z = np.stack([
        np.concatenate([znormalised_windows(c[k, :m], m)[0] for k in range(d)]) for c in cens
    ]).reshape(len(cens), d, m)  # fmt: skip
    diff = z[:, None] - z[None, :]
    return np.sqrt((diff**2).sum(-1)).mean(-1)


def class_neighbours(distances: np.ndarray, n_neighbours: int) -> list[np.ndarray]:
    """For each class, the indices of its ``n_neighbours`` nearest other classes."""
    order = np.argsort(distances + np.diag(np.full(len(distances), np.inf)), axis=1)
    return [row[:n_neighbours] for row in order]


def sample_triplets(
    table: pd.DataFrame,
    segments: list[pd.DataFrame],
    open_recording: Callable[[str], object],
    *,
    n_per_class: int = 100,
    n_neighbours: int = 1,
    shift_s: float = 0.5,
    clip_s: float | None = None,
    cens: CensSettings | None = None,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """Triplets of spans for every class of a motif set.

    Parameters
    ----------
    table : DataFrame
        The motif table (:func:`sonotype.motifs.motif_table`), one row per class.
    segments : list of DataFrame
        Per class, the spans searched (``MotifResult.segments`` with ``rate_hz``-based
        lengths converted: columns ``recording``, ``start_s``, ``stop_s``).
    open_recording : callable
        Maps a recording name to its :class:`~sonotype.audio.Recording`.
    n_per_class : int
        Triplets anchored in each class.
    n_neighbours : int
        Neighbouring classes per class; at least ``n_neighbours + 2`` classes are needed,
        so that every class has a non-neighbour.
    shift_s : float
        Largest time shift of a motif copy, in seconds, either way.
    clip_s : float, optional
        Length of every span; the motif window by default.
    cens : CensSettings, optional
        How the motifs' CENS are made to find neighbours (the motif set's settings).
    random_state : int or None

    Returns
    -------
    DataFrame
        Columns :data:`COLUMNS`; all spans last ``clip_s`` seconds.
    """
    n_per_class = check_int(n_per_class, name="n_per_class", minimum=1, default=100)
    n_neighbours = check_int(n_neighbours, name="n_neighbours", minimum=1, default=1)
    shift_s = check_number(shift_s, name="shift_s", minimum=0, default=0.5)
    n_classes = len(table)
    if n_classes < n_neighbours + 2:
        raise ParameterError(
            f"the motif set has {n_classes} classes; triplets with {n_neighbours} neighbouring "
            f"class(es) need at least {n_neighbours + 2}, so that every class has a "
            "non-neighbour: use fewer --neighbours or a motif set with more groups",
            parameter="n_neighbours",
        )
    if len(segments) != n_classes:
        raise ParameterError("segments needs one table per row of the motif table")
    window_s = float(table["motif_stop_s"].iloc[0] - table["motif_start_s"].iloc[0])
    clip_s = window_s if clip_s is None else check_number(clip_s, name="clip_s", minimum=0,
                                                          inclusive="neither")  # fmt: skip
    rng = np.random.default_rng(random_state)
    settings = cens or CensSettings()
    motif_cens = []
    for row in table.itertuples(index=False):
        rec = open_recording(row.motif_recording)
        y = rec.read(row.motif_start_s, min(row.motif_stop_s, rec.duration_s), channel=0)[0]
        motif_cens.append(span_cens(y, sr=rec.sr, settings=settings))
    neighbours = class_neighbours(motif_distances(motif_cens), n_neighbours)
    durations = {}

    def duration(name: str) -> float:
        if name not in durations:
            durations[name] = open_recording(name).duration_s
        return durations[name]

    def copy_of(c: int) -> tuple[str, float]:
        row = table.iloc[c]
        which = "motif" if rng.random() < 0.5 else "match"
        start = float(row[f"{which}_start_s"]) + rng.uniform(-shift_s, shift_s)
        recording = str(row[f"{which}_recording"])
        return recording, float(np.clip(start, 0.0, max(0.0, duration(recording) - clip_s)))

    def clip_of(c: int) -> tuple[str, float]:
        seg = segments[c]
        lengths = (seg["stop_s"] - seg["start_s"]).clip(lower=0).to_numpy()
        k = int(rng.choice(len(seg), p=lengths / lengths.sum()))
        s = seg.iloc[k]
        latest = max(float(s["start_s"]), float(s["stop_s"]) - clip_s)
        start = rng.uniform(float(s["start_s"]), latest) if latest > s["start_s"] else s["start_s"]
        return str(s["recording"]), float(min(start, max(0.0, duration(s["recording"]) - clip_s)))

    rows = []
    classes = table["group"].astype(str).tolist()
    for c in range(n_classes):
        others = np.setdiff1d(np.arange(n_classes), np.append(neighbours[c], c))
        for t in range(n_per_class):
            positive_kind = POSITIVES[t % 2]
            negative_kind = NEGATIVES[(t // 2) % 2]
            anchor = copy_of(c)
            positive = copy_of(c if positive_kind == "self" else int(rng.choice(neighbours[c])))
            far = int(rng.choice(others))
            negative = copy_of(far) if negative_kind == "motif" else clip_of(far)
            rows.append((classes[c], positive_kind, negative_kind, *anchor, *positive, *negative))
    triplets = pd.DataFrame(rows, columns=COLUMNS)
    triplets.attrs["clip_s"] = clip_s
    return triplets.sample(frac=1.0, random_state=rng.integers(2**31)).reset_index(drop=True)


def class_segments(results) -> list[pd.DataFrame]:
    """The spans each class's motif was searched in, from a motif set's results."""
    out = []
    for result in results:
        seg = result.segments
        out.append(pd.DataFrame({
            "recording": seg["recording"],
            "start_s": seg["start_s"],
            "stop_s": seg["start_s"] + seg["n_frames"] / result.rate_hz,
        }))  # fmt: skip
    return out
