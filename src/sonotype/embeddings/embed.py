"""Embed a project's windows or events with any model, into a named embedding set.

:func:`embed_project` is ``sonotype embed --model M``: it picks the units (every recording
cut into windows, stored as events of kind ``window`` with the set's name as source; or the
stored events of one kind), runs :class:`~sonotype.embeddings.stage.EmbedUnitsStage` on each
recording through :meth:`Pipeline.map <sonotype.pipeline.stage.Pipeline.map>` (cached by
the recording's content, the units and the model; a killed run resumes with what is
missing), and assembles the vectors into an :class:`~sonotype.embeddings.sets.EmbeddingSet`.
With ``species_events``, a model's scores become ``predicted`` events (source: the set's
name) and a species list per recording (``reports/embeddings/NAME/species.csv``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path

import numpy as np
import pandas as pd

from sonotype.annotations.events import concat_events, make_events
from sonotype.atomic import atomic_path
from sonotype.embeddings.models import AudioModel, resolve_model
from sonotype.embeddings.sets import (
    EmbeddingSet,
    check_set_name,
    load_embedding_set,
    save_embedding_set,
)
from sonotype.embeddings.stage import (
    DEFAULT_BATCH,
    EmbedUnitsParams,
    EmbedUnitsStage,
    RecordingUnits,
)
from sonotype.embeddings.units import PADS, WINDOW_KIND, check_windowing, window_events
from sonotype.errors import ParameterError, SonotypeError
from sonotype.pipeline.executors import Executor, LocalExecutor
from sonotype.pipeline.stage import Item, Pipeline
from sonotype.store.wording import plural

REPORTS_SUBDIR = "embeddings"
#: Default threshold of ``predicted`` species events (BirdNET-Analyzer's default confidence).
MIN_SCORE = 0.1


@dataclass
class EmbedOutcome:
    """What :func:`embed_project` made.

    Attributes
    ----------
    embedding : EmbeddingSet
    folder : Path
        Where the set is stored.
    failures : dict of str to str
        Recording -> why it failed (left out of the set).
    computed, cached : int
        Recordings embedded now, and found done before.
    seconds : float
        Wall time of the embedding.
    audio_s : float
        Seconds of audio the units cover.
    species : DataFrame, optional
        Species list per recording (with ``species_events``).
    run_id : int
    """

    embedding: EmbeddingSet
    folder: Path
    failures: dict[str, str] = field(default_factory=dict)
    computed: int = 0
    cached: int = 0
    seconds: float = 0.0
    audio_s: float = 0.0
    species: pd.DataFrame | None = None
    run_id: int = 0


def default_set_name(model: str, windows: tuple[float, float] | None, kind: str | None) -> str:
    """``MODEL-windows`` or ``MODEL-KIND``, spelled as a set name (``classifier:m:out`` ->
    ``classifier-m-out``).

    Examples
    --------
    >>> default_set_name("birdnet", (3.0, 3.0), None)
    'birdnet-windows'
    >>> default_set_name("classifier:song:hidden1", None, "annotated")
    'classifier-song-hidden1-annotated'
    """
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(model).stem if model.endswith(".toml") else model)
    return check_set_name(f"{base}-{'windows' if windows else kind}"[:80])


def embed_project(
    project,
    model: str,
    *,
    windows: tuple[float, float] | None = None,
    kind: str | None = None,
    source: str | None = None,
    name: str | None = None,
    recordings: str | None = None,
    events: pd.DataFrame | None = None,
    species_events: bool = False,
    min_score: float = MIN_SCORE,
    pad: str = "zeros",
    batch_size: int | None = None,
    threads: int = 1,
    random_state: int = 0,
    executor: Executor | None = None,
    progress: Callable[[str], None] | None = None,
    command: str = "embed",
) -> EmbedOutcome:
    """Embed ``project``'s windows or events with ``model`` into the set ``name``.

    Parameters
    ----------
    project : Project
    model : str
        A model as ``--model`` names it (:func:`~sonotype.embeddings.models.resolve_model`).
    windows : (float, float), optional
        ``(window_s, hop_s)``: embed every recording cut into windows.
    kind : str, optional
        Embed the stored events of this kind (``annotated``, ``detected``, ...).
    source : str, optional
        With ``kind``: only events of this source.
    name : str, optional
        The set's name; default :func:`default_set_name`.
    recordings : str, optional
        Only recordings whose name matches this glob.
    events : DataFrame, optional
        Embed exactly these events (``sonotype activations`` picks its own).
    species_events : bool
        Store the model's scores at or above ``min_score`` as ``predicted`` events.
    pad : {"zeros", "audio"}
        Events shorter than the model's window: padded with zeros (the model hears the event
        alone) or with the audio around them (the event in its context). Point events are
        always heard in their context; windows are heard whole.
    batch_size : int, optional
        Windows per model call (speed and memory only); default the model's own (BirdNET: 1,
        measured fastest; others: 32).
    threads : int
        The runtime's threads per worker.
    random_state : int
        Seed of the ``pca`` embedder.
    executor : Executor, optional
        Runs the recordings (default: a local process pool).
    progress : callable, optional
        Called with each recording's name as it is settled.

    Returns
    -------
    EmbedOutcome
    """
    chosen = sum(x is not None for x in (windows, kind, events))
    if chosen != 1:
        raise ParameterError(
            "give exactly one of --windows WINDOW_S,HOP_S and --events KIND", parameter="windows"
        )
    resolved = resolve_model(model, project_dir=project.folder, threads=threads)
    is_audio = isinstance(resolved, AudioModel)
    batch_size = batch_size or (resolved.batch_size if is_audio else DEFAULT_BATCH)
    if species_events and not (is_audio and resolved.labels):
        raise ParameterError(
            f"--species-events: model {model!r} has no scores (labels); use a model with "
            "labels, such as birdnet",
            parameter="species_events",
        )
    if pad not in PADS:
        raise ParameterError(f"--pad {pad!r} must be one of {', '.join(PADS)}", parameter="pad")
    if windows is not None:
        window_s, hop_s = check_windowing(*windows)
    name = check_set_name(name) if name else default_set_name(model, windows, kind)
    units = _units(project, windows, kind, source, recordings, events, name)
    params = EmbedUnitsParams(
        model=resolved.name,
        model_identity=resolved.identity(),
        unit="windows" if windows else "events",
        scores=species_events,
        pad="audio" if windows else pad,
        batch_size=batch_size,
        threads=threads,
    )
    items = _items(project, units)
    config = {
        "model": model,
        "identity": params.model_identity,
        "unit": params.unit,
        "windows": list(windows) if windows else None,
        "kind": kind,
        "source": source,
        "recordings": recordings,
        "name": name,
        "species_events": species_events,
        "min_score": min_score,
        "pad": pad,
        "batch_size": batch_size,
    }
    started = time.perf_counter()
    with project.run(command, config, name=name) as run:
        if windows is not None:
            project.store_results(
                units,
                kind=WINDOW_KIND,
                source=name,
                command=command,
                description=f"{plural(len(units), 'window')} of {window_s:g} s every "
                f"{hop_s:g} s for embedding set {name}",
            )
        pipeline = Pipeline(project, run_id=run.id, executor=executor or LocalExecutor())
        batch = pipeline.map(
            EmbedUnitsStage(resolved, batch_size=batch_size), params, items, progress=progress
        )
        if not batch.results:
            first, why = next(iter(batch.failures.items()))
            raise SonotypeError(
                f"every recording failed ({len(batch.failures)}), so nothing was stored; "
                f"the first: {first}: {why}"
            )
        kept = [item for item in items if item.name in batch.results]
        table = concat_events([item.value.events for item in kept])
        staging = project.folder / "artifacts" / "embeddings" / f".{name}.staging.npy"
        extras: dict[str, list[np.ndarray]] = {"top_scores": [], "top_labels": []}
        if is_audio:
            vectors = _gather_vectors(batch, kept, resolved.dimensions, staging, extras)
        else:
            inputs = np.concatenate([batch.results[item.name].value["inputs"] for item in kept])
            vectors = resolved.fit_transform(inputs, random_state=random_state)
        seconds = time.perf_counter() - started
        audio_s = float((table["stop_s"] - table["start_s"]).sum())
        if is_audio:
            audio_s = float(len(table) * resolved.window_s) if windows is None else audio_s
        info = {
            "model_identity": params.model_identity,
            "model_spec": model,  # as --model named it: search embeds new spans with it
            "pad": params.pad,
            "source_kind": kind,
            "source": source,
            "windows": list(windows) if windows else None,
            "sr": resolved.sr,
            "window_s": resolved.window_s,
            "seconds": round(seconds, 3),
            "recordings": len(kept),
            "failures": batch.failures,
            "run_id": run.id,
        }
        embedding = EmbeddingSet(name, resolved.name, params.unit, table, vectors, info)
        try:
            folder = save_embedding_set(project.folder, embedding)
        finally:
            del embedding, vectors  # the memory map of the staging file, before it goes
            staging.unlink(missing_ok=True)
        embedding = load_embedding_set(project.folder, name)
        species = None
        if species_events:
            predicted, species = species_tables(table, extras, resolved.labels, min_score)
            project.store_results(
                predicted,
                kind="predicted",
                source=name,
                command=command,
                description=f"{resolved.name} species at score >= {min_score:g}: "
                f"{plural(len(predicted), 'event')}",
            )
            report = project.reports_dir / REPORTS_SUBDIR / name / "species.csv"
            with atomic_path(report) as tmp:
                species.to_csv(tmp, index=False)
        if batch.failures:
            run.status = "partial"
            first, why = next(iter(batch.failures.items()))
            run.error = (
                f"{plural(len(batch.failures), 'recording')} failed; the first: {first}: {why}"
            )
    return EmbedOutcome(
        embedding,
        folder,
        batch.failures,
        batch.computed,
        batch.cached,
        seconds,
        audio_s,
        species,
        run.id,
    )


def _items(project, units: pd.DataFrame) -> list[Item]:
    """One task per recording, keyed by the recording's content and its units' spans (not
    the set's name or labels: another set of the same spans reuses them)."""
    from sonotype.pipeline.discover_stages import content_key, table_hash
    from sonotype.store.scan import content_hash

    index = project.recordings(status=None).set_index("path")
    items = []
    for recording, rows in units.groupby("recording", sort=True):
        rows = rows.reset_index(drop=True)
        path = project.recording_path(recording)
        row = index.loc[recording]
        try:
            stat = path.stat()
            fresh = row["status"] == "ok" and (row["size"], row["mtime"]) == (
                stat.st_size,
                stat.st_mtime,
            )
            # A file changed since the scan is hashed now: never the vectors of its old audio.
            audio = (
                row["content_hash"] if fresh else content_hash(path, project.config.scan.hash_bytes)
            )
        except OSError:
            audio = f"absent:{recording}"  # fails when read, with the reason; nothing cached
        spans = table_hash(rows[["start_s", "stop_s", "channel"]])
        key = content_key("units", audio, spans)
        items.append(Item(recording, key, RecordingUnits(recording, path, rows)))
    return items


def _units(project, windows, kind, source, recordings, events, name) -> pd.DataFrame:
    """The units to embed, in recording and time order."""
    if events is not None:
        units = events
    elif windows is not None:
        index = project.recordings()
        if recordings:
            index = index[[fnmatch(r, recordings) for r in index["path"]]]
        if index.empty:
            raise ParameterError(
                f"no recordings{f' match {recordings!r}' if recordings else ''} in "
                f"{project.folder}; add audio and run `sonotype scan`",
                parameter="recordings",
            )
        units = window_events(index, window_s=windows[0], hop_s=windows[1], source=name)
    else:
        units = project.events(kinds=[kind], sources=[source] if source else None)
        if recordings:
            units = units[[fnmatch(r, recordings) for r in units["recording"]]]
        if units.empty:
            raise ParameterError(
                f"--events {kind!r}: the project has no events of kind {kind!r}"
                + (f" from {source!r}" if source else "")
                + (f" in recordings {recordings!r}" if recordings else "")
                + "; import annotations, run `sonotype detect`, or embed --windows",
                parameter="kind",
            )
    return units.sort_values(["recording", "channel", "start_s"], kind="stable", ignore_index=True)


def _gather_vectors(
    batch, kept: Sequence[Item], dimensions: int, staging: Path, extras
) -> np.ndarray:
    """Every recording's vectors, in order, in a memory-mapped staging file (one
    recording's artifact in memory at a time), and their best scores appended to
    ``extras``."""
    n = sum(len(item.value.events) for item in kept)
    staging.parent.mkdir(parents=True, exist_ok=True)
    vectors = np.lib.format.open_memmap(staging, mode="w+", dtype=np.float32, shape=(n, dimensions))
    first = 0
    for item in kept:
        part = batch.results[item.name].value
        vectors[first : first + len(part["vectors"])] = part["vectors"]
        first += len(part["vectors"])
        for key in extras:
            if key in part:
                extras[key].append(part[key])
    return vectors


def species_tables(
    units: pd.DataFrame,
    extras: dict[str, list[np.ndarray]],
    labels: Sequence[str],
    min_score: float,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``predicted`` events (a unit's labels scoring at least ``min_score``) and the species
    list per recording (windows, best and mean score of each species found)."""
    top_scores = np.concatenate(extras["top_scores"])
    top_labels = np.concatenate(extras["top_labels"])
    rows, ranks = np.nonzero(top_scores >= min_score)
    names = np.asarray(labels, dtype=object)[top_labels[rows, ranks]]
    chosen = units.iloc[rows]
    predicted = make_events(
        chosen["recording"].tolist(),
        chosen["start_s"].to_numpy(),
        chosen["stop_s"].to_numpy(),
        list(names),
        kind="predicted",
        channel=chosen["channel"].to_numpy(),
        score=top_scores[rows, ranks].astype(float),
        where="species events",
    )
    if predicted.empty:
        species = pd.DataFrame(
            columns=["recording", "species", "windows", "best_score", "mean_score"]
        )
    else:
        species = (
            predicted.groupby(["recording", "label"], sort=True)["score"]
            .agg(windows="size", best_score="max", mean_score="mean")
            .reset_index()
            .rename(columns={"label": "species"})
            .sort_values(["recording", "best_score"], ascending=[True, False], ignore_index=True)
        )
    return predicted, species
