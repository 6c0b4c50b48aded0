"""Units of embedding: windows as events, events centred in a model's window, padded reads."""

import numpy as np
import pandas as pd
import pytest

from sonotype.audio import Recording, write_audio
from sonotype.audio.resample import resample
from sonotype.embeddings.units import (
    WINDOW_KIND,
    audible_spans,
    centred_spans,
    read_spans,
    window_events,
    window_starts,
)
from sonotype.errors import ParameterError


@pytest.mark.parametrize(
    ("duration_s", "window_s", "hop_s", "expected"),
    [
        (9.0, 3.0, 3.0, [0.0, 3.0, 6.0]),
        (10.4, 3.0, 3.0, [0.0, 3.0, 6.0]),  # 1.4 s left: under half a window, dropped
        (10.6, 3.0, 3.0, [0.0, 3.0, 6.0, 9.0]),  # 1.6 s left: kept, padded
        (0.3, 3.0, 3.0, [0.0]),  # a short recording keeps one window
        (1.0, 0.3, 0.1, [round(0.1 * i, 9) for i in range(9)]),
    ],
)
def test_window_starts(duration_s, window_s, hop_s, expected):
    np.testing.assert_allclose(window_starts(duration_s, window_s=window_s, hop_s=hop_s), expected)


def test_windows_are_events_of_kind_window_named_by_the_set():
    index = pd.DataFrame(
        {"path": ["a.wav", "b/c.wav"], "frames": [96000, 48000], "sr": [16000] * 2}
    )
    events = window_events(index, window_s=2.0, hop_s=1.0, source="birds")
    # The last window of each is half audio, half padding: kept.
    assert events["recording"].tolist() == ["a.wav"] * 6 + ["b/c.wav"] * 3
    assert set(events["kind"]) == {WINDOW_KIND} and set(events["source"]) == {"birds"}
    np.testing.assert_allclose(events["stop_s"] - events["start_s"], 2.0)
    np.testing.assert_allclose(events["start_s"], [0, 1, 2, 3, 4, 5, 0, 1, 2])


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), "3"])
def test_bad_windowing_names_the_option(bad):
    with pytest.raises(ParameterError, match="must be a positive number") as error:
        window_starts(10.0, window_s=bad, hop_s=1.0)
    assert error.value.parameter == "windows"


def test_centred_spans_pad_short_events_and_cut_long_ones():
    events = pd.DataFrame({"start_s": [1.0, 2.0, 5.0], "stop_s": [1.5, 8.0, 5.0]})
    np.testing.assert_allclose(centred_spans(events, 3.0), [[-0.25, 2.75], [3.5, 6.5], [3.5, 6.5]])


def test_read_spans_zero_pads_outside_the_recording_and_resamples(tmp_path, rng):
    sr = 8000
    audio = rng.uniform(-0.5, 0.5, 2 * sr).astype(np.float32)
    write_audio(tmp_path / "a.wav", audio, sr, subtype="FLOAT")
    recording = Recording(tmp_path / "a.wav")
    spans = np.array([[-0.5, 0.5], [0.5, 1.5], [1.5, 2.5]])
    batches = list(read_spans(recording, spans, np.zeros(3, int), sr=sr, samples=sr, batch_size=2))
    assert [first for first, _ in batches] == [0, 2]
    got = np.concatenate([b for _, b in batches])
    np.testing.assert_array_equal(got[0, : sr // 2], 0)
    np.testing.assert_allclose(got[0, sr // 2 :], audio[: sr // 2])
    np.testing.assert_allclose(got[1], audio[sr // 2 : 3 * sr // 2])
    np.testing.assert_allclose(got[2, : sr // 2], audio[3 * sr // 2 :])
    np.testing.assert_array_equal(got[2, sr // 2 :], 0)
    # At twice the rate: the span read, then resampled (audio/resample.py).
    ((_, up),) = read_spans(
        recording, spans[1:2], np.zeros(1, int), sr=2 * sr, samples=2 * sr, batch_size=4
    )
    assert up.shape == (1, 2 * sr)
    np.testing.assert_allclose(up[0], resample(audio[sr // 2 : 3 * sr // 2], sr, 2 * sr), atol=1e-6)


def test_zero_padding_hears_only_the_event_and_points_hear_their_context(tmp_path, rng):
    sr = 1000
    audio = rng.uniform(0.1, 0.5, 4 * sr).astype(np.float32)
    write_audio(tmp_path / "a.wav", audio, sr, subtype="FLOAT")
    recording = Recording(tmp_path / "a.wav")
    events = pd.DataFrame({"start_s": [1.0, 2.0], "stop_s": [1.2, 2.0]})
    spans = centred_spans(events, 1.0)
    limits = audible_spans(events, pad="zeros")
    ((_, got),) = read_spans(
        recording, spans, np.zeros(2, int), sr=sr, samples=sr, batch_size=2, limits=limits
    )
    # The 0.2 s event sits in the middle of 1 s of silence.
    np.testing.assert_array_equal(got[0, :400], 0)
    np.testing.assert_allclose(got[0, 400:600], audio[1000:1200])
    np.testing.assert_array_equal(got[0, 600:], 0)
    np.testing.assert_allclose(got[1], audio[1500:2500])  # a point: its context
    assert audible_spans(events, pad="audio") is None
    with pytest.raises(ParameterError, match="pad='edge' must be one of zeros, audio"):
        audible_spans(events, pad="edge")
