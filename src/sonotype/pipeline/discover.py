"""Repertoire discovery: from segmented syllables to types, phenotypes and a catalog.

Every step is a stage (:mod:`sonotype.pipeline.discover_stages`), cached in the project's
artifact store under a key that chains the keys of its inputs, its parameters and the code
version; a re-run with nothing changed computes nothing and loads nothing it does not show.

1. **segments**: the project's events of one kind (the syllables), known by a hash of the
   table and of their recordings' content.
2. **features**: a fixed-size log spectrogram per syllable, one task per recording through
   the executor (in parallel, resumable; a recording that fails is left out and reported).
3. **embed**: an embedder (PCA of the spectrograms by default).
4. **reduce**: a UMAP grid over ``n_neighbors x min_dist``, sharing the neighbour graph.
5. **cluster**: an HDBSCAN grid on every reduction, every pair scored; the **selection**
   ranks them all by the composite score (:func:`sonotype.cluster.composite_score`) and
   keeps the best.
6. **phenotype**: repertoire and syntax per animal, from the selected clusters.
7. **report**: the catalog (``reports/discover/NAME/index.html``), ``summary.csv`` and the
   phenotype CSVs; the selected clusters are stored as events of kind ``clustered`` with
   source ``NAME`` (the run's name), so runs of different names are kept side by side.

The spectrogram and embedding settings (:data:`FEATURE_KEYS`) may range too: a grid that
lists several values of them runs stages 2-5 once per combination, each keyed by its
settings, and the selection ranks every (settings, UMAP, HDBSCAN) triple by the same
composite score, so the settings are chosen without labels like the UMAP and HDBSCAN
parameters.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path

import numpy as np
import pandas as pd

from sonotype.errors import ParameterError
from sonotype.phenotype import Phenotypes
from sonotype.pipeline.discover_codecs import Selection
from sonotype.pipeline.discover_config import (
    DEFAULT_NAME,
    FEATURE_KEYS,
    FULL_BAND,
    GRIDS,
    OPTIONS,
    SEARCH_KEYS,
    DiscoverConfig,
    FeatureGrid,
    FeatureSettings,
    check_feature_setting,
    check_run_name,
    feature_settings,
    load_grid,
)
from sonotype.pipeline.discover_report import REPORTS_SUBDIR, CatalogParams, CatalogStage
from sonotype.pipeline.discover_stages import (
    ClusterGridParams,
    ClusterGridStage,
    EmbedParams,
    EmbedStage,
    PhenotypeParams,
    PhenotypeStage,
    RecordingSyllables,
    SelectionParams,
    SelectionStage,
    SpectrogramSettings,
    SpectrogramStage,
    StoreClustersStage,
    StoreParams,
    UMAPGridParams,
    UMAPGridStage,
    content_key,
    table_hash,
)
from sonotype.pipeline.executors import Executor, open_executor
from sonotype.pipeline.stage import Batch, Item, Pipeline, Result
from sonotype.reduce import Embedding
from sonotype.store import Project

__all__ = [
    "DEFAULT_NAME",
    "FEATURE_KEYS",
    "FULL_BAND",
    "GRIDS",
    "OPTIONS",
    "SEARCH_KEYS",
    "STAGES",
    "Candidate",
    "DiscoverConfig",
    "DiscoverResult",
    "FeatureGrid",
    "FeatureSettings",
    "Selection",
    "check_feature_setting",
    "check_run_name",
    "discover",
    "feature_settings",
    "load_grid",
    "report_folder",
]

STAGES = ("features", "embed", "reduce", "cluster", "phenotype", "report")
#: Discovery needs at least this many syllables.
MIN_SYLLABLES = 10


@dataclass
class Candidate:
    """One combination of feature settings and its stages' outputs, loaded when used.

    ``spectrograms``, ``embedding`` and ``reductions`` are None for the stages a run did not
    reach (see ``until`` of :func:`discover`).
    """

    settings: FeatureSettings
    _features: Result[np.ndarray] = field(repr=False)
    _embedding: Result[np.ndarray] | None = field(default=None, repr=False)
    _reductions: Result[list[Embedding]] | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        """A short name of the settings, e.g. ``"pad 64x64 linear 0-16000Hz pca32"``."""
        return self.settings.label

    @property
    def spectrograms(self) -> np.ndarray:
        """float32, shape (n_syllables, n_freq, n_time), row-aligned with the run's events."""
        return self._features.value

    @property
    def embedding(self) -> np.ndarray | None:
        """shape (n_syllables, n_dimensions)."""
        return None if self._embedding is None else self._embedding.value

    @property
    def reductions(self) -> list[Embedding] | None:
        """The UMAP grid, one :class:`~sonotype.reduce.Embedding` per pair."""
        return None if self._reductions is None else self._reductions.value


