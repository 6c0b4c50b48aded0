"""Named embedding sets: vectors row-aligned with the events (or windows) they describe.

An embedding set is what ``sonotype embed`` (a pretrained model, a classifier's hidden layer
or a syllable embedder) writes, and what reduce, cluster, probes, model comparison, search and
the app read. It lives in ``artifacts/embeddings/NAME/``:

- ``events.parquet``: an Events table, one row per vector, in vector order;
- ``vectors.npy``: float32 ``(n, d)``, memory-mapped when read so large sets stay on disk;
- ``info.json``: the model, the unit (``events`` or ``windows``), its settings and timings.

The three files appear together or not at all, so a crash never leaves a set that reads.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sonotype.annotations.events import validate_events
from sonotype.atomic import atomic_paths
from sonotype.errors import ParameterError

EMBEDDINGS_DIR = Path("artifacts") / "embeddings"
UNITS = ("events", "windows")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")


@dataclass(frozen=True)
class EmbeddingSet:
    """Vectors and the events they embed, row for row."""

    name: str
    model: str
    unit: str
    events: pd.DataFrame
    vectors: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_set_name(self.name)
        if self.unit not in UNITS:
            raise ParameterError(f"unit={self.unit!r}: must be one of {', '.join(UNITS)}")
        if self.vectors.ndim != 2 or len(self.vectors) != len(self.events):
            raise ParameterError(
                f"embedding set {self.name!r}: {len(self.events)} events but vectors of "
                f"shape {self.vectors.shape}; they must be row-aligned, (n_events, d)"
            )

    @property
    def dimensions(self) -> int:
        return int(self.vectors.shape[1])


def check_set_name(name: str) -> str:
    """``name`` when it can name a folder on every system; otherwise a clear error."""
    if not _NAME.match(name):
        raise ParameterError(
            f"--name {name!r}: an embedding name is 1-80 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit",
            parameter="name",
        )
    return name


def set_folder(project_dir: Path, name: str) -> Path:
    return Path(project_dir) / EMBEDDINGS_DIR / check_set_name(name)


def save_embedding_set(project_dir: Path, embedding: EmbeddingSet) -> Path:
    """Write ``embedding`` under the project (replacing a set of that name); return its folder."""
    folder = set_folder(project_dir, embedding.name)
    events = validate_events(embedding.events, where=f"embedding set {embedding.name!r}")
    info = {**embedding.info, "model": embedding.model, "unit": embedding.unit,
            "n": len(events), "dimensions": embedding.dimensions}  # fmt: skip
    paths = [folder / "events.parquet", folder / "vectors.npy", folder / "info.json"]
    with atomic_paths(paths) as (events_tmp, vectors_tmp, info_tmp):
        events.reset_index(drop=True).to_parquet(events_tmp, index=False)
        _write_vectors(vectors_tmp, embedding.vectors)
        info_tmp.write_text(json.dumps(info, indent=2, sort_keys=True, default=str))
    return folder


#: Rows written at a time: the vectors are streamed to disk, so saving a set (a memory-mapped
#: one included) needs no second copy of it in memory (measured: 100,000 x 1024 float32 vectors,
#: 391 MB, raised the peak by 426 MB when written through one in-memory buffer).
_CHUNK_ROWS = 16_384


def _write_vectors(path: Path, vectors: np.ndarray) -> None:
    """``vectors`` as a float32 ``.npy`` file, written in chunks of rows."""
    n, d = vectors.shape
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(np.float32)),
              "fortran_order": False, "shape": (int(n), int(d))}  # fmt: skip
    with open(path, "wb") as file:
        np.lib.format.write_array_header_1_0(file, header)
        for first in range(0, n, _CHUNK_ROWS):
            chunk = np.ascontiguousarray(vectors[first : first + _CHUNK_ROWS], dtype=np.float32)
            file.write(chunk.tobytes())


def load_embedding_set(project_dir: Path, name: str, *, mmap: bool = True) -> EmbeddingSet:
    """The embedding set ``name``; a missing one is an error that lists those there are."""
    folder = set_folder(project_dir, name)
    if not (folder / "info.json").is_file():
        there = list_embedding_sets(project_dir)
        raise ParameterError(
            f"--embedding {name!r}: no such embedding set; "
            + (f"the project has {', '.join(there)}" if there else "run `sonotype embed` first"),
            parameter="embedding",
        )
    info = json.loads((folder / "info.json").read_text())
    vectors = np.load(folder / "vectors.npy", mmap_mode="r" if mmap else None)
    events = pd.read_parquet(folder / "events.parquet")
    return EmbeddingSet(name, info.pop("model"), info.pop("unit"), events, vectors, info)


def list_embedding_sets(project_dir: Path) -> list[str]:
    """The names of the project's embedding sets, sorted."""
    root = Path(project_dir) / EMBEDDINGS_DIR
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "info.json").is_file())
