"""The stages of repertoire discovery, each with its own parameter model.

Chained by keys (see :mod:`sonotype.pipeline.stage`): the syllables' spectrograms (one task
per recording), their embedding, the UMAP grid, the HDBSCAN grid, the selection, the
phenotypes, the catalog and the stored ``clustered`` events. Changing a stage's parameters
reruns it and the stages after it, never those before.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import PurePosixPath

import numpy as np
import pandas as pd

from sonotype.cluster import Clustering
from sonotype.phenotype import Phenotypes
from sonotype.pipeline.codecs import ArrayCodec, JsonCodec
from sonotype.pipeline.discover_codecs import (
    ClusteringsCodec,
    PhenotypesCodec,
    ReductionsCodec,
    Selection,
    SelectionCodec,
)
from sonotype.pipeline.discover_config import FEATURE_KEYS, FeatureSettings
from sonotype.pipeline.resources import Resources
from sonotype.pipeline.stage import Stage, StageParams
from sonotype.reduce import Embedding
from sonotype.store import Project


def content_key(*parts: object) -> str:
    """A key for inputs that no stage made: sha256 of their canonical JSON."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def table_hash(events: pd.DataFrame) -> str:
    """A hash of an Events table's content (row order included, index ignored)."""
    values = pd.util.hash_pandas_object(events, index=False).to_numpy()
    return hashlib.sha256(values.tobytes()).hexdigest()


# -- features --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordingSyllables:
    """One task of the spectrogram stage: a recording's syllables and where its audio is."""

    recording: str
    path: str
    events: pd.DataFrame


class SpectrogramSettings(StageParams):
    """How each syllable's spectrogram is made (:class:`sonotype.features.SpectrogramParams`).

    ``window_s`` is the ``pad`` window, measured on all the syllables of the run so that the
    recordings, computed apart, are made alike (None with ``stretch``).
    """

    time_mode: str
    n_freq: int
    n_time: int
    freq_scale: str
    freq_range_hz: tuple[float, float]
    window_s: float | None = None


class SpectrogramStage(Stage[SpectrogramSettings, np.ndarray]):
    """The fixed-size spectrograms of one recording's syllables, shape (n, n_freq, n_time)."""

    name = "syllable-spectrograms"
    params_model = SpectrogramSettings
    codec = ArrayCodec()
    # Not measured yet: a recording is read span by span, and 1,000 syllables of 64 x 64
    # float32 take 16 MB, so the default 512 MB per task is generous for usual sizes.
    resources = Resources(memory_mb=512)

    def compute(self, params: SpectrogramSettings, *, item: RecordingSyllables) -> np.ndarray:
        from sonotype.features import SpectrogramParams, syllable_spectrograms

        spec = SpectrogramParams(**params.model_dump())
        return syllable_spectrograms(item.events, {item.recording: item.path}, params=spec)


# -- embedding and UMAP grid -----------------------------------------------------------------


class EmbedParams(StageParams):
    """The embedder and its dimension (``n_components`` for ``pca``; None otherwise)."""

    embedder: str = "pca"
    n_components: int | None = 32


class EmbedStage(Stage[EmbedParams, np.ndarray]):
    """One row per syllable: the embedding of its flattened spectrogram."""

    name = "embedding"
    # 2: the PCA embedder is seeded (random_state=0); embeddings of unseeded fits are not reused.
    version = "2"
    params_model = EmbedParams
    codec = ArrayCodec()

    def compute(self, params: EmbedParams, *, spectrograms: np.ndarray) -> np.ndarray:
        from sonotype.embed import make_embedder

        kwargs = {} if params.n_components is None else {"n_components": params.n_components}
        embedder = make_embedder(params.embedder, **kwargs)
        return embedder.fit_transform(np.asarray(spectrograms).reshape(len(spectrograms), -1))


class UMAPGridParams(StageParams):
    """The UMAP grid: every ``n_neighbors`` x ``min_dist``."""

    n_neighbors: tuple[int, ...]
    min_dist: tuple[float, ...]
    random_state: int = 0


class UMAPGridStage(Stage[UMAPGridParams, list[Embedding]]):
    """UMAP of the embedding for every grid pair; whole recordings are subsampled together
    when memory is short."""

    name = "umap-grid"
    params_model = UMAPGridParams
    codec = ReductionsCodec()

    def compute(
        self, params: UMAPGridParams, *, embedding: np.ndarray, segments: pd.DataFrame
    ) -> list[Embedding]:
        from sonotype.reduce import umap_grid

        return umap_grid(
            embedding,
            n_neighbors=params.n_neighbors,
            min_dist=params.min_dist,
            random_state=params.random_state,
            groups=pd.factorize(segments["recording"])[0],
        )


# -- clustering and selection ----------------------------------------------------------------


class ClusterGridParams(StageParams):
    """The HDBSCAN grid: every ``min_cluster_size`` x ``min_samples``."""

    min_cluster_size: tuple[int, ...]
    min_samples: tuple[int, ...]
    random_state: int = 0


