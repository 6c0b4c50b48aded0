"""The project's configuration file, ``sonotype.toml``: typed, validated, documented.

Every key has a default except where noted, so an older file that lacks a key still loads
(the default fills it in); a key sonotype does not know is an error that names the key and the
file, because a misspelt key silently ignored is a setting silently lost.
"""

from __future__ import annotations

import re
import sys
import textwrap
import typing
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from sonotype.audio.readers import AUDIO_EXTENSIONS
from sonotype.autoencoder.config import AutoencoderSection
from sonotype.errors import SonotypeError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

CONFIG_NAME = "sonotype.toml"
#: Bumped when a key is renamed or its meaning changes; older files are migrated on load.
CONFIG_VERSION = 1


class ConfigError(SonotypeError):
    """``sonotype.toml`` is missing, unreadable or invalid; the message names the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ProjectSection(_Section):
    name: str = Field("", description="Name shown in reports.")


class AudioSection(_Section):
    roots: list[str] = Field(
        default_factory=lambda: ["audio"],
        description="Folders holding the recordings, relative to this file or absolute; "
        "searched recursively. Recordings are named by their path inside their root.",
    )
    extensions: list[str] = Field(
        default_factory=lambda: list(AUDIO_EXTENSIONS),
        description="File extensions indexed by `sonotype scan` (case is ignored).",
    )

    @field_validator("extensions")
    @classmethod
    def _dotted_lower_case(cls, value: list[str]) -> list[str]:
        return [e.lower() if e.startswith(".") else f".{e.lower()}" for e in value]


class ScanSection(_Section):
    hash_bytes: int = Field(
        1 << 20,
        gt=0,
        description="Bytes from the start of each file (header and first block) hashed to "
        "recognise a recording that was changed, moved or copied.",
    )


class AmplitudeSettings(_Section):
    """Parameters of the ``amplitude`` detector that ``sonotype detect --method amplitude``
    uses by default; a key left out takes the detector's default. The detector checks them
    together against each recording's sample rate."""

    low_hz: float | None = Field(None, gt=0, description="Low edge of the pass band, Hz.")
    high_hz: float | None = Field(None, gt=0, description="High edge of the pass band, Hz.")
    smooth_ms: float | None = Field(None, gt=0, description="Boxcar smoothing of the power, ms.")
    threshold_mode: Literal["noise", "absolute"] | None = Field(
        None, description="'noise': thresholds are multiples of the noise floor; 'absolute'."
    )
    threshold: float | None = Field(
        None, ge=0, description="Envelope threshold in 'absolute' mode."
    )
    noise_factor: float | None = Field(
        None, gt=0, description="Threshold as a multiple of the noise floor ('noise' mode)."
    )
    noise_quantile: float | None = Field(
        None, ge=0, le=1, description="Quantile of the envelope taken as the noise floor."
    )
    onset_threshold: float | None = Field(
        None, ge=0, description="Hysteresis: a syllable starts above this."
    )
    offset_threshold: float | None = Field(
        None, ge=0, description="Hysteresis: a syllable ends at or below this."
    )
    min_silence_ms: float | None = Field(
        None, ge=0, description="Gaps of at most this are closed, ms."
    )
    min_duration_ms: float | None = Field(
        None, ge=0, description="Syllables of at most this are dropped, ms."
    )
    amplitude_scale: float | None = Field(
        None, gt=0, description="Factor applied to the samples before squaring."
    )
    filter_ms: float | None = Field(
        None, gt=0, description="Length of the band-pass filter, ms of samples."
    )
    onset_db: float | None = Field(
        None, gt=0, description="Onsets where each syllable's envelope is this far below its peak."
    )
    offset_db: float | None = Field(
        None, gt=0, description="Offsets where each syllable's envelope is this far below its peak."
    )


