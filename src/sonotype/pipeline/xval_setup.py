"""What the review commands share: a trained model's setup turned into grouped examples, and
the fold tasks run through the executor.

The review commands (``xval``, ``generalize``, ``learncurve``, ``mistakes``) take the name of
a model trained with ``sonotype train`` and repeat its training (labels, kinds, sources,
recordings, background, network, steps, batch size, learning rate, equalize) on parts of its
ground truth, so that the numbers they give are those of that model's recipe. Its test
recordings stay out of every task.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from sonotype.errors import ParameterError, SonotypeError
from sonotype.models.folds import overlap_groups, split_background
from sonotype.models.saved import SavedModel
from sonotype.models.settings import TrainSettings
from sonotype.pipeline.executors import Executor
from sonotype.pipeline.model_store import (
    digest,
    load_model,
    recording_table,
    select_recordings,
    table_record,
)
from sonotype.pipeline.stage import Item, Pipeline, Result
from sonotype.pipeline.xval_stage import FOLD, FoldParams, FoldStage, FoldTask
from sonotype.store import Project

#: Where review commands write their reports, under the project.
REVIEW_DIR = ("reports", "review")


@dataclass
class ReviewSetup:
    """A model's recipe and its ground truth, ready to be folded.

    Attributes
    ----------
    name : str
        The model.
    model : SavedModel
    params : FoldParams
        What every task trains with.
    examples : DataFrame
        recording, channel, start_s, stop_s, label, point and ``group`` (examples whose
        context windows can share audio share a group).
    reach_s : float
        How close two examples come before they share a group: the context window plus
        twice the training jitter.
    audio : dict
        What tasks read audio from (see :func:`~sonotype.pipeline.xval_stage.train_and_test`).
    audio_key : str
        Hash of the recordings' content.
    """

    name: str
    model: SavedModel
    params: FoldParams
    examples: pd.DataFrame
    reach_s: float
    audio: dict
    audio_key: str


def review_setup(
    project: Project,
    name: str,
    *,
    validate_percent: float | None = None,
    steps: int | None = None,
) -> ReviewSetup:
    """The setup of model ``name`` (see the module); ``steps`` overrides its training steps.

    Raises
    ------
    ParameterError
        No such model, or no events left of its kinds.
    """
    from sonotype.models.groundtruth import select_examples

    model = load_model(project, name)
    record = model.training
    missing = [k for k in ("labels", "kinds") if k not in record]
    if missing:
        raise ParameterError(
            f"model {name!r} does not record how it was trained ({', '.join(missing)} "
            "missing); train it again with `sonotype train`"
        )
    settings = TrainSettings(
        **{k: record[k] for k in TrainSettings.model_fields if k in record and k != "device"}
    )
    if steps is not None:
        settings = settings.model_copy(update={"steps": steps, "validate_every": None})
    settings.check()
    tests = set(record.get("test_recordings") or [])
    chosen = [
        r for r in select_recordings(project, record.get("recordings") or None) if r not in tests
    ]
    events = project.events(
        kinds=list(record["kinds"]), sources=record.get("sources") or None, recordings=chosen
    )
    if events.empty:
        raise ParameterError(
            f"model {name!r} learnt from events of kind(s) {', '.join(record['kinds'])} that "
            "are no longer stored; import annotations with `sonotype import`"
        )
    index = recording_table(project, sorted(set(events["recording"])))
    background = record.get("background")
    examples = select_examples(
        events,
        labels=list(record["labels"]),
        loss=model.config.loss,
        durations_s=index["duration_s"].astype(float).to_dict(),
        background=background,
        absorb=list(record.get("absorbed_labels") or []),
    )
    reach_s = model.receptive_field / model.sr + 2 * model.config.shift_ms / 1000
    examples = split_background(examples, label=background, reach_s=reach_s)
    examples["group"] = overlap_groups(examples, reach_s=reach_s)
    names = sorted(set(examples["recording"]))
    index = recording_table(project, names)
    audio = {
        "scratch": str(project.folder / "artifacts" / "review" / "scratch"),
        "paths": {r: str(project.recording_path(r)) for r in names},
        "sr": index["sr"].astype(float).to_dict(),
    }
    params = FoldParams(
        labels=list(record["labels"]),
        network=model.config,
        settings=settings,
        background=background,
        equalize=bool(record.get("equalize", False)),
        validate_percent=validate_percent,
    )
    return ReviewSetup(
        name=name,
        model=model,
        params=params,
        examples=examples,
        reach_s=reach_s,
        audio=audio,
        audio_key=digest(index["content_hash"].astype(str).to_dict()),
    )


@dataclass
class TaskOutputs:
    """The tasks of one run, what each produced, and why any failed."""

    examples: pd.DataFrame
    tasks: list[FoldTask]
    outputs: dict[str, dict]
    failures: dict[str, str]
    run_id: int
    computed: int
    cached: int


def run_tasks(
    project: Project,
    setup: ReviewSetup,
    folds: Sequence[int],
    tasks: Sequence[FoldTask],
    *,
    command: str,
    config: dict[str, Any],
    executor: Executor | None = None,
    progress: Callable[[str], None] | None = None,
) -> TaskOutputs:
    """Run ``tasks`` (each a stage task, cached) on the examples with ``folds``.

    Raises
    ------
    SonotypeError
        When every task failed (with the first reason).
    """
    examples = setup.examples.assign(**{FOLD: list(folds)})
    key = digest(table_record(examples))
    items = [Item(t.name, digest(t.identity()), t.identity()) for t in tasks]
    with project.run(command, {"model": setup.name, **config}) as run:
        pipeline = Pipeline(project, run_id=run.id, executor=executor)
        batch = pipeline.map(
            FoldStage(),
            setup.params,
            items,
            progress=progress,
            examples=Result.of(examples, key=key),
            audio=Result.of(setup.audio, key=setup.audio_key),
        )
        outputs = dict(batch.values())
    if not outputs and batch.failures:
        task, reason = next(iter(batch.failures.items()))
        raise SonotypeError(f"every task of {command} failed; {task}: {reason}")
    return TaskOutputs(
        examples,
        list(tasks),
        outputs,
        dict(batch.failures),
        run.id,
        batch.computed,
        batch.cached,
    )
