"""``train`` as a stage: a network trained on the project's events into
``artifacts/models/NAME/``, keyed by the events' and recordings' content, the network and
training settings and the seeds; the key is recorded in ``model.json``, so training again
with nothing changed trains nothing and finds the model up to date.

A training runs in ``artifacts/training/NAME/`` (its key in ``key.txt``) and is moved into
the model folder when it finishes; a training that stops (killed, interrupted, failed) stays
there, and ``resume`` continues it from its last checkpoint when the key is the same."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from pydantic import Field

from sonotype.atomic import atomic_path, replace_folder
from sonotype.errors import ParameterError
from sonotype.models.config import NetworkConfig
from sonotype.models.saved import SavedModel
from sonotype.models.settings import TrainSettings
from sonotype.pipeline.codecs import Codec, JsonCodec
from sonotype.pipeline.model_store import (
    digest,
    events_hash,
    load_model,
    model_folder,
    record_table,
    recording_table,
    select_recordings,
    table_record,
)
from sonotype.pipeline.stage import Pipeline, Result, Stage, StageParams
from sonotype.store import Project


class TrainParams(StageParams):
    """Everything a user sets for ``train``; with the events and recordings, the key."""

    name: str
    labels: list[str]
    network: NetworkConfig
    settings: TrainSettings
    kinds: list[str] = Field(default_factory=lambda: ["annotated"])
    sources: list[str] = Field(default_factory=list)
    recordings: list[str] = Field(default_factory=list)
    background: str | None = None
    ignore_labels: list[str] = Field(default_factory=list)
    absorb_unlisted: bool = False
    validate_percent: float | None = None
    validate_recordings: list[str] = Field(default_factory=list)
    test_recordings: list[str] = Field(default_factory=list)
    replicates: int = 1
    equalize: bool = False
    #: Fine-tuning: the model started from (``name``, ``weights_sha256``, ``sr``), or None.
    init_from: dict[str, Any] | None = None
    freeze_layers: int = 0


#: Where trainings run until they finish (kept when they stop, to resume).
TRAINING_DIR = Path("artifacts") / "training"
KEY_FILE = "key.txt"


def training_folder(project: Project, name: str) -> Path:
    """``artifacts/training/NAME`` of the project: model ``name``'s training in progress."""
    return project.folder / TRAINING_DIR / model_folder(project, name).name


@dataclass(frozen=True)
class TrainOutcome:
    """What :func:`train` produced.

    Attributes
    ----------
    model : SavedModel
        The model in ``artifacts/models/NAME/``.
    examples : DataFrame
        What it learned from, with the ``split`` column.
    replicates : DataFrame
        ``replicate``, ``seed``, ``best_step``, ``macro_f1``, ``seconds`` per network trained.
    warnings : tuple of str
        For the user: e.g. why windows, not recordings, validate.
    up_to_date : bool
        True when nothing changed since the model was trained: nothing was trained now.
    """

    model: SavedModel
    examples: pd.DataFrame
    replicates: pd.DataFrame
    warnings: tuple[str, ...] = ()
    up_to_date: bool = False
    run_id: int | None = None


@dataclass
class _Prepared:
    """The examples and their split, made before the run (errors come before any work)."""

    examples: pd.DataFrame
    record: dict[str, Any]
    warnings: list[str]
    sr: float


