"""Spectrogram pictures: the right span and axes, events drawn, files written atomically."""

import numpy as np
import pytest
from matplotlib.collections import PolyCollection

from sonotype.annotations import make_events
from sonotype.audio import Recording, write_audio
from sonotype.errors import ParameterError, SpanError
from sonotype.plot import choose_stft, save_spectrogram, spectrogram_figure
from sonotype.plot.spectrogram import MAX_LABEL_CHARS, MAX_LEGEND_LABELS


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
    (boxes,) = [c for c in ax.collections if isinstance(c, PolyCollection)]
    (box,) = boxes.get_paths()
    corners = box.vertices[:4].tolist()
    assert corners == [[1.0, 2500], [2.0, 2500], [2.0, 3500], [1.0, 3500]]
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


def test_many_events_and_huge_labels_draw_quickly_and_cut(recording):
    # 50,000 boxes of 1,000 labels, one of the longest label: one collection, short texts.
    n = 50_000
    starts = np.linspace(0, 2.9, n)
    labels = np.array([f"type{i % 1000}" for i in range(n)], dtype=object)
    labels[0] = "x" * 10_000  # the longest label an Events table takes
    events = make_events("tone.wav", starts, starts + 0.05, labels)
    figure = spectrogram_figure(recording, events=events)
    (ax,) = figure.axes
    (boxes,) = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(boxes.get_paths()) == n
    assert len(ax.texts) == 0  # too many boxes to name each
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert len(legend) == MAX_LEGEND_LABELS + 1
    assert legend[-1] == f"and {1001 - MAX_LEGEND_LABELS} more labels"
    assert max(map(len, legend)) <= MAX_LABEL_CHARS


def test_only_events_inside_the_span_are_drawn(recording):
    labels = ["early", "m" * 10_000, "late"]
    events = make_events("tone.wav", [0.1, 1.0, 2.5], [0.2, 1.5, 2.6], labels)
    figure = spectrogram_figure(recording, start_s=0.9, stop_s=2.0, events=events)
    (ax,) = figure.axes
    (boxes,) = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(boxes.get_paths()) == 1
    assert [t.get_text() for t in ax.texts] == ["m" * (MAX_LABEL_CHARS - 1) + "…"]


@pytest.mark.parametrize(
    ("name", "magic"), [("s.jpg", b"\xff\xd8\xff"), ("s.pdf", b"%PDF"), ("s.svg", b"<?xml")]
)
def test_the_suffix_names_the_format(recording, tmp_path, name, magic):
    path = save_spectrogram(tmp_path / name, recording, stop_s=0.5)
    assert path.read_bytes().startswith(magic)


def test_unknown_suffix_and_upside_down_band_are_errors(recording, tmp_path):
    with pytest.raises(ParameterError, match=r"suffix \.bmp; .* one of \.png, \.jpg"):
        save_spectrogram(tmp_path / "s.bmp", recording)
    with pytest.raises(ParameterError, match="0 <= low < high"):
        spectrogram_figure(recording, freq_range_hz=(5000, 100))
    assert list(tmp_path.iterdir()) == [tmp_path / "tone.wav"]
