"""Known answer: a denoising autoencoder gives back clean synthetic syllables from noisy ones
better than the noisy input itself, on syllables it never saw."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sonotype.autoencoder.config import autoencoder_config
from sonotype.autoencoder.training import fit_autoencoder, reconstruct

from ._data import synthetic_syllables


@pytest.mark.slow
def test_denoising_beats_the_noisy_input_on_unseen_syllables(tmp_path, rng):
    torch.set_num_threads(1)
    specs, _ = synthetic_syllables(tmp_path, seed=1, duration_s=30.0)
    order = rng.permutation(len(specs))
    train, test = order[: len(order) * 2 // 3], order[len(order) * 2 // 3 :]
    config = autoencoder_config(
        architecture="conv-small", latent_channels=16, epochs=25, batch_size=16,
        noise_std=0.2, shift_frames=0, validate_fraction=0.0, seed=0,
    )  # fmt: skip
    network = fit_autoencoder(specs[train], config).network
    clean = specs[test]
    noisy = np.clip(clean + rng.normal(0, 0.15, clean.shape), 0, 1).astype(np.float32)
    noisy_mse = float(np.mean((noisy - clean) ** 2))
    denoised_mse = float(np.mean((reconstruct(network, noisy) - clean) ** 2))
    # Measured: 0.0059 against 0.0163 (2.8x); asserted with margin.
    assert denoised_mse < 0.6 * noisy_mse, (denoised_mse, noisy_mse)


def test_an_untrained_network_does_not_denoise(tmp_path, rng):
    """The comparison above can fail: one epoch of a network is no better than the input."""
    torch.set_num_threads(1)
    specs, _ = synthetic_syllables(tmp_path, seed=1, duration_s=6.0)
    config = autoencoder_config(latent_channels=4, epochs=1, batch_size=64, seed=0)
    network = fit_autoencoder(specs, config).network
    noisy = np.clip(specs + rng.normal(0, 0.15, specs.shape), 0, 1).astype(np.float32)
    assert np.mean((reconstruct(network, noisy) - specs) ** 2) > np.mean((noisy - specs) ** 2)
