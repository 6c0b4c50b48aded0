"""A sonotype project: a folder with ``sonotype.toml``, ``sonotype.db``, artifacts and reports.

Layout::

    myproject/
      sonotype.toml   typed, validated configuration
      sonotype.db     SQLite (WAL): recordings, events, edit log, artifacts, runs
      artifacts/      content-addressed outputs
      reports/        HTML, PNG and CSV for people

Users' own files (audio, annotation files) are never modified.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pandas as pd

from sonotype.annotations import (
    read_event_parts,
    write_event_parts,
    write_event_stream,
)
from sonotype.annotations.io import output_format, writes_folder
from sonotype.atomic import clean_stale
from sonotype.errors import AnnotationError, ParameterError, SonotypeError
from sonotype.store import event_store
from sonotype.store import runs as runs_registry
from sonotype.store.artifacts import ArtifactCache
from sonotype.store.config import CONFIG_NAME, ProjectConfig, load_config, render_config
from sonotype.store.database import DB_NAME, Database
from sonotype.store.runs import RunOutcome, record_run
from sonotype.store.scan import Progress, ScanReport, scan_recordings
from sonotype.store.wording import plural

PathLike = str | os.PathLike[str]


class ProjectNotFoundError(SonotypeError):
    """No ``sonotype.toml`` in the folder or any folder above it."""


@dataclass(frozen=True)
class ImportReport:
    """What an import added: the edit (for undo), the number of events per file, and how many
    events ``clip`` shortened to end with their recording or dropped as starting after it."""

    edit: event_store.Edit
    counts: dict[str, int]
    clipped: int = 0
    dropped: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts.values())


# Stage name, items done, items in all (None when not known yet).
ImportProgress = Callable[[str, int, int | None], None]


class Project:
    """An open project. Create one with :meth:`init`, open one with :meth:`open`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.config: ProjectConfig = load_config(folder / CONFIG_NAME)
        self.db = Database(folder / DB_NAME)
        self.artifacts = ArtifactCache(folder, self.db)

    # -- creating and opening ----------------------------------------------------------------

    @classmethod
    def init(
        cls, folder: PathLike, *, audio_roots: Sequence[PathLike] | None = None, name: str = ""
    ) -> Project:
        """Create a project in ``folder`` (made if needed) with the given audio roots.

        ``audio_roots`` default to ``folder/audio``; relative paths are relative to the current
        folder, as for any path. Roots inside the project folder are stored relative to it, so
        the project can be moved or shared as a whole; others are stored as absolute paths.
        """
        folder = Path(folder)
        if (folder / CONFIG_NAME).exists():
            raise ParameterError(
                f"{folder / CONFIG_NAME} already exists; open that project instead of creating one"
            )
        for parent in (folder, *folder.parents):
            if parent.exists() and not parent.is_dir():
                where = "" if parent == folder else f", so the project {folder} cannot be made"
                raise ParameterError(
                    f"{parent} is a file{where}; give the path of a new or existing folder"
                )
        for root in audio_roots or ():
            if Path(root).exists() and not Path(root).is_dir():
                raise ParameterError(
                    f"--audio {root} is a file; audio roots are folders: give the folder that "
                    f"holds it (--audio {Path(root).parent})"
                )
        folder.mkdir(parents=True, exist_ok=True)
        config = ProjectConfig()
        config.project.name = name or folder.resolve().name
        roots = audio_roots if audio_roots is not None else [folder / "audio"]
        config.audio.roots = [_root_entry(folder, Path(r)) for r in roots]
        (folder / CONFIG_NAME).write_text(render_config(config), encoding="utf-8")
        for sub in ("artifacts", "reports"):
            (folder / sub).mkdir(exist_ok=True)
        return cls(folder)

    @classmethod
    def open(cls, start: PathLike = ".") -> Project:
        """The project whose folder is ``start`` or the nearest one above it (like git).

        Temporary files and staging folders that killed sonotype processes left in
        ``artifacts/`` and ``reports/`` are removed (see :func:`sonotype.atomic.clean_stale`).
        """
        project = cls(find_project(start))
        project.clean_leftovers()
        return project

    def clean_leftovers(self) -> list[Path]:
        """Remove what killed sonotype processes left in ``artifacts/`` and ``reports/``:
        temporary files and staging folders whose writer no longer runs; return them."""
        removed = []
        for sub in ("artifacts", "reports"):
            removed.extend(clean_stale(self.folder / sub, recursive=True))
        return removed

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # -- recordings ------------------------------------------------------------------------------

    @property
    def audio_roots(self) -> list[tuple[str, Path]]:
        """``(name in sonotype.toml, folder)`` for each audio root."""
        return [(r, (self.folder / r).resolve()) for r in self.config.audio.roots]

    @property
    def reports_dir(self) -> Path:
        return self.folder / "reports"

    def scan(self, *, progress: Progress | None = None) -> ScanReport:
        """Index the recordings under the audio roots (see :func:`scan_recordings`)."""
        with self.run("scan", {"roots": self.config.audio.roots}):
            return scan_recordings(
                self.db,
                self.audio_roots,
                extensions=self.config.audio.extensions,
                hash_bytes=self.config.scan.hash_bytes,
                progress=progress,
            )

    def recordings(self, *, status: str | None = "ok") -> pd.DataFrame:
        """The index of recordings (only readable, present ones by default)."""
        sql = "SELECT * FROM recordings"
        rows = self.db.execute(
            sql + (" WHERE status = ?" if status else "") + " ORDER BY path",
            (status,) if status else (),
        ).fetchall()
        columns = [d[0] for d in self.db.execute(sql + " LIMIT 0").description]
        return pd.DataFrame([tuple(r) for r in rows], columns=columns)

    def recording_path(self, name: str) -> Path:
        """The audio file of indexed recording ``name``."""
        row = self.db.execute("SELECT root FROM recordings WHERE path = ?", (name,)).fetchone()
        if row is None:
            raise ParameterError(
                f"recording {name!r} is not indexed in {self.folder}; run `sonotype scan`, or "
                "give its path inside the audio root"
            )
        return (self.folder / row["root"] / PurePosixPath(name)).resolve()

    # -- events ----------------------------------------------------------------------------------

    def import_files(
        self,
        paths: Sequence[PathLike],
        *,
        format: str | None = None,
        kind: str | None = None,
        source: str | None = None,
        sr: float | None = None,
        clip: bool = False,
        progress: ImportProgress | None = None,
        option_names: Mapping[str, str] | None = None,
    ) -> ImportReport:
        """Read annotation files and store their events as one edit (one ``undo`` reverts it).

        Recording names are matched to the index: names inside an audio root are made
        relative to it; a bare file name matches the one indexed recording of that name.
        Nothing is stored unless every event of every file names an indexed recording and
        lies inside it: an event that ends after its recording is an error, or with ``clip``
        is shortened to end with it (dropped if it starts after the end).

        Files stream through, read and stored one at a time (a simple CSV of 64 MB or more
        200,000 rows at a time), so one file's events, or one part's, are in memory whatever
        their number. ``progress`` is called every batch with the file being
        stored and the events stored so far.
        """
        for name, value in (("kind", kind), ("source", source)):
            if value is not None and not value.strip():
                raise ParameterError(
                    f"--{name} {value!r} is empty; give a {name} such as "
                    f"{'annotated' if name == 'kind' else 'my-name'}, or leave --{name} out"
                )
        rates = self._known_rates()
        durations = self._durations()
        indexed = self._indexed_paths()
        audio_dirs = [folder for _, folder in self.audio_roots]
        paths = [Path(p) for p in paths]

        def read(path: Path) -> Iterator[tuple[pd.DataFrame, int, int]]:
            given = 0
            for events in read_event_parts(
                path,
                format=format,
                sr=sr,
                kind=kind,
                source=source,
                audio_dirs=audio_dirs,
                relative_to=self._root_containing(path),
                known_rates=rates,
                option_names=option_names,
            ):
                # Errors number events from the file's first, in every part.
                first_event, given = given + 1, given + len(events)
                events = self._match_recordings(
                    events, path, indexed=indexed, first_event=first_event
                )
                yield _inside_recordings(
                    events, durations, path=path, clip=clip, first_event=first_event
                )

        counts: dict[str, int] = {}
        changed = {"clipped": 0, "dropped": 0}

        def tables() -> Iterator[pd.DataFrame]:
            for path in paths:
                counts[str(path)] = 0
                for events, clipped, dropped in read(path):  # (a large CSV in parts)
                    counts[str(path)] += len(events)
                    changed["clipped"] += clipped
                    changed["dropped"] += dropped
                    yield events

        def stored_so_far(n: int) -> None:
            progress(f"importing file {len(counts)} of {len(paths)}, events stored", n, None)

        config = {
            "files": [str(p) for p in paths],
            "format": format,
            "kind": kind,
            "source": source,
            "clip": clip,
        }
        with self.run("import", config):
            edit = event_store.add_event_tables(
                self.db,
                tables(),
                command="import",
                description=lambda n: (
                    f"imported {plural(n, 'event')} from {plural(len(paths), 'file')}"
                ),
                progress=stored_so_far if progress else None,
            )
        return ImportReport(edit, counts, changed["clipped"], changed["dropped"])

    def add_events(
        self,
        events: pd.DataFrame,
        *,
        command: str,
        description: str,
        replace: Mapping[str, Sequence[str]] | None = None,
    ):
        """Store an Events table whose recordings are indexed, as one edit.

        ``replace`` selects stored events to delete in the same edit (filters as for
        :meth:`events`, e.g. ``{"kinds": ["detected"], "sources": ["time-freq"]}``), so a
        re-run replaces its earlier results and one ``undo`` brings them back.
        """
        old = self.db_ids(**replace) if replace else []
        return event_store.add_events(
            self.db,
            self._match_recordings(events, None),
            command=command,
            description=description,
            replace_ids=old,
        )

    def store_results(
        self,
        events: pd.DataFrame,
        *,
        kind: str,
        source: str,
        command: str,
        description: str,
    ) -> event_store.Edit | None:
        """Make ``events`` the project's whole set of ``kind`` events from ``source`` (a
        named run, e.g. a detector's or a model's), in one undoable edit.

        Returns None, and changes nothing, when the stored ones are the same already: a
        re-run with nothing changed adds no edit. The events' own kind and source are
        replaced by ``kind`` and ``source``.
        """
        events = events.assign(kind=kind, source=source)
        stored = self.events(kinds=[kind], sources=[source])
        if same_events(stored, events):
            return None
        return self.add_events(
            events,
            command=command,
            description=description,
            replace={"kinds": [kind], "sources": [source]},
        )

    def db_ids(self, **filters: Any) -> list[int]:
        """Database ids of the stored events that match the filters."""
        return event_store.query_events(self.db, with_ids=True, **filters).index.tolist()

    def events(self, **filters: Any) -> pd.DataFrame:
        """Stored events; filters as in :func:`sonotype.store.event_store.query_events`."""
        return event_store.query_events(self.db, **filters)

    def export(
        self,
        path: PathLike,
        *,
        format: str | None = None,
        kinds: Sequence[str] | None = None,
        labels: Sequence[str] | None = None,
        sources: Sequence[str] | None = None,
        overwrite: bool = False,
        option_names: Mapping[str, str] | None = None,
        progress: ImportProgress | None = None,
    ) -> list[Path]:
        """Write the stored events that match the filters in an annotation format.

        ``path`` ending in a separator, or an existing folder, gets one file per recording
        (as :func:`~sonotype.annotations.write_events` decides). Those files are read and
        written a group of recordings at a time (at most 200,000 events); one file is written
        200,000 events at a time where its format appends (``simple-csv``, ``songexplorer``),
        so memory stays bounded. Nothing appears unless every file can be written.
        ``option_names`` spells the caller's options in errors. ``progress`` is called with
        (stage, done, total): ("writing", recordings done, recordings) for one file per
        recording, ("writing", events written, events) for one file.
        """
        filters = {"kinds": kinds, "labels": labels, "sources": sources}
        counts = event_store.count_by_recording(self.db, **filters)
        if not counts:
            raise ParameterError(
                "no stored events match the filters (kinds, labels, sources); "
                "see `sonotype import` to add some"
            )
        names = dict(option_names or {})
        fmt = output_format(path, format, option_names=names)
        writing = {
            "format": fmt.name,
            "audio_dirs": [folder for _, folder in self.audio_roots],
            "known_rates": self._known_rates(),
            "overwrite": overwrite,
            "option_names": names,
        }
        if writes_folder(path, fmt, n_recordings=len(counts)):
            # One file per recording: read and written a group of recordings at a time, so
            # memory holds one group's events however many are stored.
            groups = _groups(counts, _EXPORT_GROUP)
            written, _ = write_event_stream(
                [
                    functools.partial(event_store.query_events, self.db, **filters, recordings=g)
                    for g in groups
                ],
                path,
                **writing,
                on_table=None if progress is None else (
                    lambda done: progress("writing", sum(map(len, groups[:done])), len(counts))
                ),
            )  # fmt: skip
            return written
        # One file: the events stream into it a part at a time where the format appends,
        # each part with the columns of the whole selection.
        columns = event_store.event_columns(self.db, **filters)
        total = sum(counts.values())

        def parts() -> Iterator[pd.DataFrame]:
            done = 0
            for part in event_store.iter_events(
                self.db, **filters, columns=columns, chunk_rows=_EXPORT_GROUP
            ):
                yield part
                done += len(part)
                if progress is not None:
                    progress("writing", done, total)

        return [write_event_parts(parts(), path, **writing)]

    def undo(self, n: int = 1) -> list[event_store.Edit]:
        """Undo the last ``n`` edits of the events."""
        return event_store.undo(self.db, n)

    def redo(self, n: int = 1) -> list[event_store.Edit]:
        """Redo the last ``n`` undone edits (see :func:`sonotype.store.event_store.redo`)."""
        return event_store.redo(self.db, n)

    def update_events(
        self, ids: Sequence[int], changes: Mapping[str, Any], *, command: str, description: str
    ) -> event_store.Edit:
        """Change stored events in place as one undoable edit (see
        :func:`sonotype.store.event_store.update_events`)."""
        return event_store.update_events(
            self.db, ids, changes, command=command, description=description
        )

    def edit_log(self, *, limit: int = 20) -> list[event_store.Edit]:
        return event_store.edit_log(self.db, limit=limit)

    # -- runs ------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def run(
        self, command: str, config: Mapping[str, Any], *, name: str | None = None
    ) -> Iterator[RunOutcome]:
        """Record a run of ``command`` with its resolved config (see :func:`record_run`)."""
        with record_run(self.db, command, config, name=name) as outcome:
            yield outcome

    def runs(self, *, ids: Sequence[int] | None = None) -> list[dict]:
        """The recorded runs, newest first (see :func:`sonotype.store.runs.runs`)."""
        return runs_registry.runs(self.db, ids=ids)

    def run_steps(self, run_id: int | None = None, *, status: str | None = None) -> list[dict]:
        """The stages and batch items a run computed, found cached or failed."""
        return runs_registry.steps(self.db, run_id, status=status)

    # -- helpers ---------------------------------------------------------------------------------

    def _durations(self) -> dict[str, float]:
        rows = self.db.execute(
            "SELECT path, duration_s FROM recordings WHERE status = 'ok' AND duration_s IS NOT NULL"
        ).fetchall()
        return {row["path"]: row["duration_s"] for row in rows}

    def _known_rates(self) -> dict[str, float]:
        rows = self.db.execute("SELECT path, sr FROM recordings WHERE sr IS NOT NULL").fetchall()
        rates = {row["path"]: row["sr"] for row in rows}
        by_name = defaultdict(list)
        for row in rows:
            by_name[PurePosixPath(row["path"]).name].append(row["sr"])
        rates.update({name: srs[0] for name, srs in by_name.items() if len(srs) == 1})
        return rates

    def name_of(self, path: PathLike) -> str | None:
        """The index name (path inside its audio root) of an audio file, if it lies in one."""
        resolved = Path(path).resolve()
        folder = self._root_containing(resolved)
        return resolved.relative_to(folder).as_posix() if folder else None

    def _root_containing(self, path: Path) -> Path | None:
        resolved = path.resolve()
        for _, folder in self.audio_roots:
            if resolved.is_relative_to(folder):
                return folder
        return None

    def _indexed_paths(self) -> list[str]:
        return [row["path"] for row in self.db.execute("SELECT path FROM recordings")]

    def _match_recordings(
        self,
        events: pd.DataFrame,
        path: Path | None,
        *,
        indexed: Sequence[str] | None = None,
        first_event: int = 1,
    ) -> pd.DataFrame:
        """``events`` with each recording named by its indexed path (``indexed``: the
        index's paths, read once by a caller that matches many tables). Errors number the
        events from ``first_event`` (a part of a file starts later)."""
        indexed = self._indexed_paths() if indexed is None else indexed
        known = set(indexed)
        by_name = defaultdict(list)
        for name in indexed:
            by_name[PurePosixPath(name).name].append(name)
        where = str(path) if path else "events"
        mapping = {}
        for name in events["recording"].unique():
            if name in known:
                mapping[name] = name
                continue
            candidates = by_name.get(PurePosixPath(name).name, [])
            first = int((events["recording"] == name).to_numpy().argmax()) + first_event
            if len(candidates) == 1:
                mapping[name] = candidates[0]
            elif candidates:
                raise AnnotationError(
                    where,
                    f"event {first} names recording {name!r}, which matches "
                    f"{len(candidates)} indexed recordings ({', '.join(candidates[:3])}); give "
                    "its path inside the audio root",
                )
            else:
                raise AnnotationError(
                    where,
                    f"event {first} names recording {name!r}, which is not indexed in this "
                    f"project ({plural(len(known), 'recording is', 'recordings are')}); run "
                    "`sonotype scan` after adding the audio, or fix the name",
                )
        if all(mapping[name] == name for name in mapping):
            return events  # every name is an indexed path already (the usual case)
        mapped = _map_values(events["recording"], mapping)
        return events.assign(recording=pd.Series(mapped, index=events.index, dtype="str"))


