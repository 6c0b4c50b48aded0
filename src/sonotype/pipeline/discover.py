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

The spectrogram and embedding settings (:data:`FEATURE_KEYS`) may range too: a grid that
lists several values of them runs stages 2-4 once per combination, and stage 5 ranks every
(settings, UMAP, HDBSCAN) triple by the same composite score, so the settings are chosen
without labels like the UMAP and HDBSCAN parameters.
"""

from __future__ import annotations

import hashlib
import itertools
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

#: The UMAP and HDBSCAN keys every grid has.
SEARCH_KEYS = ("n_neighbors", "min_dist", "min_cluster_size", "min_samples")
#: Settings of the syllable spectrograms and their embedding that decide the answer. Each is
#: a :class:`DiscoverConfig` field (one value), a ``sonotype discover`` option and an optional
#: grid key (a list there ranges over it).
FEATURE_KEYS = ("time_mode", "n_freq", "n_time", "freq_scale", "freq_range_hz", "n_components")
#: How the CLI spells each feature setting.
OPTIONS = {key: "--" + key.replace("_", "-") for key in FEATURE_KEYS}
#: The word that stands for the whole band, 0 Hz to the Nyquist frequency, in ``freq_range_hz``.
FULL_BAND = "full"

#: Grids users pick by name; a TOML file with the same keys (and any of FEATURE_KEYS) gives
#: any other.
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
        ``n_neighbors``, ``min_dist``, ``min_cluster_size``, ``min_samples`` values; and
        optionally values of any of :data:`FEATURE_KEYS`, which then replace the field of
        the same name: each combination is run and scored (see :func:`discover`).
    time_mode, n_freq, n_time, freq_scale, freq_range_hz : spectrogram settings
        (:class:`sonotype.features.SpectrogramParams`). ``freq_range_hz=None`` is the whole
        band, 0 Hz to the Nyquist frequency of the slowest recording; a high end above that
        Nyquist frequency is lowered to it (with a note).
    embedder, n_components : the embedder and its dimension (``n_components`` applies to
        ``pca``).
    animal_level : int
        Animals are the folders this many levels above each recording (1: its own folder).
    random_state : int
    """

    kind: str = "annotated"
    source: str | None = None
    recordings: str | None = None
    labels_from: str | None = "self"
    grid: dict[str, tuple] = field(default_factory=lambda: dict(GRIDS["small"]))
    # Chosen by benchmarks/discover_settings.py (docs/discover.md, "How the defaults were
    # chosen"): the best mean AMI on the validation halves of three data sets.
    time_mode: str = "stretch"
    n_freq: int = 64
    n_time: int = 64
    freq_scale: str = "linear"
    freq_range_hz: tuple[float, float] | None = None
    embedder: str = "pca"
    n_components: int = 32
    animal_level: int = 1
    random_state: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {k: _plain(v) for k, v in self.__dict__.items()}


