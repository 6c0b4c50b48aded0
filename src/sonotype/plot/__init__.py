"""Pictures: spectrograms with annotations. The only package that imports matplotlib."""

from sonotype.plot.spectrogram import (
    choose_stft,
    save_spectrogram,
    spectrogram_figure,
)

__all__ = ["choose_stft", "save_spectrogram", "spectrogram_figure"]
