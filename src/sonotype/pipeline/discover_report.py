"""The catalog stage: a discovery run's report folder, ``reports/discover/NAME/``.

The folder is built aside and renamed into place whole, so a reader never sees a mix of two
runs. The stage's artifact is a receipt: a hash of every file written. The stage is current
only while the folder still holds those files (deleted, or overwritten by another run of the
same name with other settings, it is written again).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd

from sonotype.phenotype import Phenotypes
from sonotype.pipeline.codecs import JsonCodec
from sonotype.pipeline.discover_codecs import Selection
from sonotype.pipeline.discover_config import FEATURE_KEYS
from sonotype.pipeline.stage import Result, Stage, StageParams
from sonotype.store import Project

#: Where every run's folder is, under the project's reports folder.
REPORTS_SUBDIR = "discover"

#: The score columns the catalog shows (summary.csv holds them all).
CATALOG_COLUMNS = (
    "rank", "n_neighbors", "min_dist", "trustworthiness", "method", "param_min_cluster_size",
    "param_min_samples", "n_clusters", "noise_fraction", "silhouette", "davies_bouldin",
    "composite", "ami", "ari",
)  # fmt: skip


class CatalogParams(StageParams):
    """What the catalog says beyond its inputs.

    Attributes
    ----------
    name : str
        The run's name: the folder ``reports/discover/NAME/``.
    title : str
    notes : tuple of str
        Sentences on how the run adapted its settings or which recordings failed.
    config : str
        The run's resolved config as JSON, written as ``config.json``.
    n_clusterings : int
        HDBSCAN settings per UMAP embedding.
    """

    name: str
    title: str
    notes: tuple[str, ...] = ()
    config: str = "{}"
    n_clusterings: int = 1


class CatalogStage(Stage[CatalogParams, dict]):
    """``index.html`` (the catalog), ``summary.csv``, ``phenotypes/*.csv`` and
    ``config.json`` in ``reports/discover/NAME/``.

    ``features`` is the tuple of every candidate's spectrogram :class:`Result`; only the
    selected one's is loaded.
    """

    name = "catalog"
    params_model = CatalogParams
    codec = JsonCodec()

    def __init__(self, project: Project) -> None:
        self.project = project

    def compute(
        self,
        params: CatalogParams,
        *,
        segments: pd.DataFrame,
        selection: Selection,
        phenotypes: Phenotypes,
        features: tuple[Result, ...],
        truth: np.ndarray | None,
    ) -> dict:
        from sonotype.atomic import replace_folder, staging_folder

        parent = self.project.reports_dir / REPORTS_SUBDIR
        staging = staging_folder(parent, params.name)
        spectrograms = features[selection.candidate].value
        _write_folder(staging, params, segments, selection, phenotypes, spectrograms, truth,
                      n_candidates=len(features))  # fmt: skip
        files = _hashes(staging)
        replace_folder(staging, parent / params.name)
        folder = (parent / params.name).relative_to(self.project.folder)
        return {"folder": folder.as_posix(), "files": files}

    def is_current(self, value: dict) -> bool:
        folder = self.project.folder / value["folder"]
        return folder.is_dir() and _hashes(folder) == value["files"]

    def index(self, value: dict) -> Path:
        """The catalog page of a receipt."""
        return self.project.folder / value["folder"] / "index.html"


def _hashes(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _write_folder(
    folder: Path,
    params: CatalogParams,
    segments: pd.DataFrame,
    selection: Selection,
    phenotypes: Phenotypes,
    spectrograms: np.ndarray,
    truth: np.ndarray | None,
    *,
    n_candidates: int,
) -> None:
    from sonotype.atomic import atomic_path
    from sonotype.report.catalog import CatalogInput, write_catalog

    summary = selection.summary
    with atomic_path(folder / "summary.csv") as tmp:
        summary.to_csv(tmp, index=False)
    with atomic_path(folder / "config.json") as tmp:
        tmp.write_text(json.dumps(json.loads(params.config), indent=2))
    phenotypes.to_csv(folder / "phenotypes")
    reduction, best = selection.reduction, selection.clustering
    rows = reduction.indices
    top = summary.iloc[0]
    n_reductions = len(summary) // max(n_candidates * params.n_clusterings, 1)
    settings = f"{n_candidates} spectrogram settings x " if n_candidates > 1 else ""
    scores = (
        f", AMI {top['ami']:.3f} and ARI {top['ari']:.3f} against the human labels."
        if "ami" in top and pd.notna(top["ami"])
        else "."
    )
    notes = [
        f"Run {params.name!r}: {len(segments)} syllables from "
        f"{segments['recording'].nunique()} recordings; {settings}{n_reductions} UMAP "
        f"embeddings x {params.n_clusterings} HDBSCAN settings, ranked by the composite "
        "score (1 - noise fraction) x (1 + silhouette) / 2.",
        f"Spectrograms: {selection.settings.label}.",
        *params.notes,
        f"Selected: {top['reduction']} with {top['name']}: {best.n_clusters} clusters, "
        f"{best.noise_fraction:.1%} noise{scores}",
    ]
    catalog = CatalogInput(
        title=params.title,
        coords=reduction.coords,
        clusters=best.labels,
        spectrograms=np.asarray(spectrograms)[rows],
        summary=summary[catalog_columns(summary)],
        labels=None if truth is None else np.asarray(truth[rows]).astype(str),
        phenotypes=phenotypes.summary,
        transitions=phenotypes.transition_probabilities,
        notes=tuple(notes),
    )
    write_catalog(folder, catalog)


def catalog_columns(summary: pd.DataFrame) -> list[str]:
    """CATALOG_COLUMNS present in ``summary``, with the feature settings that vary after rank."""
    varied = [k for k in FEATURE_KEYS if k in summary and summary[k].nunique(dropna=False) > 1]
    return ["rank", *varied, *(c for c in CATALOG_COLUMNS[1:] if c in summary)]