class TrainStage(Stage[TrainParams, dict]):
    """Train the network(s) and publish the model folder; the artifact is a receipt (the
    folder and the replicates' scores), the model folder the effect it checks."""

    name: ClassVar[str] = "train"
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[StageParams]] = TrainParams
    codec: ClassVar[Codec] = JsonCodec()

    def __init__(
        self,
        project: Project,
        *,
        progress: Callable[[int, int, int], None] | None = None,
        resume: bool = False,
    ) -> None:
        self.project, self.progress = project, progress
        #: Continue the stopped training of the same key (not a parameter: the result is
        #: the same either way).
        self.resume = resume
        #: Set before the stage runs: the examples, and the key the model will record.
        self.prepared: _Prepared | None = None
        self.expected_key = ""

    def is_current(self, value: dict) -> bool:
        folder = self.project.folder / value["model"]
        if not (folder / "model.json").is_file():
            return False  # deleted since: train again
        return SavedModel.load(folder).train_key == value["key"]

    def compute(self, params: TrainParams, **inputs: Any) -> dict:
        from sonotype.audio import Recording
        from sonotype.models.training import train_network
        from sonotype.models.windows import ExampleAudio

        project, prepared, progress = self.project, self.prepared, self.progress
        assert prepared is not None, "train() prepares the examples before the stage runs"
        examples = prepared.examples
        folder = model_folder(project, params.name)
        cache: dict[tuple, ExampleAudio] = {}

        def audio_of(table, *, window, jitter_s, channels=1):  # replicates share the audio
            if (window, jitter_s, channels) not in cache:
                cache[window, jitter_s, channels] = ExampleAudio(
                    table,
                    lambda rec: Recording(project.recording_path(rec)),
                    sr=prepared.sr,
                    window=window,
                    jitter_s=jitter_s,
                    channels=channels,
                )
            return cache[window, jitter_s, channels]

        work = training_folder(project, params.name)
        resume = self.resume and _stopped_key(work) == self.expected_key
        if not resume:
            shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True, exist_ok=True)
        with atomic_path(work / KEY_FILE) as tmp:
            tmp.write_text(self.expected_key + "\n")
        init = _initial_network(project, params)
        rows, models = [], []
        for r in range(params.replicates):
            seed = params.settings.random_state + r
            target = work if params.replicates == 1 else work / "replicates" / f"r{r + 1}"
            if resume and (target / "model.json").is_file():  # finished before the stop
                models.append(SavedModel.load(target))
                rows.append(_replicate_row(models[-1], r + 1, seed))
                continue
            model = train_network(
                examples,
                audio_of,
                config=params.network,
                sr=prepared.sr,
                labels=list(params.labels),
                folder=target,
                settings=params.settings.model_copy(update={"random_state": seed}),
                background=params.background,
                training_record={**prepared.record, "replicate": r + 1},
                progress=None if progress is None else (lambda s, n, r=r: progress(r, s, n)),
                init=None if init is None else init(),
                freeze_layers=params.freeze_layers,
                resume=resume,
            )
            rows.append(_replicate_row(model, r + 1, seed))
            models.append(model)
        table = pd.DataFrame(rows)
        best = models[0]
        if params.replicates > 1:
            best = models[int(table["macro_f1"].fillna(-1).to_numpy().argmax())]
            for item in best.folder.iterdir():
                if item.is_dir():
                    shutil.copytree(item, work / item.name, dirs_exist_ok=True)
                else:
                    shutil.copyfile(item, work / item.name)
            table.to_csv(work / "replicates.csv", index=False)
        chosen = SavedModel.load(work)
        chosen.train_key = self.expected_key
        chosen.save()
        (work / KEY_FILE).unlink()
        folder.parent.mkdir(parents=True, exist_ok=True)
        replace_folder(work, folder)
        return {
            "model": folder.relative_to(project.folder).as_posix(),
            "key": self.expected_key,
            "replicates": table_record(table),
        }