def _plain(value: Any) -> Any:
    """``value`` with tuples as lists, at any depth (JSON-ready)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value


def check_feature_setting(key: str, value: Any, *, name: str | None = None) -> Any:
    """``value`` of the feature setting ``key``, checked and normalised.

    Parameters
    ----------
    key : str
        One of :data:`FEATURE_KEYS`.
    value
        The value as given (from Python, a CLI option or a grid file).
    name : str, optional
        How the user spelled the setting, for the error message (``"--time-mode"``,
        ``"grid.toml: time_mode"``); ``key`` by default.

    Returns
    -------
    The value to use: ``freq_range_hz`` as a ``(low, high)`` tuple of floats, or None for
    the whole band (also given as ``"full"``); integers as ``int``.

    Raises
    ------
    ParameterError
        The value is unusable; the message names ``name``, the value, what is allowed and
        the default.

    Examples
    --------
    >>> check_feature_setting("freq_range_hz", [500, 10000])
    (500.0, 10000.0)
    >>> check_feature_setting("time_mode", "strech", name="--time-mode")
    Traceback (most recent call last):
    ...
    sonotype.errors.ParameterError: --time-mode='strech' must be one of 'pad', 'stretch'; ...
    """
    from sonotype.features.spectrograms import FREQ_SCALES, TIME_MODES

    name = name or key
    default = DiscoverConfig.__dataclass_fields__[key].default if key in FEATURE_KEYS else None
    if key == "time_mode" or key == "freq_scale":
        choices = TIME_MODES if key == "time_mode" else FREQ_SCALES
        if value not in choices:
            raise ParameterError(
                f"{name}={value!r} must be one of {', '.join(map(repr, choices))}; "
                f"the default is {default!r}"
            )
        return value
    if key in ("n_freq", "n_time", "n_components"):
        minimum = 1 if key == "n_components" else 2
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
            what = {"n_freq": "rows", "n_time": "columns"}.get(key, "PCA components")
            raise ParameterError(
                f"{name}={value!r} must be a whole number >= {minimum} ({what}); "
                f"the default is {default}"
            )
        return int(value)
    if key == "freq_range_hz":
        if value is None or value == FULL_BAND:
            return None
        pair = _number_pair(value)
        if pair is None or not 0 <= pair[0] < pair[1]:
            raise ParameterError(
                f"{name}={value!r} must be (low, high) in Hz with 0 <= low < high, e.g. "
                f"500,10000 (a list [500, 10000] in a grid file), or {FULL_BAND!r} for 0 Hz "
                "to the Nyquist frequency (the default)"
            )
        return pair
    raise ParameterError(f"{key!r} is not a feature setting; valid: {', '.join(FEATURE_KEYS)}")


def _number_pair(value: Any) -> tuple[float, float] | None:
    if isinstance(value, str):
        value = value.replace(" ", "").split(",")
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        return None
    if not (np.isfinite(low) and np.isfinite(high)):
        return None
    return low, high


def load_grid(spec: str) -> dict[str, tuple]:
    """A grid by name (``small``, ``default``) or from a TOML file with the same keys.

    A grid file holds any of ``n_neighbors``, ``min_dist``, ``min_cluster_size``,
    ``min_samples`` (a missing key takes the small grid's values) and any of
    :data:`FEATURE_KEYS`; each key is a list of values or one value. ``freq_range_hz`` is a
    list of ``[low, high]`` pairs, one pair, or ``"full"``::

        n_neighbors = [10, 30]
        time_mode = ["pad", "stretch"]
        freq_range_hz = [[500, 10000], "full"]
    """
    if spec in GRIDS:
        return dict(GRIDS[spec])
    path = Path(spec)
    if not path.is_file():
        raise ParameterError(
            f"grid {spec!r} is neither a named grid ({', '.join(GRIDS)}) nor a file; a grid "
            "file is TOML with n_neighbors, min_dist, min_cluster_size, min_samples lists "
            f"and optionally {', '.join(FEATURE_KEYS)}"
        )
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise ParameterError(f"{path}: not valid TOML ({error})") from None
    unknown = set(data) - set(SEARCH_KEYS) - set(FEATURE_KEYS)
    if unknown:
        raise ParameterError(
            f"{path}: unknown grid keys {', '.join(sorted(unknown))}; valid: "
            f"{', '.join(SEARCH_KEYS + FEATURE_KEYS)}"
        )
    grid = {}
    for key in SEARCH_KEYS:
        values = _grid_values(key, data.get(key, list(GRIDS["small"][key])), path)
        for value in values:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ParameterError(
                    f"{path}: {key} holds {value!r}; it must list numbers, e.g. "
                    f"{key} = {list(GRIDS['small'][key])}"
                )
        grid[key] = values
    for key in FEATURE_KEYS:
        if key in data:
            grid[key] = tuple(
                check_feature_setting(key, value, name=f"{path}: {key}")
                for value in _grid_values(key, data[key], path)
            )
    return grid


def _grid_values(key: str, value: Any, path: Path) -> tuple:
    """A grid file's value as a tuple of candidate values (one value becomes a 1-tuple)."""
    one_pair = (
        key == "freq_range_hz"
        and isinstance(value, list)
        and len(value) > 0
        and all(isinstance(v, (int, float)) for v in value)
    )
    if one_pair or not isinstance(value, list):
        return (value,)
    if not value:
        raise ParameterError(f"{path}: {key} is an empty list; list at least one value")
    return tuple(value)


@dataclass
class Candidate:
    """One combination of feature settings and what its stages produced.

    ``settings`` maps each of :data:`FEATURE_KEYS` to the value used (``freq_range_hz``
    resolved to the band in Hz; ``n_components`` None for embedders other than ``pca``).
    ``spectrograms`` is kept only while needed (see :class:`DiscoverResult`).
    """

    settings: dict[str, Any]
    spectrograms: np.ndarray | None = None
    embedding: np.ndarray | None = None
    reductions: list | None = None

    @property
    def label(self) -> str:
        """A short name of the settings, e.g. ``"pad 64x64 linear 0-16000Hz pca32"``."""
        s = self.settings
        low, high = s["freq_range_hz"]
        embed = "" if s["n_components"] is None else f" pca{s['n_components']}"
        return (
            f"{s['time_mode']} {s['n_freq']}x{s['n_time']} {s['freq_scale']} "
            f"{low:g}-{high:g}Hz{embed}"
        )


@dataclass
class DiscoverResult:
    """What a run produced (``None`` for stages after ``until``).

    ``candidates`` holds one :class:`Candidate` per combination of feature settings.
    ``spectrograms``, ``embedding`` and ``reductions`` are the selected candidate's (the one
    of the best clustering; the first before clustering). ``notes`` say how settings were
    adapted to the recordings.
    """

    events: pd.DataFrame
    spectrograms: np.ndarray | None = None
    embedding: np.ndarray | None = None
    reductions: list | None = None
    summary: pd.DataFrame | None = None
    best: dict | None = None
    phenotypes: Any = None
    report: Path | None = None
    candidates: list[Candidate] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def feature_settings(
    config: DiscoverConfig, *, nyquist_hz: float
) -> tuple[list[dict[str, Any]], list[str]]:
    """Every combination of feature settings a run tries, and notes on adapted values.

    Each of :data:`FEATURE_KEYS` takes the grid's values when the grid has the key, else the
    config field. ``freq_range_hz`` becomes a band in Hz: None is 0 Hz to ``nyquist_hz``; a
    high end above ``nyquist_hz`` is lowered to it (and noted).

    Examples
    --------
    >>> grid = {**GRIDS["small"], "time_mode": ("pad", "stretch")}
    >>> combos, notes = feature_settings(
    ...     DiscoverConfig(grid=grid, freq_range_hz=(500, 10000)), nyquist_hz=8000
    ... )
    >>> [(c["time_mode"], c["freq_range_hz"]) for c in combos], notes
    ([('pad', (500.0, 8000.0)), ('stretch', (500.0, 8000.0))], ['freq_range_hz (500, 10000): \
the high end is above the Nyquist frequency 8000 Hz of the recordings; lowered to 8000 Hz'])
    """
    values: dict[str, list] = {}
    for key in FEATURE_KEYS:
        given = config.grid[key] if key in config.grid else (getattr(config, key),)
        name = f"grid key {key}" if key in config.grid else key
        values[key] = _unique([check_feature_setting(key, v, name=name) for v in given])
    if config.embedder != "pca":
        values["n_components"] = [None]  # only the pca embedder has components
    notes: list[str] = []
    values["freq_range_hz"] = _unique(
        [_band(v, nyquist_hz=nyquist_hz, notes=notes) for v in values["freq_range_hz"]]
    )
    combos = [
        dict(zip(FEATURE_KEYS, combo, strict=True))
        for combo in itertools.product(*(values[key] for key in FEATURE_KEYS))
    ]
    return combos, notes


def _unique(items: list) -> list:
    return [item for i, item in enumerate(items) if item not in items[:i]]


def _band(value, *, nyquist_hz: float, notes: list[str]) -> tuple[float, float]:
    if value is None:
        return 0.0, float(nyquist_hz)
    low, high = value
    if high <= nyquist_hz:
        return low, high
    if low >= nyquist_hz:
        raise ParameterError(
            f"freq_range_hz=({low:g}, {high:g}) lies above the Nyquist frequency "
            f"{nyquist_hz:g} Hz of the recordings; choose a band below {nyquist_hz:g} Hz, or "
            f"{FULL_BAND!r} for the whole band"
        )
    notes.append(
        f"freq_range_hz ({low:g}, {high:g}): the high end is above the Nyquist frequency "
        f"{nyquist_hz:g} Hz of the recordings; lowered to {nyquist_hz:g} Hz"
    )
    return low, float(nyquist_hz)


def discover(
    project: Project,
    config: DiscoverConfig | None = None,
    *,
    until: str = "report",
    step: Callable[[str], None] | None = None,
) -> DiscoverResult:
    """Run the discovery stages on ``project`` up to and including ``until``.

    With several combinations of feature settings (see :func:`feature_settings`), the
    features, embed and reduce stages run once per combination, and the cluster stage
    ranks the clusterings of all of them together by the composite score; the summary has
    one column per feature setting.
    """
    from sonotype.cluster import best_clustering, hdbscan_grid, rank_clusterings

    config = config or DiscoverConfig()
    if until not in STAGES:
        raise ParameterError(f"until={until!r} must be one of {', '.join(STAGES)}")
    stop_after = STAGES.index(until)
    step = step or (lambda description: None)

    events = _segments(project, config)
    result = DiscoverResult(events=events)
    names = sorted(events["recording"].unique())
    recordings = {r: project.recording_path(r) for r in names}
    index = project.recordings(status=None).set_index("path")
    rates = index["sr"].reindex(names).astype(float)
    if not np.isfinite(rates).any():
        raise ParameterError(
            f"no sample rate is known for the recordings of the syllables ({names[0]}, ...); "
            "run `sonotype scan` to index them"
        )
    combos, result.notes = feature_settings(config, nyquist_hz=float(rates.min()) / 2)
    hashes = index["content_hash"].to_dict()
    segments_key = {
        "events": _table_hash(events),
        "recordings": {r: hashes.get(r) for r in names},
    }
    candidates = [Candidate(settings) for settings in combos]
    result.candidates = candidates

    with project.run("discover", {**config.to_dict(), "until": until}):
        for number, candidate in enumerate(candidates, 1):
            tag = f" [{number}/{len(candidates)}: {candidate.label}]" if len(candidates) > 1 else ""
            step(f"spectrograms of {len(events)} syllables{tag}")
            spectrograms = _spectrograms(project, events, recordings, segments_key, candidate)
            # With several candidates only the selected one's spectrograms are kept (read
            # back from the cache below): each can take gigabytes on large projects.
            if len(candidates) == 1 or stop_after < STAGES.index("embed"):
                candidate.spectrograms = spectrograms
            if stop_after < STAGES.index("embed"):
                continue
            step(f"embedding ({config.embedder}){tag}")
            candidate.embedding = _embedding(project, segments_key, candidate, spectrograms, config)
            del spectrograms
            if stop_after < STAGES.index("reduce"):
                continue
            grid = config.grid
            n_combinations = len(grid["n_neighbors"]) * len(grid["min_dist"])
            step(f"UMAP grid ({n_combinations} embeddings){tag}")
            candidate.reductions = _reductions(project, events, segments_key, candidate, config)
        selected = candidates[0]
        result.spectrograms, result.embedding = selected.spectrograms, selected.embedding
        result.reductions = selected.reductions
        if stop_after < STAGES.index("cluster"):
            return result

        step("clustering every embedding")
        truth = _human_labels(project, events, config)
        clusterings, where = {}, {}
        for candidate in candidates:
            for reduction in candidate.reductions:
                key = reduction.name
                if len(candidates) > 1:
                    key = f"{candidate.label} | {reduction.name}"
                where[key] = (candidate, reduction)
                rows = reduction.indices
                clusterings[key] = hdbscan_grid(
                    reduction.coords,
                    min_cluster_size=config.grid["min_cluster_size"],
                    min_samples=config.grid["min_samples"],
                    true_labels=None if truth is None else truth[rows],
                    random_state=config.random_state,
                )
        summary = rank_clusterings(clusterings)
        columns = {key: [] for key in (*FEATURE_KEYS, "n_neighbors", "min_dist")}
        columns["trustworthiness"] = []
        for key in summary["reduction"]:
            candidate, reduction = where[key]
            for name in FEATURE_KEYS:
                columns[name].append(_cell(name, candidate.settings[name]))
            columns["n_neighbors"].append(reduction.params["n_neighbors"])
            columns["min_dist"].append(reduction.params["min_dist"])
            columns["trustworthiness"].append(reduction.trustworthiness)
        for position, (name, column) in enumerate(columns.items(), start=2):
            summary.insert(position, name, column)
        result.summary = summary
        best_key, best = best_clustering(clusterings)
        selected, reduction = where[best_key]
        if selected.spectrograms is None:
            selected.spectrograms = _spectrograms(
                project, events, recordings, segments_key, selected
            )
        result.spectrograms, result.embedding = selected.spectrograms, selected.embedding
        result.reductions = selected.reductions
        result.best = {"reduction": reduction, "clustering": best, "settings": selected.settings}
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


def _cell(name: str, value: Any) -> Any:
    """A feature setting as a summary.csv cell (the band as ``"low-high"`` in Hz)."""
    if name == "freq_range_hz":
        return f"{value[0]:g}-{value[1]:g}"
    return value


def _spectrogram_params(candidate: Candidate):
    from sonotype.features import SpectrogramParams

    s = candidate.settings
    return SpectrogramParams(
        n_freq=s["n_freq"],
        n_time=s["n_time"],
        freq_scale=s["freq_scale"],
        time_mode=s["time_mode"],
        freq_range_hz=s["freq_range_hz"],
    )


def _spectrograms(project, events, recordings, segments_key, candidate) -> np.ndarray:
    from sonotype.features import syllable_spectrograms

    spec_params = _spectrogram_params(candidate)
    return project.artifacts.array(
        "spectrograms",
        inputs=segments_key,
        params=spec_params.to_dict(),
        compute=lambda: syllable_spectrograms(events, recordings, params=spec_params),
    )


def _embedding(project, segments_key, candidate, spectrograms, config) -> np.ndarray:
    from sonotype.embed import make_embedder

    n_components = candidate.settings["n_components"]
    embed_params = {"embedder": config.embedder, "n_components": n_components}

    def embed() -> np.ndarray:
        kwargs = {"n_components": n_components} if config.embedder == "pca" else {}
        embedder = make_embedder(config.embedder, **kwargs)
        return embedder.fit_transform(spectrograms.reshape(len(spectrograms), -1))

    return project.artifacts.array(
        "embedding", inputs=_embed_inputs(segments_key, candidate), params=embed_params,
        compute=embed,
    )  # fmt: skip


def _embed_inputs(segments_key, candidate) -> dict:
    return {**segments_key, "spectrograms": _spectrogram_params(candidate).to_dict()}


def _reductions(project, events, segments_key, candidate, config) -> list:
    from sonotype.reduce import umap_grid

    grid = config.grid
    reduce_params = {
        "n_neighbors": list(grid["n_neighbors"]),
        "min_dist": list(grid["min_dist"]),
        "random_state": config.random_state,
    }
    groups = pd.factorize(events["recording"])[0]
    reductions = umap_grid(
        candidate.embedding,
        n_neighbors=grid["n_neighbors"],
        min_dist=grid["min_dist"],
        random_state=config.random_state,
        groups=groups,
    )
    embed_params = {"embedder": config.embedder, "n_components": candidate.settings["n_components"]}
    project.artifacts.array(
        "umap-grid",
        inputs={**_embed_inputs(segments_key, candidate), "embedding": embed_params},
        params=reduce_params,
        compute=lambda: np.stack([r.coords for r in reductions]),
    )
    return reductions


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
    n_candidates = len(result.candidates)
    n_reductions = len(result.reductions)
    settings = f"{n_candidates} spectrogram settings x " if n_candidates > 1 else ""
    notes = [
        f"{len(result.events)} syllables (kind {config.kind}) from "
        f"{result.events['recording'].nunique()} recordings; {settings}{n_reductions} UMAP "
        f"embeddings x {len(result.summary) // max(n_candidates * n_reductions, 1)} HDBSCAN "
        "settings, ranked by the composite score (1 - noise fraction) x (1 + silhouette) / 2.",
        f"Spectrograms: {Candidate(result.best['settings']).label}.",
        *result.notes,
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
        summary=result.summary[[c for c in _catalog_columns(result.summary)]],
        labels=None if truth is None else np.asarray(truth[rows]).astype(str),
        phenotypes=result.phenotypes.summary,
        transitions=result.phenotypes.transition_probabilities,
        notes=tuple(notes),
    )
    return write_catalog(folder, catalog)


def _catalog_columns(summary: pd.DataFrame) -> list[str]:
    """CATALOG_COLUMNS present in ``summary``, with the feature settings that vary after rank."""
    varied = [k for k in FEATURE_KEYS if k in summary and summary[k].nunique(dropna=False) > 1]
    return ["rank", *varied, *(c for c in CATALOG_COLUMNS[1:] if c in summary)]


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
