"""An embedding set as the input of discovery's reduce, cluster and phenotype stages.

``sonotype reduce --embedding NAME`` (and ``cluster``, ``phenotype``) run discovery's UMAP and
HDBSCAN grids, scores and phenotypes on any named set: pretrained-model windows or events,
a classifier's activations, a syllable embedder's output. The set's events are the
syllables; the catalog, which shows spectrograms, is not made.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sonotype.embeddings.sets import load_embedding_set, set_folder
from sonotype.errors import ParameterError

#: The discovery stages that run on an embedding set.
STAGES = ("reduce", "cluster", "phenotype")


@dataclass
class SetInput:
    """The set's events (in vector order), its vectors and the labels to score against."""

    events: pd.DataFrame
    embedding: object  # Result[np.ndarray]
    features: object  # Result that explains there are no spectrograms
    labels: np.ndarray | None


def set_input(project, config, *, until: str) -> SetInput:
    """The embedding set ``config.embedding`` as discovery's input up to ``until``."""
    from sonotype.pipeline.discover_stages import content_key, table_hash
    from sonotype.pipeline.model_store import file_hash
    from sonotype.pipeline.stage import Result

    if until not in STAGES:
        raise ParameterError(
            f"--embedding works with `sonotype {'`, `sonotype '.join(STAGES)}`; `{until}` "
            "needs the syllables' spectrograms (run it without --embedding)",
            parameter="embedding",
        )
    chosen = load_embedding_set(project.folder, config.embedding)
    events = chosen.events.reset_index(drop=True)
    if len(events) < 10:
        raise ParameterError(
            f"--embedding {config.embedding!r} has {len(events)} rows; reduce and cluster need "
            "at least 10",
            parameter="embedding",
        )
    vectors_key = file_hash(set_folder(project.folder, chosen.name) / "vectors.npy")
    embedding = Result.of(
        np.asarray(chosen.vectors, dtype=np.float32),
        key=content_key("embedding-set", vectors_key, table_hash(events)),
    )

    def no_spectrograms():
        raise ParameterError(
            f"embedding set {chosen.name!r} has no spectrograms; the catalog needs them",
            parameter="embedding",
        )

    features = Result(content_key("no-spectrograms", vectors_key), load=no_spectrograms)
    annotated = events["kind"].eq("annotated") & events["label"].astype(str).ne("")
    labels = None
    if annotated.any():
        labels = np.where(annotated, events["label"].astype(object), None)
    return SetInput(events, embedding, features, labels)
