"""The supervised loop in a project: train, accuracy, classify, ethogram, misses, export.

Models live in ``artifacts/models/NAME/`` (see :mod:`sonotype.models.saved`); probabilities
are artifacts keyed by the recording's content and the model's weights, so classifying again
recomputes nothing; predicted and missed events go to the store as one undoable edit each,
replacing the previous ones from the same model.
"""

from __future__ import annotations

import fnmatch
import re
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from sonotype.atomic import replace_folder, staging_folder
from sonotype.audio import Recording
from sonotype.errors import ParameterError
from sonotype.models.config import NetworkConfig
from sonotype.models.saved import SavedModel
from sonotype.store import Project
from sonotype.store.artifacts import artifact_key

MODELS_DIR = Path("artifacts") / "models"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
#: Frames of probabilities re-weighted at a time (bounded memory for long recordings).
PREVALENCE_CHUNK = 1 << 20
#: Threshold used for every label when a model has no thresholds.csv yet.
DEFAULT_THRESHOLD = 0.5


def model_folder(project: Project, name: str) -> Path:
    if not _NAME.match(name):
        raise ParameterError(
            f"model name {name!r} must start with a letter or digit and hold only letters, "
            "digits, '_', '.' and '-'"
        )
    return project.folder / MODELS_DIR / name


def load_model(project: Project, name: str) -> SavedModel:
    """The trained model ``name`` of the project (a clear error lists the others)."""
    folder = model_folder(project, name)
    if not (folder / "model.json").is_file():
        names = sorted(p.parent.name for p in (project.folder / MODELS_DIR).glob("*/model.json"))
        raise ParameterError(
            f"no model named {name!r} in {project.folder}; trained models: "
            f"{', '.join(names) or 'none (train one with `sonotype train`)'}"
        )
    return SavedModel.load(folder)


def select_recordings(project: Project, patterns: Sequence[str] | None) -> list[str]:
    """Indexed recordings whose names match any of the globs (all when none are given)."""
    names = project.recordings()["path"].tolist()
    if not patterns:
        return names
    chosen = [n for n in names if any(fnmatch.fnmatchcase(n, p) for p in patterns)]
    if not chosen:
        raise ParameterError(
            f"no indexed recording matches {', '.join(patterns)}; `sonotype info` lists them"
        )
    return chosen


# -- train -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainOutcome:
    model: SavedModel
    examples: pd.DataFrame  # what it learned from, with the split
    replicates: pd.DataFrame  # replicate, seed, best_step, macro_f1, seconds
    warnings: tuple[str, ...] = ()  # for the user: e.g. why windows, not recordings, validate


