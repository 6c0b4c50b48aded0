"""Training: batches of context windows, augmentation, loss, validation, checkpoints.

Runs on CUDA, MPS or the CPU, whichever is present. Every ``validate_every`` steps the
network is scored on the fixed validation windows, a checkpoint is saved and a row is added to
the learning curve; ``weights.pt`` always holds the checkpoint with the best macro F1.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
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
from sonotype.models.optimizers import make_optimizer, make_schedule
from sonotype.models.saved import WEIGHTS_FILE, SavedModel
from sonotype.models.settings import TrainSettings
from sonotype.models.windows import ExampleAudio, network_input
from sonotype.threads import cpu_threads


def pick_device(name: str = "auto") -> torch.device:
    """``auto``: CUDA if present, else MPS, else the CPU (using this process's share of the
    cores: every core, or a pool worker's share, :func:`sonotype.threads.cpu_threads`).

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
        torch.set_num_threads(cpu_threads())
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


#: The training state saved with every checkpoint, for ``resume``: the step, the optimizer,
#: the schedule, every random generator, the learning curve and the best step so far.
#: Removed when the training finishes.
STATE_FILE = "training-state.pt"


@dataclass
class _Loop:
    """Where a training loop is: what :func:`train_network` saves to resume from."""

    step: int = 0
    curve: list[dict] = field(default_factory=list)
    best_f1: float = -np.inf
    best_step: int | None = None


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
    init: nn.Module | None = None,
    freeze_layers: int = 0,
    resume: bool = False,
) -> SavedModel:
    """Train a network on ``examples`` (with a ``split`` column) and save it in ``folder``.

    Parameters
    ----------
    examples : DataFrame
        From :func:`~sonotype.models.groundtruth.select_examples` and
        :func:`~sonotype.models.groundtruth.split_examples`.
    audio_of : callable
        ``audio_of(examples, window=..., jitter_s=...)`` -> :class:`ExampleAudio`; for a
        network with several input channels, also ``channels=config.input_channels``.
    labels : list of str
        The training labels (the network's outputs are :func:`output_labels` of them).
    background : str, optional
        The label of unannotated time: with the exclusive loss, its examples are the
        negatives that get synthetic clicks (``config.click_negatives``); with the
        overlapped loss the ``not_X`` examples are.
    progress : callable, optional
        Called with ``(step, steps)`` after each step.
    init : torch module, optional
        A network of ``config`` to start from instead of random weights (fine-tuning; see
        :func:`sonotype.models.transfer.initial_network`): its front end keeps its
        standardisation.
    freeze_layers : int
        With ``init``: keep the front end and the first ``freeze_layers`` convolution
        blocks as they are (:func:`sonotype.models.transfer.freeze`).
    resume : bool
        Continue from the last checkpoint's training state in ``folder`` (optimizer,
        schedule, random generators, learning curve), so that the steps after it are those
        an uninterrupted training would have taken; without a saved state, start anew.
    """
    settings = settings or TrainSettings()
    settings.check()
    folder = Path(folder)
    outputs = output_labels(labels, loss=config.loss)
    torch.manual_seed(settings.random_state)
    rng = np.random.default_rng(settings.random_state)
    generator = torch.Generator().manual_seed(settings.random_state)
    device = pick_device(settings.device)
    network = init if init is not None else build_network(config, sr=sr, n_labels=len(outputs))
    window = network.receptive_field

    train_rows = np.flatnonzero(examples["split"].to_numpy() == "train")
    # Several input channels: the audio of every channel (asked only then, so that an
    # ``audio_of`` written for mono networks keeps working).
    more = {"channels": config.input_channels} if config.input_channels > 1 else {}
    audio = audio_of(examples, window=window, jitter_s=config.shift_ms / 1000, **more)
    check = validation_windows(examples, spacing_s=window / sr / 2)
    check_audio = None
    if len(check):
        windows = audio.windows(check["example"].to_numpy(), check["time_s"].to_numpy())
        check_audio = torch.from_numpy(network_input(windows))

    # Standardise the front end's features on a sample of training windows (a network to
    # fine-tune keeps the standardisation its weights were learnt with).
    sample = rng.choice(train_rows, min(len(train_rows), 512), replace=False)
    if init is None:
        network.frontend.fit_standardization(
            torch.from_numpy(network_input(audio.windows(sample, audio.draw_times(sample, rng))))
        )
    frozen = []
    if freeze_layers:
        from sonotype.models.transfer import freeze

        frozen = freeze(network, freeze_layers)
    network.to(device)
    optimizer = make_optimizer(network.parameters(), settings)
    schedule = make_schedule(optimizer, settings)
    (folder / "checkpoints").mkdir(parents=True, exist_ok=True)
    loop = _Loop()
    state_path = folder / STATE_FILE
    if resume and state_path.is_file():
        loop = _load_state(state_path, network, optimizer, schedule, rng, generator, device)
    elif state_path.exists():
        state_path.unlink()  # a state of an earlier training: never resume from it by mistake

    started = time.perf_counter()
    step_once = _Stepper(
        network, optimizer, schedule, audio, examples, train_rows,
        config=config, sr=sr, background=background, rng=rng,
        augment=Augmenter(config, generator), targets=Targets(outputs, config.loss),
        device=device, frozen=frozen,
    )  # fmt: skip
    validate_every = settings.validate_every or max(1, settings.steps // 10)
    for step in range(loop.step + 1, settings.steps + 1):
        step_once(settings.batch_size)
        if progress is not None:
            progress(step, settings.steps)
        if step % validate_every and step != settings.steps:
            continue
        row = {"step": step, "elapsed_s": time.perf_counter() - started, **step_once.summary()}
        checkpoint = folder / "checkpoints" / f"step-{step:06d}.pt"
        _save_state(network, checkpoint)
        if check_audio is not None:
            truth = check["label"].to_numpy(str)
            row.update(
                _validate(network, check_audio, truth, outputs, config.loss, step_once.targets,
                          device)
            )  # fmt: skip
            f1 = row["macro_f1"]
        else:
            f1 = step  # without validation the last checkpoint is the best
        if f1 >= loop.best_f1 or loop.best_step is None:
            loop.best_f1, loop.best_step = f1, step
            shutil.copyfile(checkpoint, folder / WEIGHTS_FILE)
        loop.curve.append(row)
        loop.step = step
        _write_csv(pd.DataFrame(loop.curve), folder / "learning_curve.csv")  # follow it
        # Last, so that a state on disk always matches a finished checkpoint and curve.
        _save_loop(state_path, loop, optimizer, schedule, rng, generator)

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
            "weight_decay": settings.decay,
            "device": str(device),
            "seconds": round(time.perf_counter() - started, 2),
        },
        best_step=loop.best_step,
    )
    model.save()
    state_path.unlink(missing_ok=True)  # finished: nothing to resume
    return model


