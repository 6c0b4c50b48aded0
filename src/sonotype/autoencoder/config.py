"""What an autoencoder is and how it is trained: validated settings, torch-free.

One :class:`AutoencoderConfig` describes one training session: the architecture (a
registered name and size), the denoising regime, the optimiser and the feature extraction.
:class:`AutoencoderSection` is the ``[autoencoder]`` table of ``sonotype.toml``: each key may
hold a list, and a training grid is every combination of the lists (one session each), as
feature_extraction_saec's session files do.
"""

from __future__ import annotations

import itertools
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sonotype.errors import ParameterError

#: Keys of :class:`AutoencoderConfig` that a grid may range over.
GRID_KEYS = (
    "architecture",
    "latent_channels",
    "noise_std",
    "noise_floor",
    "shift_frames",
    "brightness",
    "contrast",
    "learning_rate",
    "epochs",
    "batch_size",
    "seed",
)


class AutoencoderConfig(BaseModel):
    """One autoencoder training session.

    The input is a batch of fixed-size spectrograms ``(n, n_freq, n_time)`` scaled to
    [0, 1] (as :func:`sonotype.features.syllable_spectrograms` makes them). Each training
    batch is corrupted by the denoising regime and the network learns to give back the clean
    spectrograms.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    architecture: str = Field(
        "conv-small",
        description="Registered architecture: conv-small, conv-medium, conv-large (strided "
        "convolutions) or pool-small, pool-medium (convolutions and max-pooling).",
    )
    latent_channels: int = Field(
        32, ge=1, description="Channels of the latent array (channels x time)."
    )
    noise_std: float = Field(
        0.1, ge=0, description="Denoising: additive Gaussian noise, up to this std."
    )
    noise_floor: float = Field(
        0.2,
        ge=0,
        le=1,
        description="Denoising: random noise floor, uniform pixels up to this level.",
    )
    shift_frames: int = Field(
        2, ge=0, description="Denoising: random time shifts of up to this many columns."
    )
    brightness: float = Field(0.1, ge=0, description="Denoising: brightness jitter, +- this.")
    contrast: float = Field(
        0.2, ge=0, lt=1, description="Denoising: contrast jitter, a factor within 1 +- this."
    )
    learning_rate: float = Field(1e-3, gt=0, description="Adam's learning rate.")
    epochs: int = Field(30, ge=1, description="Passes over the training spectrograms.")
    batch_size: int = Field(32, ge=1, description="Spectrograms per step.")
    validate_fraction: float = Field(
        0.1,
        ge=0,
        lt=1,
        description="Spectrograms held out to measure the validation loss (clean input).",
    )
    edge_cut: float = Field(
        0.1,
        ge=0,
        lt=0.5,
        description="Features: fraction of the latent's time steps dropped at each edge "
        "before pooling (mean and max) over time.",
    )
    pca_components: int = Field(
        0,
        ge=0,
        description="Features: reduce the pooled features to this many PCA "
        "components (a compact linear feature); 0 keeps them all.",
    )
    seed: int = Field(0, description="Seed of the initial weights, batches and corruption.")


def autoencoder_config(**settings: Any) -> AutoencoderConfig:
    """A validated :class:`AutoencoderConfig`; problems raise :class:`ParameterError`
    naming the setting.

    Examples
    --------
    >>> autoencoder_config(latent_channels=8).latent_channels
    8
    """
    try:
        return AutoencoderConfig(**settings)
    except ValidationError as error:
        raise ParameterError(_sentence(error, AutoencoderConfig)) from None


def _sentence(error: ValidationError, model: type[BaseModel]) -> str:
    problem = error.errors()[0]
    key = ".".join(str(p) for p in problem["loc"]) or "autoencoder"
    if problem["type"] == "extra_forbidden":
        return f"unknown autoencoder setting {key!r}; valid: {', '.join(model.model_fields)}"
    return f"autoencoder setting {key}: {problem['msg']} (got {problem.get('input')!r})"


def _listed(key: str, description: str) -> Any:
    default = AutoencoderConfig.model_fields[key].default
    return Field(default, description=description + " One value or a list (a grid).")


class AutoencoderSection(BaseModel):
    """The ``[autoencoder]`` table of ``sonotype.toml``: a grid of training sessions.

    Each key holds one value or a list; ``sonotype autoencoder train`` trains one model per
    combination of the lists. The defaults are :class:`AutoencoderConfig`'s.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    n_freq: int = Field(64, ge=4, description="Spectrogram rows (frequencies).")
    n_time: int = Field(64, ge=4, description="Spectrogram columns (times).")
    architecture: str | list[str] = _listed(
        "architecture",
        "Architecture(s): conv-small, conv-medium, conv-large, pool-small, pool-medium.",
    )
    latent_channels: int | list[int] = _listed("latent_channels", "Latent channels.")
    noise_std: float | list[float] = _listed("noise_std", "Additive noise std.")
    noise_floor: float | list[float] = _listed("noise_floor", "Random noise floor level.")
    shift_frames: int | list[int] = _listed("shift_frames", "Time shift (columns).")
    brightness: float | list[float] = _listed("brightness", "Brightness jitter.")
    contrast: float | list[float] = _listed("contrast", "Contrast jitter.")
    learning_rate: float | list[float] = _listed("learning_rate", "Learning rate.")
    epochs: int | list[int] = _listed("epochs", "Epochs.")
    batch_size: int | list[int] = _listed("batch_size", "Batch size.")
    seed: int | list[int] = _listed("seed", "Seed(s): several are replicates.")

    def sessions(self, **fixed: Any) -> list[AutoencoderConfig]:
        """Every combination of the grid, with ``fixed`` settings that are not None (e.g.
        from the command line) replacing the table's; each validated."""
        axes: dict[str, list[Any]] = {}
        for key in GRID_KEYS:
            value = fixed[key] if fixed.get(key) is not None else getattr(self, key)
            axes[key] = list(value) if isinstance(value, list) else [value]
            if not axes[key]:
                raise ParameterError(f"[autoencoder] {key} is an empty list; give a value")
        rest = {k: v for k, v in fixed.items() if k not in GRID_KEYS and v is not None}
        names = list(axes)
        return [
            autoencoder_config(**dict(zip(names, combo, strict=True)), **rest)
            for combo in itertools.product(*(axes[n] for n in names))
        ]


def session_name(base: str, config: AutoencoderConfig, grid: list[AutoencoderConfig]) -> str:
    """``base`` for a single session; for a grid, ``base`` plus the settings that vary,
    e.g. ``ae-conv-small-lc16``."""
    if len(grid) <= 1:
        return base
    short = {
        "architecture": "",
        "latent_channels": "lc",
        "noise_std": "ns",
        "noise_floor": "nf",
        "shift_frames": "sh",
        "brightness": "br",
        "contrast": "ct",
        "learning_rate": "lr",
        "epochs": "ep",
        "batch_size": "bs",
        "seed": "s",
    }
    varying = [k for k in GRID_KEYS if len({getattr(c, k) for c in grid}) > 1]
    parts = [
        f"{short[k]}{getattr(config, k):g}"
        if not isinstance(getattr(config, k), str)
        else getattr(config, k)
        for k in varying
    ]
    return "-".join([base, *parts])
