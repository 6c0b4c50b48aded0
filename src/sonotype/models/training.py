"""Training: batches of context windows, augmentation, loss, validation, checkpoints.

Runs on CUDA, MPS or the CPU, whichever is present. Every ``validate_every`` steps the
network is scored on the fixed validation windows, a checkpoint is saved and a row is added to
the learning curve; ``weights.pt`` always holds the checkpoint with the best macro F1.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from sonotype.atomic import atomic_path
from sonotype.errors import ParameterError
from sonotype.models.accuracy import validation_accuracy
from sonotype.models.config import NetworkConfig
from sonotype.models.groundtruth import NOT_PREFIX, output_labels, validation_windows
from sonotype.models.inference import predict_windows
from sonotype.models.negatives import add_clicks
from sonotype.models.network import build_network
from sonotype.models.saved import WEIGHTS_FILE, SavedModel
from sonotype.models.settings import TrainSettings
from sonotype.models.windows import ExampleAudio


def pick_device(name: str = "auto") -> torch.device:
    """``auto``: CUDA if present, else MPS, else the CPU (using every core).

    A device this torch cannot use (``cuda`` on a CPU-only build or a machine without a GPU)
    is a :class:`ParameterError` naming ``--device`` and the devices there are.
    """
    has_mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    available = {"cpu": True, "cuda": torch.cuda.is_available(), "mps": has_mps}
    if name == "auto":
        name = "cuda" if available["cuda"] else "mps" if available["mps"] else "cpu"
    kind = name.split(":")[0]
    if not available.get(kind, False):
        usable = ", ".join(["auto", *(d for d, ok in available.items() if ok)])
        why = "is not a device" if kind not in available else "is not available here"
        raise ParameterError(f"--device {name} {why}; use one of: {usable}")
    if name == "cpu":
        torch.set_num_threads(os.cpu_count() or 1)
    return torch.device(name)


class Augmenter:
    """Random gain, noise, DC offset, polarity and time reversal of a batch ``(b, 1, n)``."""

    def __init__(self, config: NetworkConfig, generator: torch.Generator) -> None:
        self.config, self.generator = config, generator

    def _uniform(self, n: int, low: float, high: float, device) -> torch.Tensor:
        u = torch.rand(n, 1, 1, generator=self.generator).to(device)
        return low + (high - low) * u

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        c, n = self.config, x.shape[0]
        rms = x.pow(2).mean(dim=-1, keepdim=True).sqrt().clamp_min(1e-8)
        if c.volume_db:
            x = x * 10 ** (self._uniform(n, -c.volume_db, c.volume_db, x.device) / 20)
        if c.noise_snr_db is not None:
            snr_db = self._uniform(n, c.noise_snr_db, c.noise_snr_db + 20, x.device)
            noise = torch.randn(x.shape, generator=self.generator).to(x.device)
            x = x + noise * rms * 10 ** (-snr_db / 20)
        if c.dc_offset:
            x = x + self._uniform(n, -c.dc_offset, c.dc_offset, x.device) * rms
        if c.polarity:
            x = x * torch.where(self._uniform(n, 0, 1, x.device) < 0.5, -1.0, 1.0)
        if c.time_reversal:
            flip = (self._uniform(n, 0, 1, x.device) < 0.5).flatten()
            x = torch.where(flip[:, None, None], x.flip(-1), x)
        return x


class Targets:
    """Training targets for each example label: class indices (exclusive), or 0/1 with a
    mask of which outputs an example says something about (overlapped)."""

    def __init__(self, outputs: list[str], loss: str) -> None:
        self.outputs, self.loss = outputs, loss

    def of(self, labels: np.ndarray, device) -> tuple[torch.Tensor, torch.Tensor | None]:
        if self.loss == "exclusive":
            index = {label: i for i, label in enumerate(self.outputs)}
            return torch.tensor([index[label] for label in labels], device=device), None
        positive = np.array([[label == out for out in self.outputs] for label in labels])
        negative = np.array(
            [[label == NOT_PREFIX + out for out in self.outputs] for label in labels]
        )
        target = torch.tensor(positive, dtype=torch.float32, device=device)
        return target, torch.tensor(positive | negative, dtype=torch.float32, device=device)

    def loss_of(self, logits: torch.Tensor, target, mask) -> torch.Tensor:
        if self.loss == "exclusive":
            return nn.functional.cross_entropy(logits, target)
        per_output = nn.functional.binary_cross_entropy_with_logits(
            logits, target, reduction="none"
        )
        return (per_output * mask).sum() / mask.sum().clamp_min(1)


def train_network(
    examples: pd.DataFrame,
    audio_of: Callable[..., ExampleAudio],
    *,
    config: NetworkConfig,
    sr: float,
    labels: list[str],
    folder: str | Path,
    settings: TrainSettings | None = None,
    background: str | None = None,
    training_record: dict | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SavedModel:
    """Train a network on ``examples`` (with a ``split`` column) and save it in ``folder``.

    Parameters
    ----------
    examples : DataFrame
        From :func:`~sonotype.models.groundtruth.select_examples` and
        :func:`~sonotype.models.groundtruth.split_examples`.
    audio_of : callable
        ``audio_of(examples, window=..., jitter_s=...)`` -> :class:`ExampleAudio`.
    labels : list of str
        The training labels (the network's outputs are :func:`output_labels` of them).
    background : str, optional
        The label of unannotated time: with the exclusive loss, its examples are the
        negatives that get synthetic clicks (``config.click_negatives``); with the
        overlapped loss the ``not_X`` examples are.
    progress : callable, optional
        Called with ``(step, steps)`` after each step.
    """
    settings = settings or TrainSettings()
    settings.check()
    folder = Path(folder)
    outputs = output_labels(labels, loss=config.loss)
    torch.manual_seed(settings.random_state)
    rng = np.random.default_rng(settings.random_state)
    generator = torch.Generator().manual_seed(settings.random_state)
    device = pick_device(settings.device)
    network = build_network(config, sr=sr, n_labels=len(outputs))
    window = network.receptive_field

    train_rows = np.flatnonzero(examples["split"].to_numpy() == "train")
    audio = audio_of(examples, window=window, jitter_s=config.shift_ms / 1000)
    train_labels = examples["label"].to_numpy(str)
    if config.loss == "overlapped":
        negative = np.char.startswith(train_labels, NOT_PREFIX)
    else:
        negative = train_labels == background
    check = validation_windows(examples, spacing_s=window / sr / 2)
    check_audio = None
    if len(check):
        windows = audio.windows(check["example"].to_numpy(), check["time_s"].to_numpy())
        check_audio = torch.from_numpy(windows[:, None, :])

    # Standardise the front end's features on a sample of training windows.
    sample = rng.choice(train_rows, min(len(train_rows), 512), replace=False)
    network.frontend.fit_standardization(
        torch.from_numpy(audio.windows(sample, audio.draw_times(sample, rng))[:, None, :])
    )
    network.to(device)
    optimizer = torch.optim.Adam(network.parameters(), lr=settings.learning_rate)
    augment = Augmenter(config, generator)
    targets = Targets(outputs, config.loss)
    validate_every = settings.validate_every or max(1, settings.steps // 10)

    (folder / "checkpoints").mkdir(parents=True, exist_ok=True)
    curve: list[dict] = []
    best_f1, best_step = -np.inf, None
    running_loss, running_correct, running_n = 0.0, 0.0, 0
    started = time.perf_counter()
    for step in range(1, settings.steps + 1):
        network.train()
        rows = rng.choice(train_rows, settings.batch_size)
        batch = audio.windows(rows, audio.draw_times(rows, rng))
        if config.click_negatives:
            clicked = negative[rows] & (rng.random(len(rows)) < config.click_negatives)
            batch = add_clicks(batch, chosen=clicked, sr=sr, rng=rng)
        x = torch.from_numpy(batch[:, None, :])
        x = augment(x.to(device))
        target, mask = targets.of(train_labels[rows], device)
        logits = network(x)[:, :, 0]
        loss = targets.loss_of(logits, target, mask)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        running_loss += float(loss.detach()) * len(rows)
        running_correct += _n_correct(logits.detach(), target, mask, config.loss)
        running_n += len(rows) if mask is None else float(mask.sum())
        if progress is not None:
            progress(step, settings.steps)
        if step % validate_every and step != settings.steps:
            continue
        row = {
            "step": step,
            "elapsed_s": time.perf_counter() - started,
            "train_loss": running_loss / len(rows) / _steps_since(curve, step),
            "train_accuracy": running_correct / max(running_n, 1),
        }
        running_loss, running_correct, running_n = 0.0, 0.0, 0
        checkpoint = folder / "checkpoints" / f"step-{step:06d}.pt"
        _save_state(network, checkpoint)
        if check_audio is not None:
            truth = check["label"].to_numpy(str)
            row.update(
                _validate(network, check_audio, truth, outputs, config.loss, targets, device)
            )
            f1 = row["macro_f1"]
        else:
            f1 = step  # without validation the last checkpoint is the best
        if f1 >= best_f1 or best_step is None:
            best_f1, best_step = f1, step
            shutil.copyfile(checkpoint, folder / WEIGHTS_FILE)
        curve.append(row)
        _write_csv(pd.DataFrame(curve), folder / "learning_curve.csv")  # follow it as it grows

    _write_csv(check.drop(columns="example"), folder / "validation.csv")
    point_labels = [
        label
        for label in outputs
        if (examples["label"] == label).any()
        and examples.loc[examples["label"] == label, "point"].all()
    ]
    prevalence = examples.loc[examples["split"] == "train", "label"].value_counts(normalize=True)
    model = SavedModel(
        folder=folder,
        config=config,
        sr=float(sr),
        labels=outputs,
        point_labels=point_labels,
        receptive_field=int(network.receptive_field),
        output_step=int(network.output_step),
        train_prevalence={label: float(prevalence.get(label, 0.0)) for label in outputs},
        training={
            **(training_record or {}),
            **settings.model_dump(),
            "device": str(device),
            "seconds": round(time.perf_counter() - started, 2),
        },
        best_step=best_step,
    )
    model.save()
    return model


def _steps_since(curve: list[dict], step: int) -> int:
    return step - (curve[-1]["step"] if curve else 0)


def _n_correct(logits, target, mask, loss: str) -> float:
    if loss == "exclusive":
        return float((logits.argmax(dim=1) == target).sum())
    return float((((logits > 0).float() == target).float() * mask).sum())


@torch.no_grad()
def _validate(network, windows, truth, outputs, loss, targets, device, batch=256) -> dict:
    """Loss, accuracy and per-label precision/recall/F1 on the validation windows."""
    logits = predict_windows(network, windows, batch_size=batch, output="logits")
    target, mask = targets.of(truth, "cpu")
    probabilities = torch.softmax(logits, 1) if loss == "exclusive" else torch.sigmoid(logits)
    result = validation_accuracy(truth, probabilities.numpy(), outputs, loss=loss)
    n = len(target) if mask is None else max(float(mask.sum()), 1.0)
    row = {
        "validation_loss": float(targets.loss_of(logits, target, mask)),
        "validation_accuracy": _n_correct(logits, target, mask, loss) / n,
        "macro_f1": result.macro_f1,
    }
    for _, r in result.per_label.iterrows():
        for metric in ("precision", "recall", "f1"):
            row[f"{metric}:{r['label']}"] = r[metric]
    return row


def _save_state(network: nn.Module, path: Path) -> None:
    with atomic_path(path) as tmp:
        torch.save({k: v.detach().cpu() for k, v in network.state_dict().items()}, tmp)


def _write_csv(table: pd.DataFrame, path: Path) -> None:
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False)
