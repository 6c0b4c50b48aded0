"""One fold of a review command as a stage task: train a network on some folds of the
examples and classify the examples of the others, which it never saw.

Cross-validation (``xval``), generalisation (``generalize``), learning curves
(``learncurve``) and ``mistakes`` are all made of these tasks; they differ only in how the
folds are made and which folds each task trains and tests on. Each task is keyed by the
examples with their folds, the recordings' content, the model's settings and the task itself
(folds, replicate, seed, size), so a re-run trains only the tasks not done, and tasks run in
parallel through the executor.

Inside a task, validation (which checkpoint to keep) is chosen from the training folds the
way ``sonotype train`` chooses it (:mod:`sonotype.pipeline.train`): whole recordings when at
least three have examples and some can be held out while keeping every label, else a
stratified percentage of the events. The test folds are used for nothing but the score.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from pydantic import Field

from sonotype.atomic import staging_folder
from sonotype.models.config import NetworkConfig
from sonotype.models.settings import TrainSettings
from sonotype.pipeline.codecs import Codec, JsonCodec
from sonotype.pipeline.model_store import record_table, table_record
from sonotype.pipeline.resources import Resources
from sonotype.pipeline.stage import Stage, StageParams

#: Column of the shared examples table that says which fold each example is in.
FOLD = "fold"


class FoldParams(StageParams):
    """What every task of one review run shares: the model's setup."""

    labels: list[str]
    network: NetworkConfig
    settings: TrainSettings
    background: str | None = None
    equalize: bool = False
    validate_percent: float | None = None


class FoldTask(StageParams):
    """What one task trains on and is tested on.

    ``test`` and ``train`` list fold numbers; ``size`` limits the training examples (a
    fraction of each label's, when at most 1; else at most that many per label), drawn with
    ``seed``, which also seeds the network.
    """

    name: str
    test: list[int]
    train: list[int]
    replicate: int = 1
    seed: int = 0
    size: float | None = None
    extra: dict[str, Any] = Field(default_factory=dict)


class FoldStage(Stage[FoldParams, dict]):
    """Train on the task's training folds, classify its test folds (see the module)."""

    name: ClassVar[str] = "review-fold"
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[StageParams]] = FoldParams
    codec: ClassVar[Codec] = JsonCodec()
    resources: ClassVar[Resources] = Resources(cores=1, memory_mb=1500)

    def compute(self, params: FoldParams, *, item: dict, examples, audio: dict) -> dict:
        task = FoldTask(**item)
        return train_and_test(params, task, examples, audio)


def train_and_test(params: FoldParams, task: FoldTask, examples: pd.DataFrame, audio: dict):
    """The body of a :class:`FoldStage` task (a plain function, for tests and workers).

    Parameters
    ----------
    params : FoldParams
    task : FoldTask
    examples : DataFrame
        Examples (:func:`sonotype.models.groundtruth.select_examples`) with a ``fold`` column.
    audio : dict
        ``{"scratch": folder inside the project, "paths": {recording: audio file},
        "sr": {recording: sample rate}}``.

    Returns
    -------
    dict
        ``predictions`` (a :func:`table_record` of ``row``, ``predicted``, ``score`` and
        ``p:LABEL`` per output, one row per test example, ``row`` its position in
        ``examples``), ``seconds`` (training), ``n_parameters``, ``best_step``,
        ``n_train``, ``n_validation``, ``n_test`` and ``validation`` (how it was chosen).
    """
    from sonotype.audio import Recording
    from sonotype.models.groundtruth import check_batch_size
    from sonotype.models.groundtruth import equalize as equalize_examples
    from sonotype.models.training import train_network
    from sonotype.models.windows import ExampleAudio

    folds = examples[FOLD].to_numpy()
    train_rows = np.flatnonzero(np.isin(folds, task.train))
    test_rows = np.flatnonzero(np.isin(folds, task.test))
    pool = examples.iloc[train_rows].reset_index(drop=True)
    if task.size is not None:
        pool = subsample(pool, task.size, random_state=task.seed)
    pool, validation = choose_split(pool, params.validate_percent, random_state=task.seed)
    if params.equalize:
        pool = equalize_examples(pool, random_state=task.seed)
    check_batch_size(pool, params.settings.batch_size)
    rates = pd.Series(audio["sr"])
    sr = float(rates.loc[pool["recording"].unique()].mode().iloc[0])
    cache: dict[tuple, ExampleAudio] = {}

    def open_recording(name: str) -> Recording:
        return Recording(audio["paths"][name])

    def audio_of(table, *, window, jitter_s):
        if (window, jitter_s) not in cache:
            cache[window, jitter_s] = ExampleAudio(
                table, open_recording, sr=sr, window=window, jitter_s=jitter_s
            )
        return cache[window, jitter_s]

    # Named as sonotype's staging folders are, so a killed task's is removed by the next.
    scratch = staging_folder(Path(audio["scratch"]), task.name)
    try:
        model = train_network(
            pool,
            audio_of,
            config=params.network,
            sr=sr,
            labels=list(params.labels),
            folder=scratch,
            settings=params.settings.model_copy(update={"random_state": task.seed}),
            background=params.background,
        )
        network = model.network()
        n_parameters = int(sum(p.numel() for p in network.parameters() if p.requires_grad))
        test = examples.iloc[test_rows].reset_index(drop=True)
        probabilities = classify_examples(network, test, open_recording, model=model)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    predicted, score = decide(
        test["label"].to_numpy(str), probabilities, model.labels, loss=params.network.loss
    )
    table = pd.DataFrame({"row": test_rows, "predicted": predicted, "score": score})
    for j, label in enumerate(model.labels):
        table[f"p:{label}"] = probabilities[:, j]
    counts = pool["split"].value_counts()
    return {
        "predictions": table_record(table),
        "seconds": float(model.training["seconds"]),
        "n_parameters": n_parameters,
        "best_step": model.best_step,
        "n_train": int(counts.get("train", 0)),
        "n_validation": int(counts.get("validation", 0)),
        "n_test": len(test_rows),
        "validation": validation,
    }


