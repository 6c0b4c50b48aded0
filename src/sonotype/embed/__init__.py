"""Embedding syllables: spectrograms or acoustic features to ``(n, d)`` float32 vectors.

Embedders are registered by name in :data:`EMBEDDERS` (``flat``, ``pca``, ``features``,
``autoencoder``; plugins through the ``sonotype.embedders`` entry-point group) and made with
:func:`make_embedder`. Each is a scikit-learn estimator with ``fit``, ``transform`` and
``fit_transform``.
"""

# The embedder modules are imported for their registration side effect.
from sonotype.embed.base import (
    EMBEDDERS,
    Embedder,
    embedder_parameters,
    make_embedder,
    register_embedder,
)
from sonotype.embed.flat import FlatEmbedder
from sonotype.embed.pca import PCAEmbedder
from sonotype.embed.scaled import FeatureEmbedder

# isort: split
# Registered after the first three, so that error messages list those first.
from sonotype.embed.autoencoder import AutoencoderEmbedder
from sonotype.embed.complex import ComplexEmbedder
from sonotype.embed.triplet import TripletEmbedder

__all__ = [
    "EMBEDDERS",
    "AutoencoderEmbedder",
    "ComplexEmbedder",
    "Embedder",
    "FeatureEmbedder",
    "FlatEmbedder",
    "PCAEmbedder",
    "TripletEmbedder",
    "embedder_parameters",
    "make_embedder",
    "register_embedder",
]
