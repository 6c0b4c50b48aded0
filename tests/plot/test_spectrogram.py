"""Spectrogram pictures: the right span and axes, events drawn, files written atomically."""

import numpy as np
import pytest

from sonotype.annotations import make_events
from sonotype.audio import Recording, write_audio
from sonotype.errors import SpanError
from sonotype.plot import choose_stft, save_spectrogram, spectrogram_figure


@pytest.fixture
def recording(tmp_path):
    sr = 16000
    t = np.arange(3 * sr) / sr
    y = 0.01 * np.random.default_rng(0).standard_normal(len(t))
    y[sr : 2 * sr] += 0.5 * np.sin(2 * np.pi * 3000 * t[sr : 2 * sr])
    write_audio(tmp_path / "tone.wav", y, sr)
    return Recording(tmp_path / "tone.wav")


def test_figure_axes_image_and_events(recording):
    events = make_events(
        "tone.wav",
        [1.0, 0.5, 2.5, 10.0],
        [2.0, 0.5, 2.5, 11.0],
        ["tone", "tick", "tick", "outside"],
        low_hz=[2500.0, np.nan, np.nan, np.nan],
        high_hz=[3500.0, np.nan, np.nan, np.nan],
    )
    figure = spectrogram_figure(recording, start_s=0.25, stop_s=2.75, events=events)
    (ax,) = figure.axes
    assert ax.get_xlim() == (0.25, 2.75)
    assert ax.get_ylim() == (0.0, 8000.0)
    (image,) = ax.get_images()
    values = image.get_array()
    # The loudest row of the picture is the 3 kHz tone.
    freqs = np.linspace(0, 8000, values.shape[0])
    assert abs(freqs[np.argmax(values.max(axis=1))] - 3000) < 50
    (box,) = ax.patches
    assert (box.get_x(), box.get_width(), box.get_y(), box.get_height()) == (1.0, 1.0, 2500, 1000)
    assert [t.get_text() for t in ax.texts] == ["tone"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["tick", "tone"]  # "outside" is not in the span


def test_save_png(recording, tmp_path):
    path = save_spectrogram(tmp_path / "out" / "s.png", recording, stop_s=1.0)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["s.png"]


def test_span_outside_is_an_error(recording, tmp_path):
    with pytest.raises(SpanError, match="outside the recording"):
        save_spectrogram(tmp_path / "s.png", recording, start_s=2.0, stop_s=5.0)
    assert not (tmp_path / "s.png").exists()


def test_choose_stft_bounds_the_picture_width():
    n_fft, hop = choose_stft(48000, 48000 * 3600)
    assert n_fft == 1024
    assert 48000 * 3600 / hop <= 2400