def train(
    project: Project,
    name: str,
    *,
    labels: Sequence[str],
    network: NetworkConfig,
    settings,
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
    """
    from sonotype.models.groundtruth import (
        DEFAULT_VALIDATE_PERCENT,
        MIN_RECORDINGS_TO_HOLD_OUT,
        check_batch_size,
        choose_validation_recordings,
        select_examples,
        split_examples,
        unlisted_labels,
    )
    from sonotype.models.groundtruth import (
        equalize as equalize_examples,
    )
    from sonotype.models.training import train_network
    from sonotype.models.windows import ExampleAudio

    folder = model_folder(project, name)
    labels = list(labels)
    if background is not None and background not in labels:
        labels.append(background)  # the background is learnt like any other label
    if folder.exists() and not overwrite:
        raise ParameterError(f"model {name!r} exists ({folder}); pass --force to replace it")
    if replicates < 1:
        raise ParameterError(f"replicates={replicates} must be at least 1")
    if validate_percent is not None and validate_recordings:
        raise ParameterError("pass --validate-percent or --validate-recordings, not both")
    index = project.recordings()
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
    absorbed = unlisted_labels(
        events,
        labels=labels,
        loss=network.loss,
        background=background,
        ignore=ignore_labels,
        absorb=absorb_unlisted,
    )
    durations = dict(zip(index["path"], index["duration_s"], strict=True))
    examples = select_examples(
        events,
        labels=labels,
        loss=network.loss,
        durations_s=durations,
        background=background,
        absorb=absorbed,
    )
    warnings: list[str] = []
    if validate_percent is None and not held:
        annotated = examples["recording"].unique()
        if len(annotated) >= MIN_RECORDINGS_TO_HOLD_OUT:
            held = choose_validation_recordings(examples, random_state=settings.random_state)
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
        random_state=settings.random_state,
    )
    if equalize:
        examples = equalize_examples(examples, random_state=settings.random_state)
    check_batch_size(examples, settings.batch_size)
    rates = index.set_index("path")["sr"]
    sr = float(rates.loc[examples["recording"].unique()].mode().iloc[0])
    cache: dict[tuple, ExampleAudio] = {}

    def audio_of(table, *, window, jitter_s):  # replicates share the audio they read
        key = (window, jitter_s)
        if key not in cache:
            cache[key] = ExampleAudio(
                table,
                lambda rec: Recording(project.recording_path(rec)),
                sr=sr,
                window=window,
                jitter_s=jitter_s,
            )
        return cache[key]

    record = {
        "labels": list(labels),
        "kinds": list(kinds),
        "sources": list(sources or []),
        "recordings": list(recordings or []),
        "background": background,
        "ignore_labels": list(ignore_labels),
        "absorbed_labels": absorbed,
        "validate_percent": 0.0 if held else validate_percent,
        "validate_recordings": list(validate_recordings),
        # what was held out: whole recordings ([] when events were), and never touched
        "validation_recordings": list(held),
        "test_recordings": list(tests),
        "warnings": list(warnings),
        "equalize": equalize,
        "n_examples": examples["split"].value_counts().to_dict(),
    }
    staging = staging_folder(folder.parent, name)
    with project.run("train", {"name": name, **record, "network": network.model_dump()}):
        try:
            rows, models = [], []
            for r in range(replicates):
                seed = settings.random_state + r
                target = staging if replicates == 1 else staging / "replicates" / f"r{r + 1}"
                model = train_network(
                    examples,
                    audio_of,
                    config=network,
                    sr=sr,
                    labels=list(labels),
                    folder=target,
                    settings=replace(settings, random_state=seed),
                    background=background,
                    training_record={**record, "replicate": r + 1},
                    progress=None if progress is None else (lambda s, n, r=r: progress(r, s, n)),
                )
                curve = model.learning_curve()
                f1 = curve.set_index("step").get("macro_f1", pd.Series(dtype=float))
                rows.append(
                    {
                        "replicate": r + 1,
                        "seed": seed,
                        "best_step": model.best_step,
                        "macro_f1": float(f1.get(model.best_step, np.nan)),
                        "seconds": model.training["seconds"],
                    }
                )
                models.append(model)
            table = pd.DataFrame(rows)
            if replicates > 1:
                best = int(table["macro_f1"].fillna(-1).to_numpy().argmax())
                for item in models[best].folder.iterdir():
                    copy = shutil.copytree if item.is_dir() else shutil.copyfile
                    copy(item, staging / item.name)
                table.to_csv(staging / "replicates.csv", index=False)
            replace_folder(staging, folder)
        finally:
            if staging.exists():
                shutil.rmtree(staging)
        return TrainOutcome(SavedModel.load(folder), examples, table, tuple(warnings))


# -- classify ----------------------------------------------------------------------------------


def classify(
    project: Project,
    name: str,
    *,
    recordings: Sequence[str] | None = None,
    prevalence: Mapping[str, float] | None = None,
    block_frames: int = 1024,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Path]:
    """Per-label probabilities for each recording, as cached ``(frames, labels)`` ``.npy``
    artifacts; frame ``j`` is at ``j * model.step_s`` seconds."""
    from sonotype.models.inference import adjust_prevalence, classify_to_file

    model = load_model(project, name)
    weights = model.weights_hash()
    hashes = dict(project.db.execute("SELECT path, content_hash FROM recordings").fetchall())
    network = None
    paths = {}
    for recording in select_recordings(project, recordings):
        params = {"prevalence": dict(prevalence or {}), "channel": 0}
        inputs = {"recording": hashes[recording], "weights": weights}
        cached = project.artifacts.path(artifact_key("probabilities", inputs=inputs, params=params))
        if cached is None:
            if network is None:
                from sonotype.models.training import pick_device

                network = model.network().to(pick_device())

            def write(tmp: Path, recording=recording, network=network) -> None:
                audio = Recording(project.recording_path(recording))
                classify_to_file(
                    network,
                    audio,
                    tmp,
                    sr=model.sr,
                    n_labels=len(model.labels),
                    block_frames=block_frames,
                )
                if prevalence:  # in chunks: the array may not fit in memory
                    p = np.load(tmp, mmap_mode="r+")
                    for i in range(0, len(p), PREVALENCE_CHUNK):
                        p[i : i + PREVALENCE_CHUNK] = adjust_prevalence(
                            np.asarray(p[i : i + PREVALENCE_CHUNK]),
                            labels=model.labels,
                            train_prevalence=model.train_prevalence,
                            prevalence=dict(prevalence),
                            loss=model.config.loss,
                        )
                    p.flush()

            with project.run("classify", {"name": name, "recording": recording, **params}):
                cached = project.artifacts.put_file(
                    "probabilities", inputs=inputs, params=params, suffix=".npy", write=write
                )
        paths[recording] = cached
        if progress is not None:
            progress(recording)
    return paths


# -- accuracy ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccuracyOutcome:
    result: object  # sonotype.models.accuracy.AccuracyResult
    checkpoints: pd.DataFrame  # step, macro_f1 (and objective, f1, ser when post-processed)
    best_step: int
    mistakes: pd.DataFrame
    report: Path
    postprocessing: object | None = None  # sonotype.models.postprocess.PostProcessing
    notes: tuple[str, ...] = ()  # what the user should know about these numbers


def accuracy(
    project: Project,
    name: str,
    *,
    pr_ratios: Sequence[float] = (1.0,),
    tolerance_ms: float = 10.0,
    point_tolerance_ms: float = 5.0,
    min_separation_ms: float = 10.0,
    progress: Callable[[int, int], None] | None = None,
) -> AccuracyOutcome:
    """Score model ``name``: learn its post-processing, pick its best checkpoint, report.

    For a model trained on dense annotations (with a background label), every checkpoint
    classifies the validation recordings whole, gets its own post-processing (thresholds,
    minimum gap and duration, majority vote; :mod:`sonotype.models.postprocess`, one round of
    the search) and is scored with the ethogram's metrics (F1 - SER for intervals, point F1);
    the best becomes the model's weights, and its post-processing, searched fully, is saved
    as ``postprocess.json`` in the model, used by :func:`ethogram`. Without whole validation
    recordings (validation windows only), the recordings that hold validation windows are
    used, and the result is optimistic: they were partly trained on. Test recordings, when
    training named some, are scored with the chosen settings and reported apart: they are
    never used for any choice. For sparse annotations (no background), checkpoints are
    ranked by window macro F1 and no post-processing is learned.

    For the model's weights it then writes the confusion matrix, precision-recall curves,
    thresholds per precision/recall ratio (``thresholds.csv`` in the model), mistakes and an
    HTML page in ``reports/models/NAME/``.
    """
    import torch

    from sonotype.models.accuracy import mistakes_table, validation_accuracy
    from sonotype.models.windows import ExampleAudio
    from sonotype.report.model import write_model_report

    model = load_model(project, name)
    windows = model.validation_windows()
    if windows.empty:
        raise ParameterError(
            f"model {name!r} was trained without validation examples; retrain it with "
            "--validate-percent or --validate-recordings"
        )
    points = windows.assign(start_s=windows["time_s"], stop_s=windows["time_s"])
    audio = ExampleAudio(
        points,
        lambda rec: Recording(project.recording_path(rec)),
        sr=model.sr,
        window=model.receptive_field,
    )
    x = torch.from_numpy(audio.windows(np.arange(len(points)), points["time_s"].to_numpy()))
    truth = windows["label"].to_numpy(str)

    def probabilities_of(checkpoint: int | None) -> np.ndarray:
        network = model.network(checkpoint)
        with torch.no_grad():
            return np.concatenate(
                [
                    network.probabilities(x[i : i + 256, None, :])[:, :, 0].numpy()
                    for i in range(0, len(x), 256)
                ]
            )

    learner = _PostProcessLearner.of(
        project,
        model,
        tolerance_s=tolerance_ms / 1000,
        point_tolerance_s=point_tolerance_ms / 1000,
        min_separation_s=min_separation_ms / 1000,
    )
    steps = model.checkpoints()
    scores = []
    for i, step in enumerate(steps):
        result = validation_accuracy(
            truth, probabilities_of(step), model.labels, loss=model.config.loss
        )
        row = {"step": step, "macro_f1": result.macro_f1}
        if learner is not None:
            row.update(learner.checkpoint_scores(step))
        scores.append(row)
        if progress is not None:
            progress(i + 1, len(steps))
    checkpoints = pd.DataFrame(scores)
    if checkpoints.empty:
        checkpoints = pd.DataFrame(columns=["step", "macro_f1"])
    notes = list(learner.notes) if learner is not None else []
    ranked_by = "objective" if learner is not None else "macro_f1"
    if len(checkpoints) > 1:
        values = checkpoints[ranked_by].to_numpy(dtype=float)
        if np.all(values == values[0]) or np.all(np.isnan(values)):
            notes.append(
                f"every checkpoint scores the same on validation ({ranked_by} "
                f"{values[0]:.3f}): validation cannot rank them; more varied validation "
                "recordings (or annotations) would"
            )
        elif learner is not None:
            best = _best_checkpoint(checkpoints, model.best_step)
            if best != model.best_step:
                shutil.copyfile(model.weights_path(best), model.weights_path())
                notes.append(
                    f"best checkpoint: step {best} by the post-processed validation objective "
                    f"(window macro F1 chose step {model.best_step})"
                )
                model.best_step = best
                model.training["best_step_by"] = "post-processed validation objective"
                model.save()
    postprocessing = None
    if learner is not None:
        postprocessing = learner.learn_final(project, name)
        postprocessing.save(model.folder)
    probabilities = probabilities_of(None)
    result = validation_accuracy(
        truth, probabilities, model.labels, loss=model.config.loss, pr_ratios=tuple(pr_ratios)
    )
    mistakes = mistakes_table(windows, probabilities, model.labels, loss=model.config.loss)
    folder = project.reports_dir / "models" / name
    with project.run("accuracy", {"name": name, "pr_ratios": list(pr_ratios)}):
        result.to_csv(folder)
        shutil.copyfile(folder / "thresholds.csv", model.folder / "thresholds.csv")
        report = write_model_report(
            folder,
            name=name,
            result=result,
            curve=model.learning_curve(),
            checkpoints=checkpoints,
            mistakes=mistakes,
            best_step=model.best_step,
            postprocessing=postprocessing,
            intervals=None if learner is None else learner.intervals_table,
            notes=notes,
        )
    return AccuracyOutcome(
        result, checkpoints, model.best_step, mistakes, report, postprocessing, tuple(notes)
    )


def _best_checkpoint(checkpoints: pd.DataFrame, current: int | None) -> int:
    """The highest objective; among equals the current best step, else the higher window F1,
    else the later step."""
    table = checkpoints.assign(
        current=checkpoints["step"] == current,
        objective=checkpoints["objective"].fillna(-np.inf),
        macro_f1=checkpoints["macro_f1"].fillna(-np.inf),
    )
    ordered = table.sort_values(["objective", "current", "macro_f1", "step"], kind="stable")
    return int(ordered["step"].iloc[-1])


@dataclass
class _PostProcessLearner:
    """What learning a model's post-processing needs: the validation recordings and their
    truth, the bounds from the training annotations, the settings of the search."""

    model: SavedModel
    recordings: list[str]
    test_recordings: list[str]
    truth: pd.DataFrame
    bounds: pd.DataFrame
    intervals_table: pd.DataFrame
    durations_s: dict[str, float]
    audio: dict[str, Recording]
    optimistic: bool
    settings: dict
    notes: list[str]

    @classmethod
    def of(
        cls,
        project: Project,
        model: SavedModel,
        *,
        tolerance_s: float,
        point_tolerance_s: float,
        min_separation_s: float,
    ) -> _PostProcessLearner | None:
        from sonotype.models.postprocess import annotation_bounds, annotation_intervals

        training = model.training
        background = training.get("background")
        if not background:
            return None  # sparse annotations: unannotated time is unknown, not background
        indexed = set(project.recordings()["path"])
        # Whole recordings held out ("validate_recordings": the older name of the same list).
        held_out = training.get("validation_recordings") or training.get("validate_recordings")
        validation = [r for r in held_out or [] if r in indexed]
        test = [r for r in training.get("test_recordings", []) if r in indexed]
        notes = []
        optimistic = not validation
        if optimistic:
            validation = sorted(set(model.validation_windows()["recording"]))
            notes.append(
                "post-processing was chosen on the recordings holding the validation windows, "
                "which were partly trained on: its validation scores are optimistic; hold out "
                "whole recordings (--validate-recordings) for honest ones"
            )
        kinds = training.get("kinds") or ["annotated"]
        sources = training.get("sources") or None
        outputs = [label for label in model.labels if label != background]
        intervals = [label for label in outputs if label not in model.point_labels]
        events = project.events(kinds=kinds, sources=sources)
        events = events[events["label"].isin(outputs)]
        patterns = training.get("recordings") or None
        trained = set(select_recordings(project, patterns)) - set(test)
        if not optimistic:  # whole recordings held out: the others were trained on
            trained -= set(validation)
        used = events[events["recording"].isin(trained)]
        durations = dict(project.db.execute("SELECT path, duration_s FROM recordings").fetchall())
        return cls(
            model=model,
            recordings=validation,
            test_recordings=test,
            truth=events[events["recording"].isin(validation)],
            bounds=annotation_bounds(used, labels=intervals),
            intervals_table=annotation_intervals(used, labels=intervals),
            durations_s={r: float(durations[r]) for r in validation + test},
            audio={r: Recording(project.recording_path(r)) for r in validation},
            optimistic=optimistic,
            settings={
                "tolerance_s": tolerance_s,
                "point_tolerance_s": point_tolerance_s,
                "min_separation_s": min_separation_s,
            },
            notes=notes,
        )

    def _classify(self, checkpoint: int | None) -> dict[str, np.ndarray]:
        from sonotype.models.inference import classify_recording, n_output_frames
        from sonotype.models.training import pick_device

        network = self.model.network(checkpoint).to(pick_device())
        out = {}
        for recording, audio in self.audio.items():
            frames = n_output_frames(audio, sr=self.model.sr, output_step=self.model.output_step)
            array = np.empty((frames, len(self.model.labels)), dtype=np.float32)
            out[recording] = classify_recording(network, audio, array, sr=self.model.sr)
        return out

    def _learn(self, probabilities: dict[str, np.ndarray], *, rounds: int):
        from sonotype.models.postprocess import learn_postprocessing

        return learn_postprocessing(
            probabilities,
            self.truth,
            labels=self.model.labels,
            step_s=self.model.step_s,
            bounds=self.bounds,
            point_labels=self.model.point_labels,
            background=self.model.training.get("background"),
            exclusive=self.model.config.loss == "exclusive",
            durations_s=self.durations_s,
            rounds=rounds,
            **self.settings,
        )

    def checkpoint_scores(self, step: int) -> dict:
        """The validation scores of a checkpoint after its own post-processing (one round)."""
        if self.truth.empty:
            return {"objective": np.nan, "f1": np.nan, "ser": np.nan}
        scores = self._learn(self._classify(step), rounds=1).validation["scores"]
        return {k: scores.get(k, np.nan) for k in ("objective", "f1", "ser", "point_f1")}

    def learn_final(self, project: Project, name: str):
        """The post-processing of the model's weights (full search), scored on the test
        recordings too when there are any."""
        from dataclasses import asdict

        from sonotype.models.postprocess import PostProcessing, predict, score_postprocessing

        if self.truth.empty:
            raise ParameterError(
                f"the validation recordings of model {name!r} ({', '.join(self.recordings)}) "
                "hold no annotated event of its labels; hold out recordings with annotations"
            )
        probabilities = {
            r: np.load(path)
            for r, path in classify(project, name, recordings=self.recordings).items()
        }
        chosen = self._learn(probabilities, rounds=3)
        validation = {
            "recordings": self.recordings,
            "optimistic": self.optimistic,
            "scores": chosen.validation["scores"],
        }
        test = {}
        if self.test_recordings:
            paths = classify(project, name, recordings=self.test_recordings)
            predicted = predict(
                {r: np.load(p) for r, p in paths.items()},
                chosen,
                labels=self.model.labels,
                step_s=self.model.step_s,
                point_labels=self.model.point_labels,
                exclusive=self.model.config.loss == "exclusive",
                durations_s=self.durations_s,
            )
            background = self.model.training.get("background")
            outputs = [x for x in self.model.labels if x != background]
            truth = project.events(
                kinds=self.model.training.get("kinds") or ["annotated"],
                sources=self.model.training.get("sources") or None,
                recordings=self.test_recordings,
            )
            test = {
                "recordings": self.test_recordings,
                "scores": score_postprocessing(
                    truth[truth["label"].isin(outputs)],
                    predicted,
                    interval_labels=[x for x in outputs if x not in self.model.point_labels],
                    point_labels=[x for x in self.model.point_labels if x != background],
                    tolerance_s=chosen.tolerance_s,
                    point_tolerance_s=chosen.point_tolerance_s,
                ),
            }
        return PostProcessing(**{**asdict(chosen), "validation": validation, "test": test})


# -- ethogram ----------------------------------------------------------------------------------


def model_thresholds(
    model: SavedModel, *, pr_ratio: float = 1.0, thresholds_file: Path | None = None
) -> tuple[dict[str, float], str]:
    """Per-label thresholds and where they came from: a file, the model's
    ``thresholds.csv`` at ``pr_ratio`` (written by accuracy), or 0.5 when it has none."""
    from sonotype.models.accuracy import read_thresholds, thresholds_at

    path = thresholds_file or model.folder / "thresholds.csv"
    if thresholds_file is None and not path.is_file():
        return {label: DEFAULT_THRESHOLD for label in model.labels}, (
            f"{DEFAULT_THRESHOLD} for every label (run `sonotype accuracy` for calibrated ones)"
        )
    values = thresholds_at(read_thresholds(path), pr_ratio)
    return {k: v for k, v in values.items() if np.isfinite(v)}, f"{path} at ratio {pr_ratio:g}"


def ethogram_settings(
    model: SavedModel,
    *,
    pr_ratio: float | None = None,
    thresholds_file: Path | None = None,
    min_duration_ms: float | None = None,
    min_gap_ms: float | None = None,
    min_separation_ms: float | None = None,
    majority_vote: bool | None = None,
) -> tuple[dict, list[str]]:
    """The ethogram's settings for ``model`` and where each came from.

    Options given (not None) win; then the post-processing learned by ``accuracy``
    (``postprocess.json`` in the model); then the thresholds of ``thresholds.csv`` (or 0.5),
    no gap closing, no minimum duration, no vote and 10 ms between points. The background
    label never gets a threshold, so it is never predicted.

    Returns
    -------
    settings : dict
        Keyword arguments of :func:`sonotype.models.ethogram.ethogram`.
    origins : list of str
        One line per setting: its values and where they came from.
    """
    from sonotype.models.postprocess import POSTPROCESS_FILE, PostProcessing

    learned = PostProcessing.load(model.folder)
    where = f"learned by `sonotype accuracy`, {model.folder / POSTPROCESS_FILE}"
    if learned is not None and learned.validation.get("optimistic"):
        where += ", on recordings partly trained on"
    origins = []
    if pr_ratio is not None or thresholds_file is not None or learned is None:
        thresholds, origin = model_thresholds(
            model, pr_ratio=1.0 if pr_ratio is None else pr_ratio, thresholds_file=thresholds_file
        )
    else:
        thresholds, origin = dict(learned.thresholds), where
    background = model.training.get("background")
    thresholds = {k: v for k, v in thresholds.items() if k != background}
    origins.append(f"thresholds: {_values(thresholds)} ({origin})")
    vote = majority_vote
    vote_origin = "--majority-vote" if majority_vote is not None else where
    if vote is None:
        vote, vote_origin = (learned.majority_vote, where) if learned else (False, "default")
    settings = learned.ethogram_settings() if learned is not None else {}
    for key, given, option in (
        ("min_gap_s", min_gap_ms, "--min-gap-ms"),
        ("min_duration_s", min_duration_ms, "--min-duration-ms"),
    ):
        if given is not None:
            value, origin = given / 1000, option
        elif learned is not None:
            value, origin = settings[key], where
            if vote and isinstance(value, dict):  # one value for every label when voting
                value = min(value.values(), default=0.0)
        else:
            value, origin = 0.0, "default"
        settings[key] = value
        shown = (
            _values({k: 1000 * v for k, v in value.items()}, " ms")
            if isinstance(value, dict)
            else f"{1000 * value:.3g} ms"
        )
        origins.append(f"{key.removesuffix('_s').replace('_', ' ')}: {shown} ({origin})")
    settings["majority_vote"] = bool(vote)
    origins.append(f"majority vote: {'yes' if vote else 'no'} ({vote_origin})")
    if min_separation_ms is not None:
        settings["min_separation_s"] = min_separation_ms / 1000
    elif learned is None:
        settings["min_separation_s"] = 0.01
    settings["thresholds"] = thresholds
    return settings, origins


def _values(mapping: Mapping[str, float], unit: str = "") -> str:
    return ", ".join(f"{k} {v:.3g}{unit}" for k, v in mapping.items()) or "none"


def ethogram(
    project: Project,
    name: str,
    *,
    recordings: Sequence[str] | None = None,
    pr_ratio: float | None = None,
    thresholds_file: Path | None = None,
    labels: Sequence[str] | None = None,
    min_duration_ms: float | None = None,
    min_gap_ms: float | None = None,
    min_separation_ms: float | None = None,
    majority_vote: bool | None = None,
    progress: Callable[[str], None] | None = None,
):
    """Threshold the probabilities into ``predicted`` events (source: the model's name) and
    store them, replacing this model's earlier predictions for these recordings.

    Settings left at None come from the model's learned post-processing, if any (see
    :func:`ethogram_settings`). The background label is never stored.

    Returns ``(events, edit, origins)``: ``origins`` says, one line per setting, which
    values were used and where they came from.
    """
    from sonotype.annotations.events import concat_events
    from sonotype.models.ethogram import ethogram as threshold_probabilities

    model = load_model(project, name)
    settings, origins = ethogram_settings(
        model,
        pr_ratio=pr_ratio,
        thresholds_file=thresholds_file,
        min_duration_ms=min_duration_ms,
        min_gap_ms=min_gap_ms,
        min_separation_ms=min_separation_ms,
        majority_vote=majority_vote,
    )
    if labels:
        unknown = sorted(set(labels) - set(model.labels))
        if unknown:
            raise ParameterError(
                f"label(s) {', '.join(unknown)} are not outputs of model {name!r} "
                f"({', '.join(model.labels)})"
            )
        settings["thresholds"] = {k: v for k, v in settings["thresholds"].items() if k in labels}
    chosen = select_recordings(project, recordings)
    durations = dict(project.db.execute("SELECT path, duration_s FROM recordings").fetchall())
    tables = []
    for recording, path in classify(project, name, recordings=chosen).items():
        tables.append(
            threshold_probabilities(
                np.load(path, mmap_mode="r"),
                labels=model.labels,
                step_s=model.step_s,
                recording=recording,
                duration_s=durations[recording],
                point_labels=model.point_labels,
                source=name,
                exclusive=model.config.loss == "exclusive",
                **settings,
            )
        )
        if progress is not None:
            progress(recording)
    events = concat_events(tables)
    config = {"name": name, "settings": settings, "origins": origins}
    with project.run("ethogram", config):
        edit = project.add_events(
            events,
            command="ethogram",
            description=f"{len(events)} events predicted by {name} in {len(chosen)} recordings",
            replace={"kinds": ["predicted"], "sources": [name], "recordings": chosen},
        )
    return events, edit, origins


# -- misses ------------------------------------------------------------------------------------


def find_misses(
    project: Project,
    *,
    detected_sources: Sequence[str] | None = None,
    predicted_sources: Sequence[str] | None = None,
    recordings: Sequence[str] | None = None,
    tolerance_ms: float = 0.0,
):
    """Detected events that no predicted event covers, stored as kind ``missed`` (replacing
    earlier misses in these recordings). Returns ``(events, edit)``."""
    from sonotype.evaluate import misses

    chosen = select_recordings(project, recordings)
    detected = project.events(kinds=["detected"], sources=detected_sources, recordings=chosen)
    if detected.empty:
        raise ParameterError("no detected events; run `sonotype detect` first")
    predicted = project.events(kinds=["predicted"], sources=predicted_sources, recordings=chosen)
    if predicted.empty:
        raise ParameterError("no predicted events; run `sonotype ethogram MODEL` first")
    missed = misses(detected, predicted, tolerance_s=tolerance_ms / 1000)
    with project.run("misses", {"recordings": chosen, "tolerance_ms": tolerance_ms}):
        edit = project.add_events(
            missed,
            command="misses",
            description=f"{len(missed)} detected events no prediction covers",
            replace={"kinds": ["missed"], "recordings": chosen},
        )
    return missed, edit
