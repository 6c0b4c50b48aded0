"""Training a denoising autoencoder on fixed-size spectrograms.

Each epoch visits the training spectrograms once in a seeded random order; each batch is
shifted and corrupted (:class:`~sonotype.autoencoder.corrupt.Corruptor`) and the network
learns to give back the shifted clean batch (mean squared error). After every epoch the
held-out spectrograms are reconstructed from their clean versions; the weights with the
lowest validation loss are kept (the last epoch's without a validation set). A loss that
becomes NaN or infinite stops training with a clear message; the last good weights are kept.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from sonotype.autoencoder.architectures import SpectrogramAutoencoder
from sonotype.autoencoder.config import AutoencoderConfig
from sonotype.autoencoder.corrupt import Corruptor
from sonotype.errors import SonotypeError


class TrainingDiverged(SonotypeError):
    """The loss became NaN or infinite; ``fitted`` holds the last good weights."""

    def __init__(self, message: str, fitted: FittedAutoencoder) -> None:
        super().__init__(message)
        self.fitted = fitted


@dataclass
class FittedAutoencoder:
    """A trained network and how its training went."""

    network: SpectrogramAutoencoder
    config: AutoencoderConfig
    curve: list[dict] = field(default_factory=list)
    best_epoch: int | None = None
    seconds: float = 0.0
    n_train: int = 0
    n_validate: int = 0
    validate_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def check_spectrograms(specs: np.ndarray, *, what: str = "spectrograms") -> np.ndarray:
    """``specs`` as float32 ``(n, F, T)``; otherwise an error saying what was expected."""
    specs = np.asarray(specs)
    if specs.ndim != 3 or specs.dtype.kind not in "fiu" or len(specs) == 0:
        raise SonotypeError(
            f"{what} have shape {specs.shape} and dtype {specs.dtype}; expected a numeric "
            "(n, n_freq, n_time) array with n >= 1, e.g. from syllable_spectrograms"
        )
    specs = specs.astype(np.float32, copy=False)
    if not np.isfinite(specs).all():
        raise SonotypeError(f"{what} hold NaN or infinite values; make them again")
    return specs


def fit_autoencoder(
    specs: np.ndarray,
    config: AutoencoderConfig,
    *,
    device: str = "cpu",
    progress: Callable[[int, int, dict], None] | None = None,
) -> FittedAutoencoder:
    """Train an autoencoder of ``config`` on ``specs`` ``(n, n_freq, n_time)`` in [0, 1].

    Parameters
    ----------
    specs : ndarray, shape (n, n_freq, n_time)
        The clean spectrograms.
    config : AutoencoderConfig
    device : str
        A torch device.
    progress : callable, optional
        Called after each epoch with ``(epoch, epochs, curve_row)``.

    Raises
    ------
    TrainingDiverged
        When the loss becomes NaN or infinite (lower ``learning_rate``).
    """
    specs = check_spectrograms(specs)
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    n, n_freq, n_time = specs.shape
    network = SpectrogramAutoencoder(
        config.architecture, n_freq=n_freq, n_time=n_time, latent_channels=config.latent_channels
    ).to(device)
    order = rng.permutation(n)
    n_validate = round(n * config.validate_fraction) if n >= 10 else 0
    validate_rows, train_rows = np.sort(order[:n_validate]), order[n_validate:]
    data = torch.from_numpy(specs)
    corrupt = Corruptor(config, generator)
    optimizer = torch.optim.Adam(network.parameters(), lr=config.learning_rate)
    fitted = FittedAutoencoder(
        network, config, n_train=len(train_rows), n_validate=n_validate, validate_rows=validate_rows
    )
    # Until an epoch finishes, the last good weights are the initial ones.
    best_loss, best_state = np.inf, copy.deepcopy(network.state_dict())
    started = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        network.train()
        total, seen = 0.0, 0
        shuffled = train_rows[rng.permutation(len(train_rows))]
        for start in range(0, len(shuffled), config.batch_size):
            batch_rows = shuffled[start : start + config.batch_size]
            if len(batch_rows) < 2 and len(train_rows) >= 2:
                continue  # batch normalisation needs two examples
            clean = corrupt.shift(data[batch_rows].unsqueeze(1))
            noisy = corrupt(clean)
            loss = nn.functional.mse_loss(network(noisy.to(device)), clean.to(device))
            if not torch.isfinite(loss):
                _restore(fitted, best_state, started)
                raise TrainingDiverged(
                    f"the autoencoder's loss became {float(loss.detach())} in epoch {epoch}; lower "
                    f"learning_rate (now {config.learning_rate:g}), e.g. to "
                    f"{config.learning_rate / 10:g}. The weights of the last good epoch "
                    f"({fitted.best_epoch or 'none: the initial weights'}) are kept.",
                    fitted,
                )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(batch_rows)
            seen += len(batch_rows)
        row = {
            "epoch": epoch,
            "elapsed_s": time.perf_counter() - started,
            "train_loss": total / max(seen, 1),
        }
        if n_validate:
            row["validation_loss"] = float(
                np.mean(
                    (
                        reconstruct(network, specs[validate_rows], device=device)
                        - specs[validate_rows]
                    )
                    ** 2
                )
            )
        score = row.get("validation_loss", -epoch)
        if not np.isfinite(row["train_loss"]):
            _restore(fitted, best_state, started)
            raise TrainingDiverged(
                f"the autoencoder's loss became NaN in epoch {epoch}; lower learning_rate "
                f"(now {config.learning_rate:g})",
                fitted,
            )
        if score <= best_loss:
            best_loss, fitted.best_epoch = score, epoch
            best_state = copy.deepcopy(network.state_dict())
        fitted.curve.append(row)
        if progress is not None:
            progress(epoch, config.epochs, row)
    _restore(fitted, best_state, started)
    return fitted


def _restore(fitted: FittedAutoencoder, state, started: float) -> None:
    fitted.network.load_state_dict(state)
    fitted.network.cpu().eval()
    fitted.seconds = round(time.perf_counter() - started, 2)


@torch.no_grad()
def encode(
    network: SpectrogramAutoencoder,
    specs: np.ndarray,
    *,
    batch_size: int = 256,
    device: str = "cpu",
) -> np.ndarray:
    """Latent arrays ``(n, latent_channels, steps)`` float32 of ``specs`` ``(n, F, T)``."""
    network.eval()
    parts = [
        network.encode(
            torch.from_numpy(np.ascontiguousarray(specs[i : i + batch_size], dtype=np.float32))
            .unsqueeze(1)
            .to(device)
        )
        .cpu()
        .numpy()
        for i in range(0, len(specs), batch_size)
    ]
    return (
        np.concatenate(parts)
        if parts
        else np.zeros((0, network.latent_channels, network.steps), np.float32)
    )


@torch.no_grad()
def reconstruct(
    network: SpectrogramAutoencoder,
    specs: np.ndarray,
    *,
    batch_size: int = 256,
    device: str = "cpu",
) -> np.ndarray:
    """The network's reconstructions ``(n, F, T)`` float32 of ``specs``."""
    was_training = network.training
    network.eval()
    parts = [
        network(
            torch.from_numpy(np.ascontiguousarray(specs[i : i + batch_size], dtype=np.float32))
            .unsqueeze(1)
            .to(device)
        )[:, 0]
        .cpu()
        .numpy()
        for i in range(0, len(specs), batch_size)
    ]
    network.train(was_training)
    return np.concatenate(parts)
