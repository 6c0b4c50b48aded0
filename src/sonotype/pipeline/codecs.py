"""How a stage's output is written to its artifact file and read back.

Each codec writes to the temporary path it is given (the artifact store renames it into place
once complete) and reads what it wrote, losslessly.
"""

from __future__ import annotations

import io
import json
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


class Codec(ABC):
    """Write a value to a file and read it back."""

    suffix = ""

    @abstractmethod
    def write(self, value: Any, path: Path) -> None:
        """Write ``value`` to ``path`` (a temporary file the store renames into place)."""

    @abstractmethod
    def read(self, path: Path) -> Any:
        """The value written to ``path``."""


class ArrayCodec(Codec):
    """One NumPy array, as ``.npy`` (memory-mapped when read, so large ones stay on disk)."""

    suffix = ".npy"

    def __init__(self, *, mmap: bool = False) -> None:
        self.mmap = mmap

    def write(self, value: np.ndarray, path: Path) -> None:
        buffer = io.BytesIO()
        np.save(buffer, np.asarray(value), allow_pickle=False)
        path.write_bytes(buffer.getvalue())

    def read(self, path: Path) -> np.ndarray:
        return np.load(path, allow_pickle=False, mmap_mode="r" if self.mmap else None)


class ArraysCodec(Codec):
    """A dict of named NumPy arrays, as ``.npz``."""

    suffix = ".npz"

    def write(self, value: dict[str, np.ndarray], path: Path) -> None:
        with open(path, "wb") as file:
            np.savez(file, **{name: np.asarray(a) for name, a in value.items()})

    def read(self, path: Path) -> dict[str, np.ndarray]:
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}


class EventsCodec(Codec):
    """An Events table (or any DataFrame of plain columns), as Parquet."""

    suffix = ".parquet"

    def write(self, value: pd.DataFrame, path: Path) -> None:
        value.reset_index(drop=True).to_parquet(path, index=False)

    def read(self, path: Path) -> pd.DataFrame:
        return pd.read_parquet(path)


class JsonCodec(Codec):
    """JSON-serialisable values (settings, scores, receipts of side effects)."""

    suffix = ".json"

    def write(self, value: Any, path: Path) -> None:
        path.write_text(json.dumps(value, sort_keys=True, default=str), encoding="utf-8")

    def read(self, path: Path) -> Any:
        return json.loads(path.read_text(encoding="utf-8"))
