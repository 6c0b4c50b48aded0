"""Explore: scatters of embedding sets and discovery runs, sent as typed arrays, with the
columns to colour by, similarity, exemplars and bulk labelling.

A *set* is ``embeddings:NAME`` (a named embedding set; shown through its first two
principal components unless it has two dimensions) or ``discover:NAME`` (the UMAP embedding
and HDBSCAN clusters that discovery run ``NAME`` selected). Coordinates come as
little-endian float32 ``x0, y0, x1, y1, ...``; each colouring column as int32 codes into its
categories, so 200,000 points cost 1.6 MB plus 0.8 MB per column.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import numpy as np
import pandas as pd
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from sonotype.annotations.events import EXTRA_LABEL_PREFIX
from sonotype.embeddings.metadata import metadata_labels
from sonotype.errors import ParameterError
from sonotype.store import event_store

router = APIRouter(prefix="/api/explore", tags=["explore"])


@dataclass
class Scatter:
    """A set's rows, their 2-D coordinates and (for embeddings) their vectors."""

    name: str
    events: pd.DataFrame
    coords: np.ndarray  # float32 (n, 2)
    vectors: np.ndarray | None  # (n, d) or None
    clusters: np.ndarray | None  # int (n,) or None


def _state(request: Request):
    from sonotype.app.server import state_of

    return state_of(request)


@router.get("/sets")
def list_sets(request: Request) -> list[dict]:
    """The sets there are to explore."""
    from sonotype.embeddings.sets import list_embedding_sets, set_folder

    state = _state(request)
    out = []
    for name in list_embedding_sets(state.folder):
        info = json.loads((set_folder(state.folder, name) / "info.json").read_text())
        out.append({"id": f"embeddings:{name}", "n": info.get("n"), "model": info.get("model"),
                    "dimensions": info.get("dimensions")})  # fmt: skip
    for name, receipt in _discover_runs(state.project).items():
        out.append({"id": f"discover:{name}", "n": receipt["n"], "model": "umap+hdbscan",
                    "dimensions": 2})  # fmt: skip
    return out


def _discover_runs(project) -> dict[str, dict]:
    """Run name -> the newest receipt of its stored clusters (with the selection's key)."""
    runs = {}
    rows = project.db.execute(
        "SELECT path, inputs FROM artifacts WHERE kind = 'clustered-events' ORDER BY created_at"
    ).fetchall()
    for row in rows:
        path = project.folder / row["path"]
        if path.is_file():
            receipt = json.loads(path.read_text())
            receipt["selection"] = json.loads(row["inputs"]).get("selection")
            runs[receipt["source"]] = receipt
    return runs


def load_scatter(state, set_id: str) -> Scatter:
    """The set ``set_id``, cached while the server runs (coordinates do not change)."""
    with state.lock:
        cached = state.scatters.get(set_id)
    if cached is not None:
        return cached
    kind, _, name = set_id.partition(":")
    if kind == "embeddings":
        scatter = _embedding_scatter(state, name)
    elif kind == "discover":
        scatter = _discover_scatter(state, name)
    else:
        raise ParameterError(
            f"set={set_id!r}: give embeddings:NAME or discover:NAME (see /api/explore/sets)",
            parameter="set",
        )
    with state.lock:
        state.scatters[set_id] = scatter
    return scatter


def _embedding_scatter(state, name: str) -> Scatter:
    from sonotype.embeddings.sets import load_embedding_set

    embedding = load_embedding_set(state.folder, name)
    vectors = np.asarray(embedding.vectors, dtype=np.float32)
    return Scatter(f"embeddings:{name}", embedding.events, principal_plane(vectors), vectors,
                   None)  # fmt: skip