class TimeFreqSettings(_Section):
    """Parameters of the ``time-freq`` detector that ``sonotype detect --method time-freq``
    uses by default; a key left out takes the detector's default."""

    time_sigma: str | None = Field(
        None, description="'signal,noise' thresholds in MADs, e.g. '9,4'."
    )
    time_smooth_ms: float | None = Field(None, gt=0, description="Gaps shorter are closed, ms.")
    time_robust: Literal["median", "mean"] | None = Field(
        None, description="Centre and spread: 'median' (and MAD) or 'mean' (and SD)."
    )
    freq_n_ms: float | None = Field(
        None, gt=0, description="F-test window, ms (a power of two in samples)."
    )
    freq_nw: float | None = Field(None, gt=0, description="DPSS time-half-bandwidth.")
    freq_rho: str | None = Field(
        None, description="'signal,noise' false-positive rates of the F-test, e.g. '0.1,1.0'."
    )
    freq_smooth_ms: float | None = Field(
        None, gt=0, description="Tonal stretches shorter are dropped and gaps closed, ms."
    )
    freq_range_hz: list[float] | None = Field(
        None, min_length=2, max_length=2, description="Frequencies tested, [low, high] in Hz."
    )


class DetectSection(_Section):
    """Per-detector default parameters: ``[detect.amplitude]``, ``[detect.time-freq]``."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, populate_by_name=True)

    amplitude: AmplitudeSettings | None = Field(None, description="The amplitude detector.")
    time_freq: TimeFreqSettings | None = Field(
        None, alias="time-freq", description="The time-freq detector."
    )

    def params(self, method: str) -> dict[str, Any]:
        """The parameters set for detector ``method`` (none for a detector without a table).

        Examples
        --------
        >>> section = DetectSection(amplitude=AmplitudeSettings(low_hz=30000.0))
        >>> section.params("amplitude"), section.params("time-freq")
        ({'low_hz': 30000.0}, {})
        """
        settings = self.settings(method)
        return {} if settings is None else settings.model_dump(exclude_none=True)

    def settings(self, method: str) -> _Section | None:
        """The table of detector ``method``, or ``None``."""
        field = self._field_of(method)
        return None if field is None else getattr(self, field)

    def set_params(self, method: str, params: dict[str, Any]) -> None:
        """Replace detector ``method``'s table with ``params`` (validated).

        Raises
        ------
        ConfigError
            A detector without a table here, or a parameter it does not hold.
        """
        field = self._field_of(method)
        if field is None:
            names = ", ".join(f.alias or name for name, f in type(self).model_fields.items())
            raise ConfigError(
                f"sonotype.toml has no [detect.{method}] table; detectors with one: {names}"
            )
        model = _model_of(type(self).model_fields[field].annotation)
        try:
            setattr(self, field, model.model_validate(params))
        except ValidationError as error:
            raise ConfigError(f"[detect.{method}]: {_describe(error, model)}") from None

    @classmethod
    def _field_of(cls, method: str) -> str | None:
        for name, info in cls.model_fields.items():
            if method in (name, info.alias):
                return name
        return None


#: Sizes such as "16GB", "1.5 TiB" or "512MB" (decimal units, or binary ones with an "i").
_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGTP]i?)?B?\s*$", re.IGNORECASE)
_MEMORY_EXAMPLES = "write it as a number and a unit, e.g. '16GB' or '64GiB'"


def memory_bytes(text: str) -> int:
    """Bytes in a memory size written as in dask and the batch systems ("16GB", "4 GiB").

    Examples
    --------
    >>> memory_bytes("16GB"), memory_bytes("1.5 KiB"), memory_bytes("512")
    (16000000000, 1536, 512)
    """
    match = _MEMORY.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a memory size; {_MEMORY_EXAMPLES}")
    number, unit = float(match.group(1)), (match.group(2) or "")
    base = 1024 if unit.lower().endswith("i") else 1000
    power = "KMGTP".find(unit[:1].upper()) + 1 if unit else 0
    return int(number * base**power)


def _check_memory(value: str | None) -> str | None:
    if value is not None:
        memory_bytes(value)
    return value


class ClusterSection(_Section):
    """A batch-system cluster that dask-jobqueue makes: each job starts ``processes`` Dask
    workers sharing ``cores`` cores and ``memory``; ``jobs`` fixes how many jobs run, or
    ``minimum_jobs``/``maximum_jobs`` let the cluster grow and shrink with the work."""

    kind: Literal["slurm", "lsf", "pbs", "sge"] = Field(
        description="The batch system: 'slurm', 'lsf', 'pbs' or 'sge'."
    )
    cores: int = Field(1, gt=0, description="Cores of one job.")
    memory: str = Field("4GB", description="Memory of one job, e.g. '16GB'.")
    processes: int | None = Field(
        None,
        gt=0,
        description="Dask worker processes per job (default: about the square root of cores, "
        "or one per GPU); the cores and memory are shared among them.",
    )
    gpus: int = Field(
        0,
        ge=0,
        description="GPUs of one job; each worker process gets one of them. Request them with "
        "job_extra_directives too (e.g. '--gres=gpu:2' for SLURM, '-gpu num=2' for LSF).",
    )
    walltime: str | None = Field(None, description="Time limit of one job, e.g. '02:00:00'.")
    queue: str | None = Field(None, description="Queue (partition) the jobs are submitted to.")
    account: str | None = Field(
        None, description="Account (SLURM, PBS) or project (LSF, SGE) charged for the jobs."
    )
    job_extra_directives: list[str] = Field(
        default_factory=list,
        description="Extra lines for the job script's header, without the '#SBATCH' (or "
        "'#BSUB', '#PBS', '#$') prefix, e.g. ['--gres=gpu:1'].",
    )
    worker_extra_args: list[str] = Field(
        default_factory=list, description="Extra arguments of each job's dask worker command."
    )
    local_directory: str | None = Field(
        None, description="Scratch folder on the compute nodes for workers' spilled data."
    )
    log_directory: str | None = Field(None, description="Folder for the jobs' log files.")
    jobs: int | None = Field(
        None, gt=0, description="A fixed number of jobs (default 1 unless adaptive)."
    )
    minimum_jobs: int | None = Field(
        None, ge=0, description="Adaptive scaling: the fewest jobs kept running."
    )
    maximum_jobs: int | None = Field(
        None, gt=0, description="Adaptive scaling: the most jobs submitted at once."
    )
    interface: str | None = Field(
        None, description="Network interface the workers talk on, e.g. 'ib0'."
    )
    python: str | None = Field(
        None, description="Python on the compute nodes (default: the one running sonotype)."
    )

    @field_validator("memory")
    @classmethod
    def _memory(cls, value: str) -> str:
        return _check_memory(value)

    @model_validator(mode="after")
    def _combinations(self) -> ClusterSection:
        adaptive = self.minimum_jobs is not None or self.maximum_jobs is not None
        if self.jobs is not None and adaptive:
            raise ValueError(
                f"[compute.cluster] jobs = {self.jobs} fixes the number of jobs, while "
                "minimum_jobs/maximum_jobs scale it with the work; keep one or the other"
            )
        if (
            self.minimum_jobs is not None
            and self.maximum_jobs is not None
            and self.minimum_jobs > self.maximum_jobs
        ):
            raise ValueError(
                f"[compute.cluster] minimum_jobs = {self.minimum_jobs} is more than "
                f"maximum_jobs = {self.maximum_jobs}"
            )
        processes = self.processes
        if processes is not None and processes > self.cores:
            raise ValueError(
                f"[compute.cluster] processes = {processes} is more than cores = {self.cores}; "
                "each worker process needs at least one core"
            )
        if self.gpus and processes is not None and processes != self.gpus:
            raise ValueError(
                f"[compute.cluster] gpus = {self.gpus} needs processes = {self.gpus} (one "
                f"worker per GPU), not {processes}; leave processes out to get that"
            )
        if self.gpus > self.cores:
            raise ValueError(
                f"[compute.cluster] gpus = {self.gpus} is more than cores = {self.cores}; "
                "each GPU's worker process needs at least one core"
            )
        return self

    def worker_processes(self) -> int:
        """Dask worker processes per job: ``processes``, one per GPU, or dask-jobqueue's
        choice for this many cores (about their square root)."""
        if self.processes is not None:
            return self.processes
        if self.gpus:
            return self.gpus
        root = max(1, round(self.cores**0.5))
        while self.cores % root:  # the cores are shared evenly
            root -= 1
        return root


class ComputeSection(_Section):
    """Where per-recording and grid tasks run: ``local`` (a process pool on this machine) or
    ``dask`` (a scheduler at ``scheduler_address``; a Dask LocalCluster on this machine when
    there is none; or a batch-system cluster described in ``[compute.cluster]``)."""

    backend: Literal["local", "dask"] = Field(
        "local", description="'local' (a process pool here) or 'dask' (a Dask cluster)."
    )
    workers: int = Field(
        0,
        ge=0,
        description="Local pool: worker processes (0: as many as the cores hold; tasks run "
        "at once only as many as the memory holds, measured as they run).",
    )
    scheduler_address: str = Field(
        "",
        description="Dask: the address of a running scheduler, e.g. 'tcp://10.0.0.5:8786' "
        "(empty: make a cluster here or from [compute.cluster]).",
    )
    n_workers: int = Field(
        0, ge=0, description="Dask LocalCluster: worker processes (0: one per core)."
    )
    threads_per_worker: int = Field(
        1, gt=0, description="Dask LocalCluster: threads (tasks at once) of each worker."
    )
    memory_limit: str = Field(
        "auto",
        description="Dask LocalCluster: memory of each worker, e.g. '4GB' ('auto': the "
        "machine's memory shared among the workers).",
    )
    cluster: ClusterSection | None = Field(
        None, description="A SLURM, LSF, PBS or SGE cluster made by dask-jobqueue."
    )

    @field_validator("memory_limit")
    @classmethod
    def _memory(cls, value: str) -> str:
        return value if value == "auto" else _check_memory(value)

    @model_validator(mode="after")
    def _combinations(self) -> ComputeSection:
        # Keys are compared with their defaults, not tested for presence: a rendered file
        # holds every key, at its default where it does not apply.
        defaults = {key: info.get_default() for key, info in type(self).model_fields.items()}
        changed = [key for key in defaults if getattr(self, key) != defaults[key]]
        local_cluster = [
            k for k in ("n_workers", "threads_per_worker", "memory_limit") if k in changed
        ]
        if self.backend == "local":
            dask_only = [
                k for k in ("scheduler_address", "cluster", *local_cluster) if k in changed
            ]
            if dask_only:
                name = (
                    "[compute.cluster]"
                    if dask_only[0] == "cluster"
                    else f"[compute] {dask_only[0]}"
                )
                raise ValueError(
                    f'[compute] {name} is used only with backend = "dask"; set '
                    'backend = "dask" or remove it'
                )
            return self
        if self.scheduler_address and self.cluster is not None:
            raise ValueError(
                "[compute] scheduler_address connects to a running scheduler, while "
                "[compute.cluster] makes one; keep one or the other"
            )
        if (self.scheduler_address or self.cluster is not None) and local_cluster:
            where = "scheduler_address" if self.scheduler_address else "[compute.cluster]"
            raise ValueError(
                f"[compute] {local_cluster[0]} sizes a LocalCluster on this machine, which is "
                f"not made with {where}; remove it"
            )
        if "workers" in changed:
            raise ValueError(
                '[compute] workers sizes the local pool (backend = "local"); for Dask set '
                "n_workers (a LocalCluster) or [compute.cluster]"
            )
        return self


class ProjectConfig(_Section):
    """The whole of ``sonotype.toml``."""

    config_version: int = Field(CONFIG_VERSION, description="Version of this file's layout.")
    project: ProjectSection = Field(default_factory=ProjectSection)
    audio: AudioSection = Field(default_factory=AudioSection)
    scan: ScanSection = Field(default_factory=ScanSection)
    detect: DetectSection = Field(default_factory=DetectSection)
    compute: ComputeSection = Field(default_factory=ComputeSection)
    autoencoder: AutoencoderSection = Field(default_factory=AutoencoderSection)


def load_config(path: Path) -> ProjectConfig:
    """Read and validate ``path``; errors name the file and the offending key."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file; create a project with `sonotype init`") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML ({error})") from None
    data = migrate(data)
    try:
        return ProjectConfig.model_validate(data)
    except ValidationError as error:
        raise ConfigError(f"{path}: {_describe(error)}") from None


