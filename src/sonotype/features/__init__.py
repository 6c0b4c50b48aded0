"""Per-syllable features: fixed-size spectrograms and acoustic measurements.

Both take an Events table (one row per syllable) and the recordings it refers to, read only
the audio the syllables need, and return arrays or tables row-aligned with the events.
"""

from sonotype.features.acoustic import (
    ACOUSTIC_FEATURES,
    AcousticParams,
    acoustic_features,
    signal_features,
)
from sonotype.features.spectrograms import (
    SpectrogramParams,
    flatten,
    frequency_weights,
    global_db_range,
    normalize_spectrograms,
    stft_settings,
    syllable_spectrograms,
)

__all__ = [
    "ACOUSTIC_FEATURES",
    "AcousticParams",
    "SpectrogramParams",
    "acoustic_features",
    "flatten",
    "frequency_weights",
    "global_db_range",
    "normalize_spectrograms",
    "signal_features",
    "stft_settings",
    "syllable_spectrograms",
]
