"""Congruence: how several parties (human annotators and a model) label the same recordings.

SongExplorer's "Testing Densely": with dense annotations (every sound of the labels of
interest annotated within a portion of each recording), each sound is labelled by some set
of the parties. Congruence counts the sounds, and measures the time, by that set:

- ``everyone``: labelled by every party;
- ``only X``: labelled by party X alone;
- ``not X``: labelled by every party but X (with three parties or more; with two,
  ``not X`` is ``only Y``);
- ``other``: any other set (only with four parties or more).

Two levels, as SongExplorer's ``label`` and ``tic`` files:

- **event level**: the events of all parties of one recording, channel and label are
  grouped into *sounds*: events that overlap, touch or lie within ``tolerance_s`` of each
  other are one sound (transitively: :func:`sonotype.intervals.merge`). Any overlap is a
  perfect hit, so each sound counts once, with the set of parties that have an event in it.
  Point events (fly song pulses) are sounds too, grouped with whatever lies within
  ``tolerance_s``;
- **sample level**: time is cut at every event bound (:func:`sonotype.intervals.
  elementary_segments`) and each piece counts its duration for the set of parties whose
  intervals cover it. Point events have no duration and count nothing here.

Everything is judged only inside the *annotated portion* of each recording: for each human
annotator, the span from their first onset to their last offset in that recording (any
label); ``portion="union"`` judges from the earliest of those onsets to the latest offset,
``"intersection"`` only the time every annotator covered (recordings some annotator left
out are then skipped). Events are clipped to the portion; events outside it are ignored.

With a model among the parties, its precision and recall against the humans take what
every human agrees on as the truth: true positives are ``everyone``, false positives
``only MODEL`` (no human labelled it), false negatives ``not MODEL`` (every human labelled
it, the model did not); sounds some humans labelled and others did not are left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sonotype.checks import check_number
from sonotype.errors import ParameterError
from sonotype.evaluate._checks import ALL_LABELS, as_events, group_codes, ratio
from sonotype.intervals import elementary_segments, merge

#: The two ways of combining the annotators' annotated spans.
PORTIONS = ("union", "intersection")
#: Columns of :attr:`Congruence.regions`.
REGION_COLUMNS = ("level", "label", "parties", "value")
#: Columns of :attr:`Congruence.sounds`.
SOUND_COLUMNS = ("recording", "channel", "label", "start_s", "stop_s", "parties")
#: The two levels.
LEVELS = ("event", "sample")
#: Joins party names in :attr:`Congruence.regions` ("ann+bob").
PARTY_SEPARATOR = "+"


@dataclass(frozen=True)
class Congruence:
    """What :func:`congruence` measured.

    Attributes
    ----------
    parties : list of str
        The parties in the order given.
    model : str or None
        The party that is a model (precision and recall are its), if any.
    regions : DataFrame
        Columns :data:`REGION_COLUMNS`: per level, label (and ``"(all)"``) and set of
        parties (names joined by ``+``, in party order), the number of sounds (event
        level) or seconds (sample level) labelled by exactly that set.
    sounds : DataFrame
        Columns :data:`SOUND_COLUMNS`: every sound of the event level, with its extent and
        the set of parties that labelled it.
    portions : DataFrame
        Columns ``recording``, ``start_s``, ``stop_s``: the time judged.
    labels : list of str
        The labels judged (each has a row in the summaries, zeros included).
    """

    parties: list[str]
    model: str | None
    regions: pd.DataFrame
    sounds: pd.DataFrame
    portions: pd.DataFrame
    labels: list[str]

    def summary(self, level: str = "event") -> pd.DataFrame:
        """One row per label (and ``"(all)"``): ``everyone``, ``only X`` and (three
        parties or more) ``not X`` for each party, ``other`` (four or more), and with a
        model its ``precision``, ``recall`` and ``f1`` against the humans."""
        if level not in LEVELS:
            raise ParameterError(
                f"level={level!r} must be one of {', '.join(LEVELS)}", parameter="level"
            )
        table = self.regions[self.regions["level"] == level]
        wide = table.pivot_table(
            index="label", columns="parties", values="value", aggfunc="sum", fill_value=0
        )
        labels = [*self.labels, ALL_LABELS]
        wide = wide.reindex(labels, fill_value=0)
        names = {named: _key(named, self.parties) for named in wide.columns}
        out = pd.DataFrame({"label": labels})
        for name, members in region_names(self.parties).items():
            columns = [c for c, key in names.items() if key in members]
            out[name] = wide[columns].sum(axis=1).to_numpy() if columns else 0
        if self.model is not None:
            tp, fp, fn = (out[c].to_numpy(float) for c in _model_columns(self.parties, self.model))
            out["precision"] = ratio(tp, tp + fp)
            out["recall"] = ratio(tp, tp + fn)
            out["f1"] = ratio(2 * tp, 2 * tp + fp + fn)
        if level == "event":
            for column in out.columns[1:]:
                if column not in ("precision", "recall", "f1"):
                    out[column] = out[column].astype(np.int64)
        return out


def region_names(parties: Sequence[str]) -> dict[str, set[frozenset]]:
    """The named regions (``everyone``, ``only X``, ``not X``, ``other``) of ``parties``,
    each as the sets of parties it gathers."""
    everyone = frozenset(parties)
    named: dict[str, set[frozenset]] = {"everyone": {everyone}}
    for party in parties:
        named[f"only {party}"] = {frozenset([party])}
    if len(parties) >= 3:
        for party in parties:
            named[f"not {party}"] = {everyone - {party}}
    if len(parties) >= 4:
        used = set().union(*named.values())
        subsets = {
            frozenset(p for i, p in enumerate(parties) if mask >> i & 1)
            for mask in range(1, 1 << len(parties))
        }
        named["other"] = subsets - used
    return named


def _model_columns(parties: Sequence[str], model: str) -> tuple[str, str, str]:
    """The summary columns of true positives, false positives and false negatives."""
    humans = [p for p in parties if p != model]
    missed = f"not {model}" if len(parties) >= 3 else f"only {humans[0]}"
    return "everyone", f"only {model}", missed


def _key(joined: str, parties: Sequence[str]) -> frozenset:
    return frozenset(joined.split(PARTY_SEPARATOR)) if joined else frozenset()


def annotated_portions(
    humans: Mapping[str, pd.DataFrame], *, portion: str = "union"
) -> pd.DataFrame:
    """The time judged in each recording (see the module notes).

    Parameters
    ----------
    humans : mapping of str to DataFrame
        Each human annotator's Events table.
    portion : {"union", "intersection"}

    Returns
    -------
    DataFrame
        Columns ``recording``, ``start_s``, ``stop_s``, sorted by recording; a recording
        whose intersection is empty is left out.
    """
    if portion not in PORTIONS:
        raise ParameterError(
            f"portion={portion!r} must be one of {', '.join(PORTIONS)}", parameter="portion"
        )
    spans = []
    for name, events in humans.items():
        if len(events):
            grouped = events.groupby("recording")
            spans.append(
                pd.DataFrame(
                    {"start_s": grouped["start_s"].min(), "stop_s": grouped["stop_s"].max()}
                ).assign(annotator=name)
            )
    if not spans:
        return pd.DataFrame({"recording": [], "start_s": [], "stop_s": []})
    table = pd.concat(spans).rename_axis("recording").reset_index()
    grouped = table.groupby("recording")
    if portion == "union":
        out = grouped.agg(start_s=("start_s", "min"), stop_s=("stop_s", "max"))
    else:
        out = grouped.agg(
            start_s=("start_s", "max"), stop_s=("stop_s", "min"), n=("annotator", "nunique")
        )
        out = out[(out["n"] == len(humans)) & (out["stop_s"] > out["start_s"])]
        out = out.drop(columns="n")
    return out.reset_index()


def congruence(
    parties: Mapping[str, pd.DataFrame],
    *,
    model: str | None = None,
    portion: str = "union",
    portions: pd.DataFrame | None = None,
    labels: Sequence[str] | None = None,
    tolerance_s: float = 0.0,
) -> Congruence:
    """Count the sounds and time each set of ``parties`` labelled (see the module notes).

    Parameters
    ----------
    parties : mapping of str to DataFrame
        Party name to Events table (at least two parties; names must not hold ``+``).
    model : str, optional
        The party that is a model: it does not define the annotated portion, and the
        summary gives its precision and recall against the humans.
    portion : {"union", "intersection"}
        How the human annotators' spans combine into the time judged.
    portions : DataFrame, optional
        The time judged, as :func:`annotated_portions` returns it (overrides ``portion``;
        e.g. computed once for a sweep over thresholds).
    labels : sequence of str, optional
        Judge only these labels (default: every label of any party).
    tolerance_s : float, seconds
        Events this close are the same sound (event level); 0 means overlapping or touching.

    Returns
    -------
    Congruence

    Examples
    --------
    >>> from sonotype.annotations import make_events
    >>> a = make_events("s.wav", [0.0, 2.0], [1.0, 3.0], "x")
    >>> b = make_events("s.wav", [0.5], [1.5], "x")
    >>> result = congruence({"a": a, "b": b})
    >>> result.summary("event")[["label", "everyone", "only a", "only b"]].values.tolist()
    [['x', 1, 1, 0], ['(all)', 1, 1, 0]]
    """
    names = list(parties)
    if len(names) < 2:
        raise ParameterError(
            f"congruence needs at least two parties, got {len(names)} ({', '.join(names)})"
        )
    bad = [n for n in names if not n or PARTY_SEPARATOR in n]
    if bad:
        raise ParameterError(
            f"party name {bad[0]!r} must be non-empty and hold no {PARTY_SEPARATOR!r}"
        )
    if model is not None and model not in parties:
        raise ParameterError(f"model={model!r} is not one of the parties ({', '.join(names)})")
    if len(names) > 16:
        raise ParameterError(f"at most 16 parties can be compared, got {len(names)}")
    tolerance_s = check_number(tolerance_s, name="tolerance_s", minimum=0.0, unit="seconds")
    tables = {n: as_events(parties[n], name=f"parties[{n!r}]") for n in names}
    if portions is None:
        humans = {n: t for n, t in tables.items() if n != model}
        portions = annotated_portions(humans, portion=portion)
    chosen = sorted(set().union(*(t["label"].unique() for t in tables.values())))
    if labels is not None:
        chosen = [x for x in dict.fromkeys(labels)]
    clipped = [_clip(tables[n], portions, chosen) for n in names]
    sounds = _sounds(clipped, names, tolerance_s)
    regions = pd.concat(
        [
            _tally("event", sounds["label"], sounds["mask"], np.ones(len(sounds)), names, chosen),
            _sample_regions(clipped, names, chosen),
        ],
        ignore_index=True,
    )
    sounds = sounds.assign(parties=_joined(sounds["mask"].to_numpy(), names)).drop(columns="mask")
    return Congruence(names, model, regions, sounds[list(SOUND_COLUMNS)], portions, chosen)


def _clip(events: pd.DataFrame, portions: pd.DataFrame, labels: Sequence[str]) -> pd.DataFrame:
    """Events of ``labels`` clipped to their recording's portion; those outside dropped
    (a point on the portion's edge is kept)."""
    bounds = portions.set_index("recording")
    events = events[events["label"].isin(labels) & events["recording"].isin(bounds.index)]
    low = events["recording"].map(bounds["start_s"]).to_numpy(float)
    high = events["recording"].map(bounds["stop_s"]).to_numpy(float)
    start = np.maximum(events["start_s"].to_numpy(float), low)
    stop = np.minimum(events["stop_s"].to_numpy(float), high)
    keep = stop >= start
    return events.assign(start_s=start, stop_s=stop)[keep].reset_index(drop=True)


def _sounds(tables: list[pd.DataFrame], names: list[str], tolerance_s: float) -> pd.DataFrame:
    """Events of all parties grouped into sounds, with the bit mask of their parties."""
    keys = ("recording", "channel", "label")
    codes, groups = group_codes(tables, keys)
    spans = np.concatenate(
        [t[["start_s", "stop_s"]].to_numpy(np.float64).reshape(-1, 2) for t in tables]
    )
    group = np.concatenate(codes) if codes else np.zeros(0, np.int64)
    bits = np.concatenate([np.full(len(t), 1 << i, np.int64) for i, t in enumerate(tables)])
    if not len(spans):
        return pd.DataFrame(
            {"recording": [], "channel": [], "label": [], "start_s": [], "stop_s": [], "mask": []}
        ).astype({"channel": np.int64, "mask": np.int64})
    merged, member = merge(spans, gap=tolerance_s, groups=group)
    mask = np.zeros(len(merged), np.int64)
    np.bitwise_or.at(mask, member, bits)
    sound_group = np.zeros(len(merged), np.int64)
    sound_group[member] = group
    table = groups.iloc[sound_group].reset_index(drop=True)
    return table.assign(start_s=merged[:, 0], stop_s=merged[:, 1], mask=mask)


def _sample_regions(
    tables: list[pd.DataFrame], names: list[str], labels: Sequence[str]
) -> pd.DataFrame:
    """Seconds labelled by each set of parties, per label (exact interval arithmetic)."""
    tables = [t[(t["stop_s"] > t["start_s"]).to_numpy()] for t in tables]
    codes, groups = group_codes(tables, ("recording", "channel", "label"))
    if not sum(map(len, tables)):
        return _tally("sample", pd.Series([], dtype=str), np.zeros(0, np.int64), np.zeros(0),
                      names, labels)  # fmt: skip
    spans = [t[["start_s", "stop_s"]].to_numpy(np.float64).reshape(-1, 2) for t in tables]
    length, group, inside = elementary_segments(spans, codes)
    mask = (inside.astype(np.int64) << np.arange(len(tables))[:, None]).sum(axis=0)
    keep = mask > 0
    label = groups["label"].to_numpy()[group[keep]]
    return _tally("sample", pd.Series(label), mask[keep], length[keep], names, labels)


def _tally(
    level: str,
    label: pd.Series,
    mask: np.ndarray,
    value: np.ndarray,
    names: list[str],
    labels: Sequence[str],
) -> pd.DataFrame:
    """Sum ``value`` per label and party mask, plus the ``"(all)"`` label."""
    frame = pd.DataFrame({"label": np.asarray(label, dtype=object), "mask": mask, "value": value})
    per = frame.groupby(["label", "mask"], as_index=False)["value"].sum()
    every = frame.groupby("mask", as_index=False)["value"].sum().assign(label=ALL_LABELS)
    table = pd.concat([per, every], ignore_index=True)
    order = {x: i for i, x in enumerate([*labels, ALL_LABELS])}
    table = table.sort_values(
        ["label", "mask"], key=lambda c: c.map(order) if c.name == "label" else c
    )
    return pd.DataFrame(
        {
            "level": level,
            "label": table["label"].to_numpy(),
            "parties": _joined(table["mask"].to_numpy(), names),
            "value": table["value"].to_numpy(float),
        },
        columns=list(REGION_COLUMNS),
    )


def _joined(mask: np.ndarray, names: list[str]) -> list[str]:
    """Bit masks as the party names they hold, joined by ``+``."""
    cache: dict[int, str] = {}
    out = []
    for m in np.asarray(mask, np.int64).tolist():
        if m not in cache:
            cache[m] = PARTY_SEPARATOR.join(n for i, n in enumerate(names) if m >> i & 1)
        out.append(cache[m])
    return out
