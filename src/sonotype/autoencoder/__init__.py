"""Denoising convolutional autoencoders on fixed-size spectrograms (feature_extraction_saec).

Torch-free at import: :mod:`~sonotype.autoencoder.config` (settings and the config grid),
:mod:`~sonotype.autoencoder.pooling` (features from latent arrays) and
:mod:`~sonotype.autoencoder.saved` (a trained model on disk) load torch only when a network
runs; :mod:`~sonotype.autoencoder.architectures`, :mod:`~sonotype.autoencoder.corrupt`,
:mod:`~sonotype.autoencoder.training`, :mod:`~sonotype.autoencoder.export` and
:mod:`~sonotype.autoencoder.classifier` (the ``train --loss autoencoder`` reconstruction
model) import torch.
"""

from sonotype.autoencoder.config import (
    AutoencoderConfig,
    AutoencoderSection,
    autoencoder_config,
)
from sonotype.autoencoder.pooling import LinearReduction, pool_latent
from sonotype.autoencoder.saved import SavedAutoencoder

__all__ = [
    "AutoencoderConfig",
    "AutoencoderSection",
    "LinearReduction",
    "SavedAutoencoder",
    "autoencoder_config",
    "pool_latent",
]
