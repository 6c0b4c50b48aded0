"""What the supervised stages share: the project's models, its recordings chosen by glob,
and the content hashes their keys are made of."""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from sonotype.errors import ParameterError
from sonotype.models.saved import SavedModel
from sonotype.pipeline.stage import Batch, Result
from sonotype.store import Project

MODELS_DIR = Path("artifacts") / "models"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
#: Columns of an Events table that say what an event is (an edit's ids and times do not).
_EVENT_COLUMNS = ("recording", "start_s", "stop_s", "label", "kind", "channel", "source")


def model_folder(project: Project, name: str) -> Path:
    """``artifacts/models/NAME`` of the project, for a name that is safe as a folder name."""
    if not _NAME.match(name):
        raise ParameterError(
            f"model name {name!r} must start with a letter or digit and hold only letters, "
            "digits, '_', '.' and '-'"
        )
    return project.folder / MODELS_DIR / name


def load_model(project: Project, name: str) -> SavedModel:
    """The trained model ``name`` of the project (a clear error lists the others)."""
    folder = model_folder(project, name)
    if not (folder / "model.json").is_file():
        names = sorted(p.parent.name for p in (project.folder / MODELS_DIR).glob("*/model.json"))
        raise ParameterError(
            f"no model named {name!r} in {project.folder}; trained models: "
            f"{', '.join(names) or 'none (train one with `sonotype train`)'}"
        )
    return SavedModel.load(folder)


def select_recordings(project: Project, patterns: Sequence[str] | None) -> list[str]:
    """Indexed recordings whose names match any of the globs (all when none are given)."""
    names = project.recordings()["path"].tolist()
    if not patterns:
        return names
    chosen = [n for n in names if any(fnmatch.fnmatchcase(n, p) for p in patterns)]
    if not chosen:
        raise ParameterError(
            f"no indexed recording matches {', '.join(patterns)}; `sonotype info` lists them"
        )
    return chosen


def recording_table(project: Project, names: Iterable[str]) -> pd.DataFrame:
    """The index rows (``content_hash``, ``sr``, ``duration_s``, ...) of ``names``, by path."""
    index = project.recordings().set_index("path")
    return index.loc[list(names)]


def digest(value: Any) -> str:
    """sha256 of the canonical JSON of ``value`` (dicts in key order)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def events_hash(events: pd.DataFrame) -> str:
    """A content hash of an Events table: the same events in any order give the same hash
    (times to the microsecond the database keeps)."""
    if events.empty:
        return digest([])
    columns = [c for c in events.columns if c in _EVENT_COLUMNS or c.startswith("label:")]
    columns += [c for c in ("low_hz", "high_hz", "score") if c in events.columns]
    table = events[sorted(set(columns))].copy()
    for column in ("start_s", "stop_s"):
        table[column] = table[column].astype(float).round(6)
    rows = sorted(json.dumps(r, default=str) for r in table.astype(object).where(
        table.notna(), None).to_dict("records"))  # fmt: skip
    return digest(rows)


def file_hash(path: Path, *, chunk: int = 1 << 20) -> str:
    """sha256 of a file's bytes, read in chunks."""
    sha = hashlib.sha256()
    with open(path, "rb") as file:
        while block := file.read(chunk):
            sha.update(block)
    return sha.hexdigest()


def table_record(table: pd.DataFrame) -> dict:
    """A small table as JSON (columns in order; missing values as null)."""
    return table.astype(object).where(table.notna(), None).to_dict("split")


def record_table(record: dict) -> pd.DataFrame:
    """The table :func:`table_record` made."""
    return pd.DataFrame(record["data"], columns=record["columns"]).infer_objects()


def gathered(batch: Batch, names: Sequence[str] | None = None) -> Result[dict]:
    """One input made of a batch's results: keyed by their keys, loaded (lazily) as
    ``{item name: value}``. ``names`` keeps only those items (default: all finished)."""
    chosen = [n for n in (batch.results if names is None else names) if n in batch.results]
    keys: Mapping[str, str] = {n: batch.results[n].key for n in chosen}
    return Result(digest(keys), load=lambda: {n: batch.results[n].value for n in chosen})
