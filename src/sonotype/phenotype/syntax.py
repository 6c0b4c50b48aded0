"""How an animal orders its syllables: bouts, transitions, entropy, linearity, repeats.

Bouts
    A bout (a song) is a run of consecutive syllables of one recording and channel, each
    starting less than ``bout_gap_s`` after the previous one stopped. The default, 0.5 s,
    sits between the two modes of the silences in finch song: gaps inside a song are short
    (under 0.2 s between syllables; up to about 0.45 s between motifs or before a restart:
    every within-song gap of the Bengalese finch gy6or6 is below 0.49 s, the zebra finch
    DAS bird's inter-motif gaps are 0.35-0.46 s), while pauses between songs last from about
    half a second to many seconds. Species with slower songs need a longer value.

Transitions
    First-order transitions are counted within bouts only: the last syllable of one bout
    and the first of the next are not a transition. Each bout also contributes one
    transition from the start state :data:`START` to its first syllable and one from its
    last syllable to the end state :data:`END`. A noise syllable (see
    :mod:`sonotype.phenotype.repertoire`) breaks the chain: no transition into or out of it
    is counted, and none is invented across it.

The scalar measures (:func:`transition_entropy`, :func:`linearity`, :func:`consistency`)
use the type-to-type transitions only, without the start and end states, so that a song
that always repeats one motif (``abcabcabc``) scores as perfectly linear (linearity 1,
consistency 1, entropy 0) however its bouts begin and end.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from sonotype.checks import check_number
from sonotype.errors import ParameterError
from sonotype.phenotype.repertoire import encode_types

#: Default longest silence inside a bout, in seconds (see the module's docstring).
BOUT_GAP_S = 0.5

#: The state before a bout's first syllable (a row of the transition matrix).
START = "<start>"
#: The state after a bout's last syllable (a column of the transition matrix).
END = "<end>"

Labels = Sequence[str] | np.ndarray | pd.Series


def event_order(events: pd.DataFrame) -> np.ndarray:
    """Row positions of ``events`` in sequence order: by recording, channel, onset, offset."""
    recording, _ = pd.factorize(events["recording"], sort=True)
    return np.lexsort(
        (
            events["stop_s"].to_numpy(np.float64),
            events["start_s"].to_numpy(np.float64),
            events["channel"].to_numpy(np.int64),
            recording,
        )
    )


def bout_ids(events: pd.DataFrame, *, bout_gap_s: float = BOUT_GAP_S) -> np.ndarray:
    """The bout of every event, row-aligned with ``events``.

    Parameters
    ----------
    events : DataFrame
        An Events table (any row order).
    bout_gap_s : float
        A silence of at least this many seconds (next onset minus previous offset) ends a
        bout; a new recording or channel always does.

    Returns
    -------
    ndarray of int64, shape (n_events,)
        Bout numbers 0, 1, ... in sequence order (recording, channel, onset).

    Examples
    --------
    >>> from sonotype.annotations import make_events
    >>> ev = make_events("s.wav", [0.0, 0.2, 1.5, 1.7], [0.1, 0.3, 1.6, 1.8], list("abab"))
    >>> bout_ids(ev).tolist()
    [0, 0, 1, 1]
    """
    gap_limit = check_number(
        bout_gap_s,
        name="bout_gap_s",
        minimum=0,
        inclusive="neither",
        allow_inf=True,
        unit="seconds",
        default=BOUT_GAP_S,
        hint="math.inf makes each recording one bout",
    )
    order = event_order(events)
    n = len(order)
    ids = np.zeros(n, np.int64)
    if not n:
        return ids
    recording, _ = pd.factorize(events["recording"], sort=True)
    sequence = recording.astype(np.int64)[order] * (int(events["channel"].max()) + 1)
    sequence += events["channel"].to_numpy(np.int64)[order]
    gaps = sequence_gaps(events, order)
    new = np.ones(n, bool)
    new[1:] = (sequence[1:] != sequence[:-1]) | ~(gaps < gap_limit)
    ids[order] = np.cumsum(new) - 1
    return ids


def sequence_gaps(events: pd.DataFrame, order: np.ndarray) -> np.ndarray:
    """Onset of each event minus the offset of the one before it, in ``order`` (length n-1)."""
    start = events["start_s"].to_numpy(np.float64)[order]
    stop = events["stop_s"].to_numpy(np.float64)[order]
    return start[1:] - stop[:-1]


def bouts(events: pd.DataFrame, *, bout_gap_s: float = BOUT_GAP_S) -> pd.DataFrame:
    """One row per bout: recording, channel, start_s, stop_s, duration_s, n_syllables.

    ``stop_s`` is the latest offset of the bout's syllables; ``n_syllables`` counts every
    event of the bout (noise too). See :func:`bout_ids` for the parameters.
    """
    ids = bout_ids(events, bout_gap_s=bout_gap_s)
    table = pd.DataFrame(
        {
            "bout": ids,
            "recording": events["recording"].to_numpy(dtype=object).astype(str),
            "channel": events["channel"].to_numpy(np.int64),
            "start_s": events["start_s"].to_numpy(np.float64),
            "stop_s": events["stop_s"].to_numpy(np.float64),
        }
    )
    grouped = table.groupby("bout", sort=True)
    out = grouped.agg(
        recording=("recording", "first"),
        channel=("channel", "first"),
        start_s=("start_s", "min"),
        stop_s=("stop_s", "max"),
        n_syllables=("start_s", "size"),
    ).reset_index(drop=True)
    out.insert(4, "duration_s", out["stop_s"] - out["start_s"])
    return out.astype({"recording": str, "n_syllables": np.int64})


def transition_counts(codes: np.ndarray, bouts: np.ndarray, n_types: int) -> np.ndarray:
    """Transition counts from integer type codes (-1 = noise) and bout ids, in sequence order.

    Returns
    -------
    ndarray of int64, shape (n_types + 1, n_types + 1)
        Row 0 is the start state and rows ``1..n_types`` the types (from); columns
        ``0..n_types-1`` are the types and the last column the end state (to).
    """
    codes = np.asarray(codes, np.int64)
    bouts = np.asarray(bouts)
    k = n_types
    counts = np.zeros((k + 1, k + 1), np.int64)
    if not len(codes):
        return counts
    same = bouts[1:] == bouts[:-1]
    a, b = codes[:-1], codes[1:]
    inner = same & (a >= 0) & (b >= 0)
    counts[1:, :k] = np.bincount(a[inner] * k + b[inner], minlength=k * k).reshape(k, k)
    first = np.concatenate(([True], ~same)) & (codes >= 0)
    last = np.concatenate((~same, [True])) & (codes >= 0)
    counts[0, :k] = np.bincount(codes[first], minlength=k)
    counts[1:, k] = np.bincount(codes[last], minlength=k)
    return counts


def transition_matrix(
    labels: Labels,
    *,
    bouts: Sequence[int] | np.ndarray | None = None,
    noise_label: str | Iterable[str] | None = None,
    types: Sequence[str] | None = None,
) -> pd.DataFrame:
    """First-order transition counts within bouts, with start and end states.

    Parameters
    ----------
    labels : sequence of str, shape (n,)
        Syllable types in sequence order (by recording, then onset).
    bouts : sequence of int, shape (n,), optional
        Bout of each syllable; a bout is a run of consecutive equal values (see
        :func:`bout_ids`). By default the whole sequence is one bout.
    noise_label : str or iterable of str, optional
        Label(s) of unassigned syllables: no transition into or out of them is counted.
    types : sequence of str, optional
        Rows and columns to show, in order; by default the non-noise labels, naturally
        ordered.

    Returns
    -------
    DataFrame of int64
        Index ``[START, *types]`` (named "from"), columns ``[*types, END]`` (named "to").

    Examples
    --------
    >>> counts = transition_matrix(list("abab"), bouts=[0, 0, 1, 1])
    >>> counts.index.tolist(), counts.columns.tolist()
    (['<start>', 'a', 'b'], ['a', 'b', '<end>'])
    >>> counts.to_numpy().tolist()
    [[2, 0, 0], [0, 2, 0], [0, 0, 2]]
    """
    codes, types = encode_types(labels, noise_label=noise_label, types=types)
    if bouts is None:
        bout_array = np.zeros(len(codes), np.int64)
    else:
        bout_array = np.asarray(bouts)
        if bout_array.shape != codes.shape:
            raise ParameterError(
                f"bouts has shape {bout_array.shape} for {len(codes)} labels; pass one bout "
                "id per label (see bout_ids), or None for a single bout"
            )
    counts = transition_counts(codes, bout_array, len(types))
    return pd.DataFrame(
        counts,
        index=pd.Index([START, *types], name="from"),
        columns=pd.Index([*types, END], name="to"),
    )


def transition_probabilities(counts: pd.DataFrame) -> pd.DataFrame:
    """Each row of a transition count matrix divided by its sum: P(next | current).

    Rows with no transitions (a type only ever followed by noise) are NaN.
    """
    values = counts.to_numpy(np.float64)
    totals = values.sum(axis=1, keepdims=True)
    probabilities = np.full(values.shape, np.nan)
    np.divide(values, totals, out=probabilities, where=totals > 0)
    return pd.DataFrame(probabilities, index=counts.index, columns=counts.columns)


def type_transitions(counts: pd.DataFrame | np.ndarray) -> np.ndarray:
    """The type-to-type block of a transition count matrix (start and end states dropped).

    Accepts a :func:`transition_matrix` table or a square array of type-to-type counts.
    """
    if isinstance(counts, pd.DataFrame):
        rows = [r for r in counts.index if r != START]
        columns = [c for c in counts.columns if c != END]
        if list(rows) != list(columns):
            raise ParameterError(
                "counts must be a transition_matrix table (rows <start> + types, columns "
                f"types + <end>); its rows are {rows!r} and its columns {columns!r}"
            )
        return counts.loc[rows, columns].to_numpy(np.float64)
    values = np.asarray(counts, dtype=np.float64)
    if values.ndim != 2 or values.shape[0] != values.shape[1]:
        raise ParameterError(
            f"counts has shape {values.shape}; pass a transition_matrix table or a square "
            "array of type-to-type counts"
        )
    return values


def next_type_entropy(counts: pd.DataFrame | np.ndarray) -> np.ndarray:
    """Entropy in bits of the next type after each type (type-to-type transitions only).

    Returns
    -------
    ndarray of float, shape (n_types,)
        ``-sum_j p(j|i) log2 p(j|i)``; NaN for a type never followed by another type.
    """
    values = type_transitions(counts)
    totals = values.sum(axis=1, keepdims=True)
    p = np.divide(values, totals, out=np.zeros_like(values), where=totals > 0)
    logs = np.log2(p, out=np.zeros_like(p), where=p > 0)
    entropy = -(p * logs).sum(axis=1)
    entropy[totals[:, 0] == 0] = np.nan
    return entropy + 0.0  # no negative zeros


def transition_entropy(counts: pd.DataFrame | np.ndarray) -> float:
    """Transition entropy in bits: the conditional entropy of the next type given this one.

    ``H = sum_i w_i H_i``, where ``H_i = -sum_j p(j|i) log2 p(j|i)`` is the entropy of the
    type that follows type ``i`` and the weight ``w_i = n_i / N`` is type ``i``'s share of
    all ``N`` type-to-type transitions (its frequency as a transition's first syllable).
    Equivalently ``H = -sum_ij (n_ij / N) log2 (n_ij / n_i)``. 0 for a song in which each
    type is always followed by the same type; ``log2(k)`` when any of ``k`` types follows
    any other equally often. NaN when there is no transition.

    Examples
    --------
    >>> transition_entropy(transition_matrix(list("abcabcabc")))
    0.0
    >>> transition_entropy([[1, 1], [1, 1]])
    1.0
    """
    values = type_transitions(counts)
    total = values.sum()
    if total == 0:
        return math.nan
    weights = values.sum(axis=1) / total
    entropy = next_type_entropy(values)
    used = weights > 0
    return float(np.dot(weights[used], entropy[used])) + 0.0


def linearity(counts: pd.DataFrame | np.ndarray) -> float:
    """Song linearity (Scharff and Nottebohm 1991): distinct types / distinct transitions.

    ``linearity = (number of different syllable types) / (number of different type-to-type
    transitions)``, after C. Scharff and F. Nottebohm (1991), "A comparative study of the
    behavioral deficits following lesions of various parts of the zebra finch song system:
    implications for vocal learning", J. Neurosci. 11(9):2896-2913 ("number of different
    notes / number of different transition types"). The types counted are the rows of
    ``counts`` (every non-noise type sung); a transition type is an ordered pair (i, j)
    observed at least once within a bout; start and end states are not counted. A song in
    which every type is always followed by the same one scores 1; branching lowers it
    towards ``1 / n_types``. Types never followed by another type within a bout can lift it
    above 1. NaN when there is no transition.

    Examples
    --------
    >>> linearity(transition_matrix(list("abcabcabc")))
    1.0
    >>> linearity(transition_matrix(list("abacab")))  # a->b, b->a, a->c, c->a
    0.75
    """
    values = type_transitions(counts)
    distinct = int(np.count_nonzero(values))
    if distinct == 0:
        return math.nan
    return len(values) / distinct


def consistency(counts: pd.DataFrame | np.ndarray) -> float:
    """Song consistency (Scharff and Nottebohm 1991): share of transitions that are typical.

    For each type ``i`` its dominant (typical) transition is the most frequent
    ``i -> j``; ``consistency = sum_i max_j n_ij / sum_ij n_ij``, the number of
    transitions that follow the typical path over all type-to-type transitions within
    bouts (start and end states not counted). After C. Scharff and F. Nottebohm (1991),
    J. Neurosci. 11(9):2896-2913. 1 for a song that always follows the same path;
    lower the more often an animal departs from each syllable's usual successor. NaN when
    there is no transition.

    Examples
    --------
    >>> consistency(transition_matrix(list("abcabcabc")))
    1.0
    >>> consistency(transition_matrix(list("ababac")))  # a->b 2 of 3, b->a 2 of 2
    0.8
    """
    values = type_transitions(counts)
    total = values.sum()
    if total == 0:
        return math.nan
    return float(values.max(axis=1).sum() / total)


def repeat_runs(codes: np.ndarray, bouts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Runs of one type within a bout, from type codes (-1 = noise) and bout ids in order.

    Returns
    -------
    run_codes, run_lengths : ndarray of int64
        The type and length of every run of consecutive syllables of one type inside one
        bout (runs of noise left out).
    """
    codes = np.asarray(codes, np.int64)
    bouts = np.asarray(bouts)
    if not len(codes):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    starts = np.ones(len(codes), bool)
    starts[1:] = (codes[1:] != codes[:-1]) | (bouts[1:] != bouts[:-1])
    lengths = np.bincount(np.cumsum(starts) - 1)
    run_codes = codes[starts]
    keep = run_codes >= 0
    return run_codes[keep], lengths[keep].astype(np.int64)


def repeats(
    labels: Labels,
    *,
    bouts: Sequence[int] | np.ndarray | None = None,
    noise_label: str | Iterable[str] | None = None,
    types: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Repetition of each type: how many runs, and their mean and longest length.

    A run (a repeat) is a stretch of consecutive syllables of one type within a bout; a
    syllable that is not repeated is a run of length 1. See :func:`transition_matrix` for
    the parameters.

    Returns
    -------
    DataFrame
        Index: the types (named "type"); columns ``n_runs`` (int), ``repeat_mean`` (mean
        run length, float) and ``repeat_max`` (longest run, int).

    Examples
    --------
    >>> repeats(list("aaab")).to_dict("index")
    {'a': {'n_runs': 1, 'repeat_mean': 3.0, 'repeat_max': 3}, 'b': {'n_runs': 1, \
'repeat_mean': 1.0, 'repeat_max': 1}}
    """
    codes, types = encode_types(labels, noise_label=noise_label, types=types)
    bout_array = np.zeros(len(codes), np.int64) if bouts is None else np.asarray(bouts)
    if bout_array.shape != codes.shape:
        raise ParameterError(
            f"bouts has shape {bout_array.shape} for {len(codes)} labels; pass one bout "
            "id per label (see bout_ids), or None for a single bout"
        )
    run_codes, run_lengths = repeat_runs(codes, bout_array)
    return repeat_table(run_codes, run_lengths, types)


def repeat_table(run_codes: np.ndarray, run_lengths: np.ndarray, types: list[str]) -> pd.DataFrame:
    """Per-type ``n_runs``, ``repeat_mean``, ``repeat_max`` from :func:`repeat_runs`."""
    k = len(types)
    n_runs = np.bincount(run_codes, minlength=k)
    total = np.bincount(run_codes, weights=run_lengths, minlength=k)
    longest = np.zeros(k, np.int64)
    np.maximum.at(longest, run_codes, run_lengths)
    mean = np.full(k, np.nan)
    np.divide(total, n_runs, out=mean, where=n_runs > 0)
    return pd.DataFrame(
        {"n_runs": n_runs.astype(np.int64), "repeat_mean": mean, "repeat_max": longest},
        index=pd.Index(types, name="type"),
    )
