"""Synthetic song: reproducible, and its ground truth matches the sound."""

import numpy as np
import pytest

from sonotype.errors import ParameterError
from sonotype.synth import SYLLABLE_SHAPES, birdsong, flysong, syllable_types


def _rms(y):
    return float(np.sqrt(np.mean(np.asarray(y, np.float64) ** 2)))


def test_birdsong_is_reproducible_and_annotated():
    y1, ev1 = birdsong(10, sr=16000, n_types=5, random_state=3)
    y2, ev2 = birdsong(10, sr=16000, n_types=5, random_state=3)
    np.testing.assert_array_equal(y1, y2)
    assert ev1.equals(ev2)
    assert y1.shape == (160000,) and y1.dtype == np.float32
    assert set(ev1["label"]) == set("abcde")
    assert set(ev1["label:shape"]) == set(SYLLABLE_SHAPES)
    assert (ev1["stop_s"] > ev1["start_s"]).all()
    # Syllables do not overlap and stay inside the recording.
    assert (ev1["start_s"].to_numpy()[1:] >= ev1["stop_s"].to_numpy()[:-1]).all()
    assert ev1["stop_s"].max() <= 10


def test_birdsong_syllables_are_louder_than_gaps_at_the_chosen_snr():
    sr = 16000
    y, events = birdsong(20, sr=sr, snr_db=20, random_state=0)
    inside = np.zeros(len(y), bool)
    for start, stop in zip(events["start_s"], events["stop_s"], strict=True):
        inside[round(start * sr) : round(stop * sr)] = True
    # Signal power over noise power: 20 dB, i.e. a 10x amplitude ratio.
    noise = _rms(y[~inside])
    snr_db = 10 * np.log10((_rms(y[inside]) ** 2 - noise**2) / noise**2)
    assert 19 < snr_db < 21


def test_birdsong_follows_the_motif():
    _, events = birdsong(60, sr=16000, n_types=4, motif_probability=1.0, random_state=1)
    labels = "".join(events["label"])
    # With a deterministic transition matrix, every syllable is followed by the next type
    # within a bout (bouts start again at "a").
    pairs = {labels[i : i + 2] for i in range(len(labels) - 1)}
    assert pairs <= {"ab", "bc", "cd", "da"}


def test_syllable_types_fit_under_nyquist(rng):
    for stype in syllable_types(8, sr=8000, rng=rng):
        assert 0 < stype.low_hz < stype.high_hz < 4000


def test_flysong_pulses_lie_at_the_annotated_times():
    sr = 2500
    y, events = flysong(30, sr=sr, ipi_ms=35, snr_db=20, random_state=2)
    pulses = events[events["label"] == "pulse"]
    assert (pulses["start_s"] == pulses["stop_s"]).all()
    assert len(pulses) > 50
    ipi = np.diff(pulses["start_s"].to_numpy())
    assert abs(np.median(ipi[ipi < 0.06]) - 0.035) < 0.002
    # The sound at each pulse centre is much louder than the background.
    centres = np.round(pulses["start_s"].to_numpy() * sr).astype(int)
    near = np.array([np.abs(y[c - 3 : c + 4]).max() for c in centres])
    assert np.median(near) > 5 * _rms(y[: int(0.25 * sr)])
    sine = events[events["label"] == "sine"]
    assert (sine["stop_s"] > sine["start_s"]).all()


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: birdsong(0), "duration_s=0 must be a number of seconds > 0"),
        (lambda: birdsong(1, motif_probability=2), "motif_probability=2"),
        (lambda: flysong(1, sr=400), "sr=400 must exceed twice"),
        (lambda: flysong(1, ipi_ms=5), "ipi_ms=5"),
    ],
)
def test_bad_parameters(call, match):
    with pytest.raises(ParameterError, match=match):
        call()


def test_usv_calls_are_ultrasonic_and_exactly_annotated():
    from sonotype.synth import usv

    y, events = usv(3.0, random_state=5)
    y2, events2 = usv(3.0, random_state=5)
    np.testing.assert_array_equal(y, y2)
    assert events.equals(events2)
    sr = 250000
    assert y.shape == (3 * sr,) and y.dtype == np.float32
    assert len(events) >= 5 and set(events["label"]) == {"usv"}
    assert (events["low_hz"] >= 35000).all() and (events["high_hz"] <= 105000).all()
    durations = (events["stop_s"] - events["start_s"]).to_numpy()
    assert durations.min() >= 0.009 and durations.max() <= 0.121
    assert (events["start_s"].to_numpy()[1:] > events["stop_s"].to_numpy()[:-1]).all()
    # Ultrasound power (30-110 kHz) is far higher inside calls than between them.
    spectrum_db = []
    for inside in (True, False):
        mask = np.zeros(len(y), bool)
        for start, stop in zip(events["start_s"], events["stop_s"], strict=True):
            mask[round(start * sr) : round(stop * sr)] = True
        part = y[mask if inside else ~mask]
        power = np.abs(np.fft.rfft(part)) ** 2
        freqs = np.fft.rfftfreq(len(part), 1 / sr)
        band = (freqs > 30000) & (freqs < 110000)
        spectrum_db.append(10 * np.log10(power[band].sum() / len(part)))
    assert spectrum_db[0] - spectrum_db[1] > 15
    with pytest.raises(ParameterError, match="high_hz"):
        usv(1.0, sr=192000, high_hz=100000)
