"""What a discovery run does: its settings, their checks, and the grids users pick by name.

:class:`DiscoverConfig` is the one object a user fills (from ``sonotype.toml``-style grid
files, the CLI's options or Python keywords); :func:`feature_settings` turns it into one
:class:`FeatureSettings` per combination of spectrogram settings a run tries. Each stage's own
parameter model (:mod:`sonotype.pipeline.discover_stages`) is built from these.
"""

from __future__ import annotations

import itertools
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import ValidationError

from sonotype.errors import ParameterError
from sonotype.pipeline.stage import StageParams

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

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
#: The run name when none is given (``--name``).
DEFAULT_NAME = "default"
#: A run name is a folder name (``reports/discover/NAME/``) and an events source.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

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

#: Chosen by benchmarks/discover_settings.py (docs/discover.md, "How the defaults were
#: chosen"): the best mean AMI on the validation halves of three data sets.
FEATURE_DEFAULTS = {
    "time_mode": "stretch",
    "n_freq": 64,
    "n_time": 64,
    "freq_scale": "linear",
    "freq_range_hz": None,
    "n_components": 32,
}


class DiscoverConfig(StageParams):
    """What a discovery run does; every field is recorded with the run.

    Attributes
    ----------
    name : str
        The run's name: its catalog is ``reports/discover/NAME/`` and its clusters are
        stored as events of kind ``clustered`` with source ``NAME``, so runs of different
        names (two birds, two settings) are kept side by side. Letters, digits, ``.``,
        ``_`` and ``-``.
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
        the same name: each combination is run and scored.
    time_mode, n_freq, n_time, freq_scale, freq_range_hz : spectrogram settings
        (:class:`sonotype.features.SpectrogramParams`). ``freq_range_hz=None`` is the whole
        band, 0 Hz to the Nyquist frequency of the slowest recording; a high end above that
        Nyquist frequency is lowered to it (with a note).
    embedder, n_components : the embedder and its dimension (``n_components`` applies to
        ``pca``).
    animal_level : int
        Animals are the folders this many levels above each recording (1: its own folder).
    random_state : int
    embedding : str, optional
        Reduce and cluster this named embedding set (``sonotype embed --model``) instead of
        the syllables' spectrograms; the set's events are the syllables.

    Examples
    --------
    >>> DiscoverConfig(n_freq=32, name="bird1").n_freq
    32
    >>> DiscoverConfig(n_time=1.5)
    Traceback (most recent call last):
    ...
    sonotype.errors.ParameterError: n_time=1.5 must be a whole number >= 2 (columns); ...
    """

    name: str = DEFAULT_NAME
    kind: str = "annotated"
    source: str | None = None
    recordings: str | None = None
    labels_from: str | None = "self"
    grid: dict[str, tuple] = GRIDS["small"]
    time_mode: str = FEATURE_DEFAULTS["time_mode"]
    n_freq: int = FEATURE_DEFAULTS["n_freq"]
    n_time: int = FEATURE_DEFAULTS["n_time"]
    freq_scale: str = FEATURE_DEFAULTS["freq_scale"]
    freq_range_hz: tuple[float, float] | None = None
    embedder: str = "pca"
    n_components: int = FEATURE_DEFAULTS["n_components"]
    animal_level: int = 1
    random_state: int = 0
    embedding: str | None = None

    def __init__(self, **values: object) -> None:
        # The feature settings are checked here, before pydantic, so that a bad value gets
        # the message that names it, the allowed values and the default.
        for key in FEATURE_KEYS:
            if key in values:
                values[key] = check_feature_setting(key, values[key])
        if "name" in values:
            values["name"] = check_run_name(values["name"])
        if "grid" in values:
            values["grid"] = _check_grid(values["grid"])
        try:
            super().__init__(**values)
        except ValidationError as error:
            raise ParameterError(_validation_message(error, "DiscoverConfig")) from None

    def to_dict(self) -> dict[str, object]:
        """The settings as plain JSON values (tuples as lists), as recorded with the run."""
        return self.identity()

    def identity(self) -> dict[str, object]:
        values = super().identity()
        if values.get("embedding") is None:  # runs without a set keep their keys
            values.pop("embedding", None)
        return values