@dataclass
class DiscoverResult:
    """What a run produced; the outputs of stages after ``until`` are None.

    Attributes
    ----------
    name : str
        The run's name (``reports/discover/NAME/``, source of its ``clustered`` events).
    run_id : int
        The run in the project's registry (``sonotype runs show ID``).
    events : DataFrame
        The syllables used, in row order of every array (recordings that failed left out).
    candidates : list of Candidate
        One per combination of feature settings.
    notes : list of str
        How settings were adapted to the recordings, and which recordings failed.
    failures : dict of str to str
        Recording -> why its spectrograms failed.
    report : Path, optional
        The catalog page.
    """

    name: str
    run_id: int
    events: pd.DataFrame
    candidates: list[Candidate]
    notes: list[str] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    report: Path | None = None
    _selection: Result[Selection] | None = field(default=None, repr=False)
    _phenotypes: Result[Phenotypes] | None = field(default=None, repr=False)

    @property
    def best(self) -> Selection | None:
        """The selection: the ranked summary and the selected settings, UMAP embedding and
        clustering."""
        return None if self._selection is None else self._selection.value

    @property
    def summary(self) -> pd.DataFrame | None:
        """Every (settings, UMAP, HDBSCAN) triple with its scores, best first."""
        return None if self._selection is None else self.best.summary

    @property
    def phenotypes(self) -> Phenotypes | None:
        return None if self._phenotypes is None else self._phenotypes.value

    @property
    def selected(self) -> Candidate:
        """The candidate of the best clustering (the first before clustering)."""
        return self.candidates[0 if self._selection is None else self.best.candidate]

    @property
    def spectrograms(self) -> np.ndarray:
        return self.selected.spectrograms

    @property
    def embedding(self) -> np.ndarray | None:
        return self.selected.embedding

    @property
    def reductions(self) -> list[Embedding] | None:
        return self.selected.reductions


def report_folder(project: Project, name: str = DEFAULT_NAME) -> Path:
    """The folder of run ``name``'s catalog: ``reports/discover/NAME/``."""
    return project.reports_dir / REPORTS_SUBDIR / check_run_name(name)


