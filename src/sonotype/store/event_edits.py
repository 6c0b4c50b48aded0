"""Correcting stored events: relabel, delete and accept, each one undoable edit.

These are the edits of SongExplorer's "Correcting False Alarms and Misses" loop, for the CLI
(``sonotype events ...``) and the app alike. Each selects events with the same filters as
:func:`~sonotype.store.event_store.query_events` (plus database ids), changes them in one
edit through :func:`~sonotype.store.event_store.add_events` (``replace_ids``) or
:func:`~sonotype.store.event_store.delete_events`, and says how many events changed. A
selection that matches nothing is an error naming the filters, never a silent no-op.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sonotype.errors import ParameterError
from sonotype.store import event_store
from sonotype.store.database import Database
from sonotype.store.wording import plural

#: Kinds whose events ``accept`` turns into annotations.
ACCEPTABLE_KINDS = ("predicted", "detected")


@dataclass(frozen=True)
class EditResult:
    """What an edit changed: the edit (for ``undo``) and the number of events."""

    edit: event_store.Edit
    changed: int


@dataclass(frozen=True)
class Selection:
    """Filters on stored events; an empty filter selects everything along it.

    ``ids`` are database ids (``sonotype events list`` shows them).
    """

    kinds: Sequence[str] = ()
    labels: Sequence[str] = ()
    sources: Sequence[str] = ()
    recordings: Sequence[str] = ()
    ids: Sequence[int] = ()

    @property
    def empty(self) -> bool:
        """Whether no filter is given (the selection is every stored event)."""
        return not any((self.kinds, self.labels, self.sources, self.recordings, self.ids))

    def describe(self) -> str:
        """The filters as the CLI spells them, for messages."""
        parts = [
            f"--{flag} {','.join(map(str, values))}"
            for flag, values in (
                ("kind", self.kinds),
                ("label", self.labels),
                ("source", self.sources),
                ("recordings", self.recordings),
                ("ids", self.ids),
            )
            if values
        ]
        return " ".join(parts) or "no filter"


def select(db: Database, selection: Selection) -> pd.DataFrame:
    """The stored events that ``selection`` matches, indexed by database id.

    Raises :class:`~sonotype.errors.ParameterError` when it matches none, naming the filters
    and, for ids, those not stored.
    """
    events = event_store.query_events(
        db,
        kinds=list(selection.kinds) or None,
        labels=list(selection.labels) or None,
        sources=list(selection.sources) or None,
        recordings=list(selection.recordings) or None,
        with_ids=True,
    )
    if selection.ids:
        wanted = pd.Index([int(i) for i in selection.ids])
        events = events.loc[events.index.isin(wanted)]
    if events.empty:
        hint = (
            "; `sonotype events counts` lists the kinds, sources and labels stored, "
            "`sonotype events list` the ids"
        )
        raise ParameterError(f"no stored events match {selection.describe()}{hint}")
    return events


def relabel(db: Database, selection: Selection, to: str) -> EditResult:
    """Give the events ``selection`` matches the label ``to``, as one edit.

    Events that already have label ``to`` are left alone (and not counted); when all have
    it, that is an error rather than an empty edit.
    """
    if not to.strip():
        raise ParameterError(f"to={to!r} is empty; give the new label", parameter="to")
    events = select(db, selection)
    events = events.loc[events["label"] != to]
    if events.empty:
        raise ParameterError(
            f"every event matching {selection.describe()} is labelled {to!r} already; "
            "nothing to relabel"
        )
    changed = events.assign(label=to)
    edit = _replace(
        db,
        changed,
        command="events relabel",
        description=f"relabelled {plural(len(changed), 'event')} ({_labels(events)}) as {to!r}",
    )
    return EditResult(edit, len(changed))


def delete(db: Database, selection: Selection, *, everything: bool = False) -> EditResult:
    """Delete the events ``selection`` matches, as one edit.

    An empty selection would delete every event: that needs ``everything=True``.
    """
    if selection.empty and not everything:
        raise ParameterError(
            "no filter given: this would delete every stored event; give --kind, --label, "
            "--source, --recordings or --ids, or pass --all to delete them all",
            parameter="everything",
        )
    events = select(db, selection)
    edit = event_store.delete_events(
        db,
        events.index.tolist(),
        command="events delete",
        description=f"deleted {plural(len(events), 'event')} ({selection.describe()})",
    )
    return EditResult(edit, len(events))


def accept(
    db: Database,
    *,
    kind: str,
    source: str,
    min_score: float | None = None,
    labels: Sequence[str] = (),
    recordings: Sequence[str] = (),
    ids: Sequence[int] = (),
) -> EditResult:
    """Make the ``kind`` (predicted or detected) events of ``source`` annotations, as one edit.

    The accepted events keep their times, label, source and score, and become kind
    ``annotated``: training and evaluation then use them as ground truth. ``min_score``
    accepts only events scored at least that (events without a score are then left alone).
    """
    if kind not in ACCEPTABLE_KINDS:
        raise ParameterError(
            f"kind={kind!r}: only {' or '.join(ACCEPTABLE_KINDS)} events can be accepted "
            "as annotations",
            parameter="kind",
        )
    if not source:
        raise ParameterError(
            "source is required: name the model or detector run whose events to accept",
            parameter="source",
        )
    selection = Selection(
        kinds=[kind], labels=labels, sources=[source], recordings=recordings, ids=ids
    )
    events = select(db, selection)
    if min_score is not None:
        scores = (
            events["score"].to_numpy(float) if "score" in events else np.full(len(events), np.nan)
        )
        events = events.loc[scores >= min_score]
        if events.empty:
            raise ParameterError(
                f"min_score={min_score:g}: none of the {kind} events matching "
                f"{selection.describe()} scores that high; lower --min-score",
                parameter="min_score",
            )
    changed = events.assign(kind="annotated")
    edit = _replace(
        db,
        changed,
        command="events accept",
        description=f"accepted {plural(len(changed), 'event')} {kind} by {source!r} "
        f"({_labels(events)}) as annotated",
    )
    return EditResult(edit, len(changed))


def counts(db: Database, selection: Selection = Selection()) -> pd.DataFrame:
    """The number of stored events per kind, source and label (columns ``kind``, ``source``,
    ``label``, ``events``), sorted by those; ids are not a filter here."""
    where, parameters = [], []
    for column, values in (
        ("kind", selection.kinds),
        ("label", selection.labels),
        ("source", selection.sources),
        ("recording", selection.recordings),
    ):
        if values:
            where.append(f"{column} IN ({', '.join('?' * len(values))})")
            parameters.extend(values)
    sql = "SELECT kind, source, label, COUNT(*) AS events FROM events"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " GROUP BY kind, source, label ORDER BY kind, source, label"
    rows = [tuple(row) for row in db.execute(sql, parameters).fetchall()]
    return pd.DataFrame(rows, columns=["kind", "source", "label", "events"])


def _replace(db: Database, changed: pd.DataFrame, *, command: str, description: str):
    """Store ``changed`` (indexed by the ids of the events it changes) in their place."""
    return event_store.add_events(
        db,
        changed.reset_index(drop=True),
        command=command,
        description=description,
        replace_ids=changed.index.tolist(),
    )


def _labels(events: pd.DataFrame, shown: int = 3) -> str:
    """The labels of ``events`` with their counts, for an edit's description."""
    tally = events["label"].value_counts()
    parts = [f"{n} {label!r}" for label, n in tally.iloc[:shown].items()]
    if len(tally) > shown:
        parts.append(f"{len(tally) - shown} more labels")
    return ", ".join(parts)
