"""How discovery's own outputs are stored: UMAP grids, clustering grids, the selection and
the phenotypes, each in one ``.npz`` file, losslessly and without pickle.

Arrays are stored as they are; tables as Parquet bytes (dtypes, index and column names
survive); everything else (parameters, scores, names) as one JSON document.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sonotype.cluster import Clustering
from sonotype.phenotype import Phenotypes
from sonotype.pipeline.codecs import Codec
from sonotype.pipeline.discover_config import FeatureSettings
from sonotype.reduce import Embedding


@dataclass
class Selection:
    """What the selection stage chose: the ranked summary of every (settings, UMAP,
    HDBSCAN) triple and the best one.

    Attributes
    ----------
    summary : DataFrame
        Every clustering with its scores and settings, best first (``summary.csv``).
    candidate : int
        Index of the selected feature settings among the run's candidates.
    settings : FeatureSettings
        The selected feature settings.
    reduction : Embedding
        The selected UMAP embedding (coordinates of the rows ``reduction.indices``).
    clustering : Clustering
        The selected clustering, row-aligned with ``reduction.coords``.
    """

    summary: pd.DataFrame
    candidate: int
    settings: FeatureSettings
    reduction: Embedding
    clustering: Clustering


class _Archive(Codec):
    """A dict of arrays, tables and one JSON document in one ``.npz`` file."""

    suffix = ".npz"

    @staticmethod
    def _save(path: Path, arrays: dict[str, np.ndarray], tables: dict[str, pd.DataFrame],
              meta: object) -> None:  # fmt: skip
        members = {f"array:{k}": np.asarray(v) for k, v in arrays.items()}
        for name, table in tables.items():
            buffer = io.BytesIO()
            table.to_parquet(buffer)
            members[f"table:{name}"] = np.frombuffer(buffer.getvalue(), dtype=np.uint8)
        members["meta"] = np.array(json.dumps(meta, default=_plain, allow_nan=True))
        with open(path, "wb") as file:
            np.savez(file, **members)

    @staticmethod
    def _load(path: Path) -> tuple[dict[str, np.ndarray], dict[str, pd.DataFrame], object]:
        arrays, tables = {}, {}
        with np.load(path, allow_pickle=False) as data:
            for member in data.files:
                kind, _, name = member.partition(":")
                if kind == "array":
                    arrays[name] = data[member]
                elif kind == "table":
                    tables[name] = pd.read_parquet(io.BytesIO(data[member].tobytes()))
            meta = json.loads(str(data["meta"]))
        return arrays, tables, meta


def _plain(value: object) -> object:
    """NumPy scalars and arrays as JSON values."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def _embedding_meta(reduction: Embedding) -> dict:
    return {
        "method": reduction.method,
        "params": reduction.params,
        "trustworthiness": reduction.trustworthiness,
        "extra": reduction.extra,
    }


def _embedding(meta: dict, coords: np.ndarray, indices: np.ndarray) -> Embedding:
    return Embedding(
        meta["method"], meta["params"], coords, indices,
        trustworthiness=meta["trustworthiness"], extra=meta["extra"],
    )  # fmt: skip


def _clustering_meta(clustering: Clustering) -> dict:
    return {
        "method": clustering.method,
        "params": clustering.params,
        "scores": clustering.scores,
        "extra": clustering.extra,
        "probabilities": clustering.probabilities is not None,
    }


def _clustering(meta: dict, arrays: dict, prefix: str) -> Clustering:
    probabilities = arrays[f"{prefix}probabilities"] if meta["probabilities"] else None
    return Clustering(
        meta["method"], meta["params"], arrays[f"{prefix}labels"], probabilities,
        scores=meta["scores"], extra=meta["extra"],
    )  # fmt: skip


def _clustering_arrays(clustering: Clustering, prefix: str) -> dict[str, np.ndarray]:
    arrays = {f"{prefix}labels": clustering.labels}
    if clustering.probabilities is not None:
        arrays[f"{prefix}probabilities"] = clustering.probabilities
    return arrays


class ReductionsCodec(_Archive):
    """The UMAP grid: a list of :class:`~sonotype.reduce.Embedding` (coordinates, indices,
    parameters, trustworthiness; not the fitted models)."""

    def write(self, value: list[Embedding], path: Path) -> None:
        arrays = {}
        for i, reduction in enumerate(value):
            arrays[f"{i}/coords"], arrays[f"{i}/indices"] = reduction.coords, reduction.indices
        self._save(path, arrays, {}, [_embedding_meta(r) for r in value])

    def read(self, path: Path) -> list[Embedding]:
        arrays, _, meta = self._load(path)
        return [
            _embedding(m, arrays[f"{i}/coords"], arrays[f"{i}/indices"]) for i, m in enumerate(meta)
        ]


class ClusteringsCodec(_Archive):
    """The clustering grid: one list of :class:`~sonotype.cluster.Clustering` per reduction."""

    def write(self, value: list[list[Clustering]], path: Path) -> None:
        arrays, meta = {}, []
        for i, group in enumerate(value):
            meta.append([_clustering_meta(c) for c in group])
            for j, clustering in enumerate(group):
                arrays.update(_clustering_arrays(clustering, f"{i}/{j}/"))
        self._save(path, arrays, {}, meta)

    def read(self, path: Path) -> list[list[Clustering]]:
        arrays, _, meta = self._load(path)
        return [
            [_clustering(m, arrays, f"{i}/{j}/") for j, m in enumerate(group)]
            for i, group in enumerate(meta)
        ]


class SelectionCodec(_Archive):
    """A :class:`Selection`."""

    def write(self, value: Selection, path: Path) -> None:
        arrays = {"coords": value.reduction.coords, "indices": value.reduction.indices}
        arrays.update(_clustering_arrays(value.clustering, "clustering/"))
        meta = {
            "candidate": value.candidate,
            "settings": value.settings.identity(),
            "reduction": _embedding_meta(value.reduction),
            "clustering": _clustering_meta(value.clustering),
        }
        self._save(path, arrays, {"summary": value.summary}, meta)

    def read(self, path: Path) -> Selection:
        arrays, tables, meta = self._load(path)
        return Selection(
            summary=tables["summary"],
            candidate=meta["candidate"],
            settings=FeatureSettings(**meta["settings"]),
            reduction=_embedding(meta["reduction"], arrays["coords"], arrays["indices"]),
            clustering=_clustering(meta["clustering"], arrays, "clustering/"),
        )


class PhenotypesCodec(_Archive):
    """A :class:`~sonotype.phenotype.Phenotypes`."""

    _PARTS = ("per_animal", "transitions", "transition_probabilities")

    def write(self, value: Phenotypes, path: Path) -> None:
        animals = {part: list(getattr(value, part)) for part in self._PARTS}
        tables = {"summary": value.summary}
        for part, names in animals.items():
            for i, animal in enumerate(names):
                tables[f"{part}/{i}"] = getattr(value, part)[animal]
        self._save(path, {}, tables, {"animals": animals, "parameters": value.parameters})

    def read(self, path: Path) -> Phenotypes:
        _, tables, meta = self._load(path)
        parts = {
            part: {animal: tables[f"{part}/{i}"] for i, animal in enumerate(names)}
            for part, names in meta["animals"].items()
        }
        return Phenotypes(summary=tables["summary"], parameters=meta["parameters"], **parts)