def principal_plane(vectors: np.ndarray) -> np.ndarray:
    """float32 (n, 2): the vectors themselves when 2-D, else their first two principal
    components (randomized SVD, seeded, so the picture is the same every time)."""
    if vectors.shape[1] == 2:
        return vectors.astype(np.float32)
    if vectors.shape[1] == 1 or len(vectors) < 3:
        out = np.zeros((len(vectors), 2), np.float32)
        out[:, : min(2, vectors.shape[1])] = vectors[:, :2]
        return out
    from sklearn.decomposition import PCA

    pca = PCA(n_components=2, svd_solver="randomized", random_state=0)
    return pca.fit_transform(vectors).astype(np.float32)


def _discover_scatter(state, name: str) -> Scatter:
    from sonotype.pipeline.discover_codecs import SelectionCodec

    project = state.project
    runs = _discover_runs(project)
    if name not in runs:
        raise ParameterError(
            f"set='discover:{name}': no discovery run of that name stored clusters; the runs "
            f"are {', '.join(runs) or 'none (run `sonotype discover`)'}",
            parameter="set",
        )
    row = project.db.execute(
        "SELECT path FROM artifacts WHERE key = ?", (runs[name]["selection"],)
    ).fetchone()
    if row is None or not (project.folder / row["path"]).is_file():
        raise ParameterError(
            f"discover:{name}: its selection is no longer in artifacts/; run `sonotype "
            f"discover --name {name}` again",
            parameter="set",
        )
    selection = SelectionCodec().read(project.folder / row["path"])
    # The stored clustered events are the selection's rows, in row order: the store keeps
    # them by recording, channel and time, the order discovery read its syllables in.
    events = project.events(kinds=["clustered"], sources=[name])
    coords = np.asarray(selection.reduction.coords, dtype=np.float32)[:, :2]
    if len(events) != len(coords):
        raise ParameterError(
            f"discover:{name}: {len(events)} clustered events stored but {len(coords)} "
            f"points; run `sonotype discover --name {name}` again",
            parameter="set",
        )
    return Scatter(f"discover:{name}", events, coords, None,
                   np.asarray(selection.clustering.labels))  # fmt: skip


@router.get("/{set_id}/points")
def points(request: Request, set_id: str) -> Response:
    """Coordinates: little-endian float32 ``x0, y0, x1, y1, ...``; header ``X-Count``."""
    scatter = load_scatter(_state(request), set_id)
    return Response(
        np.ascontiguousarray(scatter.coords, dtype="<f4").tobytes(),
        media_type="application/octet-stream",
        headers={"X-Count": str(len(scatter.coords))},
    )


def _span_keys(events: pd.DataFrame) -> pd.Series:
    return (
        events["recording"].astype(str)
        + "|"
        + events["channel"].astype(str)
        + "|"
        + events["start_s"].round(4).astype(str)
        + "|"
        + events["stop_s"].round(4).astype(str)
    )


def _annotated(project, scatter: Scatter) -> tuple[np.ndarray, np.ndarray]:
    """For each row, the label and id of an annotated event at the same span ("", -1)."""
    stored = event_store.query_events(project.db, kinds=["annotated"], with_ids=True)
    labels = np.full(len(scatter.events), "", dtype=object)
    ids = np.full(len(scatter.events), -1, dtype=np.int64)
    if len(stored):
        lookup = pd.Series(np.arange(len(stored)), index=_span_keys(stored).to_numpy())
        lookup = lookup[~lookup.index.duplicated(keep="last")]
        where = lookup.reindex(_span_keys(scatter.events).to_numpy()).to_numpy()
        found = ~np.isnan(where)
        rows = where[found].astype(np.int64)
        labels[found] = stored["label"].to_numpy()[rows]
        ids[found] = stored.index.to_numpy()[rows]
    return labels, ids