def train(
    project: Project,
    name: str,
    *,
    labels: Sequence[str],
    network: NetworkConfig,
    settings: TrainSettings,
    kinds: Sequence[str] = ("annotated",),
    sources: Sequence[str] | None = None,
    recordings: Sequence[str] | None = None,
    background: str | None = None,
    ignore_labels: Sequence[str] = (),
    absorb_unlisted: bool = False,
    validate_percent: float | None = None,
    validate_recordings: Sequence[str] = (),
    test_recordings: Sequence[str] = (),
    replicates: int = 1,
    equalize: bool = False,
    init_from: str | None = None,
    freeze_layers: int = 0,
    resume: bool = False,
    overwrite: bool = False,
    progress: Callable[[int, int, int], None] | None = None,
) -> TrainOutcome:
    """Train model ``name`` on the project's events; ``progress(replicate, step, steps)``.

    Every label of the selected events must be in ``labels``, in ``ignore_labels``, a
    ``not_X`` negative (overlapped loss), or absorbed into ``background``
    (``absorb_unlisted``).

    Validation: ``validate_recordings`` (names or globs) are held out whole;
    ``validate_percent`` holds out that percentage of each label's events (0: none). With
    neither, whole recordings are held out when at least
    :data:`~sonotype.models.groundtruth.MIN_RECORDINGS_TO_HOLD_OUT` recordings have
    examples (a seeded choice that carries the labels, see
    :func:`~sonotype.models.groundtruth.choose_validation_recordings`), else
    :data:`~sonotype.models.groundtruth.DEFAULT_VALIDATE_PERCENT` % of the events, with a
    warning. ``test_recordings`` are never used, neither for training nor for any choice.

    With ``replicates`` > 1, that many networks are trained from different seeds (each kept
    in ``replicates/rN``); the one with the best validation F1 becomes the model.

    The training is a stage keyed by the selected events' and recordings' content and every
    setting: when the model ``name`` was trained with the same key and is still there,
    nothing is trained and the outcome says ``up_to_date``. A model of that name trained
    otherwise is replaced only with ``overwrite``.

    Fine-tuning: with ``init_from`` (a model of the project), training starts from that
    model's weights (:mod:`sonotype.models.transfer`; ``network`` must come from
    :func:`~sonotype.models.transfer.transfer_config` of its configuration) at its sample
    rate, training audio at other rates being resampled as it is read; ``freeze_layers``
    keeps its front end and first convolution blocks fixed.

    ``resume`` continues the training of ``name`` that stopped (killed, interrupted or
    failed) from its last checkpoint, with the same optimizer state and random generators:
    the same steps an uninterrupted training takes. It needs the same events, recordings and
    settings (the same key) as the stopped training.
    """
    folder = model_folder(project, name)
    labels = list(labels)
    if background is not None and background not in labels:
        labels.append(background)  # the background is learnt like any other label
    if replicates < 1:
        raise ParameterError(f"replicates={replicates} must be at least 1")
    if validate_percent is not None and validate_recordings:
        raise ParameterError("pass --validate-percent or --validate-recordings, not both")
    tests = select_recordings(project, test_recordings) if test_recordings else []
    held = select_recordings(project, validate_recordings) if validate_recordings else []
    both = sorted(set(tests) & set(held))
    if both:
        raise ParameterError(
            f"recording(s) {', '.join(both)} are named both by --validate-recordings and "
            "--test-recordings; a test recording is never used for validation"
        )
    # Recordings held out for validation are used even when --recordings leaves them out.
    patterns = [*recordings, *held] if recordings else None
    chosen = [r for r in select_recordings(project, patterns) if r not in set(tests)]
    events = project.events(kinds=list(kinds), sources=sources, recordings=chosen)
    if events.empty:
        raise ParameterError(
            f"no stored events of kind(s) {', '.join(kinds)} in the chosen recordings"
            f"{' (test recordings excluded)' if tests else ''}; "
            "import annotations with `sonotype import`"
        )
    params = TrainParams(
        name=name,
        labels=labels,
        network=network,
        settings=settings,
        kinds=list(kinds),
        sources=list(sources or []),
        recordings=list(recordings or []),
        background=background,
        ignore_labels=list(ignore_labels),
        absorb_unlisted=absorb_unlisted,
        validate_percent=validate_percent,
        validate_recordings=list(validate_recordings),
        test_recordings=list(tests),
        replicates=replicates,
        equalize=equalize,
        init_from=_source_record(project, init_from),
        freeze_layers=freeze_layers,
    )
    index = recording_table(project, chosen)
    hashes = index["content_hash"].astype(str).to_dict()
    inputs = {
        "events": Result.of(events, key=events_hash(events)),
        "recordings": Result.of(hashes, key=digest(hashes)),
    }
    stage = TrainStage(project, progress=progress, resume=resume)
    key = stage.key(params, {n: r.key for n, r in inputs.items()})
    if resume:
        stopped = _stopped_key(training_folder(project, name))
        if stopped is None:
            raise ParameterError(
                f"--resume: no stopped training of {name!r} to continue "
                f"({training_folder(project, name)} is absent); train without --resume",
                parameter="resume",
            )
        if stopped != key:
            raise ParameterError(
                f"--resume: the stopped training of {name!r} used other events, recordings "
                "or settings; give the same options as then, or train again without --resume",
                parameter="resume",
            )
    existing = (folder / "model.json").is_file() and SavedModel.load(folder).train_key
    if folder.exists() and existing != key and not overwrite:
        raise ParameterError(f"model {name!r} exists ({folder}); pass --force to replace it")
    prepared = stage.prepared = _prepare(params, events, index, held=held, tests=tests)
    stage.expected_key = key
    with project.run("train", params.identity()) as run:
        result = Pipeline(project, run_id=run.id).stage(stage, params, **inputs)
        receipt = result.value
        trained = bool(project.run_steps(run.id, status="computed"))
    return TrainOutcome(
        SavedModel.load(folder),
        prepared.examples,
        record_table(receipt["replicates"]),
        tuple(prepared.warnings),
        up_to_date=not trained,
        run_id=run.id,
    )


