"""What types of syllable an animal sings: counts, repertoire size, durations, stereotypy.

A syllable's *type* is its label: a person's label (``"a"``, ``"syll_3"``) or a cluster id
(``"4"``). One label may stand for unassigned syllables (HDBSCAN's ``"-1"``, a person's
``"x"``): pass it as ``noise_label``. Noise syllables are counted (``n_noise``) but are not a
type: they take no part in type counts, proportions, durations or stereotypy.

Types are ordered naturally: numbers by value, so cluster ``"10"`` follows ``"9"``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from sonotype.checks import check_int
from sonotype.errors import ParameterError

#: Default least number of syllables for a type to count in the repertoire size.
MIN_COUNT = 2

_NUMBER = re.compile(r"(-?\d+(?:\.\d+)?)")


def noise_labels(noise_label: str | Iterable[str] | None) -> frozenset[str]:
    """``noise_label`` as a set of label strings (empty for None); numbers become text."""
    if noise_label is None:
        return frozenset()
    if isinstance(noise_label, (str, int, np.integer)):
        return frozenset([str(noise_label)])
    return frozenset(str(label) for label in noise_label)


def natural_key(label: str) -> tuple:
    """Sort key that orders the numbers inside labels by value (``"2"`` before ``"10"``)."""
    parts = _NUMBER.split(str(label))
    return tuple((0, float(p), "") if i % 2 else (1, 0.0, p) for i, p in enumerate(parts) if p)


def encode_types(
    labels: Sequence[str] | np.ndarray | pd.Series,
    *,
    noise_label: str | Iterable[str] | None = None,
    types: Sequence[str] | None = None,
) -> tuple[np.ndarray, list[str]]:
    """Integer type codes of ``labels``: ``-1`` for noise, else an index into the types.

    Parameters
    ----------
    labels : sequence of str, shape (n,)
        The syllables' labels.
    noise_label : str or iterable of str, optional
        Label(s) of unassigned syllables; they get code -1.
    types : sequence of str, optional
        The types, in order; by default the distinct non-noise labels, ordered naturally.
        Labels that are neither noise nor in ``types`` are an error.

    Returns
    -------
    codes : ndarray of int64, shape (n,)
    types : list of str
    """
    values = np.asarray(labels, dtype=object).astype(str)
    noise = noise_labels(noise_label)
    is_noise = np.isin(values, list(noise)) if noise else np.zeros(len(values), bool)
    if types is None:
        types = sorted(set(values[~is_noise].tolist()), key=natural_key)
    else:
        types = [str(t) for t in types]
    lookup = pd.Index(types)
    codes = lookup.get_indexer(values).astype(np.int64)
    unknown = np.flatnonzero((codes < 0) & ~is_noise)
    if len(unknown):
        raise ParameterError(
            f"label {str(values[unknown[0]])!r} is neither one of types={types!r} nor noise "
            f"(noise_label={noise_label!r}); add it to one or the other"
        )
    codes[is_noise] = -1
    return codes, list(types)


def type_counts(
    labels: Sequence[str] | np.ndarray | pd.Series,
    *,
    noise_label: str | Iterable[str] | None = None,
) -> pd.Series:
    """How many syllables of each type, types in natural order, noise left out.

    Examples
    --------
    >>> type_counts(["b", "a", "b", "-1"], noise_label="-1").to_dict()
    {'a': 1, 'b': 2}
    """
    codes, types = encode_types(labels, noise_label=noise_label)
    counts = np.bincount(codes[codes >= 0], minlength=len(types))
    return pd.Series(counts, index=pd.Index(types, name="type"), name="count", dtype=np.int64)


def repertoire_size(
    labels: Sequence[str] | np.ndarray | pd.Series,
    *,
    min_count: int = MIN_COUNT,
    noise_label: str | Iterable[str] | None = None,
) -> int:
    """Number of types with at least ``min_count`` syllables.

    The default, 2, keeps a type that occurs once out of the repertoire: a lone syllable is
    more often a mislabelled, truncated or merged one (or a stray cluster point) than a
    type the animal sings, and a single example says nothing about how the type varies.
    Pass ``min_count=1`` to count every type seen.

    Examples
    --------
    >>> repertoire_size(list("aaabbc"))
    2
    >>> repertoire_size(list("aaabbc"), min_count=1)
    3
    """
    min_count = check_int(
        min_count,
        name="min_count",
        minimum=1,
        default=MIN_COUNT,
        hint="it is the least number of syllables for a type to count in the repertoire",
    )
    return int((type_counts(labels, noise_label=noise_label) >= min_count).sum())


def median_iqr(values: np.ndarray) -> tuple[float, float]:
    """Median and interquartile range (75th minus 25th percentile, linear interpolation);
    NaN for no values."""
    values = np.asarray(values, dtype=np.float64)
    if not len(values):
        return np.nan, np.nan
    q25, q50, q75 = np.percentile(values, [25, 50, 75])
    return float(q50), float(q75 - q25)


def grouped_median_iqr(values: np.ndarray, codes: np.ndarray, n_types: int) -> np.ndarray:
    """Median and IQR of ``values`` per code ``0..n_types-1`` (codes < 0 ignored).

    Returns an array of shape (n_types, 2), NaN for codes without values.
    """
    values = np.asarray(values, dtype=np.float64)
    keep = codes >= 0
    out = np.full((n_types, 2), np.nan)
    if not keep.any():
        return out
    quantiles = pd.Series(values[keep]).groupby(codes[keep]).quantile([0.25, 0.5, 0.75]).unstack()
    index = quantiles.index.to_numpy()
    out[index, 0] = quantiles[0.5].to_numpy()
    out[index, 1] = (quantiles[0.75] - quantiles[0.25]).to_numpy()
    return out


def stereotypy(
    embeddings: np.ndarray,
    labels: Sequence[str] | np.ndarray | pd.Series,
    *,
    noise_label: str | Iterable[str] | None = None,
) -> tuple[pd.Series, float]:
    """How tightly each type's syllables cluster in embedding space (lower = more stereotyped).

    A type's spread is the mean Euclidean distance of its syllables to the type's centroid;
    it is divided by the overall spread, the mean distance of all (non-noise) syllables to
    their common centroid, so the number does not depend on the embedding's scale. A type
    whose renditions are identical scores 0; types that are no tighter than the repertoire
    as a whole score about 1 or more.

    Parameters
    ----------
    embeddings : ndarray, shape (n, d)
        One row per syllable.
    labels : sequence of str, shape (n,)
        The syllables' types.
    noise_label : str or iterable of str, optional
        Label(s) of unassigned syllables, left out of every spread.

    Returns
    -------
    per_type : Series of float
        Normalised spread of each type, types in natural order; NaN for a type with one
        syllable (it has no spread to measure) and when the overall spread is 0.
    overall : float
        The per-type values averaged with weights equal to the types' counts (types with
        one syllable left out): the mean distance of a syllable to its type's centroid over
        the overall spread. NaN when no type has two syllables.

    Examples
    --------
    >>> x = np.array([[0.0], [0.2], [10.0], [10.2]])
    >>> per_type, overall = stereotypy(x, ["a", "a", "b", "b"])
    >>> per_type.round(3).to_dict(), round(overall, 3)
    ({'a': 0.02, 'b': 0.02}, 0.02)
    """
    x = np.asarray(embeddings, dtype=np.float64)
    codes, types = encode_types(labels, noise_label=noise_label)
    if x.ndim != 2 or len(x) != len(codes):
        raise ParameterError(
            f"embeddings has shape {x.shape} but there are {len(codes)} syllables; pass an "
            "(n, d) array with one row per syllable, in the order of the events"
        )
    if not np.isfinite(x).all():
        raise ParameterError(
            "embeddings holds NaN or infinite values; drop or recompute those rows"
        )
    keep = codes >= 0
    x, codes = x[keep], codes[keep]
    n_types = len(types)
    per_type = np.full(n_types, np.nan)
    overall = np.nan
    if len(x):
        counts = np.bincount(codes, minlength=n_types)
        sums = np.zeros((n_types, x.shape[1]))
        np.add.at(sums, codes, x)
        centroids = sums / np.maximum(counts, 1)[:, None]
        distance = np.linalg.norm(x - centroids[codes], axis=1)
        within = np.bincount(codes, weights=distance, minlength=n_types)
        total_spread = float(np.linalg.norm(x - x.mean(axis=0), axis=1).mean())
        several = counts >= 2
        if total_spread > 0:
            per_type[several] = within[several] / counts[several] / total_spread
            if several.any():
                overall = float(within[several].sum() / counts[several].sum() / total_spread)
    return pd.Series(per_type, index=pd.Index(types, name="type"), name="stereotypy"), overall