#: Events an export to one file per recording reads and writes at a time (at most).
_EXPORT_GROUP = 200_000


def _groups(counts: Mapping[str, int], size: int) -> list[list[str]]:
    """Consecutive recordings in groups of at most ``size`` events (a recording with more
    is a group of its own) and at most 500 recordings (bound as SQL parameters)."""
    groups: list[list[str]] = [[]]
    total = 0
    for name, n in counts.items():
        if groups[-1] and (total + n > size or len(groups[-1]) >= 500):
            groups.append([])
            total = 0
        groups[-1].append(name)
        total += n
    return groups


def _map_values(column: pd.Series, mapping: Mapping, default: Any = None) -> np.ndarray:
    """``column`` with each value replaced by ``mapping.get(value, default)``, as an array:
    the distinct values (a few recordings among a million events) are looked up once each,
    not once per row."""
    codes, uniques = pd.factorize(column, use_na_sentinel=False)
    return np.asarray([mapping.get(value, default) for value in uniques])[codes]


def _inside_recordings(
    events: pd.DataFrame,
    durations: Mapping[str, float],
    *,
    path: Path,
    clip: bool,
    first_event: int = 1,
) -> tuple[pd.DataFrame, int, int]:
    """The events, checked to lie inside their recordings (or clipped to them with ``clip``);
    also how many were clipped and how many dropped."""
    if events.empty:
        return events, 0, 0
    # Half a microsecond of slack: files round times, and a stop written as the duration
    # rounded up still means the end of the recording.
    end = _map_values(events["recording"], durations, np.nan).astype(float) + 5e-7
    outside = events["stop_s"].to_numpy() > end
    if not outside.any():
        return events, 0, 0
    if not clip:
        first = int(outside.argmax())
        row = events.iloc[first]
        raise AnnotationError(
            path,
            f"event {first_event + first} ({row['start_s']:g}-{row['stop_s']:g} s) ends after "
            f"its recording {row['recording']!r} ({end[first]:g} s long)"
            + (
                f", as do {outside.sum() - 1} more of events {first_event}-"
                f"{first_event + len(events) - 1}"
                if outside.sum() > 1
                else ""
            )
            + "; fix the file, or pass --clip to end such events with their recording",
        )
    gone = events["start_s"].to_numpy() >= end
    kept = events.loc[~gone].copy()
    kept["stop_s"] = np.minimum(kept["stop_s"].to_numpy(), end[~gone] - 5e-7)
    return kept.reset_index(drop=True), int((outside & ~gone).sum()), int(gone.sum())


