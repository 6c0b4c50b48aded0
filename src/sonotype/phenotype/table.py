"""Per-animal and across-animal phenotype tables: :func:`phenotype` and :class:`Phenotypes`.

:func:`phenotype` takes an Events table of syllables whose ``label`` is the syllable type,
splits it by animal (see :mod:`sonotype.phenotype.grouping`), and describes each animal's
repertoire (:mod:`sonotype.phenotype.repertoire`) and syntax
(:mod:`sonotype.phenotype.syntax`). It writes nothing; :meth:`Phenotypes.to_csv` does.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sonotype.annotations.events import validate_events
from sonotype.atomic import atomic_paths
from sonotype.checks import check_int, check_matrix, check_number
from sonotype.errors import AnnotationError, ParameterError
from sonotype.phenotype.grouping import Animals, animals_of_events
from sonotype.phenotype.repertoire import (
    MIN_COUNT,
    encode_types,
    grouped_median_iqr,
    median_iqr,
    natural_key,
    noise_labels,
    stereotypy,
)
from sonotype.phenotype.syntax import (
    BOUT_GAP_S,
    END,
    START,
    bout_ids,
    consistency,
    event_order,
    linearity,
    next_type_entropy,
    repeat_runs,
    repeat_table,
    transition_counts,
    transition_entropy,
    transition_probabilities,
)

#: Columns of each per-animal table (one row per syllable type), in order.
TYPE_COLUMNS = (
    "animal",
    "type",
    "count",
    "proportion",
    "in_repertoire",
    "duration_median_s",
    "duration_iqr_s",
    "gap_after_median_s",
    "gap_after_iqr_s",
    "n_runs",
    "repeat_mean",
    "repeat_max",
    "n_bout_starts",
    "n_bout_ends",
    "dominant_next",
    "dominant_next_probability",
    "next_entropy_bits",
    "stereotypy",
)

#: Columns of the summary table (one row per animal), in order.
SUMMARY_COLUMNS = (
    "animal",
    "n_recordings",
    "n_syllables",
    "n_noise",
    "noise_fraction",
    "n_types",
    "repertoire_size",
    "duration_median_s",
    "duration_iqr_s",
    "n_gaps",
    "gap_median_s",
    "gap_iqr_s",
    "n_bouts",
    "bout_duration_median_s",
    "bout_duration_iqr_s",
    "syllables_per_bout_median",
    "syllables_per_bout_mean",
    "n_transitions",
    "transition_entropy_bits",
    "linearity",
    "consistency",
    "repeat_mean",
    "repeat_max",
    "stereotypy",
)

_INT_SUMMARY = (
    "n_recordings",
    "n_syllables",
    "n_noise",
    "n_types",
    "repertoire_size",
    "n_gaps",
    "n_bouts",
    "n_transitions",
)


@dataclass(frozen=True)
class Phenotypes:
    """The phenotypes of a set of animals, as returned by :func:`phenotype`.

    Attributes
    ----------
    per_animal : dict of str to DataFrame
        For each animal, one row per syllable type with columns :data:`TYPE_COLUMNS`.
    summary : DataFrame
        One row per animal with columns :data:`SUMMARY_COLUMNS`.
    transitions : dict of str to DataFrame
        For each animal, transition counts within bouts: index ``[START, *types]`` (from),
        columns ``[*types, END]`` (to); see :func:`~sonotype.phenotype.transition_matrix`.
    transition_probabilities : dict of str to DataFrame
        The same, each row divided by its sum (NaN for a row without transitions).
    parameters : dict
        ``min_count``, ``bout_gap_s`` and ``noise_label`` as used.
    """

    per_animal: dict[str, pd.DataFrame]
    summary: pd.DataFrame
    transitions: dict[str, pd.DataFrame]
    transition_probabilities: dict[str, pd.DataFrame]
    parameters: dict[str, object] = field(default_factory=dict)

    @property
    def animals(self) -> list[str]:
        """The animals, in the summary's order."""
        return self.summary["animal"].tolist()

    def to_csv(self, folder: str | os.PathLike[str]) -> list[Path]:
        """Write the tables as CSV files in ``folder``, all at once or not at all.

        Files: ``summary.csv`` (across animals) and, for each animal, ``ANIMAL.types.csv``
        (its per-type table), ``ANIMAL.transitions.csv`` (counts) and
        ``ANIMAL.transition_probabilities.csv``, with characters other than letters,
        digits, ``.``, ``_`` and ``-`` in the animal's name replaced by ``_``. Each file is
        written to a temporary name and renamed into place only when every file is written
        (:func:`sonotype.atomic.atomic_paths`), so a crash never leaves a partial set.

        Returns
        -------
        list of Path
            The files written, summary first.
        """
        folder = Path(folder)
        if folder.exists() and not folder.is_dir():
            raise ParameterError(f"folder={os.fspath(folder)!r} is a file; pass a folder")
        writers: list[tuple[Path, pd.DataFrame, bool]] = [
            (folder / "summary.csv", self.summary, False)
        ]
        for animal, stem in _file_stems(self.animals).items():
            writers.append((folder / f"{stem}.types.csv", self.per_animal[animal], False))
            writers.append((folder / f"{stem}.transitions.csv", self.transitions[animal], True))
            writers.append(
                (
                    folder / f"{stem}.transition_probabilities.csv",
                    self.transition_probabilities[animal],
                    True,
                )
            )
        paths = [path for path, _, _ in writers]
        with atomic_paths(paths) as temporaries:
            for tmp, (_, table, index) in zip(temporaries, writers, strict=True):
                table.to_csv(tmp, index=index)
        return paths