def migrate(data: dict) -> dict:
    """Bring the keys of an older ``sonotype.toml`` up to :data:`CONFIG_VERSION`.

    Version 0 (files without ``config_version``) had the same keys; missing optional keys
    take their defaults in validation, so nothing needs moving yet. Later renames go here.
    """
    version = data.get("config_version", 0)
    if not isinstance(version, int) or version > CONFIG_VERSION:
        raise ConfigError(
            f"config_version={version!r} is newer than this sonotype understands "
            f"({CONFIG_VERSION}); upgrade sonotype"
        )
    return {**data, "config_version": CONFIG_VERSION}


def render_config(config: ProjectConfig) -> str:
    """``config`` as TOML text with every key preceded by a comment saying what it does."""
    lines = [
        "# sonotype project configuration. Every key is documented; unknown keys are errors.",
        "",
        f"# {ProjectConfig.model_fields['config_version'].description}",
        f"config_version = {config.config_version}",
    ]
    for section_name in ProjectConfig.model_fields:
        section = getattr(config, section_name)
        if isinstance(section, DetectSection):
            lines += _render_detect(section)
            continue
        if isinstance(section, ComputeSection):
            lines += _render_compute(section)
            continue
        if not isinstance(section, BaseModel):
            continue
        lines += ["", f"[{section_name}]"]
        for key, info in type(section).model_fields.items():
            lines += [f"# {line}" for line in textwrap.wrap(info.description, 96)]
            lines.append(f"{key} = {_toml_value(getattr(section, key))}")
    return "\n".join(lines) + "\n"