def same_events(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Whether two Events tables hold the same events, in any order (times to the
    microsecond the database keeps; missing optional columns equal all-missing ones)."""
    if len(a) != len(b):
        return False
    if not len(a):
        return True
    columns = sorted(set(a.columns) | set(b.columns))

    def canonical(events: pd.DataFrame) -> pd.DataFrame:
        table = events.reindex(columns=columns).astype(object)
        for column in ("start_s", "stop_s"):
            table[column] = np.round(events[column].to_numpy(float), 6)
        table = table.where(table.notna(), None).astype(str)
        return table.sort_values(columns, ignore_index=True)

    return canonical(a).equals(canonical(b))


def find_project(start: PathLike = ".") -> Path:
    """The folder holding ``sonotype.toml``: ``start`` or the nearest folder above it."""
    start = Path(start).resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    raise ProjectNotFoundError(
        f"no {CONFIG_NAME} in {start} or any folder above it; create a project with "
        "`sonotype init DIR --audio PATH`, or run the command inside one"
    )


def _root_entry(project: Path, root: Path) -> str:
    """How ``root`` is written in sonotype.toml: relative to the project when inside it."""
    absolute = root.resolve()
    try:
        return absolute.relative_to(project.resolve()).as_posix() or "."
    except ValueError:
        return str(absolute)
