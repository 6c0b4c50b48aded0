"""The supervised loop in a project: train, accuracy, classify, ethogram, misses.

Each command is a stage (:mod:`sonotype.pipeline.stage`) keyed by the content of what it
reads and by its settings, so running it again with nothing changed computes nothing:

- :func:`train` (:mod:`~sonotype.pipeline.train`): the model folder
  ``artifacts/models/NAME/`` (see :mod:`sonotype.models.saved`), its key in ``model.json``;
- :func:`accuracy` (:mod:`~sonotype.pipeline.accuracy`): scores, the best checkpoint, the
  learned post-processing and the report;
- :func:`classify` (:mod:`~sonotype.pipeline.classify`): per-recording probabilities, keyed
  by the recording's content and the weights, through the project's executor;
- :func:`ethogram` and :func:`find_misses` (:mod:`~sonotype.pipeline.ethogram`): predicted
  and missed events, stored as one undoable edit each, none when they are stored already.

This module only gathers them; importing it does not import torch.
"""

from __future__ import annotations

from sonotype.pipeline.accuracy import AccuracyOutcome, AccuracyParams, accuracy
from sonotype.pipeline.classify import (
    PREVALENCE_CHUNK,
    ClassifyParams,
    ClassifyResult,
    classify,
)
from sonotype.pipeline.ethogram import (
    DEFAULT_THRESHOLD,
    EthogramParams,
    EthogramResult,
    MissesParams,
    MissesResult,
    ethogram,
    ethogram_settings,
    find_misses,
    model_thresholds,
)
from sonotype.pipeline.model_store import (
    MODELS_DIR,
    load_model,
    model_folder,
    select_recordings,
)
from sonotype.pipeline.train import TrainOutcome, TrainParams, train

__all__ = [
    "DEFAULT_THRESHOLD",
    "MODELS_DIR",
    "PREVALENCE_CHUNK",
    "AccuracyOutcome",
    "AccuracyParams",
    "ClassifyParams",
    "ClassifyResult",
    "EthogramParams",
    "EthogramResult",
    "MissesParams",
    "MissesResult",
    "TrainOutcome",
    "TrainParams",
    "accuracy",
    "classify",
    "ethogram",
    "ethogram_settings",
    "find_misses",
    "load_model",
    "model_folder",
    "model_thresholds",
    "select_recordings",
    "train",
]
