"""``autoencoder train`` and ``autoencoder extract`` over a project.

Training: the spectrograms of the chosen events (or of windows cut from every recording)
are made per recording by discovery's cached spectrogram stage; then each session of the
grid is a cached stage that trains one autoencoder into ``artifacts/autoencoders/NAME/``,
keyed by the spectrograms' key, the session's settings and the code version, so training
again with nothing changed trains nothing. The report (``reports/autoencoder/NAME/``) shows
each model's losses and reconstruction previews.

Extraction: the pooled features of a trained model for the same kind of events (made with
the model's spectrogram settings) become a named embedding set
(:mod:`sonotype.embeddings.sets`), which reduce, cluster and the probes read.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from sonotype.atomic import replace_folder, staging_folder
from sonotype.autoencoder.config import AutoencoderConfig, session_name
from sonotype.autoencoder.saved import SavedAutoencoder
from sonotype.errors import ParameterError
from sonotype.pipeline.codecs import Codec, JsonCodec
from sonotype.pipeline.discover_stages import (
    RecordingSyllables,
    SpectrogramSettings,
    SpectrogramStage,
    content_key,
    table_hash,
)
from sonotype.pipeline.stage import Item, Pipeline, Result, Stage, StageParams
from sonotype.store import Project

AUTOENCODERS_DIR = Path("artifacts") / "autoencoders"
REPORTS_DIR = Path("autoencoder")
#: Fewest spectrograms to train on.
MIN_EXAMPLES = 8
#: Spectrograms shown in the previews.
N_PREVIEWS = 8


@dataclass(frozen=True)
class Examples:
    """What to train on: ``unit`` ``events`` (stored events of ``kind``, optionally of
    ``source``) or ``windows`` (every recording cut into ``window_s`` every ``hop_s``), at
    most ``max_examples`` of them (a seeded random subset; 0 for all)."""

    unit: str = "events"
    kind: str = "annotated"
    source: str | None = None
    window_s: float = 1.0
    hop_s: float = 1.0
    max_examples: int = 0
    seed: int = 0


def autoencoder_folder(project: Project, name: str) -> Path:
    from sonotype.embeddings.sets import check_set_name

    return project.folder / AUTOENCODERS_DIR / check_set_name(name)


def load_autoencoder(project: Project, name: str) -> SavedAutoencoder:
    """The autoencoder ``name`` of the project; a missing one lists those there are."""
    folder = project.folder / AUTOENCODERS_DIR / name
    if not (folder / "autoencoder.json").is_file():
        names = sorted(
            p.parent.name for p in (project.folder / AUTOENCODERS_DIR).glob("*/autoencoder.json")
        )
        raise ParameterError(
            f"no autoencoder named {name!r}; the project has "
            f"{', '.join(names) or 'none (train one with `sonotype autoencoder train`)'}",
            parameter="name",
        )
    return SavedAutoencoder.load(folder)


def window_events(recordings: pd.DataFrame, *, window_s: float, hop_s: float) -> pd.DataFrame:
    """Every recording (``path``, ``duration_s``) cut into windows: an Events table of kind
    ``window``; a recording shorter than one window gives none.

    Examples
    --------
    >>> index = pd.DataFrame({"path": ["a.wav"], "duration_s": [2.5]})
    >>> window_events(index, window_s=1.0, hop_s=1.0)["start_s"].tolist()
    [0.0, 1.0]
    """
    if not (window_s > 0 and hop_s > 0):
        raise ParameterError(
            f"--windows {window_s:g},{hop_s:g}: the window and hop must be positive seconds, "
            "e.g. --windows 1,0.5",
            parameter="windows",
        )
    rows = []
    for path, duration in zip(recordings["path"], recordings["duration_s"], strict=True):
        starts = np.arange(0.0, float(duration) - window_s + 1e-9, hop_s)
        rows += [(path, s, s + window_s) for s in starts]
    table = pd.DataFrame(rows, columns=["recording", "start_s", "stop_s"])
    return table.assign(label="", kind="window", channel=0, source="windows")


def select_examples(project: Project, examples: Examples) -> pd.DataFrame:
    """The events to make spectrograms of, sorted, subsampled as ``examples`` says."""
    if examples.unit == "windows":
        table = window_events(
            project.recordings(), window_s=examples.window_s, hop_s=examples.hop_s
        )
        what = "windows (are the recordings shorter than one window?)"
    else:
        table = project.events(
            kinds=[examples.kind], sources=[examples.source] if examples.source else None
        )
        table = table[table["stop_s"] > table["start_s"]]
        what = f"events of kind {examples.kind!r}" + (
            f" from source {examples.source!r}" if examples.source else ""
        )
    if len(table) < MIN_EXAMPLES:
        raise ParameterError(
            f"{len(table)} {what}; an autoencoder needs at least {MIN_EXAMPLES} (choose the "
            "kind with --events, or use --windows W,H)",
            parameter="events",
        )
    if examples.max_examples and len(table) > examples.max_examples:
        rng = np.random.default_rng(examples.seed)
        table = table.iloc[np.sort(rng.choice(len(table), examples.max_examples, replace=False))]
    return table.sort_values(["recording", "start_s"], ignore_index=True)


def spectrograms_of(
    pipe: Pipeline, project: Project, events: pd.DataFrame, settings: SpectrogramSettings
) -> tuple[Result[np.ndarray], pd.DataFrame]:
    """The spectrograms of ``events`` (one cached task per recording) and the events they
    are of (recordings that failed are left out, with an error if none is left)."""
    hashes = project.recordings(status=None).set_index("path")["content_hash"].to_dict()
    items = []
    for name, rows in events.groupby("recording", sort=True):
        rows = rows.reset_index(drop=True)
        key = content_key("recording-syllables", hashes.get(name), table_hash(rows))
        items.append(
            Item(name, key, RecordingSyllables(name, str(project.recording_path(name)), rows))
        )
    batch = pipe.map(SpectrogramStage(), settings, items)
    kept = [name for name in sorted(events["recording"].unique()) if name in batch.results]
    if not kept:
        raise ParameterError(
            "no recording gave spectrograms: "
            + "; ".join(f"{k}: {v}" for k, v in batch.failures.items())
        )
    parts = [batch.results[name] for name in kept]
    result = Result(
        content_key("spectrograms", [p.key for p in parts]),
        load=lambda: np.concatenate([p.value for p in parts]),
    )
    return result, events[events["recording"].isin(kept)].reset_index(drop=True)


class AutoencoderParams(StageParams):
    """One session: the model's name and settings, and how its spectrograms were made."""

    name: str
    config: AutoencoderConfig
    spectrogram: dict[str, Any]


