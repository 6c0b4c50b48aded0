"""sonotype: bioacoustics from raw recordings to answers.

The top-level names load their modules on first use, so ``import sonotype`` stays fast and
does not import pandas or any heavy library until it is needed.
"""

from __future__ import annotations

import importlib

from sonotype._version import __version__
from sonotype.errors import ParameterError, SonotypeError

_LAZY = {
    "Recording": "sonotype.audio",
    "resample": "sonotype.audio",
    "write_audio": "sonotype.audio",
    "read_events": "sonotype.annotations",
    "write_events": "sonotype.annotations",
    "make_events": "sonotype.annotations",
    "validate_events": "sonotype.annotations",
    "FORMATS": "sonotype.annotations",
    "Project": "sonotype.store",
    "spectral": "sonotype.spectral",
}

__all__ = ["ParameterError", "SonotypeError", "__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        module = importlib.import_module(_LAZY[name])
        return module if module.__name__ == f"sonotype.{name}" else getattr(module, name)
    raise AttributeError(f"module 'sonotype' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
