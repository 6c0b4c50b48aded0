"""``xval``: k-fold cross-validation of a model's recipe over its annotated examples.

Folds are made of whole groups of examples (examples whose context windows can share audio
never straddle folds), stratified by label, seeded (:mod:`sonotype.models.folds`). With
``k`` > 1 each of the ``k`` tasks trains on the other folds and is tested on its own; with
``k`` < -1 each trains on its own fold only (a ``1/|k|`` share of the ground truth) and is
tested on the rest, which says whether more ground truth would help (SongExplorer's
negative k-fold). Replicates repeat every fold with new network seeds.
"""

from __future__ import annotations

from collections.abc import Callable

from sonotype.errors import ParameterError
from sonotype.models.folds import assign_folds
from sonotype.pipeline.executors import Executor
from sonotype.pipeline.xval_results import ReviewResult, collect, review_folder, write_results
from sonotype.pipeline.xval_setup import ReviewSetup, review_setup, run_tasks
from sonotype.pipeline.xval_stage import FoldTask
from sonotype.store import Project


def xval_tasks(k: int, *, replicates: int = 1, seed: int = 0) -> list[FoldTask]:
    """The tasks of ``k``-fold cross-validation (see the module); task ``kIrR`` of fold I
    (from 1), replicate R, network seed ``seed + R - 1``."""
    n = abs(k)
    if n < 2:
        raise ParameterError(
            f"--k {k} must be at least 2, or at most -2 to train on one fold only",
            parameter="k",
        )
    if replicates < 1:
        raise ParameterError(
            f"--replicates {replicates} must be at least 1", parameter="replicates"
        )
    tasks = []
    for r in range(1, replicates + 1):
        for fold in range(n):
            others = [f for f in range(n) if f != fold]
            train, test = ([fold], others) if k < 0 else (others, [fold])
            tasks.append(
                FoldTask(
                    name=f"k{fold + 1}r{r}", test=test, train=train, replicate=r, seed=seed + r - 1
                )
            )
    return tasks


def xval(
    project: Project,
    name: str,
    *,
    k: int = 5,
    replicates: int = 1,
    seed: int = 0,
    validate_percent: float | None = None,
    steps: int | None = None,
    setup: ReviewSetup | None = None,
    executor: Executor | None = None,
    progress: Callable[[str], None] | None = None,
    write: bool = True,
) -> ReviewResult:
    """Cross-validate model ``name``'s recipe with ``k`` folds (see the module).

    Parameters
    ----------
    project : Project
    name : str
        A model trained with ``sonotype train``: its labels, events, network and settings.
    k : int
        Folds; negative trains each task on one fold only.
    replicates : int
        Networks per fold, seeded ``seed``, ``seed + 1``, ...
    seed : int
        Seeds the folds and the first replicate's networks.
    validate_percent : float, optional
        Validation inside each task's training folds (which checkpoint to keep); default:
        as ``sonotype train`` chooses (whole recordings when it can).
    steps : int, optional
        Training steps per task (default: the model's).
    write : bool
        Write the report under ``reports/review/NAME/xval/``.

    Returns
    -------
    ReviewResult
    """
    tasks = xval_tasks(k, replicates=replicates, seed=seed)
    setup = setup or review_setup(project, name, validate_percent=validate_percent, steps=steps)
    examples = setup.examples
    folds = assign_folds(
        examples["label"].to_numpy(str),
        examples["group"].to_numpy(),
        n_folds=abs(k),
        random_state=seed,
        option="--k",
    )
    config = {
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
        command="xval",
        config=config,
        executor=executor,
        progress=progress,
    )
    result = collect(outputs, command="xval", name=name, labels=_labels(setup), config=config)
    if write:
        notes = [
            f"{abs(k)} folds of {len(examples)} examples in {examples['group'].nunique()} "
            f"groups (examples closer than {setup.reach_s * 1000:.0f} ms share a group); "
            + (
                "each task trains on one fold and is tested on the rest"
                if k < 0
                else "each task is tested on one fold and trained on the rest"
            )
        ]
        write_results(result, review_folder(project, name, "xval"), notes=notes)
    return result


def _labels(setup: ReviewSetup) -> list[str]:
    present = set(setup.examples["label"])
    return [label for label in setup.params.labels if label in present]