class AutoencoderStage(Stage[AutoencoderParams, dict]):
    """Train one autoencoder and publish its folder; the artifact is a receipt (the folder
    and its key), the folder the effect it checks."""

    name: ClassVar[str] = "autoencoder"
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[StageParams]] = AutoencoderParams
    codec: ClassVar[Codec] = JsonCodec()

    def __init__(
        self,
        project: Project,
        *,
        expected_key: str = "",
        device: str = "cpu",
        progress: Callable[[int, int, dict], None] | None = None,
    ) -> None:
        self.project, self.expected_key = project, expected_key
        self.device, self.progress = device, progress

    def is_current(self, value: dict) -> bool:
        folder = self.project.folder / value["model"]
        if not (folder / "autoencoder.json").is_file():
            return False
        return SavedAutoencoder.load(folder).train_key == value["key"]

    def compute(self, params: AutoencoderParams, *, spectrograms: np.ndarray) -> dict:
        from sonotype.autoencoder.saved import save_autoencoder
        from sonotype.autoencoder.training import fit_autoencoder

        folder = autoencoder_folder(self.project, params.name)
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = staging_folder(folder.parent, params.name)
        try:
            fitted = fit_autoencoder(
                spectrograms, params.config, device=self.device, progress=self.progress
            )
            save_autoencoder(
                fitted,
                staging,
                specs=spectrograms[_train_rows(fitted, len(spectrograms))],
                spectrogram=params.spectrogram,
                train_key=self.expected_key,
                training={"device": self.device, "validate_rows": fitted.validate_rows.tolist()},
            )
            replace_folder(staging, folder)
        finally:
            if staging.exists():
                shutil.rmtree(staging)
        return {
            "model": folder.relative_to(self.project.folder).as_posix(),
            "key": self.expected_key,
        }


