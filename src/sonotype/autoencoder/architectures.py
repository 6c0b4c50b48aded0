"""Convolutional encoder-decoders over fixed-size spectrograms, registered by name.

Every architecture maps spectrograms ``(batch, 1, n_freq, n_time)`` in [0, 1] to a latent
array ``(batch, latent_channels, steps)`` and back. Frequency is pooled away completely, time
only partly (by 4 here: ``steps = n_time / 4``), so the latent keeps a coarse time axis that
features pool over later (feature_extraction_saec's "partial pooling"). Two families:

- ``conv-*``: strided 3 x 3 convolutions downsample (learned pooling);
- ``pool-*``: 3 x 3 convolutions at full resolution, then max-pooling.

Each comes in sizes that differ in width and depth (``small``: 3 blocks of 16-64 channels,
``medium``: 4 blocks of 32-128, ``large``: 4 blocks of 64-256). The decoder mirrors the
encoder with nearest-neighbour upsampling and convolutions, and ends in a sigmoid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from sonotype.errors import ParameterError
from sonotype.registry import Registry


@dataclass(frozen=True)
class Architecture:
    """One registered encoder-decoder: block widths and the downsampling of each block."""

    family: str  # "conv" (strided convolutions) or "pool" (max-pooling)
    channels: tuple[int, ...]
    freq_factors: tuple[int, ...]
    time_factors: tuple[int, ...]

    @property
    def freq_divisor(self) -> int:
        return math.prod(self.freq_factors)

    @property
    def time_divisor(self) -> int:
        return math.prod(self.time_factors)


#: Architectures by name (plugins: the ``sonotype.autoencoders`` entry-point group).
ARCHITECTURES: Registry[Architecture] = Registry(
    "autoencoder architecture", entry_point_group="sonotype.autoencoders"
)

_SMALL = dict(channels=(16, 32, 64), freq_factors=(2, 2, 2), time_factors=(2, 2, 1))
_MEDIUM = dict(channels=(32, 64, 128, 128), freq_factors=(2, 2, 2, 2), time_factors=(2, 2, 1, 1))
_LARGE = dict(channels=(64, 128, 256, 256), freq_factors=(2, 2, 2, 2), time_factors=(2, 2, 1, 1))
for _family in ("conv", "pool"):
    ARCHITECTURES.add(f"{_family}-small", Architecture(_family, **_SMALL))
    ARCHITECTURES.add(f"{_family}-medium", Architecture(_family, **_MEDIUM))
ARCHITECTURES.add("conv-large", Architecture("conv", **_LARGE))


def check_shape(name: str, n_freq: int, n_time: int) -> Architecture:
    """The architecture ``name`` when it can take ``n_freq x n_time`` spectrograms; else an
    error naming the option and sizes that work."""
    arch = ARCHITECTURES.get(name)
    for option, size, divisor in (
        ("--n-freq", n_freq, arch.freq_divisor),
        ("--n-time", n_time, arch.time_divisor),
    ):
        if size % divisor or size < 2 * divisor:
            fit = max(2, round(size / divisor)) * divisor
            raise ParameterError(
                f"{option} {size}: architecture {name} needs a multiple of {divisor} of at "
                f"least {2 * divisor}; use e.g. {fit}",
                parameter=option.removeprefix("--").replace("-", "_"),
            )
    return arch


class _Down(nn.Module):
    def __init__(self, c_in: int, c_out: int, factor: tuple[int, int], family: str) -> None:
        super().__init__()
        stride = factor if family == "conv" else (1, 1)
        self.conv = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1)
        self.norm = nn.BatchNorm2d(c_out)
        self.pool = nn.MaxPool2d(factor) if family == "pool" and factor != (1, 1) else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.norm(self.conv(x)))
        return x if self.pool is None else self.pool(x)


class _Up(nn.Module):
    def __init__(self, c_in: int, c_out: int, factor: tuple[int, int]) -> None:
        super().__init__()
        self.factor = factor
        self.conv = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.norm = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.factor != (1, 1):
            x = nn.functional.interpolate(x, scale_factor=self.factor, mode="nearest")
        return torch.relu(self.norm(self.conv(x)))


class SpectrogramAutoencoder(nn.Module):
    """Encoder to a ``(latent_channels, steps)`` array and a mirrored decoder.

    Parameters
    ----------
    architecture : str
        A name in :data:`ARCHITECTURES`.
    n_freq, n_time : int
        Spectrogram shape; multiples of the architecture's downsampling.
    latent_channels : int
        Channels of the latent array.
    """

    def __init__(self, architecture: str, *, n_freq: int, n_time: int, latent_channels: int):
        super().__init__()
        arch = check_shape(architecture, n_freq, n_time)
        self.n_freq, self.n_time = n_freq, n_time
        self.latent_channels = latent_channels
        self.steps = n_time // arch.time_divisor
        bins = n_freq // arch.freq_divisor
        widths = (1, *arch.channels)
        factors = list(zip(arch.freq_factors, arch.time_factors, strict=True))
        self.down = nn.Sequential(
            *(_Down(widths[i], widths[i + 1], factors[i], arch.family) for i in range(len(factors)))
        )
        # The frequency axis left after the blocks is summarised by one convolution that spans
        # it: the latent keeps only time.
        self.squeeze = nn.Conv2d(widths[-1], latent_channels, (bins, 1))
        self.unsqueeze = nn.ConvTranspose2d(latent_channels, widths[-1], (bins, 1))
        self.up = nn.Sequential(
            *(
                _Up(widths[i + 1], max(widths[i], 8), factors[i])
                for i in reversed(range(len(factors)))
            )
        )
        self.out = nn.Conv2d(max(widths[0], 8), 1, 3, padding=1)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Latent ``(batch, latent_channels, steps)`` of spectrograms ``(batch, 1, F, T)``."""
        return self.squeeze(self.down(x)).squeeze(2)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Spectrograms ``(batch, 1, F, T)`` in [0, 1] from a latent array."""
        x = torch.relu(self.unsqueeze(z.unsqueeze(2)))
        return torch.sigmoid(self.out(self.up(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


class PooledFeatures(nn.Module):
    """An encoder whose output is the pooled features (what exported models compute):
    spectrograms ``(batch, F, T)`` to ``(batch, 2 * latent_channels)``, the latent's mean
    then its maximum over the time steps left after the edge cut."""

    def __init__(self, autoencoder: SpectrogramAutoencoder, *, cut: int) -> None:
        super().__init__()
        self.autoencoder, self.cut = autoencoder, cut

    def forward(self, spectrograms: torch.Tensor) -> torch.Tensor:
        z = self.autoencoder.encode(spectrograms.unsqueeze(1))
        z = z[:, :, self.cut : z.shape[2] - self.cut]
        return torch.cat([z.mean(dim=2), z.amax(dim=2)], dim=1)
