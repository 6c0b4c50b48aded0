"""Events: read, create, change and delete them, undo and redo, review queues, and a stream
of changes so every open page sees every edit.

Each edit is one transaction of the store's edit log, committed before the response is
sent; ``/api/changes`` (server-sent events) tells every page within a quarter of a second,
whoever made the edit (another tab, a command run in a terminal, a job).
"""

from __future__ import annotations

import asyncio
import json
import math
import sqlite3
import time
from typing import Any

import pandas as pd
from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from sonotype.annotations.events import OPTIONAL_COLUMNS, validate_events
from sonotype.errors import ParameterError
from sonotype.store import event_store

router = APIRouter(prefix="/api", tags=["events"])

#: Source of the events made or confirmed in the app.
APP_SOURCE = "app"
#: Kinds with a review queue; accepting one makes it ``annotated``.
REVIEW_KINDS = ("predicted", "missed", "mistaken", "detected")
#: How often the change stream looks at the edit log, seconds.
POLL_S = 0.25


def _project(request: Request):
    from sonotype.app.server import state_of

    return state_of(request).project


def _split(text: str | None) -> list[str] | None:
    return [v for v in text.split(",") if v] if text else None


def events_json(events: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows with their ids, NaN as null; ``low_hz``, ``high_hz`` and ``score`` always there."""
    for column in OPTIONAL_COLUMNS:
        if column not in events:
            events = events.assign(**{column: float("nan")})
    out = []
    for event_id, row in zip(events.index, events.to_dict("records"), strict=True):
        clean = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
        clean["id"] = int(event_id)
        out.append(clean)
    return out


@router.get("/events")
def list_events(
    request: Request,
    recording: str | None = Query(None, description="Recording path; all when left out."),
    kinds: str | None = Query(None, description="Comma-separated kinds."),
    labels: str | None = Query(None, description="Comma-separated labels."),
    sources: str | None = Query(None, description="Comma-separated sources."),
    start_s: float | None = None,
    stop_s: float | None = None,
    limit: int = Query(100_000, ge=1, le=1_000_000),
) -> list[dict]:
    """Stored events matching every filter, with their ids; ``start_s``/``stop_s`` keep the
    events that overlap that span."""
    events = event_store.query_events(
        _project(request).db,
        kinds=_split(kinds),
        labels=_split(labels),
        sources=_split(sources),
        recordings=[recording] if recording else None,
        with_ids=True,
    )
    if start_s is not None:
        events = events[events["stop_s"] >= start_s]
    if stop_s is not None:
        events = events[events["start_s"] <= stop_s]
    return events_json(events.iloc[:limit])


class NewEvent(BaseModel):
    recording: str
    start_s: float
    stop_s: float
    label: str
    kind: str = "annotated"
    channel: int = 0
    source: str = APP_SOURCE
    low_hz: float | None = None
    high_hz: float | None = None
    score: float | None = None


class NewEvents(BaseModel):
    events: list[NewEvent] = Field(min_length=1)
    description: str | None = None


def _edit_json(edit) -> dict:
    return {"id": edit.id, "command": edit.command, "description": edit.description}


@router.post("/events", status_code=201)
def create_events(request: Request, body: NewEvents) -> dict:
    """Store new events as one edit; answer their ids and the edit."""
    project = _project(request)
    table = pd.DataFrame([e.model_dump() for e in body.events])
    for column in ("low_hz", "high_hz", "score"):
        if table[column].isna().all():
            table = table.drop(columns=column)
        else:
            table[column] = table[column].astype(float)
    events = validate_events(table, where="events sent")
    n = len(events)
    description = body.description or (
        f"added {events['label'].iloc[0]!r} at {events['start_s'].iloc[0]:.3f} s"
        if n == 1
        else f"added {n} events"
    )
    edit = project.add_events(events, command="app", description=description)
    ids = [r[0] for r in project.db.execute("SELECT id FROM events WHERE edit_id = ?", (edit.id,))]
    return {"ids": ids, "edit": _edit_json(edit)}


class Changes(BaseModel):
    ids: list[int] = Field(min_length=1)
    changes: dict[str, Any] = Field(min_length=1)
    description: str | None = None


@router.patch("/events")
def update_events(request: Request, body: Changes) -> dict:
    """Change events in place (ids kept) as one edit: ``changes`` maps a column to one
    value, or to a list of one value per id."""
    project = _project(request)
    what = ", ".join(f"{k}={v!r}" for k, v in body.changes.items() if not isinstance(v, list))
    description = body.description or f"changed {len(body.ids)} event(s) {what}".strip()
    edit = project.update_events(body.ids, body.changes, command="app", description=description)
    return {"ids": body.ids, "edit": _edit_json(edit)}


@router.delete("/events")
def delete_events(
    request: Request, ids: str = Query(..., description="Comma-separated event ids.")
) -> dict:
    """Delete events as one edit (undo brings them back)."""
    try:
        wanted = [int(i) for i in ids.split(",") if i]
    except ValueError as error:
        raise ParameterError(f"ids={ids!r}: give comma-separated integers", parameter="ids") from (
            error
        )
    if not wanted:
        raise ParameterError("ids='': give the ids of the events to delete", parameter="ids")
    project = _project(request)
    marks = ",".join("?" * len(wanted))
    found = {r[0] for r in project.db.execute(f"SELECT id FROM events WHERE id IN ({marks})",
                                              wanted)}  # fmt: skip
    missing = [i for i in wanted if i not in found]
    if missing:
        raise ParameterError(
            f"ids: no stored event has id {', '.join(map(str, missing[:5]))}; reload the events",
            parameter="ids",
        )
    edit = event_store.delete_events(
        project.db, wanted, command="app", description=f"deleted {len(wanted)} event(s)"
    )
    return {"ids": wanted, "edit": _edit_json(edit)}


@router.post("/undo")
def undo(request: Request, n: int = 1) -> dict:
    """Undo the last ``n`` edits (any edit of the project, made here or not)."""
    return {"undone": [_edit_json(e) for e in _project(request).undo(n)]}


@router.post("/redo")
def redo(request: Request, n: int = 1) -> dict:
    """Redo the ``n`` most recently undone edits; a new edit ends what can be redone."""
    return {"redone": [_edit_json(e) for e in _project(request).redo(n)]}


@router.get("/edits")
def edits(request: Request, limit: int = Query(20, ge=1, le=1000)) -> dict:
    """The edit log (newest first) and what can be redone."""
    project = _project(request)
    log = [{**_edit_json(e), "at": e.at, "undone": e.undone} for e in project.edit_log(limit=limit)]
    return {"log": log, "redoable": [_edit_json(e) for e in event_store.redoable(project.db)]}


@router.get("/counts")
def counts(request: Request, recording: str | None = None) -> list[dict]:
    """Events per label and kind (of one recording, or all)."""
    sql = "SELECT label, kind, COUNT(*) AS n FROM events"
    parameters: tuple = ()
    if recording:
        sql += " WHERE recording = ?"
        parameters = (recording,)
    rows = _project(request).db.execute(sql + " GROUP BY label, kind ORDER BY label, kind",
                                        parameters)  # fmt: skip
    return [dict(r) for r in rows]


@router.get("/labels")
def labels(request: Request) -> dict:
    """The labels stored in the project, sorted (the page adds those typed in)."""
    project = _project(request)
    stored = [r[0] for r in project.db.execute("SELECT DISTINCT label FROM events ORDER BY 1")]
    return {"labels": stored}


@router.get("/sources")
def sources(request: Request) -> list[dict]:
    """Every (kind, source) with its number of events, for the filters."""
    rows = _project(request).db.execute(
        "SELECT kind, source, COUNT(*) AS n FROM events GROUP BY kind, source ORDER BY 1, 2"
    )
    return [dict(r) for r in rows]


@router.get("/review/{kind}")
def review_queue(
    request: Request,
    kind: str,
    label: str | None = None,
    source: str | None = None,
    limit: int = Query(1000, ge=1, le=100_000),
) -> list[dict]:
    """A review queue: the events of ``kind`` (predicted, missed, mistaken or detected),
    by recording and time, lowest score first where there are scores."""
    if kind not in REVIEW_KINDS:
        raise ParameterError(
            f"kind={kind!r}: the review queues are {', '.join(REVIEW_KINDS)}", parameter="kind"
        )
    events = event_store.query_events(
        _project(request).db,
        kinds=[kind],
        labels=[label] if label else None,
        sources=[source] if source else None,
        with_ids=True,
    )
    return events_json(events.iloc[:limit])


class Review(BaseModel):
    action: str = Field(description="accept, relabel or reject")
    label: str | None = None


@router.post("/review/event/{event_id}")
def review(request: Request, event_id: int, body: Review) -> dict:
    """Review one event as one edit: ``accept`` makes it ``annotated`` (with ``label`` when
    given: ``relabel``), ``reject`` deletes it. Skipping is the page's: nothing changes."""
    project = _project(request)
    if body.action in ("accept", "relabel"):
        changes: dict[str, Any] = {"kind": "annotated", "source": APP_SOURCE}
        if body.label:
            changes["label"] = body.label
        elif body.action == "relabel":
            raise ParameterError("relabel needs a label", parameter="label")
        edit = project.update_events(
            [event_id], changes, command="app", description=f"{body.action}ed event {event_id}"
        )
    elif body.action == "reject":
        row = project.db.execute("SELECT id FROM events WHERE id = ?", (event_id,)).fetchone()
        if row is None:
            raise ParameterError(f"no stored event has id {event_id}", parameter="event_id")
        edit = event_store.delete_events(
            project.db, [event_id], command="app", description=f"rejected event {event_id}"
        )
    else:
        raise ParameterError(
            f"action={body.action!r}: give accept, relabel or reject", parameter="action"
        )
    return {"id": event_id, "edit": _edit_json(edit)}


def edit_signature(con: sqlite3.Connection) -> tuple:
    """What changes with every edit, undo and redo: the newest edit and the undone count."""
    return tuple(con.execute("SELECT COALESCE(MAX(id), 0), COALESCE(SUM(undone), 0) FROM edits"
                             ).fetchone())  # fmt: skip


@router.get("/changes")
async def changes(
    request: Request,
    max_s: float | None = Query(None, description="Close the stream after this long."),
):
    """Server-sent events: ``edit`` with the newest edit whenever the events change."""
    from sonotype.app.server import state_of

    state = state_of(request)
    path = str(state.project.db.path)

    async def stream():
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        try:
            last = edit_signature(con)
            yield f"event: hello\ndata: {json.dumps({'edit': last[0]})}\n\n"
            began = quiet = time.monotonic()
            while (max_s is None or time.monotonic() - began < max_s) and not state.stopping:
                if await request.is_disconnected():
                    break
                await asyncio.sleep(POLL_S)
                now = edit_signature(con)
                if now != last:
                    last = now
                    quiet = time.monotonic()
                    yield f"event: edit\ndata: {json.dumps({'edit': now[0]})}\n\n"
                elif time.monotonic() - quiet > 15:
                    quiet = time.monotonic()
                    yield ": still here\n\n"
        finally:
            con.close()

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )
