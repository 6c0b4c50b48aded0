"""Search by example: the stored windows or events nearest a query, by cosine similarity.

The query is a span of a recording (``REC:START-STOP``). It is embedded as the set was: when
a stored row of the set covers the same span (the row of that recording with the largest
intersection over union with the query, accepted from :data:`MIN_IOU`), its vector is the
query. A span that matches no stored row (or lies in a recording the set has no rows of) is
embedded now with the set's own model (:func:`embed_query`: the model and its settings are
in the set's ``info.json``, resolved by :func:`~sonotype.embeddings.models.resolve_model`
and checked against the identity the set records), through the same code that embedded the
set's rows, so a stored row's span gives that row's vector. Models fitted on all the set's
rows (``pca``, ``autoencoder``, ...) keep no fit to embed a new span with, so only
pretrained models, model cards, classifiers and the row-wise ``flat`` embedder can.

**Exact search** (:func:`exact_search`) is a blocked matrix product over the memory-mapped
vectors, divided by the rows' norms (kept beside the set once computed, :func:`set_norms`),
so memory stays at one block whatever the set's size;
each block's best ``k`` are kept with ``argpartition``. **Approximate search** through a
:class:`HNSWIndex` (usearch, chosen by ``benchmarks/search.py``: see docs/probes.md) is
used for sets of at least :data:`APPROXIMATE_FROM` rows, where an exact query reads every
vector; the index is built once per set, saved beside it, and rebuilt when the vectors
change.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sonotype.errors import ParameterError

#: A stored row is the query when its intersection over union with the query span is at least
#: this (a 3 s window shifted by up to 1 s still matches a 3 s query).
MIN_IOU = 0.5
#: Rows per block of the exact search: 16,384 x 1024 float32 is 64 MB.
BLOCK_ROWS = 16384
#: Sets with at least this many rows are searched through an approximate index (set by
#: benchmarks/search.py: below it one exact query takes well under a second here).
APPROXIMATE_FROM = 200_000

_QUERY = re.compile(r"^(?P<recording>.+):(?P<start>[0-9.eE+-]+)-(?P<stop>[0-9.eE+]+)$")


@dataclass(frozen=True)
class Query:
    recording: str
    start_s: float
    stop_s: float


def parse_query(text: str) -> Query:
    """``REC:START-STOP`` (seconds) as a :class:`Query`.

    Examples
    --------
    >>> parse_query("site1/20240611_053000.wav:12.5-15.5")
    Query(recording='site1/20240611_053000.wav', start_s=12.5, stop_s=15.5)
    """
    match = _QUERY.match(text.strip())
    if match is None:
        raise ParameterError(
            f"--query {text!r}: write RECORDING:START-STOP in seconds, e.g. "
            "'site1/rec.wav:12.5-15.5'",
            parameter="query",
        )
    try:
        start, stop = float(match["start"]), float(match["stop"])
    except ValueError:
        raise ParameterError(
            f"--query {text!r}: START and STOP must be numbers of seconds", parameter="query"
        ) from None
    if not (math.isfinite(start) and math.isfinite(stop)) or start < 0 or stop < start:
        raise ParameterError(
            f"--query {text!r}: needs 0 <= START <= STOP (seconds)", parameter="query"
        )
    return Query(match["recording"], start, stop)


#: Syllable embedders whose vector of a row depends on that row alone (no fit over the set).
ROW_WISE_EMBEDDERS = ("flat",)


def match_row(events: pd.DataFrame, query: Query, *, min_iou: float = MIN_IOU) -> int | None:
    """The position of the stored row that best matches ``query``, or None when none does."""
    try:
        return find_row(events, query, min_iou=min_iou)
    except ParameterError:
        return None


def find_row(events: pd.DataFrame, query: Query, *, min_iou: float = MIN_IOU) -> int:
    """The position of the stored row that best matches ``query`` (see the module notes)."""
    same = np.flatnonzero(events["recording"].astype(str).to_numpy() == query.recording)
    if not len(same):
        names = pd.unique(events["recording"].astype(str))[:5]
        raise ParameterError(
            f"--query: recording {query.recording!r} has no rows in this embedding set; "
            f"recordings are named as in the project, e.g. {', '.join(names)}",
            parameter="query",
        )
    a = events["start_s"].to_numpy(float)[same]
    b = events["stop_s"].to_numpy(float)[same]
    inter = np.clip(np.minimum(b, query.stop_s) - np.maximum(a, query.start_s), 0, None)
    union = np.maximum(b, query.stop_s) - np.minimum(a, query.start_s)
    iou = np.where(union > 0, inter / np.where(union > 0, union, 1), (a == query.start_s) * 1.0)
    best = int(np.argmax(iou))
    if iou[best] < min_iou:
        nearest = same[np.argsort(np.abs(a - query.start_s))[:3]]
        spans = ", ".join(
            f"{events['start_s'].iat[i]:g}-{events['stop_s'].iat[i]:g}" for i in nearest
        )
        raise ParameterError(
            f"--query {query.recording}:{query.start_s:g}-{query.stop_s:g} matches no stored "
            f"row (best overlap {iou[best]:.2f} < {min_iou}); the nearest stored spans: "
            f"{spans}",
            parameter="query",
        )
    return int(same[best])


def embed_query(project, embedding, query: Query) -> np.ndarray:
    """The vector of ``query``'s span by the set's own model, embedded as the set's rows were.

    Parameters
    ----------
    project : Project
        The project the set belongs to (its recordings and model cards).
    embedding : EmbeddingSet
    query : Query

    Returns
    -------
    ndarray, float32, shape (dimensions,)
    """
    import json

    from sonotype.annotations.events import make_events
    from sonotype.audio.recording import Recording
    from sonotype.embeddings.models import AudioModel, resolve_model
    from sonotype.embeddings.stage import embed_units

    info = embedding.info or {}
    spec = info.get("model_spec", embedding.model)
    recordings = set(project.recordings()["path"].astype(str))
    if query.recording not in recordings:
        raise ParameterError(
            f"--query: {query.recording!r} is not a recording of the project; recordings "
            f"are named as `sonotype recordings` lists them, e.g. "
            f"{', '.join(sorted(recordings)[:3])}",
            parameter="query",
        )
    if "model_identity" not in info:
        raise ParameterError(
            f"--query {query.recording}:{query.start_s:g}-{query.stop_s:g} matches no stored "
            f"row of set {embedding.name!r}, which was not made by `sonotype embed --model`, "
            "so its model cannot embed a new span; query a stored span",
            parameter="query",
        )
    model = resolve_model(spec, project_dir=project.folder)
    if json.loads(json.dumps(model.identity(), default=str)) != info["model_identity"]:
        raise ParameterError(
            f"--query: model {spec!r} is not the one set {embedding.name!r} was made with (its "
            "file or settings changed), so a new span would not be comparable; embed the set "
            f"again (`sonotype embed --model {spec}`) or query a stored span",
            parameter="query",
        )
    path = project.recording_path(query.recording)
    duration_s = Recording(path).duration_s
    # A span may run past the end, as a recording's last window does (padded as it was).
    if query.start_s >= duration_s:
        raise ParameterError(
            f"--query {query.recording}:{query.start_s:g}-{query.stop_s:g} starts at or after "
            f"the recording's end ({duration_s:g} s)",
            parameter="query",
        )
    unit = make_events(query.recording, [query.start_s], [query.stop_s], "",
                       kind="query", source="search")  # fmt: skip
    if isinstance(model, AudioModel):
        pad = "audio" if embedding.unit == "windows" else info.get("pad", "zeros")
        vector = embed_units(model, path, unit, batch_size=1, pad=pad)["vectors"][0]
    elif getattr(model, "embedder", None) in ROW_WISE_EMBEDDERS:
        # The spectrograms are read in segments shared by neighbouring units, so a unit's
        # inputs depend slightly on its neighbours: the span is computed among the stored
        # rows of its recording, as the set's rows were.

        events = embedding.events
        rows = events[events["recording"].astype(str) == query.recording]
        rows = rows[list(unit.columns)].reset_index(drop=True)
        same = np.flatnonzero(
            np.isclose(rows["start_s"], query.start_s) & np.isclose(rows["stop_s"], query.stop_s)
        )
        if len(same):
            position = int(same[0])
        else:
            rows = pd.concat([rows, unit], ignore_index=True)
            position = len(rows) - 1
        order = np.argsort(rows["start_s"].to_numpy(float), kind="stable")
        rows = rows.iloc[order].reset_index(drop=True)
        position = int(np.flatnonzero(order == position)[0])
        inputs = model.per_recording(path, query.recording, rows)["inputs"]
        vector = model.fit_transform(inputs[position : position + 1])[0]
    else:
        raise ParameterError(
            f"--query {query.recording}:{query.start_s:g}-{query.stop_s:g} matches no stored "
            f"row, and set {embedding.name!r}'s model {spec!r} is fitted on all the set's rows "
            "and keeps no fit to embed a new span with; query a stored span, or search a set "
            "of a pretrained model (e.g. `sonotype embed --model birdnet`)",
            parameter="query",
        )
    if len(vector) != embedding.dimensions:
        raise ParameterError(
            f"--query: model {spec!r} gave {len(vector)} values, set {embedding.name!r} has "
            f"{embedding.dimensions}; embed the set again",
            parameter="query",
        )
    return np.asarray(vector, dtype=np.float32)


def _normalised(block: np.ndarray) -> np.ndarray:
    block = np.asarray(block, dtype=np.float32)
    norms = np.linalg.norm(block, axis=1, keepdims=True)
    return block / np.where(norms > 0, norms, 1)


def exact_search(
    vectors,
    queries,
    *,
    k: int = 50,
    exclude=None,
    norms=None,
    block_rows: int = BLOCK_ROWS,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` rows of ``vectors`` most cosine-similar to each query, best first.

    Parameters
    ----------
    vectors : array, shape (n, d)
        Stored vectors (memory-mapped is fine: read one block at a time).
    queries : array, shape (m, d) or (d,)
    k : int
        Hits per query (fewer when there are fewer rows).
    exclude : array of int, optional
        Rows never returned (e.g. the query's own row).
    norms : array, shape (n,), optional
        The rows' Euclidean norms, when known (:func:`set_norms` keeps them with a set):
        each block is then read once instead of twice.
    block_rows : int
        Rows per block.

    Returns
    -------
    (indices, similarities)
        Both of shape ``(m, k)`` (``(k,)`` for one query); indices int64, similarities
        float32, sorted by decreasing similarity (ties: lower index first).

    Examples
    --------
    >>> X = np.array([[1, 0], [0, 1], [1, 1], [-1, 0]], dtype=np.float32)
    >>> idx, sim = exact_search(X, np.array([1.0, 0.1]), k=2)
    >>> idx.tolist(), [round(float(v), 3) for v in sim]
    ([0, 2], [0.995, 0.774])
    """
    if k < 1:
        raise ParameterError(f"k={k} must be at least 1; the default is 50", parameter="k")
    single = np.ndim(queries) == 1
    q = _normalised(np.atleast_2d(queries))
    n = len(vectors)
    if q.shape[1] != vectors.shape[1]:
        raise ParameterError(
            f"queries have {q.shape[1]} dimensions, the vectors {vectors.shape[1]}"
        )
    excluded = np.zeros(n, dtype=bool)
    if exclude is not None:
        excluded[np.asarray(exclude, dtype=np.int64)] = True
    k = min(k, n - int(excluded.sum()))
    best_idx = np.empty((len(q), 0), dtype=np.int64)
    best_sim = np.empty((len(q), 0), dtype=np.float32)
    for start in range(0, n, block_rows):
        # No normalised copy of the block: one product and one pass for the norms read the
        # (memory-mapped) rows twice but allocate only (m, rows) results.
        block = np.asarray(vectors[start : start + block_rows], dtype=np.float32)
        if norms is None:
            block_norms = np.sqrt(np.einsum("ij,ij->i", block, block))
        else:
            block_norms = np.asarray(norms[start : start + len(block)], dtype=np.float32)
        sims = q @ block.T  # (m, rows)
        sims /= np.where(block_norms > 0, block_norms, 1)
        sims[:, excluded[start : start + len(block)]] = -np.inf
        take = min(k, sims.shape[1])
        part = np.argpartition(-sims, take - 1, axis=1)[:, :take]
        best_idx = np.concatenate([best_idx, part + start], axis=1)
        best_sim = np.concatenate([best_sim, np.take_along_axis(sims, part, axis=1)], axis=1)
        if best_idx.shape[1] > k:
            keep = np.argpartition(-best_sim, k - 1, axis=1)[:, :k]
            best_idx = np.take_along_axis(best_idx, keep, axis=1)
            best_sim = np.take_along_axis(best_sim, keep, axis=1)
    order = np.lexsort((best_idx, -best_sim), axis=1) if len(q) else best_idx
    best_idx = np.take_along_axis(best_idx, order, axis=1)
    best_sim = np.take_along_axis(best_sim, order, axis=1)
    return (best_idx[0], best_sim[0]) if single else (best_idx, best_sim)


class HNSWIndex:
    """An approximate cosine index (HNSW, from usearch) over a set's vectors, saved with it.

    ``connectivity`` 16 and ``expansion_add`` 128 / ``expansion_search`` 64 are usearch's
    defaults; benchmarks/search.py measures recall@k against exact search with them.
    """

    def __init__(self, dimensions: int, *, connectivity: int = 16,
                 expansion_add: int = 128, expansion_search: int = 64) -> None:  # fmt: skip
        from usearch.index import Index

        self.index = Index(
            ndim=dimensions,
            metric="cos",
            dtype="f32",
            connectivity=connectivity,
            expansion_add=expansion_add,
            expansion_search=expansion_search,
        )

    def add(self, vectors, *, block_rows: int = BLOCK_ROWS, progress=None) -> HNSWIndex:
        n = len(vectors)
        for start in range(0, n, block_rows):
            block = np.ascontiguousarray(vectors[start : start + block_rows], dtype=np.float32)
            self.index.add(np.arange(start, start + len(block), dtype=np.uint64), block)
            if progress:
                progress(min(start + block_rows, n), n)
        return self

    def search(self, queries, *, k: int = 50, exclude=None) -> tuple[np.ndarray, np.ndarray]:
        """Like :func:`exact_search` (similarity = 1 - cosine distance), approximately."""
        single = np.ndim(queries) == 1
        q = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        skip = set() if exclude is None else {int(i) for i in np.atleast_1d(exclude)}
        found = self.index.search(q, k + len(skip))
        keys = np.atleast_2d(np.asarray(found.keys, dtype=np.int64))
        sims = 1.0 - np.atleast_2d(np.asarray(found.distances, dtype=np.float32))
        out_idx = np.full((len(q), k), -1, dtype=np.int64)
        out_sim = np.full((len(q), k), -np.inf, dtype=np.float32)
        for row in range(len(q)):
            keep = [j for j, key in enumerate(keys[row]) if key not in skip][:k]
            out_idx[row, : len(keep)] = keys[row, keep]
            out_sim[row, : len(keep)] = sims[row, keep]
        return (out_idx[0], out_sim[0]) if single else (out_idx, out_sim)

    def save(self, path: Path) -> None:
        from sonotype.atomic import atomic_path

        with atomic_path(path) as tmp:
            self.index.save(str(tmp))

    @classmethod
    def load(cls, path: Path, dimensions: int) -> HNSWIndex:
        index = cls(dimensions)
        index.index.load(str(path))
        return index


def has_index_library() -> bool:
    """Whether usearch (the ``search`` extra) is installed."""
    import importlib.util

    return importlib.util.find_spec("usearch") is not None


def _index_stamp(folder: Path) -> dict:
    stat = (folder / "vectors.npy").stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "inode": stat.st_ino}


def set_norms(folder: Path, vectors) -> np.ndarray:
    """The Euclidean norm of every row of the set in ``folder``, computed once and kept
    beside it (``norms.npy``), recomputed when the vectors change."""
    from sonotype.atomic import atomic_paths

    path, stamp_path = folder / "norms.npy", folder / "norms.json"
    stamp = _index_stamp(folder)
    if path.is_file() and stamp_path.is_file() and json.loads(stamp_path.read_text()) == stamp:
        return np.load(path)
    norms = np.empty(len(vectors), dtype=np.float32)
    for start in range(0, len(vectors), BLOCK_ROWS):
        block = np.asarray(vectors[start : start + BLOCK_ROWS], dtype=np.float32)
        norms[start : start + len(block)] = np.sqrt(np.einsum("ij,ij->i", block, block))
    with atomic_paths([path, stamp_path]) as (tmp, stamp_tmp):
        with open(tmp, "wb") as handle:
            np.save(handle, norms)
        stamp_tmp.write_text(json.dumps(stamp))
    return norms


def set_index(folder: Path, vectors, *, progress=None) -> HNSWIndex:
    """The saved index of the set in ``folder``, built (and saved) when missing or stale."""
    from sonotype.atomic import atomic_path

    path, stamp_path = folder / "index.usearch", folder / "index.json"
    stamp = _index_stamp(folder)
    if path.is_file() and stamp_path.is_file() and json.loads(stamp_path.read_text()) == stamp:
        return HNSWIndex.load(path, vectors.shape[1])
    index = HNSWIndex(vectors.shape[1]).add(vectors, progress=progress)
    index.save(path)
    with atomic_path(stamp_path) as tmp:
        tmp.write_text(json.dumps(stamp))
    return index


def search_set(
    embedding,
    query: Query,
    *,
    k: int = 50,
    folder: Path | None = None,
    approximate: bool | None = None,
    include_self: bool = False,
    project=None,
    progress=None,
) -> pd.DataFrame:
    """The ``k`` rows of an embedding set nearest ``query``, ranked, as an Events-like table.

    Parameters
    ----------
    embedding : EmbeddingSet
    query : Query
        A stored row it matches (see the module notes) is the query, left out of the hits
        unless ``include_self``; otherwise the span is embedded with the set's model
        (:func:`embed_query`, needs ``project``).
    k : int
    folder : Path, optional
        The set's folder, where an approximate index is kept (needed when approximate).
    approximate : bool, optional
        Force exact (False) or approximate (True) search; by default approximate from
        :data:`APPROXIMATE_FROM` rows when usearch is installed, else exact.
    project : Project, optional
        Where the set's recordings are: needed to embed a span that matches no stored row.

    Returns
    -------
    DataFrame
        The hits' rows of ``embedding.events`` with ``rank`` (1 = nearest), ``similarity``
        (cosine) and ``row`` (position in the set), best first.
    """
    row = match_row(embedding.events, query)
    if row is None and project is None:
        find_row(embedding.events, query)  # raises, saying why
    if row is None:
        q, exclude = embed_query(project, embedding, query), None
    else:
        q = np.asarray(embedding.vectors[row], dtype=np.float32)
        exclude = None if include_self else [row]
    n = len(embedding.vectors)
    if approximate is None:
        # Exact answers are never wrong, only slower: without the extra, search exactly.
        approximate = n >= APPROXIMATE_FROM and has_index_library()
    elif approximate and not has_index_library():
        raise ParameterError(
            "approximate search needs usearch: `pip install 'sonotype[search]'`, or search "
            "exactly (--exact)",
            parameter="exact",
        )
    if approximate:
        if folder is None:
            raise ParameterError("approximate search needs the set's folder for its index")
        idx, sim = set_index(folder, embedding.vectors, progress=progress).search(
            q, k=k, exclude=exclude
        )
        found = idx >= 0
        idx, sim = idx[found], sim[found]
    else:
        norms = None if folder is None else set_norms(folder, embedding.vectors)
        idx, sim = exact_search(embedding.vectors, q, k=k, exclude=exclude, norms=norms)
    hits = embedding.events.iloc[idx].reset_index(drop=True)
    hits.insert(0, "rank", np.arange(1, len(idx) + 1))
    hits["similarity"] = sim.astype(float)
    hits["row"] = idx
    return hits
