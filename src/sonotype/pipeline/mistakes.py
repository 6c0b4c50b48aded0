"""``mistakes``: every annotated event classified by a network that never trained on it,
and the disagreements stored as events of kind ``mistaken`` to review.

The networks are those of ``xval`` with the same ``k`` and seed (cached: a cross-validation
run already done is reused). Each disagreement keeps the annotated event's recording,
channel and times, with the predicted label as its ``label``, the predicted label's
probability as its ``score`` and the annotated label in a ``label:annotated`` column; the set
replaces the model's previous mistakes in one undoable edit (source: the model's name).
Background examples (the unannotated gaps) are not events and are left out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from sonotype.annotations.events import make_events
from sonotype.pipeline.executors import Executor
from sonotype.pipeline.xval import xval
from sonotype.pipeline.xval_results import ReviewResult
from sonotype.pipeline.xval_setup import review_setup
from sonotype.store import Project

KIND = "mistaken"
ANNOTATED = "annotated"


@dataclass
class MistakesOutcome:
    """The mistakes stored, the cross-validation behind them, and the edit (None when the
    stored mistakes were already these)."""

    mistakes: pd.DataFrame
    result: ReviewResult
    n_events: int
    edit_id: int | None


def find_mistakes(result: ReviewResult, *, background: str | None) -> pd.DataFrame:
    """The held-out events whose predicted label is not the annotated one, as an Events
    table (most confident first)."""
    predictions = result.predictions
    if background is not None:
        predictions = predictions[predictions["label"] != background]
    wrong = predictions[~predictions["correct"]].sort_values(
        ["score", "recording", "start_s"], ascending=[False, True, True], kind="stable"
    )
    return make_events(
        wrong["recording"].astype(str).tolist(),
        wrong["start_s"].to_numpy(float),
        wrong["stop_s"].to_numpy(float),
        wrong["predicted"].astype(str).tolist(),
        kind=KIND,
        channel=wrong["channel"].to_numpy(int),
        score=wrong["score"].to_numpy(float),
        extra_labels={ANNOTATED: wrong["label"].astype(str).tolist()},
        where="mistakes",
    )


def mistakes(
    project: Project,
    name: str,
    *,
    k: int = 5,
    seed: int = 0,
    validate_percent: float | None = None,
    steps: int | None = None,
    executor: Executor | None = None,
    progress: Callable[[str], None] | None = None,
) -> MistakesOutcome:
    """Classify model ``name``'s annotated events by ``k``-fold cross-validation and store
    the disagreements (see the module); the cross-validation's report is written as
    ``xval``'s."""
    setup = review_setup(project, name, validate_percent=validate_percent, steps=steps)
    result = xval(
        project,
        name,
        k=k,
        seed=seed,
        validate_percent=validate_percent,
        steps=steps,
        setup=setup,
        executor=executor,
        progress=progress,
    )
    background = setup.params.background
    table = find_mistakes(result, background=background)
    n_events = int((result.predictions["label"] != background).sum())
    edit = project.store_results(
        table,
        kind=KIND,
        source=name,
        command="mistakes",
        description=(
            f"{len(table)} of {n_events} annotated events classified otherwise by {k}-fold "
            f"cross-validation of {name}"
        ),
    )
    return MistakesOutcome(table, result, n_events, None if edit is None else edit.id)