def _train_rows(fitted, n: int) -> np.ndarray:
    keep = np.ones(n, dtype=bool)
    keep[fitted.validate_rows] = False
    return np.flatnonzero(keep)


@dataclass(frozen=True)
class TrainedAutoencoders:
    """What :func:`train_autoencoders` made: the models (in grid order), which were already
    up to date, the number of spectrograms, the report and the run."""

    models: list[SavedAutoencoder]
    up_to_date: list[bool]
    n_examples: int
    report: Path
    run_id: int


def train_autoencoders(
    project: Project,
    name: str,
    sessions: list[AutoencoderConfig],
    *,
    examples: Examples = Examples(),
    n_freq: int = 64,
    n_time: int = 64,
    time_mode: str = "stretch",
    freq_range_hz: tuple[float, float] | None = None,
    device: str = "cpu",
    executor=None,
    step: Callable[[str], None] | None = None,
    progress: Callable[[int, int, dict], None] | None = None,
) -> TrainedAutoencoders:
    """Train one autoencoder per session on the project's spectrograms; write the report.

    ``name`` names a single session's model; a grid's models are named ``name`` plus the
    settings that vary (:func:`~sonotype.autoencoder.config.session_name`).
    """
    from sonotype.pipeline.executors import open_executor

    step = step or (lambda description: None)
    if not sessions:
        raise ParameterError("no training session: the grid is empty")
    events = select_examples(project, examples)
    rates = (
        project.recordings(status=None)
        .set_index("path")["sr"]
        .reindex(events["recording"].unique())
    )
    nyquist = float(rates.astype(float).min()) / 2
    if not np.isfinite(nyquist):
        raise ParameterError("no sample rate is known for the recordings; run `sonotype scan`")
    band = (
        (0.0, nyquist)
        if freq_range_hz is None
        else (freq_range_hz[0], min(freq_range_hz[1], nyquist))
    )
    window_s = None
    if time_mode == "pad":
        window_s = float(np.percentile((events["stop_s"] - events["start_s"]).to_numpy(), 95))
    spec = SpectrogramSettings(
        time_mode=time_mode,
        n_freq=n_freq,
        n_time=n_time,
        freq_scale="linear",
        freq_range_hz=band,
        window_s=window_s,
    )
    for config in sessions:  # errors before any work
        from sonotype.autoencoder.architectures import check_shape

        check_shape(config.architecture, n_freq, n_time)
    record = {
        "name": name,
        "examples": examples.__dict__,
        "spectrogram": spec.model_dump(mode="json"),
        "sessions": [c.model_dump() for c in sessions],
    }
    with contextlib.ExitStack() as stack:
        run = stack.enter_context(project.run("autoencoder-train", record, name=name))
        if executor is None:
            executor = stack.enter_context(open_executor(getattr(project.config, "compute", None)))
        pipe = Pipeline(project, run_id=run.id, executor=executor)
        step(f"spectrograms of {len(events)} {examples.unit}")
        specs, events = spectrograms_of(pipe, project, events, spec)
        described = {
            **spec.model_dump(mode="json"),
            "unit": examples.unit,
            "kind": examples.kind,
            "source": examples.source,
            "window_s_unit": examples.window_s,
            "hop_s": examples.hop_s,
        }
        models, up_to_date = [], []
        for number, config in enumerate(sessions, 1):
            model_name = session_name(name, config, sessions)
            params = AutoencoderParams(name=model_name, config=config, spectrogram=described)
            stage = AutoencoderStage(project, device=device, progress=progress)
            stage.expected_key = stage.key(params, {"spectrograms": specs.key})
            step(f"training {model_name} [{number}/{len(sessions)}]")
            before = len(project.run_steps(run.id))
            pipe.stage(stage, params, spectrograms=specs)
            steps = project.run_steps(run.id)[before:]
            up_to_date.append(any(s["status"] == "cached" for s in steps))
            models.append(SavedAutoencoder.load(autoencoder_folder(project, model_name)))
        step("report")
        report = write_report(project, name, models, specs.value)
    return TrainedAutoencoders(models, up_to_date, len(events), report, run.id)


