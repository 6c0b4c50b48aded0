"""Spectral analysis: STFT, mel, cepstrum, multitaper with the harmonic F-test, chroma CENS.

Pure numpy and scipy. The STFT, mel, MFCC and chroma definitions are librosa's (results
match it to float precision), with sonotype's naming: STFT quantities keep librosa's names
(``n_fft``, ``hop_length``, ``win_length``, ``sr``), other physical quantities carry their
unit (``fmin_hz``, ``times_s``). Spectrograms have shape ``(..., n_bins, n_frames)``.
:mod:`sonotype.spectral.stream` computes the same transforms over recordings of any length
in bounded memory.
"""

from sonotype.spectral.cens import cens_from_chroma, chroma_cens, chroma_filterbank, chroma_stft
from sonotype.spectral.cepstrum import mfcc
from sonotype.spectral.crop import crop_frequencies
from sonotype.spectral.db import amplitude_to_db, db_to_amplitude, db_to_power, power_to_db
from sonotype.spectral.mel import (
    hz_to_mel,
    mel_filterbank,
    mel_frequencies,
    mel_spectrogram,
    mel_to_hz,
)
from sonotype.spectral.spectrogram import (
    fft_frequencies,
    frame_count,
    frame_times,
    magnitude_spectrogram,
    power_spectrogram,
    stft,
)
from sonotype.spectral.stream import (
    Spectrogram,
    mel_recording,
    multitaper_recording,
    spectrogram_of,
    stft_recording,
    stream_frames,
)
from sonotype.spectral.tapers import (
    MultitaperResult,
    dpss_tapers,
    harmonic_p_value,
    multitaper,
)

__all__ = [
    "MultitaperResult",
    "Spectrogram",
    "amplitude_to_db",
    "cens_from_chroma",
    "chroma_cens",
    "chroma_filterbank",
    "chroma_stft",
    "crop_frequencies",
    "db_to_amplitude",
    "db_to_power",
    "dpss_tapers",
    "fft_frequencies",
    "frame_count",
    "frame_times",
    "harmonic_p_value",
    "hz_to_mel",
    "magnitude_spectrogram",
    "mel_filterbank",
    "mel_frequencies",
    "mel_recording",
    "mel_spectrogram",
    "mel_to_hz",
    "mfcc",
    "multitaper",
    "multitaper_recording",
    "power_spectrogram",
    "power_to_db",
    "spectrogram_of",
    "stft",
    "stft_recording",
    "stream_frames",
]