class ClusterGridStage(Stage[ClusterGridParams, list[list[Clustering]]]):
    """HDBSCAN over the grid on every UMAP embedding, each clustering scored (against the
    human labels too, when there are any)."""

    name = "hdbscan-grid"
    params_model = ClusterGridParams
    codec = ClusteringsCodec()

    def compute(
        self,
        params: ClusterGridParams,
        *,
        reductions: list[Embedding],
        truth: np.ndarray | None,
    ) -> list[list[Clustering]]:
        from sonotype.cluster import hdbscan_grid

        return [
            hdbscan_grid(
                reduction.coords,
                min_cluster_size=params.min_cluster_size,
                min_samples=params.min_samples,
                true_labels=None if truth is None else truth[reduction.indices],
                random_state=params.random_state,
            )
            for reduction in reductions
        ]


class SelectionParams(StageParams):
    """The candidates' feature settings, in the order of the stage's numbered inputs."""

    candidates: tuple[FeatureSettings, ...]


class SelectionStage(Stage[SelectionParams, Selection]):
    """Every clustering of every candidate ranked by the composite score; the best selected.

    Inputs ``reductions_I`` and ``clusters_I`` are candidate ``I``'s UMAP and HDBSCAN grids.
    """

    name = "selection"
    params_model = SelectionParams
    codec = SelectionCodec()

    def compute(self, params: SelectionParams, **inputs: list) -> Selection:
        from sonotype.cluster import best_clustering, rank_clusterings

        several = len(params.candidates) > 1
        clusterings: dict[str, list[Clustering]] = {}
        where: dict[str, tuple[int, Embedding]] = {}
        for number, settings in enumerate(params.candidates):
            reductions = inputs[f"reductions_{number}"]
            for reduction, group in zip(reductions, inputs[f"clusters_{number}"], strict=True):
                key = f"{settings.label} | {reduction.name}" if several else reduction.name
                where[key] = (number, reduction)
                clusterings[key] = group
        summary = rank_clusterings(clusterings)
        columns: dict[str, list] = {key: [] for key in (*FEATURE_KEYS, "n_neighbors", "min_dist")}
        columns["trustworthiness"] = []
        for key in summary["reduction"]:
            number, reduction = where[key]
            for name in FEATURE_KEYS:
                columns[name].append(params.candidates[number].cell(name))
            columns["n_neighbors"].append(reduction.params["n_neighbors"])
            columns["min_dist"].append(reduction.params["min_dist"])
            columns["trustworthiness"].append(reduction.trustworthiness)
        for position, (name, column) in enumerate(columns.items(), start=2):
            summary.insert(position, name, column)
        best_key, best = best_clustering(clusterings)
        number, reduction = where[best_key]
        return Selection(summary, number, params.candidates[number], reduction, best)


# -- phenotypes ------------------------------------------------------------------------------


class PhenotypeParams(StageParams):
    """Who sang: the folder ``animal_level`` levels above each recording; recordings in the
    audio root belong to ``default_animal`` (the project's name)."""

    animal_level: int = 1
    default_animal: str = "animal"


class PhenotypeStage(Stage[PhenotypeParams, Phenotypes]):
    """Repertoire and syntax per animal, from the selected clusters."""

    name = "phenotypes"
    params_model = PhenotypeParams
    codec = PhenotypesCodec()

    def compute(
        self, params: PhenotypeParams, *, segments: pd.DataFrame, selection: Selection
    ) -> Phenotypes:
        from sonotype.phenotype import phenotype

        typed = typed_syllables(segments, selection)
        level = params.animal_level
        animals = [
            parts[-1 - level] if len(parts) > level else params.default_animal
            for parts in (PurePosixPath(r).parts for r in typed["recording"])
        ]
        return phenotype(
            typed, animals=animals, embeddings=selection.reduction.coords, noise_label="-1"
        )


def typed_syllables(segments: pd.DataFrame, selection: Selection) -> pd.DataFrame:
    """The selected reduction's syllables, labelled with their cluster (``"-1"``: noise)."""
    rows = selection.reduction.indices
    labels = selection.clustering.labels.astype(str)
    return segments.iloc[rows].assign(label=labels).reset_index(drop=True)


# -- stored events ---------------------------------------------------------------------------


class StoreParams(StageParams):
    """The run's name: the source of its ``clustered`` events."""

    name: str


class StoreClustersStage(Stage[StoreParams, dict]):
    """The selected clusters stored as events of kind ``clustered`` with the run's name as
    source, replacing that run's earlier ones in one undoable edit (none when unchanged).

    Its artifact is a receipt (source, count, hash of what is stored); the stage is current
    only while the project still holds those events (an undo or another run of the same
    name stores it again).
    """

    name = "clustered-events"
    params_model = StoreParams
    codec = JsonCodec()

    def __init__(self, project: Project) -> None:
        self.project = project

    def compute(self, params: StoreParams, *, segments: pd.DataFrame, selection: Selection) -> dict:
        clustered = typed_syllables(segments, selection).assign(score=np.nan)
        self.project.store_results(
            clustered,
            kind="clustered",
            source=params.name,
            command="discover",
            description=(
                f"discover {params.name}: {selection.clustering.n_clusters} clusters on "
                f"{len(clustered)} syllables"
            ),
        )
        return {"source": params.name, "n": len(clustered), "hash": self._stored(params.name)}

    def is_current(self, value: dict) -> bool:
        return self._stored(value["source"]) == value["hash"]

    def _stored(self, source: str) -> str:
        return table_hash(self.project.events(kinds=["clustered"], sources=[source]))