def discover(
    project: Project,
    config: DiscoverConfig | None = None,
    *,
    until: str = "report",
    step: Callable[[str], None] | None = None,
    executor: Executor | None = None,
) -> DiscoverResult:
    """Run the discovery stages on ``project`` up to and including ``until``.

    Parameters
    ----------
    project : Project
    config : DiscoverConfig, optional
        What to run (the defaults when None); ``config.name`` names the run.
    until : {"features", "embed", "reduce", "cluster", "phenotype", "report"}
        The last stage to run.
    step : callable, optional
        Called with a short description before each stage (progress display).
    executor : Executor, optional
        Runs the per-recording spectrograms; by default the one the project's ``[compute]``
        settings select (a local process pool).

    Returns
    -------
    DiscoverResult

    Notes
    -----
    With several combinations of feature settings (see :func:`feature_settings`), the
    features, embed, reduce and cluster stages run once per combination, and the selection
    ranks the clusterings of all of them together by the composite score; the summary has
    one column per feature setting. A recording whose spectrograms fail is left out (with
    its reason in ``failures`` and ``notes``) and the run is recorded as ``partial``.
    """
    config = config or DiscoverConfig()
    if until not in STAGES:
        raise ParameterError(f"until={until!r} must be one of {', '.join(STAGES)}")
    reach = STAGES.index(until)
    step = step or (lambda description: None)

    given = None  # an embedding set replaces the spectrograms and the embedding
    if config.embedding is not None:
        from sonotype.embeddings.discovery import set_input

        given = set_input(project, config, until=until)
    events = _segments(project, config) if given is None else given.events
    names = sorted(events["recording"].unique())
    index = project.recordings(status=None).set_index("path")
    rates = index["sr"].reindex(names).astype(float)
    if not np.isfinite(rates).any():
        raise ParameterError(
            f"no sample rate is known for the recordings of the syllables ({names[0]}, ...); "
            "run `sonotype scan` to index them"
        )
    grid_of_settings = feature_settings(config, nyquist_hz=float(rates.min()) / 2)
    settings, notes = grid_of_settings.candidates, list(grid_of_settings.notes)
    hashes = index["content_hash"].to_dict()

    with contextlib.ExitStack() as stack:
        run = stack.enter_context(
            project.run("discover", {**config.to_dict(), "until": until}, name=config.name)
        )
        if executor is None:
            compute = getattr(project.config, "compute", None)
            executor = stack.enter_context(open_executor(compute))
        pipe = Pipeline(project, run_id=run.id, executor=executor)

        batches = []
        for number, candidate in enumerate(settings if given is None else [], 1):
            tag = f" [{number}/{len(settings)}: {candidate.label}]" if len(settings) > 1 else ""
            step(f"spectrograms of {len(events)} syllables{tag}")
            batches.append(_spectrograms(pipe, project, events, hashes, candidate))
        failures = {name: why for batch in batches for name, why in batch.failures.items()}
        if failures:
            notes += [f"{name} left out: {why}" for name, why in failures.items()]
            run.status = "partial"
            run.error = f"{len(failures)} of {len(names)} recordings failed: " + "; ".join(
                f"{name}: {why}" for name, why in failures.items()
            )
            events = events[~events["recording"].isin(failures)].reset_index(drop=True)
            _enough(events, config, failed=len(failures))
        kept = [name for name in names if name not in failures]
        segments = Result.of(
            events, key=content_key("segments", table_hash(events), [hashes.get(n) for n in kept])
        )
        if given is None:
            candidates = [
                Candidate(s, _concatenated(b, kept)) for s, b in zip(settings, batches, strict=True)
            ]
        else:
            settings = settings[:1]
            candidates = [Candidate(settings[0], given.features, given.embedding)]
        result = DiscoverResult(config.name, run.id, events, candidates, notes, failures)
        if reach < STAGES.index("embed"):
            return result

        for number, candidate in enumerate(candidates if given is None else [], 1):
            tag = f" [{number}/{len(candidates)}]" if len(candidates) > 1 else ""
            step(f"embedding ({config.embedder}){tag}")
            embed = EmbedParams(
                embedder=config.embedder, n_components=candidate.settings.n_components
            )
            candidate._embedding = pipe.stage(EmbedStage(), embed, spectrograms=candidate._features)
        if reach < STAGES.index("reduce"):
            return result

        grid = config.grid
        umap = UMAPGridParams(
            n_neighbors=grid["n_neighbors"], min_dist=grid["min_dist"],
            random_state=config.random_state,
        )  # fmt: skip
        for number, candidate in enumerate(candidates, 1):
            tag = f" [{number}/{len(candidates)}]" if len(candidates) > 1 else ""
            n_pairs = len(umap.n_neighbors) * len(umap.min_dist)
            step(f"UMAP grid ({n_pairs} embeddings){tag}")
            candidate._reductions = pipe.stage(
                UMAPGridStage(), umap, embedding=candidate._embedding, segments=segments
            )
        if reach < STAGES.index("cluster"):
            return result

        step("clustering every embedding")
        if given is not None and config.labels_from == "self":
            labels = given.labels
        else:
            labels = _human_labels(project, events, config)
        truth = Result.of(labels, key=content_key("truth", _labels_hash(labels)))
        hdbscan = ClusterGridParams(
            min_cluster_size=grid["min_cluster_size"], min_samples=grid["min_samples"],
            random_state=config.random_state,
        )  # fmt: skip
        inputs = {}
        for number, candidate in enumerate(candidates):
            inputs[f"reductions_{number}"] = candidate._reductions
            inputs[f"clusters_{number}"] = pipe.stage(
                ClusterGridStage(), hdbscan, reductions=candidate._reductions, truth=truth
            )
        selection_params = SelectionParams(candidates=tuple(settings))
        result._selection = pipe.stage(SelectionStage(), selection_params, **inputs)
        if reach < STAGES.index("phenotype"):
            return result

        step("phenotypes")
        phenotype_params = PhenotypeParams(
            animal_level=config.animal_level, default_animal=project.config.project.name
        )
        result._phenotypes = pipe.stage(
            PhenotypeStage(), phenotype_params, segments=segments, selection=result._selection
        )
        if reach < STAGES.index("report"):
            return result

        step("catalog")
        features = Result(
            content_key("features", [c._features.key for c in candidates]),
            value=tuple(c._features for c in candidates),
        )
        catalog_stage = CatalogStage(project)
        catalog_params = CatalogParams(
            name=config.name,
            title=f"Repertoire catalog: {project.config.project.name} ({config.name})",
            notes=tuple(notes),
            config=_json(config.to_dict()),
            n_clusterings=len(hdbscan.min_cluster_size) * len(hdbscan.min_samples),
        )
        receipt = pipe.stage(
            catalog_stage, catalog_params, segments=segments, selection=result._selection,
            phenotypes=result._phenotypes, features=features, truth=truth,
        )  # fmt: skip
        result.report = catalog_stage.index(receipt.value)
        step("storing the clusters")
        pipe.stage(
            StoreClustersStage(project), StoreParams(name=config.name),
            segments=segments, selection=result._selection,
        )  # fmt: skip
    return result


