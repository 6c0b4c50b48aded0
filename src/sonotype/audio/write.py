"""Writing audio files atomically."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import soundfile as sf

from sonotype.atomic import atomic_path
from sonotype.errors import ParameterError

_FORMATS = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG"}


def write_audio(
    path: str | os.PathLike[str], y: np.ndarray, sr: int, *, subtype: str | None = None
) -> Path:
    """Write ``y`` (``(samples,)`` or ``(channels, samples)``, float in [-1, 1]) to ``path``.

    The container follows the extension (.wav, .flac, .ogg); ``subtype`` defaults to 16-bit
    PCM for WAV and FLAC. The file appears complete or not at all.
    """
    path = Path(path)
    container = _FORMATS.get(path.suffix.lower())
    if container is None:
        raise ParameterError(
            f"cannot write audio to {str(path)!r}: use one of {', '.join(_FORMATS)}"
        )
    y = np.asarray(y)
    if y.ndim not in (1, 2):
        raise ParameterError(f"y has shape {y.shape}; pass (samples,) or (channels, samples)")
    if subtype is None and container in ("WAV", "FLAC"):
        subtype = "PCM_16"
    with atomic_path(path) as tmp:
        sf.write(tmp, y.T if y.ndim == 2 else y, int(sr), subtype=subtype, format=container)
    return path