@dataclass
class Columns:
    """A set's colouring columns as of one state of the edit log."""

    values: dict[str, np.ndarray]  # column -> strings, row-aligned with the points
    annotated_ids: np.ndarray  # the id of the annotated event at each row's span, or -1
    _codes: dict = field(default_factory=dict)

    def categories(self, column: str) -> list[str]:
        return self.codes(column)[1]

    def codes(self, column: str) -> tuple[np.ndarray, list[str]]:
        """int32 codes of ``column`` into its sorted categories, and the categories."""
        if column not in self._codes:
            categories, codes = np.unique(self.values[column].astype(str), return_inverse=True)
            self._codes[column] = (codes.astype("<i4"), categories.tolist())
        return self._codes[column]


def columns_for(state, scatter: Scatter) -> Columns:
    """The set's columns, computed once per state of the edit log (labelling changes
    ``annotated``): a 200,000-point set takes seconds to match against the events."""
    from sonotype.app.api.events import edit_signature

    key = (scatter.name, edit_signature(state.project.db.connection))
    with state.lock:
        cached = state.columns.get(scatter.name)
    if cached is not None and cached[0] == key:
        return cached[1]
    labels, ids = _annotated(state.project, scatter)
    found = Columns(columns_of(scatter, annotated=labels), ids)
    with state.lock:
        state.columns[scatter.name] = (key, found)
    return found


def columns_of(scatter: Scatter, *, annotated: np.ndarray) -> dict[str, np.ndarray]:
    """Columns to colour by, each an array of strings, row-aligned with the points."""
    events = scatter.events
    recordings = events["recording"].astype(str)
    folders = {r: PurePosixPath(r).parent.as_posix() for r in recordings.unique()}
    columns = {
        "label": events["label"].astype(str).to_numpy(),
        "annotated": annotated,
        "kind": events["kind"].astype(str).to_numpy(),
        "recording": recordings.to_numpy(),
        "animal": recordings.map(folders).to_numpy(),
        "source": events["source"].astype(str).to_numpy(),
    }
    if scatter.clusters is not None:
        columns["cluster"] = scatter.clusters.astype(str)
    # Time stamps in file names (AudioMoth's YYYYMMDD_HHMMSS; docs/probes.md), where any
    # recording has one: a project without them is not offered empty columns.
    for key in ("time_of_day", "hour", "date", "season"):
        values = metadata_labels(events, key).to_numpy()
        if (values != "").any():
            columns[key] = values
    for name in events.columns:
        if name.startswith(EXTRA_LABEL_PREFIX):
            columns[name] = events[name].astype(str).to_numpy()
    return columns


@router.get("/{set_id}/columns")
def columns(request: Request, set_id: str) -> dict:
    """The colouring columns and their categories (codes at ``/codes/{column}``)."""
    state = _state(request)
    scatter = load_scatter(state, set_id)
    found = columns_for(state, scatter)
    return {
        "n": len(scatter.coords),
        "columns": {name: found.categories(name) for name in found.values},
        "similarity": scatter.vectors is not None,
    }


@router.get("/{set_id}/codes/{column}")
def codes(request: Request, set_id: str, column: str) -> Response:
    """Little-endian int32 codes of ``column``: indexes into its sorted categories."""
    state = _state(request)
    found = columns_for(state, load_scatter(state, set_id))
    _check_column(found, column)
    return Response(found.codes(column)[0].tobytes(), media_type="application/octet-stream")


def _check_column(found: Columns, column: str) -> None:
    if column not in found.values:
        raise ParameterError(
            f"column={column!r}: the columns are {', '.join(found.values)}", parameter="column"
        )


@router.get("/{set_id}/rows")
def rows(request: Request, set_id: str, i: str = Query(..., description="Row numbers.")) -> list:
    """The events of rows ``i`` (comma-separated): recording, times, label, kind, and the
    recording's id in the index (for the recording view)."""
    state = _state(request)
    scatter = load_scatter(state, set_id)
    try:
        wanted = [int(v) for v in i.split(",") if v]
    except ValueError as error:
        raise ParameterError(f"i={i!r}: give comma-separated row numbers", parameter="i") from (
            error
        )
    _check_rows(wanted, len(scatter.coords))
    ids = {r["path"]: r["id"] for r in state.project.db.execute("SELECT id, path FROM recordings")}
    labels = columns_for(state, scatter).values["annotated"]
    out = []
    for row in wanted:
        event = scatter.events.iloc[row]
        out.append({
            "row": row,
            "recording": event["recording"],
            "recording_id": ids.get(event["recording"]),
            "start_s": float(event["start_s"]),
            "stop_s": float(event["stop_s"]),
            "channel": int(event["channel"]),
            "label": str(event["label"]),
            "kind": str(event["kind"]),
            "annotated": labels[row],
            "cluster": None if scatter.clusters is None else int(scatter.clusters[row]),
        })  # fmt: skip
    return out


