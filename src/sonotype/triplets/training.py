"""Training the triplet network: fixed batches per epoch, gradient clipping, a NaN guard.

As birdclef-2022 did with its 500k triplets, an epoch is a fixed number of batches, each
drawn at random from the triplet table (with its spans cut on the fly), not a pass over the
table. Gradients are clipped to ``clip_norm``. A checkpoint is written (atomically) before
the first step and after every epoch; when the loss or the weights stop being finite, the
training stops with :class:`TrainingDiverged`, whose message names the epoch, the batch,
the learning rate and the last good checkpoint, which stays loadable.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from sonotype.atomic import atomic_path
from sonotype.checks import check_int, check_number
from sonotype.errors import SonotypeError
from sonotype.triplets.frontend import FrontEnd, SpanReader
from sonotype.triplets.network import TripletNet, triplet_loss


class TrainingDiverged(SonotypeError):
    """The loss or the weights became NaN or infinite; the last good checkpoint is kept."""

    def __init__(self, message: str, *, checkpoint: Path, epoch: int) -> None:
        super().__init__(message)
        self.checkpoint = checkpoint
        self.epoch = epoch


@dataclass(frozen=True)
class TripletTrainConfig:
    """Settings of a triplet training.

    Attributes
    ----------
    dim : int
        Embedding size.
    channels : tuple of int
        Convolution widths (:class:`~sonotype.triplets.network.TripletNet`).
    epochs, batches_per_epoch, batch_size : int
    lr : float
        Adam's learning rate.
    margin, l2_weight : float
        Of :func:`~sonotype.triplets.network.triplet_loss`.
    clip_norm : float
        Largest gradient norm (gradients are scaled down to it).
    seed : int
        Seeds the weights, the batches and torch.
    """

    dim: int = 32
    channels: tuple[int, ...] = (16, 32, 64)
    epochs: int = 10
    batches_per_epoch: int = 50
    batch_size: int = 32
    lr: float = 1e-3
    margin: float = 1.0
    l2_weight: float = 0.01
    clip_norm: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        check_int(self.dim, name="dim", minimum=1, default=32)
        for name in ("epochs", "batches_per_epoch", "batch_size"):
            check_int(getattr(self, name), name=name, minimum=1)
        check_number(self.lr, name="lr", minimum=0, inclusive="neither", default=1e-3)
        check_number(self.margin, name="margin", minimum=0, inclusive="neither", default=1.0)
        check_number(self.l2_weight, name="l2_weight", minimum=0, default=0.01)
        check_number(self.clip_norm, name="clip_norm", minimum=0, inclusive="neither", default=1.0)

    def to_dict(self) -> dict:
        return {**asdict(self), "channels": list(self.channels)}


@dataclass
class TrainedTriplets:
    """A trained network and what made it."""

    state: dict
    config: TripletTrainConfig
    front: FrontEnd
    clip_s: float
    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def network(self) -> TripletNet:
        net = TripletNet(self.config.dim, tuple(self.config.channels))
        net.load_state_dict(self.state)
        return net.eval()

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        torch.save({"state": self.state, "config": self.config.to_dict(),
                    "front": self.front.to_dict(), "clip_s": self.clip_s,
                    "losses": self.losses, "seconds": self.seconds}, buffer)  # fmt: skip
        return buffer.getvalue()

    def save(self, path: Path) -> Path:
        with atomic_path(path) as tmp:
            tmp.write_bytes(self.to_bytes())
        return Path(path)

    @classmethod
    def load(cls, path: Path) -> TrainedTriplets:
        saved = torch.load(path, map_location="cpu", weights_only=True)
        config = TripletTrainConfig(
            **{**saved["config"], "channels": tuple(saved["config"]["channels"])}
        )
        return cls(saved["state"], config, FrontEnd(**saved["front"]), saved["clip_s"],
                   list(saved["losses"]), float(saved["seconds"]))  # fmt: skip


def _batch(reader: SpanReader, rows: pd.DataFrame, clip_s: float) -> list[torch.Tensor]:
    out = []
    for role in ("anchor", "positive", "negative"):
        specs = [reader.span(r, s, clip_s) for r, s in
                 zip(rows[f"{role}_recording"], rows[f"{role}_start_s"], strict=True)]  # fmt: skip
        out.append(torch.from_numpy(np.stack(specs)[:, None]))
    return out


def train_triplets(
    triplets: pd.DataFrame,
    open_recording: Callable[[str], object],
    *,
    config: TripletTrainConfig | None = None,
    front: FrontEnd | None = None,
    clip_s: float | None = None,
    checkpoint: Path,
    progress: Callable[[int, int, float], None] | None = None,
) -> TrainedTriplets:
    """Train the triplet network on spans cut from the recordings as batches need them.

    Parameters
    ----------
    triplets : DataFrame
        From :func:`~sonotype.triplets.sampling.sample_triplets`.
    open_recording : callable
        Maps a recording name to its :class:`~sonotype.audio.Recording`.
    config : TripletTrainConfig, optional
        The defaults of :class:`TripletTrainConfig` when not given.
    front : FrontEnd, optional
        The defaults of :class:`~sonotype.triplets.frontend.FrontEnd` when not given.
    clip_s : float, optional
        Span length in seconds; ``triplets.attrs["clip_s"]`` by default.
    checkpoint : Path
        Written before the first step and after every epoch.
    progress : callable, optional
        ``progress(epoch, batch, loss)`` after every batch.

    Returns
    -------
    TrainedTriplets

    Raises
    ------
    TrainingDiverged
        When the loss or the weights stop being finite.
    """
    config = config or TripletTrainConfig()
    front = front or FrontEnd()
    clip_s = float(clip_s if clip_s is not None else triplets.attrs["clip_s"])
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    net = TripletNet(config.dim, tuple(config.channels))
    optimiser = torch.optim.Adam(net.parameters(), lr=config.lr)
    reader = SpanReader(open_recording, front)
    started = time.perf_counter()
    trained = TrainedTriplets({k: v.clone() for k, v in net.state_dict().items()}, config,
                              front, clip_s)  # fmt: skip
    trained.save(checkpoint)
    good_epoch = 0
    for epoch in range(1, config.epochs + 1):
        net.train()
        total = 0.0
        for b in range(config.batches_per_epoch):
            rows = triplets.iloc[rng.integers(0, len(triplets), config.batch_size)]
            anchor, positive, negative = (net(x) for x in _batch(reader, rows, clip_s))
            loss = triplet_loss(anchor, positive, negative, margin=config.margin,
                                l2_weight=config.l2_weight)  # fmt: skip
            if not torch.isfinite(loss):
                _diverged("loss", epoch, b, config, checkpoint, good_epoch)
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), config.clip_norm)
            optimiser.step()
            if not all(torch.isfinite(p).all() for p in net.parameters()):
                _diverged("weights", epoch, b, config, checkpoint, good_epoch)
            total += float(loss.detach())
            if progress is not None:
                progress(epoch, b + 1, float(loss.detach()))
        trained.losses.append(total / config.batches_per_epoch)
        trained.state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        trained.seconds = time.perf_counter() - started
        trained.save(checkpoint)
        good_epoch = epoch
    return trained


def _diverged(what, epoch, batch, config, checkpoint, good_epoch):
    where = "the initial weights" if good_epoch == 0 else f"the weights after epoch {good_epoch}"
    raise TrainingDiverged(
        f"the {what} became NaN or infinite at epoch {epoch}, batch {batch + 1}, with "
        f"lr={config.lr:g}; training stopped. The last good checkpoint ({where}) is "
        f"{checkpoint}. Lower --lr (the default is 0.001) or --clip-norm and train again",
        checkpoint=Path(checkpoint),
        epoch=good_epoch,
    )
