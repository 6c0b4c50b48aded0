"""The demo's embedding step: the birds' syllables embedded by BirdNET and by PCA, compared.

Run by ``sonotype demo`` when the ``embed`` extra is installed. Each embedding is scored by
the accuracy of a 5-nearest-neighbour vote (cosine distance) under 5-fold cross-validation
stratified by label: how well the embedding keeps syllables of one type together.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sonotype.embeddings.embed import embed_project
from sonotype.embeddings.models import ModelUnavailable, resolve_model

MODELS = ("birdnet", "pca")


def knn_accuracy(vectors: np.ndarray, labels: np.ndarray, *, k: int = 5, folds: int = 5) -> float:
    """Cross-validated accuracy of a ``k``-nearest-neighbour vote (cosine), stratified folds.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> labels = np.repeat(["a", "b"], 20)
    >>> vectors = rng.normal(size=(40, 3)) + np.where(labels == "a", 5, -5)[:, None]
    >>> knn_accuracy(vectors, labels)
    1.0
    """
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    splitter = StratifiedKFold(folds, shuffle=True, random_state=0)
    vote = KNeighborsClassifier(k, metric="cosine")
    return float(cross_val_score(vote, vectors, labels, cv=splitter).mean())


def compare_on_syllables(
    project, *, recordings: str = "birds/*", source: str = "truth", executor=None
) -> pd.DataFrame | None:
    """One row per model of :data:`MODELS`: dimensions, syllables, k-NN accuracy, seconds.

    None when BirdNET cannot run here (the ``embed`` extra is not installed).
    """
    try:
        resolve_model("birdnet")
    except ModelUnavailable:
        return None
    rows = []
    for model in MODELS:
        outcome = embed_project(
            project,
            model,
            kind="annotated",
            source=source,
            recordings=recordings,
            name=f"demo-{model}",
            executor=executor,
        )
        embedding = outcome.embedding
        labels = embedding.events["label"].to_numpy()
        rows.append(
            {
                "model": model,
                "dimensions": embedding.dimensions,
                "syllables": len(labels),
                "knn_accuracy": knn_accuracy(np.asarray(embedding.vectors), labels),
                "seconds": outcome.seconds,
            }
        )
    return pd.DataFrame(rows)
