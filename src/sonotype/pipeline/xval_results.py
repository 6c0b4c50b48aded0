"""The results of a review run: every held-out example's prediction, per-task and summed
confusion matrices, accuracy with its spread, per-recording accuracy; written as CSV, JSON,
pictures and an HTML page under ``reports/review/MODEL/COMMAND/``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sonotype.atomic import atomic_path
from sonotype.pipeline.xval_setup import REVIEW_DIR, TaskOutputs
from sonotype.pipeline.xval_stage import FOLD, predictions_of
from sonotype.store import Project

#: Per-task columns that describe the task rather than its score.
TASK_COLUMNS = ("task", "replicate", "seed", "size", "test")


@dataclass
class ReviewResult:
    """What a review command measured.

    Attributes
    ----------
    command, name : str
        The command and the model.
    predictions : DataFrame
        One row per held-out example per task: task, replicate, size, fold, recording,
        channel, start_s, stop_s, label, predicted, score, correct, and ``p:LABEL`` columns.
    tasks : DataFrame
        One row per task: what it trained and tested on, its accuracy (the fraction of its
        test examples classified right), balanced accuracy (the mean recall over labels),
        training seconds, trainable parameters, best step, and how it validated.
    confusion : DataFrame
        Counts summed over tasks; rows are the annotated labels, columns the predicted.
    confusions : dict of str to DataFrame
        The confusion matrix of each task.
    recordings : DataFrame
        task, recording, n, accuracy: the jitter plot's points.
    summary : dict
        Accuracy and balanced accuracy: mean, sd (n - 1), min, max over tasks; counts.
    failures : dict of str to str
        Tasks that failed, with the reason.
    folder : Path or None
        Where the report was written.
    """

    command: str
    name: str
    predictions: pd.DataFrame
    tasks: pd.DataFrame
    confusion: pd.DataFrame
    confusions: dict[str, pd.DataFrame]
    recordings: pd.DataFrame
    summary: dict[str, Any]
    failures: dict[str, str] = field(default_factory=dict)
    folder: Path | None = None


def spread(values) -> dict[str, float]:
    """mean, sd (with n - 1; 0 for one value), min and max of ``values`` (NaN dropped).

    Examples
    --------
    >>> spread([0.5, 1.0])["mean"]
    0.75
    """
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if values.size == 0:
        return {"mean": float("nan"), "sd": float("nan"), "min": float("nan"), "max": float("nan")}
    return {
        "mean": float(values.mean()),
        "sd": float(values.std(ddof=1)) if values.size > 1 else 0.0,
        "min": float(values.min()),
        "max": float(values.max()),
    }


def balanced_accuracy(labels: pd.Series, correct: pd.Series) -> float:
    """The mean over annotated labels of the fraction of each classified right."""
    if labels.empty:
        return float("nan")
    return float(correct.groupby(labels.to_numpy()).mean().mean())


def confusion_of(predictions: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
    """Counts of (annotated, predicted), every label in rows and columns, in ``labels``'
    order (labels predicted but not listed, such as ``not_X``, are appended)."""
    extra = sorted(
        (set(predictions["label"]) | set(predictions["predicted"])) - set(labels), key=str
    )
    order = [*labels, *extra]
    table = pd.crosstab(predictions["label"], predictions["predicted"])
    table = table.reindex(index=order, columns=order, fill_value=0).fillna(0).astype(int)
    table.index.name, table.columns.name = "annotated", "predicted"
    return table


def collect(
    outputs: TaskOutputs, *, command: str, name: str, labels: list[str], config: dict
) -> ReviewResult:
    """Gather the tasks' outputs into a :class:`ReviewResult` (no files written)."""
    examples = outputs.examples
    rows, parts, confusions = [], [], {}
    for task in outputs.tasks:
        if task.name not in outputs.outputs:
            continue
        value = outputs.outputs[task.name]
        table = predictions_of(value)
        held = examples.iloc[table["row"].to_numpy()].reset_index(drop=True)
        part = pd.DataFrame(
            {
                "task": task.name,
                "replicate": task.replicate,
                "size": np.nan if task.size is None else task.size,
                FOLD: held[FOLD].to_numpy(),
                "recording": held["recording"].to_numpy(),
                "channel": held["channel"].to_numpy(),
                "start_s": held["start_s"].to_numpy(),
                "stop_s": held["stop_s"].to_numpy(),
                "label": held["label"].to_numpy(str),
                "predicted": table["predicted"].astype(str).to_numpy(),
                "score": table["score"].to_numpy(float),
            }
        )
        part["correct"] = part["label"] == part["predicted"]
        for column in table.columns:
            if column.startswith("p:"):
                part[column] = table[column].to_numpy(float)
        parts.append(part)
        confusions[task.name] = confusion_of(part, labels)
        rows.append(
            {
                "task": task.name,
                "replicate": task.replicate,
                "seed": task.seed,
                "size": task.size,
                "test": " ".join(str(f) for f in task.test),
                "n_train": value["n_train"],
                "n_validation": value["n_validation"],
                "n_test": value["n_test"],
                "accuracy": float(part["correct"].mean()) if len(part) else float("nan"),
                "balanced_accuracy": balanced_accuracy(part["label"], part["correct"]),
                "seconds": value["seconds"],
                "n_parameters": value["n_parameters"],
                "best_step": value["best_step"],
                "validation": value["validation"],
                **task.extra,
            }
        )
    predictions = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    tasks = pd.DataFrame(rows)
    confusion = confusion_of(predictions, labels) if len(predictions) else pd.DataFrame()
    recordings = (
        predictions.groupby(["task", "recording"], sort=True)["correct"]
        .agg(n="size", accuracy="mean")
        .reset_index()
        if len(predictions)
        else pd.DataFrame(columns=["task", "recording", "n", "accuracy"])
    )
    summary = {
        "command": command,
        "model": name,
        "config": config,
        "labels": labels,
        "n_tasks": len(tasks),
        "n_failed": len(outputs.failures),
        "n_examples": len(examples),
        "n_groups": int(examples["group"].nunique()) if "group" in examples else None,
        "accuracy": spread(tasks["accuracy"]) if len(tasks) else spread([]),
        "balanced_accuracy": spread(tasks["balanced_accuracy"]) if len(tasks) else spread([]),
        "seconds": spread(tasks["seconds"]) if len(tasks) else spread([]),
        "n_parameters": int(tasks["n_parameters"].iloc[0]) if len(tasks) else None,
        "run_id": outputs.run_id,
    }
    if len(tasks) and tasks["size"].notna().any():
        summary["by_size"] = {
            f"{size:g}": {
                "n_train": spread(group["n_train"]),
                "accuracy": spread(group["accuracy"]),
                "balanced_accuracy": spread(group["balanced_accuracy"]),
            }
            for size, group in tasks.groupby("size", sort=True)
        }
    return ReviewResult(
        command,
        name,
        predictions,
        tasks,
        confusion,
        confusions,
        recordings,
        summary,
        dict(outputs.failures),
    )


def review_folder(project: Project, name: str, command: str) -> Path:
    """``reports/review/MODEL/COMMAND`` of the project."""
    return project.folder.joinpath(*REVIEW_DIR, name, command)


def write_results(result: ReviewResult, folder: Path, *, notes: list[str] = ()) -> Path:
    """Write the CSV tables, ``summary.json``, the pictures and ``index.html``; return the
    page. Files are replaced atomically."""
    from sonotype.report.review import write_review_report

    folder.mkdir(parents=True, exist_ok=True)
    for file, table, index in (
        ("predictions.csv", result.predictions, False),
        ("tasks.csv", result.tasks, False),
        ("confusion.csv", result.confusion, True),
        ("recordings.csv", result.recordings, False),
    ):
        with atomic_path(folder / file) as tmp:
            table.to_csv(tmp, index=index)
    with atomic_path(folder / "summary.json") as tmp:
        tmp.write_text(json.dumps(result.summary, indent=2, sort_keys=True, default=str) + "\n")
    result.folder = folder
    return write_review_report(result, folder, notes=list(notes))