def write_report(
    project: Project, name: str, models: list[SavedAutoencoder], specs: np.ndarray
) -> Path:
    """``reports/autoencoder/NAME/index.html``: a row per model, its previews (validation
    spectrograms, corrupted as in training, and their reconstructions) and loss curve."""
    import torch

    from sonotype.autoencoder.corrupt import Corruptor
    from sonotype.plot.autoencoder import loss_figure, reconstruction_figure
    from sonotype.plot.catalog import save_figure
    from sonotype.report.autoencoder import write_autoencoder_report

    folder = project.reports_dir / REPORTS_DIR / name
    folder.mkdir(parents=True, exist_ok=True)
    sessions = []
    for model in models:
        held = model.training.get("validate_rows") or list(range(len(specs)))
        rows = np.asarray(held[:N_PREVIEWS], dtype=int)
        clean = specs[rows]
        corrupt = Corruptor(model.config, torch.Generator().manual_seed(model.config.seed))
        noisy = corrupt(torch.from_numpy(clean).unsqueeze(1))[:, 0].numpy()
        rebuilt = model.reconstruct(noisy)
        previews, curve_png = f"{model.folder.name}-previews.png", f"{model.folder.name}-loss.png"
        save_figure(reconstruction_figure(clean, noisy, rebuilt), folder / previews)
        curve = model.learning_curve()
        save_figure(loss_figure(curve, title=model.folder.name), folder / curve_png)
        last = curve.set_index("epoch")
        sessions.append(
            {
                "name": model.folder.name,
                "architecture": model.config.architecture,
                "latent_channels": model.config.latent_channels,
                "parameters": model.training.get("parameters"),
                "epochs": model.config.epochs,
                "best_epoch": model.best_epoch,
                "validation_loss": float(last["validation_loss"].get(model.best_epoch, np.nan))
                if "validation_loss" in last
                else None,
                "noisy_loss": float(np.mean((noisy - clean) ** 2)),
                "denoised_loss": float(np.mean((rebuilt - clean) ** 2)),
                "seconds": model.training.get("seconds"),
                "previews": previews,
                "curve": curve_png,
            }
        )
    return write_autoencoder_report(folder, sessions, title=f"Autoencoders: {name}")


def extract(
    project: Project,
    model_name: str,
    *,
    set_name: str | None = None,
    kind: str | None = None,
    source: str | None = None,
    executor=None,
    step: Callable[[str], None] | None = None,
):
    """Write the embedding set ``set_name`` (default: the model's name): the model's
    features of the events it was trained on the kind of (or ``kind``), or of windows."""
    from sonotype.embeddings.sets import EmbeddingSet, check_set_name, save_embedding_set
    from sonotype.pipeline.executors import open_executor

    step = step or (lambda description: None)
    model = load_autoencoder(project, model_name)
    set_name = check_set_name(set_name or model_name)
    described = dict(model.spectrogram)
    if not described:
        raise ParameterError(f"autoencoder {model_name!r} records no spectrogram settings")
    unit = described.pop("unit")
    examples = Examples(
        unit=unit,
        kind=kind or described.pop("kind"),
        source=source if source is not None else described.pop("source", None),
        window_s=described.pop("window_s_unit"),
        hop_s=described.pop("hop_s"),
    )
    for key in ("kind", "source"):
        described.pop(key, None)
    described["freq_range_hz"] = tuple(described["freq_range_hz"])
    spec = SpectrogramSettings(**described)
    events = select_examples(project, examples)
    with contextlib.ExitStack() as stack:
        run = stack.enter_context(
            project.run(
                "autoencoder-extract",
                {"model": model_name, "set": set_name, "examples": examples.__dict__},
                name=set_name,
            )
        )
        if executor is None:
            executor = stack.enter_context(open_executor(getattr(project.config, "compute", None)))
        pipe = Pipeline(project, run_id=run.id, executor=executor)
        step(f"spectrograms of {len(events)} {unit}")
        specs, events = spectrograms_of(pipe, project, events, spec)
        step(f"features of {len(events)} {unit}")
        vectors = model.features(specs.value)
        embedding = EmbeddingSet(
            set_name,
            f"autoencoder:{model_name}",
            unit,
            events,
            vectors,
            {
                "autoencoder": model_name,
                "architecture": model.config.architecture,
                "spectrogram": model.spectrogram,
                "run": run.id,
            },
        )
        folder = save_embedding_set(project.folder, embedding)
    return embedding, folder
