"""``accuracy`` as a stage: a model scored on its validation data, its post-processing
learned and its best checkpoint chosen, keyed by the checkpoints' weights, the validation
selection (windows, events, recordings) and the settings. The stage's effects (the model's
weights, ``thresholds.csv`` and ``postprocess.json``, the report) are checked on a re-run:
with nothing changed and the effects in place, nothing is computed."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from pydantic import Field

from sonotype.audio import Recording
from sonotype.errors import ParameterError
from sonotype.models.saved import SavedModel
from sonotype.pipeline.classify import Weights, probabilities_batch
from sonotype.pipeline.codecs import Codec, JsonCodec
from sonotype.pipeline.model_store import (
    digest,
    events_hash,
    file_hash,
    load_model,
    record_table,
    recording_table,
    select_recordings,
    table_record,
)
from sonotype.pipeline.stage import Pipeline, Result, Stage, StageParams
from sonotype.store import Project


class AccuracyParams(StageParams):
    """How ``accuracy`` scores: the precision/recall ratios of its thresholds and the
    tolerances of its matching (ms)."""

    pr_ratios: list[float] = Field(default_factory=lambda: [1.0])
    tolerance_ms: float = 10.0
    point_tolerance_ms: float = 5.0
    min_separation_ms: float = 10.0


@dataclass(frozen=True)
class AccuracyOutcome:
    """What :func:`accuracy` found.

    Attributes
    ----------
    per_label : DataFrame
        Precision, recall, F1 and support per label on the validation windows (the model's
        final weights).
    macro_f1 : float
        Their mean F1 over labels with support.
    checkpoints : DataFrame
        ``step``, ``macro_f1`` (and ``objective``, ``f1``, ``ser`` when post-processed).
    best_step : int
        The checkpoint that became the model's weights.
    mistakes : DataFrame
        The misclassified validation windows.
    report : Path
        The HTML page (its folder holds the tables as CSV).
    postprocessing : PostProcessing or None
        The learned ethogram settings (dense annotations only).
    notes : tuple of str
        What the user should know about these numbers.
    up_to_date : bool
        True when nothing changed since the last ``accuracy``: nothing was computed now.
    """

    per_label: pd.DataFrame
    macro_f1: float
    checkpoints: pd.DataFrame
    best_step: int | None
    mistakes: pd.DataFrame
    report: Path
    postprocessing: Any = None  # sonotype.models.postprocess.PostProcessing
    notes: tuple[str, ...] = ()
    up_to_date: bool = False
    run_id: int | None = None


class AccuracyStage(Stage[AccuracyParams, dict]):
    """Score, choose the checkpoint, learn the post-processing, write the report; the
    artifact is the receipt of these effects (and the numbers shown)."""

    name: ClassVar[str] = "accuracy"
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[StageParams]] = AccuracyParams
    codec: ClassVar[Codec] = JsonCodec()

    def __init__(
        self,
        pipe: Pipeline,
        model_name: str,
        *,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.pipe, self.model_name, self.progress = pipe, model_name, progress

    def is_current(self, value: dict) -> bool:
        project = self.pipe.project
        model = load_model(project, self.model_name)
        needed = [project.folder / value["report"], model.folder / "thresholds.csv"]
        if value["postprocessing"]:
            needed.append(model.folder / "postprocess.json")
        return all(p.is_file() for p in needed) and (
            file_hash(model.weights_path()) == value["weights"]
        )

    def compute(self, params: AccuracyParams, **inputs: Any) -> dict:
        project, name = self.pipe.project, self.model_name
        model = load_model(project, name)
        outcome = _score(self.pipe, model, params, progress=self.progress)
        return {
            "report": outcome.report.relative_to(project.folder).as_posix(),
            "weights": file_hash(model.weights_path()),
            "postprocessing": outcome.postprocessing is not None,
            "per_label": table_record(outcome.per_label),
            "macro_f1": outcome.macro_f1,
            "checkpoints": table_record(outcome.checkpoints),
            "best_step": outcome.best_step,
            "notes": list(outcome.notes),
        }


def accuracy_inputs(project: Project, model: SavedModel) -> dict[str, Result]:
    """The inputs that decide ``accuracy``'s results, known by their content: the
    checkpoints' weights, the model's description, the validation windows, the annotations
    of its labels and the recordings they are in."""
    windows = model.validation_windows()
    training = {k: v for k, v in model.training.items() if k != "best_step_by"}
    described = {"labels": model.labels, "points": model.point_labels, "training": training,
                 "config": model.config.model_dump(mode="json")}  # fmt: skip
    checkpoints = {str(s): file_hash(model.weights_path(s)) for s in model.checkpoints()}
    events = project.events(
        kinds=training.get("kinds") or ["annotated"], sources=training.get("sources") or None
    )
    events = events[events["label"].isin(model.labels)]
    indexed = set(project.recordings()["path"])
    names = set(windows["recording"]) | set(events["recording"])
    names |= set(training.get("validation_recordings") or [])
    names |= set(training.get("test_recordings") or [])
    hashes = recording_table(project, sorted(names & indexed))["content_hash"].astype(str)
    values = {
        "checkpoints": checkpoints,
        "model": described,
        "windows": file_hash(model.folder / "validation.csv"),
        "truth": events_hash(events),
        "recordings": hashes.to_dict(),
    }
    return {n: Result.of(v, key=v if isinstance(v, str) else digest(v)) for n, v in values.items()}


def accuracy(
    project: Project,
    name: str,
    *,
    pr_ratios: Sequence[float] = (1.0,),
    tolerance_ms: float = 10.0,
    point_tolerance_ms: float = 5.0,
    min_separation_ms: float = 10.0,
    workers: int | None = None,
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

    Recordings are classified through the project's executor (locally in this process
    unless ``workers`` asks for a pool), each checkpoint's probabilities cached like
    :func:`classify`'s. Run again with nothing changed (checkpoints, validation data,
    settings) and the report and model files in place, it computes nothing and the outcome
    says ``up_to_date``.
    """
    from sonotype.pipeline.executors import open_executor

    model = load_model(project, name)
    if model.validation_windows().empty:
        raise ParameterError(
            f"model {name!r} was trained without validation examples; retrain it with "
            "--validate-percent or --validate-recordings"
        )
    params = AccuracyParams(
        pr_ratios=[float(r) for r in pr_ratios],
        tolerance_ms=tolerance_ms,
        point_tolerance_ms=point_tolerance_ms,
        min_separation_ms=min_separation_ms,
    )
    inputs = accuracy_inputs(project, model)
    with (
        project.run("accuracy", {"name": name, **params.identity()}) as run,
        # A local pool would fork this process, which holds torch's threads (and can hang
        # in the children): recordings are classified here unless a pool size is given.
        open_executor(getattr(project.config, "compute", None), workers=workers or 1) as executor,
    ):
        pipe = Pipeline(project, run_id=run.id, executor=executor)
        receipt = pipe.stage(AccuracyStage(pipe, name, progress=progress), params, **inputs).value
        done = project.run_steps(run.id, status="computed")
        computed = any(step["stage"] == AccuracyStage.name for step in done)
    from sonotype.models.postprocess import PostProcessing

    model = load_model(project, name)
    report = project.folder / receipt["report"]
    return AccuracyOutcome(
        per_label=record_table(receipt["per_label"]),
        macro_f1=receipt["macro_f1"],
        checkpoints=record_table(receipt["checkpoints"]),
        best_step=receipt["best_step"],
        mistakes=pd.read_csv(report.parent / "mistakes.csv"),
        report=report,
        postprocessing=PostProcessing.load(model.folder) if receipt["postprocessing"] else None,
        notes=tuple(receipt["notes"]),
        up_to_date=not computed,
        run_id=run.id,
    )


