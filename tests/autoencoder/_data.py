"""Synthetic syllable spectrograms for the autoencoder tests (sonotype.synth birdsong)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sonotype.audio.write import write_audio
from sonotype.features import SpectrogramParams, syllable_spectrograms
from sonotype.synth import birdsong

SR = 16000


def synthetic_syllables(
    folder: Path, *, seed: int = 0, duration_s: float = 12.0, n_freq: int = 32, n_time: int = 32
) -> tuple[np.ndarray, pd.DataFrame]:
    """Clean ``(n, n_freq, n_time)`` spectrograms in [0, 1] of a synthetic song's syllables
    (five types), and their events (with the true ``label``)."""
    audio, events = birdsong(duration_s, sr=SR, n_types=5, snr_db=40.0, random_state=seed)
    path = Path(folder) / "song.wav"
    write_audio(path, audio, SR)
    events = events.assign(recording="song.wav").reset_index(drop=True)
    params = SpectrogramParams(n_freq=n_freq, n_time=n_time, time_mode="stretch")
    specs = syllable_spectrograms(events, {"song.wav": path}, params=params)
    return specs.astype(np.float32), events