def _spectrograms(
    pipe: Pipeline,
    project: Project,
    events: pd.DataFrame,
    hashes: dict[str, str | None],
    settings: FeatureSettings,
) -> Batch[np.ndarray]:
    """One task per recording; the ``pad`` window is measured on all the syllables so that
    the recordings, computed apart, are made alike."""
    from sonotype.features.spectrograms import WINDOW_PERCENTILE

    window_s = None
    if settings.time_mode == "pad":
        durations = (events["stop_s"] - events["start_s"]).to_numpy()
        window_s = float(np.percentile(durations, WINDOW_PERCENTILE))
    params = SpectrogramSettings(
        **settings.model_dump(include={"time_mode", "n_freq", "n_time", "freq_scale",
                                       "freq_range_hz"}),
        window_s=window_s,
    )  # fmt: skip
    items = []
    for name, rows in events.groupby("recording", sort=True):
        rows = rows.reset_index(drop=True)
        key = content_key("recording-syllables", hashes.get(name), table_hash(rows))
        path = str(project.recording_path(name))
        items.append(Item(name, key, RecordingSyllables(name, path, rows)))
    return pipe.map(SpectrogramStage(), params, items)


def _concatenated(batch: Batch[np.ndarray], names: list[str]) -> Result[np.ndarray]:
    """The spectrograms of ``names`` (in order), one array, loaded when used."""
    parts = [batch.results[name] for name in names]
    return Result(
        content_key("spectrograms", [part.key for part in parts]),
        load=lambda: np.concatenate([part.value for part in parts]),
    )


def _segments(project: Project, config: DiscoverConfig) -> pd.DataFrame:
    events = project.events(kinds=[config.kind], sources=[config.source] if config.source else None)
    if config.recordings:
        events = events[[fnmatch(r, config.recordings) for r in events["recording"]]]
    intervals = events[events["stop_s"] > events["start_s"]].reset_index(drop=True)
    _enough(intervals, config)
    return intervals.sort_values(["recording", "start_s"], ignore_index=True)


def _enough(events: pd.DataFrame, config: DiscoverConfig, *, failed: int = 0) -> None:
    if len(events) >= MIN_SYLLABLES:
        return
    if failed:
        raise ParameterError(
            f"discovery needs at least {MIN_SYLLABLES} syllables; {len(events)} remain once "
            f"the {failed} recordings that failed are left out (see `sonotype runs show`); "
            "fix or remove those files and run again"
        )
    raise ParameterError(
        f"discovery needs at least {MIN_SYLLABLES} interval events of kind {config.kind!r}"
        + (f" from {config.source!r}" if config.source else "")
        + (f" in recordings {config.recordings!r}" if config.recordings else "")
        + f"; the project has {len(events)}. Import annotations or run "
        "`sonotype detect --method amplitude` first"
    )


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


def _labels_hash(labels: np.ndarray | None) -> str | None:
    if labels is None:
        return None
    return table_hash(pd.DataFrame({"label": pd.Series(labels, dtype=object).astype(str)}))


def _json(value: object) -> str:
    import json

    return json.dumps(value, sort_keys=True, default=str)