def _prepare(
    params: TrainParams,
    events: pd.DataFrame,
    index: pd.DataFrame,
    *,
    held: list[str],
    tests: list[str],
) -> _Prepared:
    """The examples (seeded split, equalized if asked), what ``model.json`` records of
    them, the warnings for the user, and the sample rate to train at."""
    from sonotype.models.groundtruth import (
        DEFAULT_VALIDATE_PERCENT,
        MIN_RECORDINGS_TO_HOLD_OUT,
        check_batch_size,
        choose_validation_recordings,
        select_examples,
        split_examples,
        unlisted_labels,
    )
    from sonotype.models.groundtruth import equalize as equalize_examples

    seed = params.settings.random_state
    validate_percent = params.validate_percent
    absorbed = unlisted_labels(
        events,
        labels=params.labels,
        loss=params.network.loss,
        background=params.background,
        ignore=params.ignore_labels,
        absorb=params.absorb_unlisted,
    )
    examples = select_examples(
        events,
        labels=params.labels,
        loss=params.network.loss,
        durations_s=index["duration_s"].astype(float).to_dict(),
        background=params.background,
        absorb=absorbed,
    )
    warnings: list[str] = []
    if validate_percent is None and not held:
        annotated = examples["recording"].unique()
        if len(annotated) >= MIN_RECORDINGS_TO_HOLD_OUT:
            held = choose_validation_recordings(examples, random_state=seed)
            if not held:
                warnings.append(
                    f"validating on {DEFAULT_VALIDATE_PERCENT:g}% of each label's events, "
                    "not on whole recordings: no recording can be held out without taking "
                    "away every training example of a label; windows from the training "
                    "recordings overstate accuracy on new ones"
                )
        else:
            warnings.append(
                f"validating on {DEFAULT_VALIDATE_PERCENT:g}% of each label's events, not "
                f"on whole recordings: only {len(annotated)} recording(s) have examples "
                f"(whole recordings are held out from {MIN_RECORDINGS_TO_HOLD_OUT}); windows "
                "from the training recordings overstate accuracy on new ones"
            )
        if not held:
            validate_percent = DEFAULT_VALIDATE_PERCENT
    examples = split_examples(
        examples,
        validate_percent=0.0 if held else float(validate_percent or 0.0),
        validate_recordings=held,
        random_state=seed,
    )
    if params.equalize:
        examples = equalize_examples(examples, random_state=seed)
    check_batch_size(examples, params.settings.batch_size)
    rates = index["sr"]
    sr = float(rates.loc[examples["recording"].unique()].mode().iloc[0])
    if params.init_from is not None:  # fine-tuning keeps the source model's rate
        source_sr = float(params.init_from["sr"])
        other = sorted({float(r) for r in rates.loc[examples["recording"].unique()]} - {source_sr})
        if other:
            warnings.append(
                f"training audio at {', '.join(f'{r:g}' for r in other)} Hz is resampled to "
                f"{source_sr:g} Hz, the rate of {params.init_from['name']} (--init-from)"
            )
        sr = source_sr
    record = {
        "labels": list(params.labels),
        "kinds": list(params.kinds),
        "sources": list(params.sources),
        "recordings": list(params.recordings),
        "background": params.background,
        "ignore_labels": list(params.ignore_labels),
        "absorbed_labels": absorbed,
        "validate_percent": 0.0 if held else validate_percent,
        "validate_recordings": list(params.validate_recordings),
        # what was held out: whole recordings ([] when events were), and never touched
        "validation_recordings": list(held),
        "test_recordings": list(tests),
        "warnings": list(warnings),
        "equalize": params.equalize,
        "n_examples": examples["split"].value_counts().to_dict(),
        "init_from": params.init_from,
        "freeze_layers": params.freeze_layers,
        "channels": annotated_channels(examples, index["channels"]),
    }
    return _Prepared(examples, record, warnings, sr)