class FeatureSettings(StageParams):
    """One combination of the spectrogram and embedding settings a run tries.

    ``freq_range_hz`` is the band in Hz as used (resolved against the recordings' Nyquist
    frequency); ``n_components`` is None for embedders other than ``pca``.
    """

    time_mode: str
    n_freq: int
    n_time: int
    freq_scale: str
    freq_range_hz: tuple[float, float]
    n_components: int | None

    @property
    def label(self) -> str:
        """A short name of the settings, e.g. ``"pad 64x64 linear 0-16000Hz pca32"``."""
        low, high = self.freq_range_hz
        embed = "" if self.n_components is None else f" pca{self.n_components}"
        return (
            f"{self.time_mode} {self.n_freq}x{self.n_time} {self.freq_scale} "
            f"{low:g}-{high:g}Hz{embed}"
        )

    def cell(self, key: str) -> object:
        """Setting ``key`` as a summary.csv cell (the band as ``"low-high"`` in Hz)."""
        if key == "freq_range_hz":
            return f"{self.freq_range_hz[0]:g}-{self.freq_range_hz[1]:g}"
        return getattr(self, key)


def check_run_name(name: object, *, option: str = "name") -> str:
    """``name`` if it can name a run: a folder under ``reports/discover/`` and a source.

    Examples
    --------
    >>> check_run_name("bird-1")
    'bird-1'
    >>> check_run_name("../x", option="--name")
    Traceback (most recent call last):
    ...
    sonotype.errors.ParameterError: --name='../x' must start with a letter or digit and hold ...
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise ParameterError(
            f"{option}={name!r} must start with a letter or digit and hold only letters, "
            f"digits, '.', '_' and '-' (at most 64 characters), e.g. 'bird1'; the default is "
            f"{DEFAULT_NAME!r}"
        )
    return name


def check_feature_setting(key: str, value: object, *, name: str | None = None) -> object:
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
    default = FEATURE_DEFAULTS.get(key)
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


def _number_pair(value: object) -> tuple[float, float] | None:
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


def _grid_values(key: str, value: object, path: Path) -> tuple:
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


def _check_grid(grid: object) -> dict[str, tuple]:
    """A grid given in Python: the four search keys, each a sequence of values."""
    if not isinstance(grid, Mapping):
        raise ParameterError(f"grid={grid!r} must map grid keys to values, e.g. load_grid('small')")
    unknown = set(grid) - set(SEARCH_KEYS) - set(FEATURE_KEYS)
    missing = set(SEARCH_KEYS) - set(grid)
    if unknown or missing:
        what = f"unknown keys {', '.join(sorted(unknown))}" if unknown else ""
        what += ("; " if what and missing else "") + (
            f"missing keys {', '.join(sorted(missing))}" if missing else ""
        )
        raise ParameterError(
            f"grid has {what}; a grid has {', '.join(SEARCH_KEYS)} and optionally "
            f"{', '.join(FEATURE_KEYS)} (see load_grid)"
        )
    checked = {}
    for key, values in grid.items():
        values = tuple(values) if isinstance(values, (list, tuple)) else (values,)
        if not values:
            raise ParameterError(f"grid key {key} is empty; list at least one value")
        checked[key] = values
    return checked


def _validation_message(error: ValidationError, where: str) -> str:
    """pydantic's first complaint, as ``field=value: what is wrong``."""
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or where
    return f"{field}={first.get('input')!r}: {first['msg'].lower()} ({where})"


@dataclass(frozen=True)
class FeatureGrid:
    """What :func:`feature_settings` found: every combination of feature settings a run
    tries (``candidates``), and ``notes`` on the values adapted to the recordings."""

    candidates: list[FeatureSettings]
    notes: list[str]


def feature_settings(config: DiscoverConfig, *, nyquist_hz: float) -> FeatureGrid:
    """Every combination of feature settings a run tries, and notes on adapted values.

    Each of :data:`FEATURE_KEYS` takes the grid's values when the grid has the key, else the
    config field. ``freq_range_hz`` becomes a band in Hz: None is 0 Hz to ``nyquist_hz``; a
    high end above ``nyquist_hz`` is lowered to it (and noted).

    Examples
    --------
    >>> grid = {**GRIDS["small"], "time_mode": ("pad", "stretch")}
    >>> found = feature_settings(
    ...     DiscoverConfig(grid=grid, freq_range_hz=(500, 10000)), nyquist_hz=8000
    ... )
    >>> [(c.time_mode, c.freq_range_hz) for c in found.candidates], found.notes
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
        FeatureSettings(**dict(zip(FEATURE_KEYS, combo, strict=True)))
        for combo in itertools.product(*(values[key] for key in FEATURE_KEYS))
    ]
    return FeatureGrid(combos, notes)


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