def save_config(config: ProjectConfig, path: Path) -> None:
    """Write ``config`` to ``path`` atomically (:func:`render_config`'s text)."""
    from sonotype.atomic import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_text(render_config(config), encoding="utf-8")


def _render_detect(section: DetectSection) -> list[str]:
    """``[detect.NAME]`` tables holding only the keys set, each with its comment."""
    lines = [
        "",
        "# Detector parameters that `sonotype detect --method NAME` uses by default, in",
        "# [detect.amplitude] and [detect.time-freq] tables (written by `sonotype tune-detector`);",
        "# --set KEY=VALUE overrides them. Keys left out take the detector's defaults.",
    ]
    for name, info in DetectSection.model_fields.items():
        settings = getattr(section, name)
        if settings is None:
            continue
        lines += ["", f"[detect.{info.alias or name}]"]
        for key, field in type(settings).model_fields.items():
            value = getattr(settings, key)
            if value is not None:
                lines += [f"# {line}" for line in textwrap.wrap(field.description, 96)]
                lines.append(f"{key} = {_toml_value(value)}")
    return lines


def _render_compute(section: ComputeSection) -> list[str]:
    """``[compute]`` with every key, and ``[compute.cluster]`` with the keys set."""
    lines = ["", "[compute]"]
    for key, info in ComputeSection.model_fields.items():
        if key != "cluster":
            lines += [f"# {line}" for line in textwrap.wrap(info.description, 96)]
            lines.append(f"{key} = {_toml_value(getattr(section, key))}")
    lines += [
        "# A SLURM, LSF, PBS or SGE cluster made by dask-jobqueue goes in a [compute.cluster]",
        '# table (backend = "dask"); see docs/scale.md.',
    ]
    if section.cluster is not None:
        lines += ["", "[compute.cluster]"]
        for key, info in ClusterSection.model_fields.items():
            value = getattr(section.cluster, key)
            if key in section.cluster.model_fields_set or key == "kind":
                lines += [f"# {line}" for line in textwrap.wrap(info.description, 96)]
                lines.append(f"{key} = {_toml_value(value)}")
    return lines


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def _describe(error: ValidationError, model: type[BaseModel] | None = None) -> str:
    """The first validation problem, as a sentence that names the key."""
    problem = error.errors()[0]
    key = ".".join(str(part) for part in problem["loc"])
    if problem["type"] == "extra_forbidden":
        section = model or ProjectConfig
        for part in problem["loc"][:-1]:
            section = _model_of(_field(section, str(part)).annotation)
        valid = ", ".join(info.alias or name for name, info in section.model_fields.items())
        return f"unknown key {key!r}; valid keys here: {valid}"
    if problem["type"] == "value_error":  # our own checks: the message names the keys
        message = str(problem["ctx"]["error"])
        return message if message.startswith("[") else f"{key}: {message}"
    return f"{key}: {problem['msg']} (got {problem.get('input')!r})"


def _field(model: type[BaseModel], key: str):
    """The field of ``model`` named or aliased ``key``."""
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return info
    raise KeyError(key)


def _model_of(annotation) -> type[BaseModel]:
    """The model class in an annotation such as ``Settings | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    raise TypeError(f"no model in {annotation!r}")
