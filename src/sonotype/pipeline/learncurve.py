"""``learncurve``: accuracy against the amount of ground truth (vak's learning curve).

A test set is set aside once: whole recordings (``test_recordings``) or a stratified,
grouped share of the examples (``test_percent``; examples whose windows overlap stay on one
side). For each size, each replicate trains a network on that much of the rest (a fraction
of each label's examples when the size is at most 1, else at most that many examples per
label, drawn with the replicate's seed) and classifies the test set, so that every point of
the curve is measured on the same examples.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from sonotype.errors import ParameterError
from sonotype.models.folds import assign_folds
from sonotype.pipeline.executors import Executor
from sonotype.pipeline.model_store import select_recordings
from sonotype.pipeline.xval_results import ReviewResult, collect, review_folder, write_results
from sonotype.pipeline.xval_setup import review_setup, run_tasks
from sonotype.pipeline.xval_stage import FoldTask
from sonotype.store import Project

#: Fold of the test examples; the training pool is fold 1.
TEST, POOL = 0, 1


def check_sizes(sizes: Sequence[float]) -> list[float]:
    """Sizes as given, checked: positive; above 1 only whole numbers (examples per label)."""
    sizes = [float(s) for s in sizes]
    if not sizes:
        raise ParameterError("--sizes is empty; e.g. --sizes 0.1,0.25,0.5,1", parameter="sizes")
    for size in sizes:
        if not size > 0 or (size > 1 and not float(size).is_integer()):
            raise ParameterError(
                f"--sizes {size:g}: each size is a fraction of each label's training examples "
                "(0 < size <= 1) or a whole number of examples per label",
                parameter="sizes",
            )
    return sorted(set(sizes))


def learncurve(
    project: Project,
    name: str,
    *,
    sizes: Sequence[float],
    replicates: int = 1,
    seed: int = 0,
    test_percent: float = 20.0,
    test_recordings: Sequence[str] | None = None,
    validate_percent: float | None = None,
    steps: int | None = None,
    executor: Executor | None = None,
    progress: Callable[[str], None] | None = None,
    write: bool = True,
) -> ReviewResult:
    """The learning curve of model ``name``'s recipe (see the module).

    Parameters
    ----------
    sizes : list of float
        Training-set sizes (see :func:`check_sizes`).
    replicates : int
        Networks per size (new draws of the training examples and new seeds).
    test_percent : float
        Share of the examples set aside for testing, in whole groups, stratified by label
        (ignored with ``test_recordings``).
    test_recordings : list of str, optional
        Globs of recordings to test on instead.
    seed, validate_percent, steps, executor, progress, write
        As :func:`sonotype.pipeline.xval.xval`; the report goes to
        ``reports/review/NAME/learncurve/``.
    """
    sizes = check_sizes(sizes)
    if replicates < 1:
        raise ParameterError(
            f"--replicates {replicates} must be at least 1", parameter="replicates"
        )
    setup = review_setup(project, name, validate_percent=validate_percent, steps=steps)
    examples = setup.examples
    if test_recordings:
        held = set(select_recordings(project, list(test_recordings)))
        folds = np.where(examples["recording"].isin(held), TEST, POOL)
        if not (folds == TEST).any() or not (folds == POOL).any():
            raise ParameterError(
                f"--test-recordings {' '.join(test_recordings)} must leave some recordings "
                f"with examples on each side; recordings with examples: "
                f"{', '.join(sorted(set(examples['recording'])))}",
                parameter="test-recordings",
            )
        how = f"recordings {', '.join(sorted(held & set(examples['recording'])))}"
    else:
        if not 0 < test_percent < 100:
            raise ParameterError(
                f"--test-percent {test_percent:g} must be between 0 and 100",
                parameter="test-percent",
            )
        n_folds = max(2, round(100 / test_percent))
        folds = assign_folds(
            examples["label"].to_numpy(str),
            examples["group"].to_numpy(),
            n_folds=n_folds,
            random_state=seed,
            option="--test-percent",
            given=f"{test_percent:g}",
        )
        folds = np.where(folds == 0, TEST, POOL)
        how = f"1/{n_folds} of the example groups, stratified by label"
    tasks = [
        FoldTask(
            name=f"s{size:g}r{r}",
            test=[TEST],
            train=[POOL],
            replicate=r,
            seed=seed + r - 1,
            size=size,
        )
        for size in sizes
        for r in range(1, replicates + 1)
    ]
    config = {
        "sizes": sizes,
        "replicates": replicates,
        "seed": seed,
        "test": how,
        "validate_percent": validate_percent,
        "steps": setup.params.settings.steps,
    }
    outputs = run_tasks(
        project,
        setup,
        folds,
        tasks,
        command="learncurve",
        config=config,
        executor=executor,
        progress=progress,
    )
    labels = [label for label in setup.params.labels if label in set(examples["label"])]
    result = collect(outputs, command="learncurve", name=name, labels=labels, config=config)
    if write:
        n_test = int((folds == TEST).sum())
        note = (
            f"test set: {how} ({n_test} examples), the same for every size; sizes "
            f"{', '.join(f'{s:g}' for s in sizes)} (a fraction of each label's training "
            "examples when at most 1, else examples per label)"
        )
        write_results(result, review_folder(project, name, "learncurve"), notes=[note])
    return result
