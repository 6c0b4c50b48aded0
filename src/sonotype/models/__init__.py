"""Supervised networks: architectures, training, classification, export.

This package's own namespace is torch-free (configuration and saved-model descriptions);
torch loads with :mod:`sonotype.models.network`, ``training``, ``inference`` and ``export``.
"""

from sonotype.models.config import NetworkConfig, network_config
from sonotype.models.saved import SavedModel

__all__ = ["NetworkConfig", "SavedModel", "network_config"]