class _Stepper:
    """One training step (a batch drawn, augmented, learnt from), and the running loss and
    accuracy since the last :meth:`summary`."""

    def __init__(self, network, optimizer, schedule, audio, examples, train_rows, *, config,
                 sr, background, rng, augment, targets, device, frozen) -> None:  # fmt: skip
        self.network, self.optimizer, self.schedule = network, optimizer, schedule
        self.audio, self.train_rows, self.config, self.sr = audio, train_rows, config, sr
        self.rng, self.augment, self.targets, self.device = rng, augment, targets, device
        self.frozen = frozen
        self.train_labels = examples["label"].to_numpy(str)
        if config.loss == "overlapped":
            self.negative = np.char.startswith(self.train_labels, NOT_PREFIX)
        else:
            self.negative = self.train_labels == background
        self.loss, self.correct, self.n, self.batches = 0.0, 0.0, 0.0, 0

    def __call__(self, batch_size: int) -> None:
        network, rng, config = self.network, self.rng, self.config
        network.train()
        for module in self.frozen:  # frozen batch norms keep their running statistics
            module.eval()
        rows = rng.choice(self.train_rows, batch_size)
        batch = self.audio.windows(rows, self.audio.draw_times(rows, rng))
        if config.click_negatives:
            clicked = self.negative[rows] & (rng.random(len(rows)) < config.click_negatives)
            if batch.ndim == 3:  # several channels: each gets a click of its own
                n, c, samples = batch.shape
                clicked = np.repeat(clicked, c)
                batch = add_clicks(batch.reshape(n * c, samples), chosen=clicked, sr=self.sr,
                                   rng=rng).reshape(n, c, samples)  # fmt: skip
            else:
                batch = add_clicks(batch, chosen=clicked, sr=self.sr, rng=rng)
        x = self.augment(torch.from_numpy(network_input(batch)).to(self.device))
        target, mask = self.targets.of(self.train_labels[rows], self.device)
        logits = network(x)[:, :, 0]
        loss = self.targets.loss_of(logits, target, mask)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.schedule.step()
        self.loss += float(loss.detach())
        self.batches += 1
        self.correct += _n_correct(logits.detach(), target, mask, config.loss)
        self.n += len(rows) if mask is None else float(mask.sum())

    def summary(self) -> dict:
        """Mean training loss and accuracy since the last summary; resets them."""
        row = {
            "train_loss": self.loss / max(self.batches, 1),
            "train_accuracy": self.correct / max(self.n, 1),
            "learning_rate": float(self.schedule.get_last_lr()[0]),
        }
        self.loss, self.correct, self.n, self.batches = 0.0, 0.0, 0.0, 0
        return row


def _save_loop(path: Path, loop: _Loop, optimizer, schedule, rng, generator) -> None:
    """The state to resume from after the checkpoint of ``loop.step``."""
    state = {
        "loop": {"step": loop.step, "curve": loop.curve, "best_f1": float(loop.best_f1),
                 "best_step": loop.best_step},
        "optimizer": optimizer.state_dict(),
        "schedule": schedule.state_dict(),
        "numpy": rng.bit_generator.state,
        "generator": generator.get_state(),
        "torch": torch.get_rng_state(),
    }  # fmt: skip
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def _load_state(path: Path, network, optimizer, schedule, rng, generator, device) -> _Loop:
    """Restore the training state at ``path`` and the network of its checkpoint."""
    state = torch.load(path, map_location="cpu", weights_only=False)
    loop = _Loop(**state["loop"])
    checkpoint = path.parent / "checkpoints" / f"step-{loop.step:06d}.pt"
    if not checkpoint.is_file():
        raise ParameterError(
            f"cannot resume: {path} is at step {loop.step} but {checkpoint.name} is missing; "
            "train again without --resume"
        )
    network.load_state_dict(torch.load(checkpoint, map_location="cpu", weights_only=True))
    network.to(device)
    optimizer.load_state_dict(state["optimizer"])
    schedule.load_state_dict(state["schedule"])
    rng.bit_generator.state = state["numpy"]
    generator.set_state(state["generator"])
    torch.set_rng_state(state["torch"])
    return loop


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
