"""``sonotype activations``: a trained model's layers at selected events, as embedding sets.

SongExplorer's "Activations": the events of several kinds (annotated, detected, ...) are
embedded together by each layer of the model, so reduce and cluster show where the model
separates the labels, where unannotated sounds fall, and which annotations sit among another
label's. Each layer becomes the embedding set ``NAME-LAYER``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from sonotype.embeddings.embed import EmbedOutcome, embed_project
from sonotype.errors import ParameterError


def select_events(
    events: pd.DataFrame,
    *,
    max_events: int | None = None,
    equalize: float | None = None,
    random_state: int = 0,
) -> pd.DataFrame:
    """A seeded draw of ``events``, per kind: at most ``max_events`` of each label, and at
    most ``equalize`` times as many of a label as of that kind's rarest label.

    Examples
    --------
    >>> from sonotype.annotations.events import make_events
    >>> starts = list(range(12))
    >>> events = make_events("a.wav", starts, [s + 0.1 for s in starts], ["x"] * 10 + ["y"] * 2)
    >>> select_events(events, equalize=2)["label"].value_counts().to_dict()
    {'x': 4, 'y': 2}
    """
    if max_events is not None and max_events < 1:
        raise ParameterError(f"max_events={max_events} must be at least 1", parameter="max_events")
    if equalize is not None and not equalize >= 1:
        raise ParameterError(
            f"equalize={equalize} must be at least 1 (1: as many of every label)",
            parameter="equalize",
        )
    rng = np.random.default_rng(random_state)
    kept = []
    for _, group in events.groupby("kind", sort=True):
        counts = group["label"].value_counts()
        cap = np.inf if max_events is None else max_events
        if equalize is not None:
            cap = min(cap, int(np.floor(counts.min() * equalize)))
        for _, rows in group.groupby("label", sort=True):
            index = rows.index.to_numpy()
            if len(index) > cap:
                index = np.sort(rng.choice(index, size=int(cap), replace=False))
            kept.append(index)
    chosen = np.sort(np.concatenate(kept)) if kept else np.array([], dtype=int)
    return events.loc[chosen].reset_index(drop=True)


def model_activations(
    project,
    name: str,
    *,
    kinds: Sequence[str] = ("annotated",),
    layers: Sequence[str] | None = None,
    max_events: int | None = None,
    equalize: float | None = None,
    random_state: int = 0,
    batch_size: int | None = None,
    step: Callable[[str], None] | None = None,
    executor=None,
) -> list[EmbedOutcome]:
    """Embed the events of ``kinds`` with each of ``layers`` of the trained model ``name``.

    Returns one :class:`~sonotype.embeddings.embed.EmbedOutcome` per layer; the sets are
    named ``NAME-LAYER``, and every set has the same events in the same order.
    """
    from sonotype.embeddings.models.classifier import layer_names
    from sonotype.pipeline.model_store import load_model

    saved = load_model(project, name)
    valid = layer_names(saved)
    layers = list(layers) if layers else valid
    unknown = [layer for layer in layers if layer not in valid]
    if unknown:
        raise ParameterError(
            f"--layers: model {name!r} has no layer {', '.join(unknown)}; its layers: "
            f"{', '.join(valid)}",
            parameter="layers",
        )
    events = project.events(kinds=list(kinds))
    if events.empty:
        raise ParameterError(
            f"--kinds {','.join(kinds)}: the project has no events of these kinds",
            parameter="kinds",
        )
    chosen = select_events(
        events, max_events=max_events, equalize=equalize, random_state=random_state
    )
    step = step or (lambda description: None)
    outcomes = []
    for layer in layers:
        step(f"layer {layer} at {len(chosen)} events")
        outcomes.append(
            embed_project(
                project,
                f"classifier:{name}:{layer}",
                events=chosen,
                name=f"{name}-{layer}",
                batch_size=batch_size,
                executor=executor,
                command="activations",
                pad="audio",  # the model was trained on events in their context
            )
        )
    return outcomes
