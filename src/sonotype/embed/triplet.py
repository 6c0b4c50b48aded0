"""The ``triplet`` embedder: a triplet network trained by ``sonotype triplets train``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sonotype.embed.base import Embedder, register_embedder
from sonotype.errors import ParameterError


@register_embedder("triplet")
class TripletEmbedder(Embedder):
    """Embeds log-mel spectrograms with a trained triplet network (torch, imported on fit).

    Parameters
    ----------
    model : path
        A ``model.pt`` written by ``sonotype triplets train``
        (``artifacts/triplets/NAME/model.pt``).

    Attributes
    ----------
    trained_ : sonotype.triplets.training.TrainedTriplets
    front_ : sonotype.triplets.frontend.FrontEnd
        How inputs must be made: ``front_.of_samples(y)`` for samples at ``front_.sr``.
    n_components_ : int
    """

    def __init__(self, model: str | Path | None = None) -> None:
        self.model = model

    def fit(self, X=None, y=None) -> TripletEmbedder:
        """Load the network (``X`` is not used: the network is trained already)."""
        if self.model is None or not Path(self.model).is_file():
            raise ParameterError(
                f"model={self.model!r} is not a file; give the model.pt of a triplet set "
                "(artifacts/triplets/NAME/model.pt, made by `sonotype triplets train`)",
                parameter="model",
            )
        from sonotype.triplets.training import TrainedTriplets

        self.trained_ = TrainedTriplets.load(Path(self.model))
        self.front_ = self.trained_.front
        self.n_components_ = self.trained_.config.dim
        return self

    def transform(self, X) -> np.ndarray:
        """Embed log-mel spectrograms (``(n, n_mels, frames)``, or a list of
        ``(n_mels, frames_i)``): float32 ``(n, n_components_)``."""
        self._check_fitted()
        from sonotype.triplets.extract import embed_spectrograms

        for i, spec in enumerate(X):
            if np.ndim(spec) != 2 or np.shape(spec)[0] != self.front_.n_mels:
                raise ParameterError(
                    f"row {i} has shape {np.shape(spec)}; the network takes log-mel "
                    f"spectrograms of {self.front_.n_mels} bands, (n_mels, frames), made by "
                    "front_.of_samples"
                )
        return embed_spectrograms(self.trained_, list(X))