def phenotype(
    events: pd.DataFrame,
    *,
    animals: Animals | None = None,
    embeddings: np.ndarray | None = None,
    noise_label: str | Iterable[str] | None = None,
    min_count: int = MIN_COUNT,
    bout_gap_s: float = BOUT_GAP_S,
) -> Phenotypes:
    """Describe each animal's repertoire and syntax from its labelled syllables.

    Parameters
    ----------
    events : DataFrame
        An Events table of syllables; ``label`` is each syllable's type (a person's label
        or a cluster id). Rows may come in any order; sequences are read by recording,
        channel and onset.
    animals : str, mapping, callable or sequence of str, optional
        Who sang each syllable: None (every event is one animal, ``"animal"``); one name
        for all; a mapping or function from recording name to animal; or one animal per
        event, such as ``animal_of(events["recording"], by="regex", pattern=...)``.
    embeddings : ndarray, shape (n_events, d), optional
        One row per event, in the order of ``events``; gives the ``stereotypy`` columns
        (NaN without it). See :func:`~sonotype.phenotype.stereotypy`.
    noise_label : str or iterable of str, optional
        Label(s) of unassigned syllables (``"-1"`` for HDBSCAN noise): counted in
        ``n_noise`` and kept in bouts and gaps, but not a type, and no transition into or
        out of them counts.
    min_count : int
        Least number of syllables for a type to count in ``repertoire_size``; the default,
        2, drops types seen once (see :func:`~sonotype.phenotype.repertoire_size`).
    bout_gap_s : float
        A silence this long or longer ends a bout; default 0.5 s (see
        :mod:`sonotype.phenotype.syntax` for why).

    Returns
    -------
    Phenotypes
        Per-animal type tables, the across-animal summary, and transition matrices.

    Notes
    -----
    Summary columns: ``n_syllables`` counts every event, noise included; durations
    (``stop_s - start_s``) are of typed syllables; ``gap_*`` are the silences between
    consecutive syllables within bouts (onset minus previous offset; negative where
    syllables overlap); ``bout_duration_*`` run from a bout's first onset to its latest
    offset and ``syllables_per_bout_*`` count all its events; ``n_transitions`` counts
    type-to-type transitions within bouts, from which ``transition_entropy_bits``,
    ``linearity`` and ``consistency`` are computed
    (:func:`~sonotype.phenotype.transition_entropy`, :func:`~sonotype.phenotype.linearity`,
    :func:`~sonotype.phenotype.consistency`); ``repeat_mean`` / ``repeat_max`` are the mean
    and longest run of one type over all runs; ``stereotypy`` is the count-weighted mean of
    the types' normalised spreads. Medians and IQRs (75th minus 25th percentile) are NaN
    when there is nothing to measure.

    Examples
    --------
    >>> from sonotype.annotations import make_events
    >>> onsets = np.arange(9) * 0.2
    >>> ev = make_events("bird1/song.wav", onsets, onsets + 0.1, list("abcabcabc"))
    >>> result = phenotype(ev, animals="bird1")
    >>> row = result.summary.iloc[0]
    >>> int(row["repertoire_size"]), float(row["linearity"]), float(row["consistency"])
    (3, 1.0, 1.0)
    """
    events = _as_events(events)
    min_count = check_int(
        min_count,
        name="min_count",
        minimum=1,
        default=MIN_COUNT,
        hint="it is the least number of syllables for a type to count in the repertoire",
    )
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
    noise = noise_labels(noise_label)
    who = animals_of_events(events, animals)
    vectors = None
    if embeddings is not None:
        vectors = check_matrix(embeddings, name="embeddings", n_rows=len(events), min_rows=0)

    per_animal: dict[str, pd.DataFrame] = {}
    transitions: dict[str, pd.DataFrame] = {}
    probabilities: dict[str, pd.DataFrame] = {}
    rows = []
    groups = pd.Series(who).groupby(who, sort=False).indices if len(who) else {}
    for animal in sorted(groups, key=natural_key):
        rows_of_animal = groups[animal]
        table, row, counts = _one_animal(
            animal,
            events.iloc[rows_of_animal].reset_index(drop=True),
            None if vectors is None else vectors[rows_of_animal],
            noise=noise,
            min_count=min_count,
            bout_gap_s=gap_limit,
        )
        per_animal[animal] = table
        transitions[animal] = counts
        probabilities[animal] = transition_probabilities(counts)
        rows.append(row)
    summary = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    summary = summary.astype({"animal": str, **dict.fromkeys(_INT_SUMMARY, np.int64)})
    parameters = {
        "min_count": min_count,
        "bout_gap_s": gap_limit,
        "noise_label": sorted(noise) if noise else None,
    }
    return Phenotypes(per_animal, summary, transitions, probabilities, parameters)


