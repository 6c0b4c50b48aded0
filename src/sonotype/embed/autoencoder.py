"""The ``autoencoder`` embedder: pooled latent features of a denoising autoencoder."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sonotype.embed.base import Embedder, register_embedder
from sonotype.errors import ParameterError


@register_embedder("autoencoder")
class AutoencoderEmbedder(Embedder):
    """Features of a convolutional denoising autoencoder (:mod:`sonotype.autoencoder`): the
    latent array's mean and maximum over time, edges cut, optionally reduced by PCA.

    With ``model`` (a folder written by ``sonotype autoencoder train``, or the name of one
    in ``artifacts/autoencoders/`` of the project in the current folder), :meth:`fit` loads
    it; without, :meth:`fit` trains a new autoencoder on ``X`` with the other parameters
    (unsupervised, so fitting on the rows to embed is sound).

    Parameters
    ----------
    model : str or path, optional
        A trained autoencoder.
    architecture, latent_channels, epochs, pca_components, random_state
        Settings of an autoencoder trained by :meth:`fit` (see
        :class:`sonotype.autoencoder.AutoencoderConfig`; ``random_state`` is its seed).
    input_shape : (int, int), optional
        ``(n_freq, n_time)`` of flattened rows; by default a trained model's shape, or
        square.

    Attributes
    ----------
    model_ : SavedAutoencoder or FittedAutoencoder
    input_shape_ : tuple of int
    n_components_ : int
        Width of the embedding.
    """

    def __init__(
        self,
        model: str | Path | None = None,
        *,
        architecture: str = "conv-small",
        latent_channels: int = 32,
        epochs: int = 30,
        pca_components: int = 0,
        input_shape: tuple[int, int] | None = None,
        random_state: int = 0,
    ) -> None:
        self.model = model
        self.architecture = architecture
        self.latent_channels = latent_channels
        self.epochs = epochs
        self.pca_components = pca_components
        self.input_shape = input_shape
        self.random_state = random_state

    def fit(self, X, y=None) -> AutoencoderEmbedder:
        """Load ``model``, or train an autoencoder on ``X`` ``(n, F, T)`` or ``(n, F * T)``."""
        from sonotype.autoencoder.saved import SavedAutoencoder

        if self.model is not None:
            saved = SavedAutoencoder.load(_model_folder(self.model))
            self.input_shape_ = (saved.n_freq, saved.n_time)
            specs = self._images(X)
            self.model_ = saved
            self.network_ = saved.network()
            self.n_components_ = saved.dimensions
            return self
        from sonotype.autoencoder.config import autoencoder_config
        from sonotype.autoencoder.pooling import LinearReduction, pool_latent
        from sonotype.autoencoder.training import encode, fit_autoencoder

        self.input_shape_ = None
        specs = self._images(X)
        self.input_shape_ = specs.shape[1:]
        config = autoencoder_config(
            architecture=self.architecture,
            latent_channels=self.latent_channels,
            epochs=self.epochs,
            pca_components=self.pca_components,
            seed=self.random_state,
        )
        self.model_ = fit_autoencoder(specs, config)
        self.network_ = self.model_.network
        self.reduction_ = None
        if self.pca_components:
            pooled = pool_latent(encode(self.network_, specs), edge_cut=config.edge_cut)
            self.reduction_ = LinearReduction.fit(pooled, self.pca_components, seed=config.seed)
        width = 2 * self.latent_channels
        self.n_components_ = width if self.reduction_ is None else len(self.reduction_.components)
        return self

    def transform(self, X) -> np.ndarray:
        """The pooled features of ``X``: float32, shape ``(n, n_components_)``."""
        self._check_fitted()
        specs = self._images(X)
        if hasattr(self.model_, "features"):
            return self.model_.features(specs, network=self.network_)
        from sonotype.autoencoder.pooling import pool_latent
        from sonotype.autoencoder.training import encode

        pooled = pool_latent(encode(self.network_, specs), edge_cut=self.model_.config.edge_cut)
        return pooled if self.reduction_ is None else self.reduction_.transform(pooled)

    def _images(self, X) -> np.ndarray:
        """``X`` as ``(n, F, T)`` float32: 3-D as is, flattened rows reshaped."""
        X = np.asarray(X, dtype=np.float32)
        shape = getattr(self, "input_shape_", None) or self.input_shape
        if X.ndim == 3:
            if shape is not None and tuple(X.shape[1:]) != tuple(shape):
                raise ParameterError(
                    f"X rows have shape {X.shape[1:]}, but the autoencoder takes {tuple(shape)}"
                    "; make the spectrograms with the same n_freq and n_time"
                )
            return X
        if X.ndim != 2:
            raise ParameterError(f"X has shape {X.shape}; pass (n, n_freq, n_time) spectrograms")
        if shape is None:
            side = round(float(np.sqrt(X.shape[1])))
            if side * side != X.shape[1]:
                raise ParameterError(
                    f"X rows hold {X.shape[1]} values, not a square spectrogram; pass "
                    "input_shape=(n_freq, n_time) or (n, n_freq, n_time) arrays"
                )
            shape = (side, side)
        if int(np.prod(shape)) != X.shape[1]:
            raise ParameterError(
                f"X rows hold {X.shape[1]} values, but the autoencoder takes "
                f"{shape[0]} x {shape[1]} = {int(np.prod(shape))}; make the spectrograms "
                "with the same n_freq and n_time"
            )
        return X.reshape(len(X), *shape)


def _model_folder(model: str | Path) -> Path:
    """A model folder, or the folder of the autoencoder of that name in the project around
    the current folder."""
    folder = Path(model)
    if (folder / "autoencoder.json").is_file():
        return folder
    from sonotype.store.project import ProjectNotFoundError, find_project

    try:
        project = find_project(Path.cwd())
    except ProjectNotFoundError:  # not inside a project: only folders can name models
        project = None
    if project is not None and check_name(str(model)):
        named = Path(project) / "artifacts" / "autoencoders" / str(model)
        if (named / "autoencoder.json").is_file():
            return named
    raise ParameterError(
        f"model={str(model)!r} is neither an autoencoder folder nor the name of one in this "
        "project's artifacts/autoencoders/; train one with `sonotype autoencoder train`",
        parameter="model",
    )


def check_name(name: str) -> bool:
    return "/" not in name and "\\" not in name and name not in ("", ".", "..")