def _score(
    pipe: Pipeline,
    model: SavedModel,
    params: AccuracyParams,
    *,
    progress: Callable[[int, int], None] | None,
) -> AccuracyOutcome:
    """What :class:`AccuracyStage` computes, with its effects on the model and the report."""
    from sonotype.models.accuracy import mistakes_table, validation_accuracy
    from sonotype.models.inference import predict_windows
    from sonotype.models.training import pick_device
    from sonotype.models.windows import ExampleAudio, network_input
    from sonotype.report.model import write_model_report

    project, name = pipe.project, model.folder.name
    windows = model.validation_windows()
    points = windows.assign(start_s=windows["time_s"], stop_s=windows["time_s"])
    audio = ExampleAudio(
        points,
        lambda rec: Recording(project.recording_path(rec)),
        sr=model.sr,
        window=model.receptive_field,
        channels=model.config.input_channels,
    )
    x = network_input(audio.windows(np.arange(len(points)), points["time_s"].to_numpy()))
    truth = windows["label"].to_numpy(str)
    device = pick_device()

    def probabilities_of(checkpoint: int | None) -> np.ndarray:
        return predict_windows(model.network(checkpoint).to(device), x).numpy()

    learner = _PostProcessLearner.of(
        pipe,
        model,
        tolerance_s=params.tolerance_ms / 1000,
        point_tolerance_s=params.point_tolerance_ms / 1000,
        min_separation_s=params.min_separation_ms / 1000,
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
        postprocessing = learner.learn_final()
        postprocessing.save(model.folder)
    probabilities = probabilities_of(None)
    result = validation_accuracy(
        truth, probabilities, model.labels, loss=model.config.loss,
        pr_ratios=tuple(params.pr_ratios),
    )  # fmt: skip
    mistakes = mistakes_table(windows, probabilities, model.labels, loss=model.config.loss)
    folder = project.reports_dir / "models" / name
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
        result.per_label, result.macro_f1, checkpoints, model.best_step, mistakes, report,
        postprocessing, tuple(notes),
    )  # fmt: skip


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

    pipe: Pipeline
    model: SavedModel
    recordings: list[str]
    test_recordings: list[str]
    truth: pd.DataFrame
    bounds: pd.DataFrame
    intervals_table: pd.DataFrame
    durations_s: dict[str, float]
    optimistic: bool
    settings: dict
    notes: list[str]

    @classmethod
    def of(
        cls,
        pipe: Pipeline,
        model: SavedModel,
        *,
        tolerance_s: float,
        point_tolerance_s: float,
        min_separation_s: float,
    ) -> _PostProcessLearner | None:
        from sonotype.models.postprocess import annotation_bounds, annotation_intervals

        project = pipe.project
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
        durations = recording_table(project, validation + test)["duration_s"].astype(float)
        return cls(
            pipe=pipe,
            model=model,
            recordings=validation,
            test_recordings=test,
            truth=events[events["recording"].isin(validation)],
            bounds=annotation_bounds(used, labels=intervals),
            intervals_table=annotation_intervals(used, labels=intervals),
            durations_s=durations.to_dict(),
            optimistic=optimistic,
            settings={
                "tolerance_s": tolerance_s,
                "point_tolerance_s": point_tolerance_s,
                "min_separation_s": min_separation_s,
            },
            notes=notes,
        )

    def _classify(
        self, checkpoint: int | None, recordings: list[str] | None = None
    ) -> dict[str, np.ndarray]:
        """Probabilities of the recordings (default: validation) by a checkpoint's weights
        (default: the model's), through the classify stage: cached, and shared with
        ``classify`` and ``ethogram`` when they are the model's final weights."""
        recordings = self.recordings if recordings is None else recordings
        batch = probabilities_batch(self.pipe, Weights.of(self.model, checkpoint), recordings)
        if batch.failures:
            listed = "; ".join(f"{r}: {why}" for r, why in batch.failures.items())
            raise ParameterError(
                f"model {self.model.folder.name!r} cannot be scored: recording(s) it is scored "
                f"on could not be classified ({listed}); fix them or retrain without them"
            )
        return {r: np.asarray(v) for r, v in batch.values()}

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

    def learn_final(self):
        """The post-processing of the model's weights (full search), scored on the test
        recordings too when there are any."""
        from dataclasses import asdict

        from sonotype.models.postprocess import PostProcessing, predict, score_postprocessing

        project, name = self.pipe.project, self.model.folder.name
        if self.truth.empty:
            raise ParameterError(
                f"the validation recordings of model {name!r} ({', '.join(self.recordings)}) "
                "hold no annotated event of its labels; hold out recordings with annotations"
            )
        chosen = self._learn(self._classify(None), rounds=3)
        validation = {
            "recordings": self.recordings,
            "optimistic": self.optimistic,
            "scores": chosen.validation["scores"],
        }
        test = {}
        if self.test_recordings:
            predicted = predict(
                self._classify(None, self.test_recordings),
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