def predictions_of(value: dict) -> pd.DataFrame:
    """The predictions table of a task's output."""
    return record_table(value["predictions"])


def subsample(pool: pd.DataFrame, size: float, *, random_state: int) -> pd.DataFrame:
    """Each label's examples cut to ``size``: a fraction when ``size <= 1``, else a count
    (a label with fewer keeps all of them); at least one example per label stays."""
    rng = np.random.default_rng(random_state)
    keep = []
    for _, rows in sorted(pool.groupby("label", sort=True).indices.items()):
        n = round(len(rows) * size) if size <= 1 else int(size)
        n = min(max(n, 1), len(rows))
        keep.append(np.sort(rng.choice(rows, n, replace=False)))
    return pool.iloc[np.sort(np.concatenate(keep))].reset_index(drop=True)


def choose_split(
    pool: pd.DataFrame, validate_percent: float | None, *, random_state: int
) -> tuple[pd.DataFrame, str]:
    """The training pool with a ``split`` column, chosen as ``sonotype train`` chooses it,
    and a note saying how."""
    from sonotype.models.groundtruth import (
        DEFAULT_VALIDATE_PERCENT,
        MIN_RECORDINGS_TO_HOLD_OUT,
        choose_validation_recordings,
        split_examples,
    )

    held: list[str] = []
    if validate_percent is None:
        if pool["recording"].nunique() >= MIN_RECORDINGS_TO_HOLD_OUT:
            held = choose_validation_recordings(pool, random_state=random_state)
        if not held:
            validate_percent = DEFAULT_VALIDATE_PERCENT
    split = split_examples(
        pool,
        validate_percent=0.0 if held else float(validate_percent or 0.0),
        validate_recordings=held,
        random_state=random_state,
    )
    if held:
        return split, f"recordings {', '.join(held)}"
    return split, f"{validate_percent:g}% of each label's examples"


def classify_examples(network, test: pd.DataFrame, open_recording, *, model) -> np.ndarray:
    """Mean output probabilities over each example's windows (points once, intervals at up
    to ten times spread inside), shape ``(len(test), outputs)``."""
    from sonotype.models.groundtruth import validation_windows
    from sonotype.models.inference import predict_windows
    from sonotype.models.windows import ExampleAudio

    if test.empty:
        return np.zeros((0, len(model.labels)), np.float32)
    window = int(model.receptive_field)
    points = validation_windows(test.assign(split="validation"), spacing_s=window / model.sr / 2)
    audio = ExampleAudio(test, open_recording, sr=model.sr, window=window)
    windows = audio.windows(points["example"].to_numpy(), points["time_s"].to_numpy())
    probabilities = predict_windows(network, windows[:, None, :]).numpy()
    sums = np.zeros((len(test), probabilities.shape[1]))
    np.add.at(sums, points["example"].to_numpy(), probabilities)
    n = np.bincount(points["example"].to_numpy(), minlength=len(test))
    return (sums / np.maximum(n, 1)[:, None]).astype(np.float32)


def decide(
    truth: np.ndarray, probabilities: np.ndarray, outputs: list[str], *, loss: str
) -> tuple[np.ndarray, np.ndarray]:
    """The predicted label and its probability for each example.

    Exclusive: the most probable output. Overlapped: each example is judged on its own
    label's output (``X`` and ``not_X`` on output ``X``): ``X`` at probability 0.5 or more,
    else ``not_X``; the score is the probability of the label predicted.
    """
    from sonotype.models.groundtruth import NOT_PREFIX

    if loss == "exclusive":
        best = probabilities.argmax(axis=1) if len(probabilities) else np.zeros(0, int)
        labels = np.asarray(outputs, dtype=object)[best]
        return labels.astype(str), probabilities[np.arange(len(best)), best].astype(float)
    column = {label: j for j, label in enumerate(outputs)}
    predicted, score = [], []
    for i, label in enumerate(truth):
        output = label.removeprefix(NOT_PREFIX)
        p = float(probabilities[i, column[output]])
        predicted.append(output if p >= 0.5 else NOT_PREFIX + output)
        score.append(p if p >= 0.5 else 1 - p)
    return np.asarray(predicted, dtype=str), np.asarray(score, dtype=float)
