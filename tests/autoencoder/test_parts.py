"""Architectures, corruption, pooling, settings and the config grid."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sonotype.autoencoder.architectures import (
    ARCHITECTURES,
    PooledFeatures,
    SpectrogramAutoencoder,
    check_shape,
)
from sonotype.autoencoder.config import (
    AutoencoderSection,
    autoencoder_config,
    session_name,
)
from sonotype.autoencoder.corrupt import Corruptor
from sonotype.autoencoder.pooling import LinearReduction, edge_steps, pool_latent
from sonotype.errors import ParameterError
from sonotype.store.config import ConfigError, ProjectConfig, load_config, render_config


@pytest.mark.parametrize("name", ARCHITECTURES.names())
def test_every_architecture_keeps_a_time_axis_and_gives_back_the_shape(name):
    net = SpectrogramAutoencoder(name, n_freq=32, n_time=48, latent_channels=5).eval()
    x = torch.rand(2, 1, 32, 48)
    with torch.no_grad():
        z = net.encode(x)
    assert z.shape == (2, 5, 12)  # frequency pooled away, time by 4
    with torch.no_grad():
        y = net(x)
    assert y.shape == x.shape and float(y.min()) >= 0 and float(y.max()) <= 1


def test_shapes_the_architecture_cannot_take_name_the_option():
    with pytest.raises(ParameterError, match=r"--n-freq 30.*multiple of 8.*e\.g\. 32"):
        check_shape("conv-small", 30, 32)
    with pytest.raises(ParameterError, match=r"--n-time 6.*at least 8"):
        check_shape("conv-small", 32, 6)
    with pytest.raises(ParameterError, match="conv-small"):  # lists the valid names
        check_shape("conv-huge", 32, 32)


def test_pooled_features_module_matches_numpy_pooling():
    net = SpectrogramAutoencoder("conv-small", n_freq=16, n_time=40, latent_channels=3).eval()
    x = torch.rand(4, 16, 40)
    with torch.no_grad():
        z = net.encode(x.unsqueeze(1)).numpy()
        cut = edge_steps(z.shape[2], 0.2)
        features = PooledFeatures(net, cut=cut)(x).numpy()
    np.testing.assert_allclose(features, pool_latent(z, edge_cut=0.2), rtol=1e-5, atol=1e-6)


def test_pooling_cuts_edges_and_keeps_one_step():
    z = np.zeros((1, 1, 10), np.float32)
    z[0, 0, 0] = 100.0  # an edge artefact
    z[0, 0, 5] = 3.0
    assert pool_latent(z, edge_cut=0.1).tolist() == [[0.375, 3.0]]  # 8 steps kept
    assert edge_steps(1, 0.4) == 0 and edge_steps(3, 0.45) == 1
    with pytest.raises(ParameterError, match="channels, steps"):
        pool_latent(np.zeros((2, 3)))


def test_linear_reduction_is_pca(rng):
    x = rng.normal(size=(50, 6)).astype(np.float32) * [5, 1, 1, 0.1, 0.1, 0.1]
    reduction = LinearReduction.fit(x, 2)
    y = reduction.transform(x)
    assert y.shape == (50, 2)
    assert np.var(y[:, 0]) > 10 * np.var(y[:, 1]) / 10  # ordered by variance
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-4)


def test_corruption_is_seeded_clipped_and_shifts_within_limits():
    config = autoencoder_config(shift_frames=2, noise_std=0.3, noise_floor=0.5)
    clean = torch.zeros(3, 1, 8, 10)
    clean[:, :, :, 5] = 1.0  # one bright column
    a = Corruptor(config, torch.Generator().manual_seed(1))
    b = Corruptor(config, torch.Generator().manual_seed(1))
    shifted = a.shift(clean)
    assert torch.equal(shifted, b.shift(clean))
    bright = shifted[:, 0, 0].argmax(dim=1)
    assert ((bright >= 3) & (bright <= 7)).all() and torch.equal(
        shifted.sum((1, 2, 3)), clean.sum((1, 2, 3))
    )
    noisy = a(shifted)
    assert float(noisy.min()) >= 0 and float(noisy.max()) <= 1
    assert not torch.equal(noisy, shifted)
    quiet = Corruptor(autoencoder_config(shift_frames=0, noise_std=0, noise_floor=0, brightness=0,
                                         contrast=0), torch.Generator())  # fmt: skip
    assert torch.equal(quiet(quiet.shift(clean)), clean)


def test_settings_errors_name_the_setting():
    with pytest.raises(ParameterError, match="latent_channels"):
        autoencoder_config(latent_channels=0)
    with pytest.raises(ParameterError, match="unknown autoencoder setting 'latent'"):
        autoencoder_config(latent=3)


def test_grid_is_every_combination_and_options_fix_a_setting():
    section = AutoencoderSection(architecture=["conv-small", "pool-small"], latent_channels=[8, 16])
    grid = section.sessions()
    assert len(grid) == 4
    assert {(c.architecture, c.latent_channels) for c in grid} == {
        ("conv-small", 8), ("conv-small", 16), ("pool-small", 8), ("pool-small", 16)}  # fmt: skip
    assert session_name("ae", grid[1], grid) == "ae-conv-small-lc16"
    fixed = section.sessions(latent_channels=4, epochs=2)
    assert [(c.latent_channels, c.epochs) for c in fixed] == [(4, 2), (4, 2)]
    assert session_name("ae", fixed[0], fixed[:1]) == "ae"
    with pytest.raises(ParameterError, match="empty list"):
        AutoencoderSection(seed=[]).sessions()


def test_the_toml_table_round_trips_and_unknown_keys_are_errors(tmp_path):
    config = ProjectConfig()
    config.autoencoder.latent_channels = [8, 16]
    path = tmp_path / "sonotype.toml"
    path.write_text(render_config(config))
    assert load_config(path).autoencoder.latent_channels == [8, 16]
    text = render_config(ProjectConfig()).replace("[autoencoder]", "[autoencoder]\nlatent = 3")
    path.write_text(text)
    with pytest.raises(ConfigError, match=r"unknown key 'autoencoder.latent'.*latent_channels"):
        load_config(path)
