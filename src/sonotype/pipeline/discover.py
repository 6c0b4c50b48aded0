"""Repertoire discovery: from segmented syllables to types, phenotypes and a catalog.

Stages, each cached in the project's artifact store by a hash of its inputs and parameters
(so a re-run recomputes only what changed, and an interrupted run resumes):

1. **segments**: the project's events of one kind (the syllables).
2. **features**: a fixed-size log spectrogram per syllable.
3. **embed**: an embedder (PCA of the spectrograms by default).
4. **reduce**: a UMAP grid over ``n_neighbors x min_dist``, sharing the neighbour graph.
5. **cluster**: an HDBSCAN grid on every reduction; every pair is scored and ranked by the
   composite score (:func:`sonotype.cluster.composite_score`); the best is selected.
6. **phenotype**: repertoire and syntax per animal, from the selected clusters.
7. **report**: the catalog (``reports/discover/index.html``), ``summary.csv`` and the
   phenotype CSVs; the selected clusters are stored as events of kind ``clustered``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pandas as pd

from sonotype.errors import ParameterError
from sonotype.store import Project

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

STAGES = ("features", "embed", "reduce", "cluster", "phenotype", "report")

#: The score columns the catalog shows (summary.csv holds them all).
CATALOG_COLUMNS = (
    "rank", "n_neighbors", "min_dist", "trustworthiness", "method", "param_min_cluster_size",
    "param_min_samples", "n_clusters", "noise_fraction", "silhouette", "davies_bouldin",
    "composite", "ami", "ari",
)  # fmt: skip

#: Grids users pick by name; a TOML file with the same keys gives any other.
GRIDS: dict[str, dict[str, tuple]] = {
    "small": {
        "n_neighbors": (10, 30),
        "min_dist": (0.05, 0.3),
        "min_cluster_size": (10, 30),
        "min_samples": (1, 5),
    },
    "default": {
        "n_neighbors": (5, 10, 20, 50, 100),
        "min_dist": (0.01, 0.05, 0.1, 0.3, 0.5),
        "min_cluster_size": (5, 10, 20, 50),
        "min_samples": (1, 5, 10),
    },
}


@dataclass
class DiscoverConfig:
    """What a discovery run does; every field is recorded with the run.

    Attributes
    ----------
    kind, source : str
        Which stored events are the syllables (``kind``; ``source`` optional).
    recordings : str, optional
        Only recordings whose name matches this glob (``"birds/*"``); all by default.
    labels_from : str, optional
        Source of human labels to score the clusters against: the syllables' own labels
        when ``"self"`` (the default for annotated syllables), none when ``None``.
    grid : dict
        ``n_neighbors``, ``min_dist``, ``min_cluster_size``, ``min_samples`` values.
    n_freq, n_time, time_mode, freq_range_hz : spectrogram settings.
    embedder, n_components : the embedder and its dimension.
    animal_level : int
        Animals are the folders this many levels above each recording (1: its own folder).
    random_state : int
    """

    kind: str = "annotated"
    source: str | None = None
    recordings: str | None = None
    labels_from: str | None = "self"
    grid: dict[str, tuple] = field(default_factory=lambda: dict(GRIDS["small"]))
    n_freq: int = 64
    n_time: int = 64
    time_mode: str = "pad"
    freq_range_hz: tuple[float, float] | None = None
    embedder: str = "pca"
    n_components: int = 32
    animal_level: int = 1
    random_state: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


def load_grid(spec: str) -> dict[str, tuple]:
    """A grid by name (``small``, ``default``) or from a TOML file with the same keys."""
    if spec in GRIDS:
        return dict(GRIDS[spec])
    path = Path(spec)
    if not path.is_file():
        raise ParameterError(
            f"grid {spec!r} is neither a named grid ({', '.join(GRIDS)}) nor a file; a grid "
            "file is TOML with n_neighbors, min_dist, min_cluster_size, min_samples lists"
        )
    data = tomllib.loads(path.read_text())
    unknown = set(data) - set(GRIDS["default"])
    if unknown:
        raise ParameterError(
            f"{path}: unknown grid keys {', '.join(sorted(unknown))}; valid: "
            f"{', '.join(GRIDS['default'])}"
        )
    return {key: tuple(data.get(key, GRIDS["small"][key])) for key in GRIDS["default"]}


@dataclass
class DiscoverResult:
    """What a run produced (``None`` for stages after ``until``)."""

    events: pd.DataFrame
    spectrograms: np.ndarray | None = None
    embedding: np.ndarray | None = None
    reductions: list | None = None
    summary: pd.DataFrame | None = None
    best: dict | None = None
    phenotypes: Any = None
    report: Path | None = None


def discover(
    project: Project,
    config: DiscoverConfig | None = None,
    *,
    until: str = "report",
    step: Callable[[str], None] | None = None,
) -> DiscoverResult:
    """Run the discovery stages on ``project`` up to and including ``until``."""
    from sonotype.cluster import best_clustering, hdbscan_grid, rank_clusterings
    from sonotype.embed import make_embedder
    from sonotype.features import SpectrogramParams, syllable_spectrograms
    from sonotype.reduce import umap_grid

    config = config or DiscoverConfig()
    if until not in STAGES:
        raise ParameterError(f"until={until!r} must be one of {', '.join(STAGES)}")
    stop_after = STAGES.index(until)
    step = step or (lambda description: None)

    events = _segments(project, config)
    result = DiscoverResult(events=events)
    hashes = dict(project.db.execute("SELECT path, content_hash FROM recordings").fetchall())
    segments_key = {
        "events": _table_hash(events),
        "recordings": {r: hashes.get(r) for r in sorted(events["recording"].unique())},
    }

    with project.run("discover", {**config.to_dict(), "until": until}):
        step(f"spectrograms of {len(events)} syllables")
        spec_params = SpectrogramParams(
            n_freq=config.n_freq,
            n_time=config.n_time,
            time_mode=config.time_mode,
            freq_range_hz=config.freq_range_hz,
        )
        recordings = {r: project.recording_path(r) for r in events["recording"].unique()}
        result.spectrograms = project.artifacts.array(
            "spectrograms",
            inputs=segments_key,
            params=spec_params.to_dict(),
            compute=lambda: syllable_spectrograms(events, recordings, params=spec_params),
        )
        if stop_after < STAGES.index("embed"):
            return result

        step(f"embedding ({config.embedder})")
        embed_params = {"embedder": config.embedder, "n_components": config.n_components}
        embed_inputs = {**segments_key, "spectrograms": spec_params.to_dict()}

        def embed() -> np.ndarray:
            kwargs = {"n_components": config.n_components} if config.embedder == "pca" else {}
            embedder = make_embedder(config.embedder, **kwargs)
            flat = result.spectrograms.reshape(len(result.spectrograms), -1)
            return embedder.fit_transform(flat)

        result.embedding = project.artifacts.array(
            "embedding", inputs=embed_inputs, params=embed_params, compute=embed
        )
        if stop_after < STAGES.index("reduce"):
            return result

        grid = config.grid
        n_combinations = len(grid["n_neighbors"]) * len(grid["min_dist"])
        step(f"UMAP grid ({n_combinations} embeddings)")
        reduce_params = {
            "n_neighbors": list(grid["n_neighbors"]),
            "min_dist": list(grid["min_dist"]),
            "random_state": config.random_state,
        }
        groups = pd.factorize(events["recording"])[0]
        reductions = umap_grid(
            result.embedding,
            n_neighbors=grid["n_neighbors"],
            min_dist=grid["min_dist"],
            random_state=config.random_state,
            groups=groups,
        )
        result.reductions = reductions
        project.artifacts.array(
            "umap-grid",
            inputs={**embed_inputs, "embedding": embed_params},
            params=reduce_params,
            compute=lambda: np.stack([r.coords for r in reductions]),
        )
        if stop_after < STAGES.index("cluster"):
            return result

        step("clustering every embedding")
        truth = _human_labels(project, events, config)
        clusterings = {}
        for reduction in reductions:
            rows = reduction.indices
            clusterings[reduction.name] = hdbscan_grid(
                reduction.coords,
                min_cluster_size=grid["min_cluster_size"],
                min_samples=grid["min_samples"],
                true_labels=None if truth is None else truth[rows],
                random_state=config.random_state,
            )
        summary = rank_clusterings(clusterings)
        by_name = {r.name: r for r in reductions}
        summary.insert(
            2, "n_neighbors", summary["reduction"].map(lambda n: by_name[n].params["n_neighbors"])
        )
        summary.insert(
            3, "min_dist", summary["reduction"].map(lambda n: by_name[n].params["min_dist"])
        )
        summary.insert(
            4, "trustworthiness", summary["reduction"].map(lambda n: by_name[n].trustworthiness)
        )
        result.summary = summary
        best_name, best = best_clustering(clusterings)
        reduction = next(r for r in reductions if r.name == best_name)
        result.best = {"reduction": reduction, "clustering": best}
        if stop_after < STAGES.index("phenotype"):
            return result

        step("phenotypes")
        result.phenotypes = _phenotypes(
            events, reduction, best, config, default_animal=project.config.project.name
        )
        if stop_after < STAGES.index("report"):
            return result

        step("catalog")
        result.report = _report(project, config, result, truth)
        _store_clusters(project, events, reduction, best)
    return result


def _segments(project: Project, config: DiscoverConfig) -> pd.DataFrame:
    events = project.events(kinds=[config.kind], sources=[config.source] if config.source else None)
    if config.recordings:
        events = events[[fnmatch(r, config.recordings) for r in events["recording"]]]
    intervals = events[events["stop_s"] > events["start_s"]].reset_index(drop=True)
    if len(intervals) < 10:
        raise ParameterError(
            f"discovery needs at least 10 interval events of kind {config.kind!r}"
            + (f" from {config.source!r}" if config.source else "")
            + (f" in recordings {config.recordings!r}" if config.recordings else "")
            + f"; the project has {len(intervals)}. Import annotations or run "
            "`sonotype detect --method amplitude` first"
        )
    return intervals.sort_values(["recording", "start_s"], ignore_index=True)


def _human_labels(project, events: pd.DataFrame, config: DiscoverConfig) -> np.ndarray | None:
    if config.labels_from is None:
        return None
    if config.labels_from == "self":
        return events["label"].to_numpy() if config.kind == "annotated" else None
    # Labels from another source: the annotated event of that source overlapping most.
    other = project.events(sources=[config.labels_from])
    labels = np.full(len(events), None, dtype=object)
    for recording, group in events.groupby("recording"):
        ref = other[other["recording"] == recording]
        for i, row in group.iterrows():
            overlap = np.minimum(ref["stop_s"], row["stop_s"]) - np.maximum(
                ref["start_s"], row["start_s"]
            )
            if len(ref) and overlap.max() > 0:
                labels[i] = ref["label"].iloc[int(np.argmax(overlap.to_numpy()))]
    return labels


def _phenotypes(events, reduction, best, config: DiscoverConfig, *, default_animal: str):
    from sonotype.phenotype import phenotype

    rows = reduction.indices
    typed = events.iloc[rows].assign(label=best.labels.astype(str))
    # The animal is the folder ``animal_level`` levels above each recording; recordings
    # directly in the audio root belong to one animal named after the project.
    animals = [
        parts[-1 - config.animal_level] if len(parts) > config.animal_level else default_animal
        for parts in (PurePosixPath(r).parts for r in typed["recording"])
    ]
    return phenotype(
        typed.reset_index(drop=True),
        animals=animals,
        embeddings=reduction.coords,
        noise_label="-1",
    )


def _report(project, config: DiscoverConfig, result: DiscoverResult, truth) -> Path:
    from sonotype.atomic import atomic_path
    from sonotype.report.catalog import CatalogInput, write_catalog

    folder = project.reports_dir / "discover"
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / "summary.csv") as tmp:
        result.summary.to_csv(tmp, index=False)
    with atomic_path(folder / "config.json") as tmp:
        tmp.write_text(json.dumps(config.to_dict(), indent=2, default=str))
    result.phenotypes.to_csv(folder / "phenotypes")
    reduction, best = result.best["reduction"], result.best["clustering"]
    rows = reduction.indices
    top = result.summary.iloc[0]
    notes = [
        f"{len(result.events)} syllables (kind {config.kind}) from "
        f"{result.events['recording'].nunique()} recordings; {len(result.reductions)} UMAP "
        f"embeddings x {len(result.summary) // max(len(result.reductions), 1)} HDBSCAN "
        "settings, ranked by the composite score (1 - noise fraction) x (1 + silhouette) / 2.",
        f"Selected: {top['reduction']} with {top['name']}: {best.n_clusters} clusters, "
        f"{best.noise_fraction:.1%} noise"
        + (
            f", AMI {top['ami']:.3f} and ARI {top['ari']:.3f} against the human labels."
            if "ami" in top and pd.notna(top["ami"])
            else "."
        ),
    ]
    catalog = CatalogInput(
        title=f"Repertoire catalog: {project.config.project.name}",
        coords=reduction.coords,
        clusters=best.labels,
        spectrograms=result.spectrograms[rows],
        summary=result.summary[[c for c in CATALOG_COLUMNS if c in result.summary]],
        labels=None if truth is None else np.asarray(truth[rows]).astype(str),
        phenotypes=result.phenotypes.summary,
        transitions=result.phenotypes.transition_probabilities,
        notes=tuple(notes),
    )
    return write_catalog(folder, catalog)


def _store_clusters(project, events, reduction, best) -> None:
    rows = reduction.indices
    clustered = events.iloc[rows].assign(
        label=best.labels.astype(str), kind="clustered", source="discover", score=np.nan
    )
    project.add_events(
        clustered,
        command="discover",
        description=f"discover: {best.n_clusters} clusters on {len(rows)} syllables",
        replace={"kinds": ["clustered"], "sources": ["discover"]},
    )


def _table_hash(events: pd.DataFrame) -> str:
    values = pd.util.hash_pandas_object(events, index=False).to_numpy()
    return hashlib.sha256(values.tobytes()).hexdigest()
