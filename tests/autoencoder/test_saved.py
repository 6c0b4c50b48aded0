"""A trained autoencoder on disk: saved, loaded, used by the embedder, exported."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sonotype.autoencoder.config import autoencoder_config
from sonotype.autoencoder.export import export_autoencoder
from sonotype.autoencoder.saved import SavedAutoencoder, save_autoencoder
from sonotype.autoencoder.training import TrainingDiverged, fit_autoencoder
from sonotype.embed import EMBEDDERS, make_embedder
from sonotype.errors import ParameterError


@pytest.fixture(scope="module")
def specs():
    rng = np.random.default_rng(5)
    x = np.zeros((24, 16, 16), np.float32)
    for i in range(len(x)):  # a horizontal line at a random height: tones of random pitch
        x[i, rng.integers(2, 14), 3:13] = 1.0
    return x


@pytest.fixture(scope="module")
def saved(specs, tmp_path_factory):
    torch.set_num_threads(1)
    config = autoencoder_config(latent_channels=4, epochs=2, batch_size=8, pca_components=3)
    fitted = fit_autoencoder(specs, config)
    assert fitted.n_validate == 2 and fitted.best_epoch in (1, 2)
    folder = tmp_path_factory.mktemp("ae") / "m"
    return save_autoencoder(fitted, folder, specs=specs, spectrogram={"n_freq": 16})


def test_saved_model_loads_with_its_settings_and_features(saved, specs):
    loaded = SavedAutoencoder.load(saved.folder)
    assert loaded.config == saved.config and loaded.steps == 4 and loaded.dimensions == 3
    assert loaded.training["n_train"] == 22 and loaded.training["parameters"] > 0
    features = loaded.features(specs)
    assert features.shape == (24, 3) and features.dtype == np.float32
    assert len(loaded.learning_curve()) == 2
    with pytest.raises(ParameterError, match="trained on 16 x 16"):
        loaded.features(np.zeros((2, 16, 8), np.float32))
    with pytest.raises(ParameterError, match="not a sonotype autoencoder"):
        SavedAutoencoder.load(saved.folder.parent)


def test_the_embedder_is_registered_and_loads_or_trains(saved, specs):
    assert "autoencoder" in EMBEDDERS
    loaded = make_embedder("autoencoder", model=str(saved.folder)).fit(specs.reshape(24, -1))
    np.testing.assert_allclose(loaded.transform(specs), saved.features(specs), rtol=1e-5)
    trained = make_embedder("autoencoder", latent_channels=3, epochs=1).fit(specs.reshape(24, -1))
    assert trained.transform(specs).shape == (24, 6) and trained.n_components_ == 6
    with pytest.raises(ParameterError, match="not a square"):
        make_embedder("autoencoder").fit(np.zeros((3, 20)))
    with pytest.raises(ParameterError, match="neither an autoencoder folder"):
        make_embedder("autoencoder", model="nothing-here").fit(specs)


@pytest.mark.parametrize("format", ["onnx", "torchscript"])
def test_exported_extractor_gives_the_pooled_features(saved, specs, tmp_path, format):
    path = export_autoencoder(saved, tmp_path / "ae", format=format)
    reduction = saved.reduction()
    expected = saved.features(specs)
    if format == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        pooled = session.run(None, {"spectrograms": specs})[0]
    else:
        pooled = torch.jit.load(str(path))(torch.from_numpy(specs)).detach().numpy()
    np.testing.assert_allclose(reduction.transform(pooled), expected, rtol=1e-4, atol=1e-4)
    assert (tmp_path / f"ae{path.suffix}.json").is_file()


def test_a_diverging_loss_stops_with_the_message_and_good_weights(specs):
    config = autoencoder_config(latent_channels=4, epochs=3, batch_size=8, learning_rate=1e30)
    with pytest.raises(TrainingDiverged, match="lower learning_rate") as caught:
        fit_autoencoder(specs, config)
    network = caught.value.fitted.network
    assert all(torch.isfinite(p).all() for p in network.state_dict().values())
