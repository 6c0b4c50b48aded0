"""A trained autoencoder on disk: a directory with everything needed to use it again.

::

    NAME/
      autoencoder.json    settings, spectrogram shape and parameters, training record,
                          the best epoch, the feature width, sonotype version
      weights.pt          the weights of the best epoch (torch state dict)
      learning_curve.csv  train and validation loss per epoch
      reduction.npz       the PCA of the pooled features (when pca_components > 0)

The description is torch-free; only :meth:`SavedAutoencoder.network` and the methods that
run it load torch.
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sonotype._version import __version__
from sonotype.atomic import atomic_path
from sonotype.autoencoder.config import AutoencoderConfig
from sonotype.autoencoder.pooling import LinearReduction, pool_latent
from sonotype.errors import ParameterError

FORMAT_VERSION = 1
MODEL_FILE = "autoencoder.json"
WEIGHTS_FILE = "weights.pt"
REDUCTION_FILE = "reduction.npz"


@dataclass
class SavedAutoencoder:
    """The description of an autoencoder directory (``autoencoder.json``)."""

    folder: Path
    config: AutoencoderConfig
    n_freq: int
    n_time: int
    steps: int
    #: How the training spectrograms were made (:class:`sonotype.features.SpectrogramParams`
    #: as a dict) and of which events (``unit``: ``events`` or ``windows``), so that
    #: extraction makes the same ones; empty for models trained on given arrays.
    spectrogram: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    best_epoch: int | None = None
    sonotype_version: str = __version__
    train_key: str | None = None

    @property
    def dimensions(self) -> int:
        """Width of :meth:`features`."""
        if self.config.pca_components:
            return int(self.reduction().components.shape[0])
        return 2 * self.config.latent_channels

    def save(self) -> Path:
        """Write ``autoencoder.json`` atomically."""
        record = {k: v for k, v in asdict(self).items() if k not in ("folder", "config")}
        record = {"format": FORMAT_VERSION, "config": self.config.model_dump(), **record}
        path = self.folder / MODEL_FILE
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(record, indent=2, sort_keys=True, default=str) + "\n")
        return path

    @classmethod
    def load(cls, folder: str | Path) -> SavedAutoencoder:
        folder = Path(folder)
        path = folder / MODEL_FILE
        if not path.is_file():
            raise ParameterError(
                f"{folder} is not a sonotype autoencoder (no {MODEL_FILE}); train one with "
                "`sonotype autoencoder train --name NAME`",
                parameter="model",
            )
        record = json.loads(path.read_text())
        if record.pop("format", None) != FORMAT_VERSION:
            raise ParameterError(f"{path}: unknown autoencoder format; train it again")
        return cls(folder=folder, config=AutoencoderConfig(**record.pop("config")), **record)

    # -- using it ---------------------------------------------------------------------------------

    def network(self):
        """The network with its weights, in evaluation mode, on the CPU."""
        import torch

        from sonotype.autoencoder.architectures import SpectrogramAutoencoder

        network = SpectrogramAutoencoder(
            self.config.architecture,
            n_freq=self.n_freq,
            n_time=self.n_time,
            latent_channels=self.config.latent_channels,
        )
        state = torch.load(self.folder / WEIGHTS_FILE, map_location="cpu", weights_only=True)
        network.load_state_dict(state)
        return network.eval()

    def check_input(self, specs: np.ndarray) -> np.ndarray:
        from sonotype.autoencoder.training import check_spectrograms

        specs = check_spectrograms(specs)
        if specs.shape[1:] != (self.n_freq, self.n_time):
            raise ParameterError(
                f"spectrograms of shape {specs.shape[1:]}, but autoencoder {self.folder.name} "
                f"was trained on {self.n_freq} x {self.n_time}; make them with the same "
                "parameters (`sonotype autoencoder extract` does)"
            )
        return specs

    def latent(self, specs: np.ndarray, *, network=None) -> np.ndarray:
        """Latent arrays ``(n, latent_channels, steps)`` of ``specs`` ``(n, F, T)``."""
        from sonotype.autoencoder.training import encode

        return encode(network or self.network(), self.check_input(specs))

    def features(self, specs: np.ndarray, *, network=None) -> np.ndarray:
        """Pooled features ``(n, dimensions)`` float32: mean and max over time of the
        latent (edges cut), then the PCA when the model has one."""
        pooled = pool_latent(self.latent(specs, network=network), edge_cut=self.config.edge_cut)
        reduction = self.reduction()
        return pooled if reduction is None else reduction.transform(pooled)

    def reconstruct(self, specs: np.ndarray, *, network=None) -> np.ndarray:
        from sonotype.autoencoder.training import reconstruct

        return reconstruct(network or self.network(), self.check_input(specs))

    def reduction(self) -> LinearReduction | None:
        path = self.folder / REDUCTION_FILE
        if not path.is_file():
            return None
        with np.load(path) as arrays:
            return LinearReduction(arrays["mean"], arrays["components"])

    def learning_curve(self) -> pd.DataFrame | None:
        path = self.folder / "learning_curve.csv"
        return pd.read_csv(path) if path.is_file() else None


def save_autoencoder(
    fitted,
    folder: str | Path,
    *,
    specs: np.ndarray,
    spectrogram: dict[str, Any] | None = None,
    training: dict[str, Any] | None = None,
    train_key: str | None = None,
) -> SavedAutoencoder:
    """Write a :class:`~sonotype.autoencoder.training.FittedAutoencoder` to ``folder``;
    with ``pca_components``, fit the PCA on the pooled features of its training ``specs``."""
    import torch

    from sonotype.autoencoder.training import encode

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    network, config = fitted.network, fitted.config
    with atomic_path(folder / WEIGHTS_FILE) as tmp:
        torch.save({k: v.detach().cpu() for k, v in network.state_dict().items()}, tmp)
    with atomic_path(folder / "learning_curve.csv") as tmp:
        pd.DataFrame(fitted.curve).to_csv(tmp, index=False)
    if config.pca_components:
        pooled = pool_latent(encode(network, specs), edge_cut=config.edge_cut)
        reduction = LinearReduction.fit(pooled, config.pca_components, seed=config.seed)
        buffer = io.BytesIO()
        np.savez(buffer, mean=reduction.mean, components=reduction.components)
        with atomic_path(folder / REDUCTION_FILE) as tmp:
            tmp.write_bytes(buffer.getvalue())
    saved = SavedAutoencoder(
        folder=folder,
        config=config,
        n_freq=network.n_freq,
        n_time=network.n_time,
        steps=network.steps,
        spectrogram=dict(spectrogram or {}),
        training={
            **(training or {}),
            "seconds": fitted.seconds,
            "n_train": fitted.n_train,
            "n_validate": fitted.n_validate,
            "parameters": sum(p.numel() for p in network.parameters()),
            "torch_threads": torch.get_num_threads(),
        },
        best_epoch=fitted.best_epoch,
        train_key=train_key,
    )
    saved.save()
    return saved