def annotated_channels(examples: pd.DataFrame, channel_counts: pd.Series) -> list[int] | None:
    """The channels the examples come from, when their recordings have other channels that
    hold no example: ``classify`` and ``ethogram`` then keep to these by default (EvTAF's
    second channel is not the song microphone; an annotator who marked only one channel
    meant that one). None when every channel of the recordings has examples (mono
    recordings, or all channels annotated): then every channel is classified."""
    used = examples.groupby("recording")["channel"].unique()
    counts = channel_counts.reindex(used.index).fillna(1).astype(int)
    if all(len(set(channels)) >= counts[name] for name, channels in used.items()):
        return None
    return sorted({int(c) for channels in used for c in channels})


def _stopped_key(work: Path) -> str | None:
    """The key of the training stopped in ``work``, if one is there."""
    path = work / KEY_FILE
    return path.read_text().strip() if path.is_file() else None


def _source_record(project: Project, name: str | None) -> dict[str, Any] | None:
    """What identifies a model to fine-tune from: its name, weights and rate."""
    if name is None:
        return None
    encoder = _encoder_source(project, name)
    if encoder is not None:
        return encoder
    model = load_model(project, name)
    return {"name": name, "weights_sha256": model.weights_hash(), "sr": model.sr}


def _encoder_source(project: Project, name: str) -> dict[str, Any] | None:
    """The record of a reconstruction model (``train --loss autoencoder``), whose encoder
    starts the classifier (None when ``name`` is not one)."""

    folder = model_folder(project, name)
    if not (folder / "reconstruction.json").is_file():
        return None
    from sonotype.autoencoder.classifier import ENCODER_FILE, reconstruction_description

    described = reconstruction_description(folder)
    digest = hashlib.sha256((folder / ENCODER_FILE).read_bytes()).hexdigest()
    return {"name": name, "weights_sha256": digest, "sr": float(described["sr"]), "encoder": True}


def _initial_network(project: Project, params: TrainParams):
    """A maker of the network to start each replicate from (None: random weights)."""
    if params.init_from is None:
        return None
    from sonotype.models.groundtruth import output_labels
    from sonotype.models.transfer import initial_network

    if params.init_from.get("encoder"):
        return _encoder_network(project, params)
    source = load_model(project, params.init_from["name"])
    if source.weights_hash() != params.init_from["weights_sha256"]:
        raise ParameterError(
            f"--init-from {params.init_from['name']} changed while preparing the training; "
            "run again",
            parameter="init_from",
        )
    outputs = output_labels(list(params.labels), loss=params.network.loss)
    return lambda: initial_network(source, params.network, outputs)


def _encoder_network(project: Project, params: TrainParams):
    """A maker of classifiers whose front end and convolution blocks start from a
    reconstruction model's encoder (the head starts from random weights)."""
    from sonotype.autoencoder.classifier import load_encoder
    from sonotype.models.groundtruth import output_labels
    from sonotype.models.network import build_network

    name = params.init_from["name"]
    if _encoder_source(project, name) != params.init_from:
        raise ParameterError(
            f"--init-from {name} changed while preparing the training; run again",
            parameter="init_from",
        )
    folder = model_folder(project, name)
    outputs = output_labels(list(params.labels), loss=params.network.loss)

    def make():
        network = build_network(params.network, sr=params.init_from["sr"], n_labels=len(outputs))
        load_encoder(network, folder, config=params.network)
        return network

    return make


def _replicate_row(model: SavedModel, replicate: int, seed: int) -> dict[str, Any]:
    curve = model.learning_curve()
    f1 = curve.set_index("step").get("macro_f1", pd.Series(dtype=float))
    return {
        "replicate": replicate,
        "seed": seed,
        "best_step": model.best_step,
        "macro_f1": float(f1.get(model.best_step, np.nan)),
        "seconds": model.training["seconds"],
    }
