"""sonotype's syllable embedders (``flat``, ``pca``, ``features``) on events and windows.

Each unit (event or window) becomes a fixed-size log spectrogram of its own span (discovery's
defaults: 64 x 64, linear frequencies, the span stretched to 64 columns, per-unit
normalisation) or, for ``features``, its acoustic-feature row. These are computed recording
by recording; the embedder is then fitted on all of them together (PCA needs every row).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sonotype.errors import ParameterError

#: Discovery's default spectrogram settings (docs/discover.md, "How the defaults were chosen").
SPECTROGRAM = {"n_freq": 64, "n_time": 64, "freq_scale": "linear", "time_mode": "stretch"}
#: PCA width, as discovery's default.
N_COMPONENTS = 32


class SyllableEmbedding:
    """A syllable embedder run on units through their spectrograms or acoustic features.

    Parameters
    ----------
    embedder : {"flat", "pca", "features"}
    """

    labels: tuple[str, ...] = ()
    sr = None
    window_s = None

    def __init__(self, embedder: str) -> None:
        from sonotype.embed import EMBEDDERS

        if embedder not in EMBEDDERS:
            raise ParameterError(
                f"--model {embedder!r}: not an embedder; use one of {', '.join(EMBEDDERS)}",
                parameter="model",
            )
        self.embedder = embedder
        self.name = embedder

    @property
    def dimensions(self) -> int | None:
        return N_COMPONENTS if self.embedder == "pca" else None

    def identity(self) -> dict[str, Any]:
        inputs = "acoustic-features" if self.embedder == "features" else SPECTROGRAM
        return {"embedder": self.embedder, "inputs": inputs}

    def per_recording(self, path: Path, name: str, events: pd.DataFrame) -> dict[str, np.ndarray]:
        """The inputs of the embedder for one recording's units, row-aligned."""
        from sonotype.audio.recording import Recording
        from sonotype.features import (
            AcousticParams,
            SpectrogramParams,
            acoustic_features,
            syllable_spectrograms,
        )

        # A last window may run past the end (it is padded for pretrained models): the
        # spectrogram is of the audio there is.
        duration_s = Recording(path).duration_s
        events = events.assign(stop_s=events["stop_s"].clip(upper=duration_s))
        if (events["stop_s"] <= events["start_s"]).any():
            raise ParameterError(
                f"{name}: the {self.embedder!r} embedder needs intervals, and some events are "
                "points (start_s == stop_s); use a pretrained model, which centres a window on "
                "each point"
            )
        if self.embedder == "features":
            table = acoustic_features(events, {name: path}, params=AcousticParams())
            numeric = table.select_dtypes("number")
            return {
                "inputs": numeric.to_numpy(np.float32),
                "columns": np.array(numeric.columns, dtype=str),
            }
        specs = syllable_spectrograms(events, {name: path}, params=SpectrogramParams(**SPECTROGRAM))
        return {"inputs": specs.reshape(len(specs), -1).astype(np.float32)}

    def fit_transform(self, inputs: np.ndarray, *, random_state: int = 0) -> np.ndarray:
        """The embedding of all units' inputs, fitted on them."""
        from sonotype.embed import make_embedder

        if self.embedder == "pca":
            n = min(N_COMPONENTS, len(inputs), inputs.shape[1])
            embedder = make_embedder("pca", n_components=n, random_state=random_state)
        else:
            embedder = make_embedder(self.embedder)
        return np.asarray(embedder.fit_transform(inputs), dtype=np.float32)