def _one_animal(
    animal: str,
    events: pd.DataFrame,
    vectors: np.ndarray | None,
    *,
    noise: frozenset[str],
    min_count: int,
    bout_gap_s: float,
) -> tuple[pd.DataFrame, dict[str, object], pd.DataFrame]:
    """The per-type table, the summary row and the transition counts of one animal."""
    order = event_order(events)
    seq = events.iloc[order].reset_index(drop=True)
    codes, types = encode_types(seq["label"], noise_label=noise)
    k = len(types)
    typed = codes >= 0
    bouts = bout_ids(seq, bout_gap_s=bout_gap_s)  # seq is in order: ids rise along it

    start = seq["start_s"].to_numpy(np.float64)
    stop = seq["stop_s"].to_numpy(np.float64)
    durations = stop - start
    within = bouts[1:] == bouts[:-1]
    gaps = start[1:] - stop[:-1]

    counts = np.bincount(codes[typed], minlength=k)
    n_typed = int(typed.sum())
    duration_stats = grouped_median_iqr(durations, codes, k)
    gap_codes = np.where(within, codes[:-1], -1)
    gap_stats = grouped_median_iqr(gaps, gap_codes, k)

    matrix = transition_counts(codes, bouts, k)
    counts_table = pd.DataFrame(
        matrix,
        index=pd.Index([START, *types], name="from"),
        columns=pd.Index([*types, END], name="to"),
    )
    inner = matrix[1:, :k].astype(np.float64)
    outgoing = inner.sum(axis=1)
    dominant = inner.argmax(axis=1) if k else np.zeros(0, np.int64)
    has_next = outgoing > 0
    dominant_next = np.where(has_next, np.asarray(types, dtype=object)[dominant], "")
    dominant_p = np.full(k, np.nan)
    np.divide(inner.max(axis=1, initial=0), outgoing, out=dominant_p, where=has_next)

    run_codes, run_lengths = repeat_runs(codes, bouts)
    runs = repeat_table(run_codes, run_lengths, types)

    if vectors is not None:
        per_type_spread, overall_spread = stereotypy(
            vectors[order], codes.astype(str), noise_label="-1"
        )
        spread = per_type_spread.reindex([str(i) for i in range(k)]).to_numpy(np.float64)
    else:
        spread, overall_spread = np.full(k, np.nan), math.nan

    table = pd.DataFrame(
        {
            "animal": pd.Series([animal] * k, dtype=str),
            "type": pd.Series(types, dtype=str),
            "count": counts.astype(np.int64),
            "proportion": counts / n_typed if n_typed else np.full(k, np.nan),
            "in_repertoire": counts >= min_count,
            "duration_median_s": duration_stats[:, 0],
            "duration_iqr_s": duration_stats[:, 1],
            "gap_after_median_s": gap_stats[:, 0],
            "gap_after_iqr_s": gap_stats[:, 1],
            "n_runs": runs["n_runs"].to_numpy(),
            "repeat_mean": runs["repeat_mean"].to_numpy(),
            "repeat_max": runs["repeat_max"].to_numpy(),
            "n_bout_starts": matrix[0, :k],
            "n_bout_ends": matrix[1:, k],
            "dominant_next": pd.Series(dominant_next, dtype=str),
            "dominant_next_probability": dominant_p,
            "next_entropy_bits": next_type_entropy(inner),
            "stereotypy": spread,
        },
        columns=list(TYPE_COLUMNS),
    )

    n = len(seq)
    first = np.flatnonzero(np.concatenate(([True], ~within))) if n else np.zeros(0, np.int64)
    bout_durations = np.maximum.reduceat(stop, first) - start[first] if n else np.zeros(0)
    bout_sizes = np.diff(np.append(first, n))
    n_noise = int(n - n_typed)
    row = {
        "animal": animal,
        "n_recordings": int(seq["recording"].nunique()),
        "n_syllables": n,
        "n_noise": n_noise,
        "noise_fraction": n_noise / n if n else math.nan,
        "n_types": k,
        "repertoire_size": int((counts >= min_count).sum()),
        **_stats("duration", durations[typed], unit="_s"),
        "n_gaps": int(within.sum()),
        **_stats("gap", gaps[within], unit="_s"),
        "n_bouts": len(first),
        **_stats("bout_duration", bout_durations, unit="_s"),
        "syllables_per_bout_median": float(np.median(bout_sizes)) if n else math.nan,
        "syllables_per_bout_mean": float(bout_sizes.mean()) if n else math.nan,
        "n_transitions": int(inner.sum()),
        "transition_entropy_bits": transition_entropy(inner),
        "linearity": linearity(inner),
        "consistency": consistency(inner),
        "repeat_mean": float(run_lengths.mean()) if len(run_lengths) else math.nan,
        "repeat_max": float(run_lengths.max()) if len(run_lengths) else math.nan,
        "stereotypy": overall_spread,
    }
    return table, row, counts_table


def _stats(name: str, values: np.ndarray, *, unit: str) -> dict[str, float]:
    median, iqr = median_iqr(values)
    return {f"{name}_median{unit}": median, f"{name}_iqr{unit}": iqr}


def _as_events(events: object) -> pd.DataFrame:
    if not isinstance(events, pd.DataFrame):
        raise ParameterError(
            f"events must be an Events table (a pandas DataFrame), got "
            f"{type(events).__name__}; read one with sonotype.annotations.read_events"
        )
    try:
        return validate_events(events, where="events")
    except AnnotationError as error:
        raise ParameterError(
            f"events is not an Events table: {error.problem}; see "
            "sonotype.annotations.events for the columns it needs"
        ) from None


def _file_stems(animals: list[str]) -> dict[str, str]:
    """A distinct, file-name-safe stem for each animal."""
    stems: dict[str, str] = {}
    used: set[str] = set()
    for animal in animals:
        stem = re.sub(r"[^A-Za-z0-9._-]+", "_", animal).lstrip(".") or "animal"
        candidate, i = stem, 2
        while candidate.lower() in used:
            candidate, i = f"{stem}_{i}", i + 1
        used.add(candidate.lower())
        stems[animal] = candidate
    return stems
