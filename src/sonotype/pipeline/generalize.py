"""``generalize``: how well a model's recipe does on whole recordings it never heard.

SongExplorer's three ways to withhold recordings, over a chosen set of them (default: every
recording with examples): ``one`` trains one network per recording of the set with that
recording withheld (leave one out), ``some`` splits the set into ``k`` folds of whole
recordings (stratified by label) and withholds each fold in turn, ``all`` trains one network
with the whole set withheld. Recordings outside the set are always trained on. Each task's
validation comes from its training recordings, chosen as ``sonotype train`` does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from sonotype.errors import ParameterError
from sonotype.models.folds import assign_folds
from sonotype.pipeline.executors import Executor
from sonotype.pipeline.model_store import select_recordings
from sonotype.pipeline.xval_results import ReviewResult, collect, review_folder, write_results
from sonotype.pipeline.xval_setup import ReviewSetup, review_setup, run_tasks
from sonotype.pipeline.xval_stage import FoldTask
from sonotype.store import Project

OMIT = ("one", "some", "all")
#: Fold of the recordings outside the chosen set: always trained on.
ALWAYS_TRAIN = -1


def recording_folds(
    setup: ReviewSetup,
    *,
    omit: str,
    recordings: Sequence[str],
    k: int | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Fold of each example: its recording's place in the set (``one``), its recording's
    fold (``some``), 0 (``all``), or :data:`ALWAYS_TRAIN` outside the set."""
    examples = setup.examples
    chosen = examples["recording"].isin(list(recordings)).to_numpy()
    folds = np.full(len(examples), ALWAYS_TRAIN)
    if omit == "one":
        order = {name: i for i, name in enumerate(recordings)}
        folds[chosen] = examples.loc[chosen, "recording"].map(order).to_numpy()
    elif omit == "all":
        folds[chosen] = 0
    else:
        if k is None:
            raise ParameterError("--omit some needs --k, the number of folds", parameter="k")
        part = examples[chosen]
        codes = part["recording"].astype("category").cat.codes.to_numpy()
        folds[chosen] = assign_folds(
            part["label"].to_numpy(str), codes, n_folds=k, random_state=seed, option="--k"
        )
    return folds


def generalize_tasks(
    setup: ReviewSetup,
    folds: np.ndarray,
    *,
    omit: str,
    recordings: Sequence[str],
    replicates: int = 1,
    seed: int = 0,
) -> list[FoldTask]:
    """One task per withheld fold and replicate; each checked to keep every label."""
    if replicates < 1:
        raise ParameterError(
            f"--replicates {replicates} must be at least 1", parameter="replicates"
        )
    examples = setup.examples
    held = sorted(set(folds) - {ALWAYS_TRAIN})
    tasks = []
    for r in range(1, replicates + 1):
        for fold in held:
            names = sorted(set(examples.loc[folds == fold, "recording"]))
            left = set(examples.loc[folds != fold, "label"])
            lost = sorted(set(examples["label"]) - left)
            if lost:
                raise ParameterError(
                    f"withholding {', '.join(names)} leaves no training example of label(s) "
                    f"{', '.join(lost)}; choose other --recordings, or annotate "
                    f"{', '.join(lost)} in another recording",
                    parameter="recordings",
                )
            tag = names[0] if omit == "one" else f"f{fold + 1}"
            tasks.append(
                FoldTask(
                    name=f"w{tag}r{r}",
                    test=[int(fold)],
                    train=[int(f) for f in [ALWAYS_TRAIN, *held] if f != fold],
                    replicate=r,
                    seed=seed + r - 1,
                    extra={"withheld": " ".join(names)},
                )
            )
    return tasks


def generalize(
    project: Project,
    name: str,
    *,
    omit: str = "one",
    recordings: Sequence[str] | None = None,
    k: int | None = None,
    replicates: int = 1,
    seed: int = 0,
    validate_percent: float | None = None,
    steps: int | None = None,
    executor: Executor | None = None,
    progress: Callable[[str], None] | None = None,
    write: bool = True,
) -> ReviewResult:
    """Withhold whole recordings of model ``name``'s ground truth (see the module).

    Parameters
    ----------
    omit : {"one", "some", "all"}
    recordings : list of str, optional
        Globs choosing the set (default: every recording with examples).
    k : int, optional
        Folds of recordings for ``omit="some"``.
    replicates, seed, validate_percent, steps, executor, progress, write
        As :func:`sonotype.pipeline.xval.xval`; the report goes to
        ``reports/review/NAME/generalize/``.
    """
    if omit not in OMIT:
        raise ParameterError(f"--omit {omit} must be one of {', '.join(OMIT)}", parameter="omit")
    if k is not None and omit != "some":
        raise ParameterError(f"--k goes with --omit some, not --omit {omit}", parameter="k")
    setup = review_setup(project, name, validate_percent=validate_percent, steps=steps)
    present = sorted(set(setup.examples["recording"]))
    if recordings:
        matched = set(select_recordings(project, list(recordings)))
        chosen = [r for r in present if r in matched]
        if not chosen:
            raise ParameterError(
                f"--recordings {' '.join(recordings)} match no recording with examples of "
                f"model {name!r}; those are: {', '.join(present)}",
                parameter="recordings",
            )
    else:
        chosen = present
    if omit == "all" and set(chosen) == set(present):
        raise ParameterError(
            "--omit all withholds every recording of --recordings and trains on the others; "
            "name fewer recordings than all of them",
            parameter="recordings",
        )
    if omit == "one" and len(chosen) < 2 and set(chosen) == set(present):
        raise ParameterError(
            f"--omit one needs at least two recordings with examples; model {name!r} has "
            f"{len(present)}",
            parameter="recordings",
        )
    folds = recording_folds(setup, omit=omit, recordings=chosen, k=k, seed=seed)
    tasks = generalize_tasks(
        setup, folds, omit=omit, recordings=chosen, replicates=replicates, seed=seed
    )
    config = {
        "omit": omit,
        "recordings": chosen,
        "k": k,
        "replicates": replicates,
        "seed": seed,
        "validate_percent": validate_percent,
        "steps": setup.params.settings.steps,
    }
    outputs = run_tasks(
        project,
        setup,
        folds,
        tasks,
        command="generalize",
        config=config,
        executor=executor,
        progress=progress,
    )
    labels = [label for label in setup.params.labels if label in set(setup.examples["label"])]
    result = collect(outputs, command="generalize", name=name, labels=labels, config=config)
    if write:
        note = (
            f"omit {omit}: {len(tasks)} task(s) over {len(chosen)} recording(s); whole "
            "recordings are withheld, so accuracy here predicts accuracy on new recordings"
        )
        write_results(result, review_folder(project, name, "generalize"), notes=[note])
    return result
