"""Every detector's defaults work at every sample rate from 2 kHz to 500 kHz: band edges above
the Nyquist frequency are dropped, F-test windows become powers of two, each with a note."""

from __future__ import annotations

import numpy as np
import pytest

from sonotype.audio import write_audio
from sonotype.detect import detect_recording, make_detector
from sonotype.detect.amplitude import Amplitude
from sonotype.detect.time_freq import TimeFreq

RATES = [2000, 2500, 8000, 16000, 22050, 32000, 44100, 48000, 96000, 192000, 250000, 500000]
#: Three tone bursts, (start_s, stop_s), in 2 s of quiet noise.
BURSTS = [(0.3, 0.45), (0.8, 1.0), (1.4, 1.5)]


def _bursts(sr: int, rng) -> np.ndarray:
    """Tones (within every default band) 40 dB over white noise, with 2 ms ramps."""
    freq_hz = min(0.3 * sr, 3000.0)
    y = 0.001 * rng.standard_normal(2 * sr)
    for start_s, stop_s in BURSTS:
        start, stop = round(start_s * sr), round(stop_s * sr)
        t = np.arange(stop - start) / sr
        ramp = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.002)
        y[start:stop] += 0.3 * ramp * np.sin(2 * np.pi * freq_hz * t)
    return y.astype(np.float32)


@pytest.mark.parametrize("sr", RATES)
@pytest.mark.parametrize("method", ["amplitude", "time-freq"])
def test_default_detectors_find_tone_bursts_at_every_rate(tmp_path, rng, sr, method):
    path = write_audio(tmp_path / "bursts.wav", _bursts(sr, rng), sr, subtype="FLOAT")
    events = detect_recording(make_detector(method), path)
    label = "syllable" if method == "amplitude" else "time"
    found = events[events["label"] == label][["start_s", "stop_s"]].to_numpy()
    assert len(found) == len(BURSTS), found
    # Amplitude's 2 ms boxcar and time-freq's 6.4 ms gap closing keep edges within 10 ms.
    np.testing.assert_allclose(found, BURSTS, atol=0.01)


@pytest.mark.parametrize(
    ("sr", "n_samples"),
    [(2000, 64), (2500, 64), (8000, 256), (22050, 512), (32000, 1024), (44100, 1024),
     (48000, 1024), (250000, 8192), (500000, 16384)],
)  # fmt: skip
def test_time_freq_window_becomes_the_nearest_power_of_two(sr, n_samples):
    fitted, notes = TimeFreq().for_rate(sr)
    assert fitted._n(sr) == n_samples
    fitted.check(sr)
    if sr == 2500:  # SongExplorer's own rate: 25.6 ms is already 64 samples
        assert fitted == TimeFreq() and notes == ()
    else:
        assert len(notes) == 1 and f"using {n_samples} samples" in notes[0]


def test_time_freq_band_above_nyquist_is_clipped_with_a_note():
    fitted, notes = TimeFreq(freq_range_hz="100,5000").for_rate(2500)
    assert fitted.freq_range_hz == (100.0, 1250.0)
    assert "testing 100-1250 Hz" in notes[0]
    fitted.check(2500)


@pytest.mark.parametrize("sr", [2000, 2500, 16000, 20000])
def test_amplitude_high_edge_at_or_above_nyquist_is_dropped_with_a_note(sr):
    fitted, notes = Amplitude().for_rate(sr)
    assert fitted.high_hz is None and fitted.low_hz == 500
    assert len(notes) == 1 and "high_hz=10000 is not below half the sample rate" in notes[0]
    fitted.check(sr)
    assert Amplitude().high_hz == 10000  # the detector itself is unchanged


def test_amplitude_keeps_a_band_below_nyquist():
    detector = Amplitude()
    assert detector.for_rate(22050) == (detector, ())