def _check_rows(wanted: list[int], n: int) -> None:
    bad = [r for r in wanted if not 0 <= r < n]
    if bad:
        raise ParameterError(f"rows {bad[:5]} are outside 0-{n - 1}", parameter="rows")


@router.get("/{set_id}/similar")
def similar(
    request: Request, set_id: str, row: int, k: int = Query(100, ge=1, le=10_000)
) -> list[dict]:
    """The ``k`` rows nearest to ``row`` (itself first): Euclidean distance between the
    vectors of an embedding set, or between the points of a discovery run."""
    scatter = load_scatter(_state(request), set_id)
    _check_rows([row], len(scatter.coords))
    space = scatter.vectors if scatter.vectors is not None else scatter.coords
    distance = np.sqrt(((np.asarray(space, np.float32) - space[row]) ** 2).sum(axis=1))
    order = np.argsort(distance, kind="stable")[:k]
    return [{"row": int(r), "distance": float(distance[r])} for r in order]


@router.get("/{set_id}/exemplars")
def exemplars(
    request: Request,
    set_id: str,
    column: str = "label",
    per_category: int = Query(6, ge=1, le=100),
) -> dict[str, list[int]]:
    """For each category of ``column``, the rows nearest its centroid: the catalogue."""
    state = _state(request)
    scatter = load_scatter(state, set_id)
    found = columns_for(state, scatter)
    _check_column(found, column)
    space = np.asarray(scatter.vectors if scatter.vectors is not None else scatter.coords)
    codes, categories = found.codes(column)
    out = {}
    for code, category in enumerate(categories):
        if category in ("", "-1"):
            continue
        members = np.flatnonzero(codes == code)
        centre = space[members].mean(axis=0)
        distance = ((space[members] - centre) ** 2).sum(axis=1)
        out[category] = members[np.argsort(distance, kind="stable")[:per_category]].tolist()
    return out


class BulkLabel(BaseModel):
    rows: list[int] = Field(min_length=1)
    label: str = Field(min_length=1)


@router.post("/{set_id}/label")
def label_rows(request: Request, set_id: str, body: BulkLabel) -> dict:
    """Label rows as one edit: each becomes an ``annotated`` event with ``label`` at its span,
    replacing an annotated event already there (so labelling again changes, not adds)."""
    from sonotype.app.api.events import APP_SOURCE

    state = _state(request)
    scatter = load_scatter(state, set_id)
    wanted = sorted(set(body.rows))
    _check_rows(wanted, len(scatter.coords))
    ids = columns_for(state, scatter).annotated_ids
    chosen = scatter.events.iloc[wanted]
    keep = [c for c in ("recording", "start_s", "stop_s", "channel", "low_hz", "high_hz")
            if c in chosen]  # fmt: skip
    new = chosen[keep].assign(label=body.label, kind="annotated", source=APP_SOURCE)
    replaced = sorted({int(i) for i in ids[wanted] if i >= 0})
    edit = event_store.add_events(
        state.project.db,
        new.reset_index(drop=True),
        command="app",
        description=f"labelled {len(wanted)} event(s) {body.label!r} in {set_id}",
        replace_ids=replaced,
    )
    return {"labelled": len(wanted), "replaced": len(replaced),
            "edit": {"id": edit.id, "description": edit.description}}  # fmt: skip
