"""The ``amplitude`` detector (evsonganaly's segmentation) and its block-exact filters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.signal

import sonotype.detect.amplitude as amplitude_module
from sonotype.annotations import read_events
from sonotype.annotations.formats.notmat import read_notmat_segmentation
from sonotype.audio import Recording, write_audio
from sonotype.detect import detect_recording, make_detector
from sonotype.detect.amplitude import Amplitude
from sonotype.detect.filters import (
    aligned_context,
    aligned_convolve,
    fir_bandpass,
    moving_sum,
    zero_phase,
)
from sonotype.errors import ParameterError
from sonotype.synth import birdsong
from tests.fixtures.shared import data_folder

SR = 32000


def _tone(duration_s: float, *, freq_hz: float = 2000.0, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(round(duration_s * SR)) / SR
    return (amplitude * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


def _place(total_s: float, *pieces: tuple[float, np.ndarray]) -> np.ndarray:
    """Silence of ``total_s`` with each ``(start_s, samples)`` piece added in."""
    y = np.zeros(round(total_s * SR), np.float32)
    for start_s, piece in pieces:
        start = round(start_s * SR)
        y[start : start + len(piece)] += piece
    return y


def _detect(tmp_path, y, detector, *, block_s=float("inf"), name="y.wav"):
    path = write_audio(tmp_path / name, y, SR)
    events = detect_recording(detector, path, block_s=block_s)
    return events[["start_s", "stop_s"]].to_numpy()


def _absolute(**params) -> Amplitude:
    return Amplitude(threshold_mode="absolute", **({"threshold": 1e6} | params))


def _match(ref: np.ndarray, est: np.ndarray, tol_s: float) -> np.ndarray:
    """One-to-one pairs ``(i_ref, i_est)`` whose onsets and offsets both lie within
    ``tol_s``: each reference takes the closest free estimate (syllables do not overlap)."""
    pairs, taken = [], np.zeros(len(est), bool)
    for i, (on, off) in enumerate(ref):
        error = np.abs(est[:, 0] - on) + np.abs(est[:, 1] - off)
        ok = (np.abs(est[:, 0] - on) <= tol_s) & (np.abs(est[:, 1] - off) <= tol_s) & ~taken
        if ok.any():
            j = int(np.flatnonzero(ok)[np.argmin(error[ok])])
            taken[j] = True
            pairs.append((i, j))
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)


def _scores(ref: np.ndarray, est: np.ndarray, tol_s: float) -> dict[str, float]:
    pairs = _match(ref, est, tol_s)
    precision = len(pairs) / max(len(est), 1)
    recall = len(pairs) / max(len(ref), 1)
    f1 = 2 * precision * recall / (precision + recall) if len(pairs) else 0.0
    return {"f1": f1, "precision": precision, "recall": recall, "pairs": pairs}


# -- filters -----------------------------------------------------------------------------------


def test_moving_sum_equals_naive_sums(rng):
    x = rng.standard_normal(300)
    for width in (1, 2, 3, 7, 64, 100, 300):
        naive = np.array([x[i : i + width].sum() for i in range(len(x) - width + 1)])
        np.testing.assert_allclose(moving_sum(x, width), naive, rtol=1e-12, atol=1e-12)
    assert moving_sum(x, 301).shape == (0,)
    with pytest.raises(ParameterError, match="width=0"):
        moving_sum(x, 0)


def test_moving_sum_is_bitwise_independent_of_where_the_array_starts(rng):
    x = rng.standard_normal(5000) * 1e4
    whole = moving_sum(x, 77)
    for start in (1, 13, 999):
        np.testing.assert_array_equal(moving_sum(x[start:], 77), whole[start:])


def test_aligned_convolve_equals_numpy_and_is_bitwise_block_independent(rng):
    kernel = zero_phase(fir_bandpass(SR, low_hz=500, high_hz=10000))
    x = rng.standard_normal(60000)
    whole, whole_start = aligned_convolve(x, kernel, start=0)
    reference = np.convolve(x, kernel, mode="same")
    span = slice(whole_start, whole_start + len(whole))
    np.testing.assert_allclose(whole, reference[span], rtol=0, atol=1e-12)
    reach = aligned_context(len(kernel))
    for lo, hi in ((1234, 40000), (9999, 9999 + 2 * reach + 5)):
        part, part_start = aligned_convolve(x[lo:hi], kernel, start=lo)
        assert part_start <= lo + reach and part_start + len(part) >= hi - reach
        np.testing.assert_array_equal(part, whole[part_start - whole_start :][: len(part)])


def test_fir_bandpass_is_evsonganalys_filter_and_checks_its_band():
    taps = fir_bandpass(SR, low_hz=500, high_hz=10000)
    assert taps.shape == (513,)
    np.testing.assert_allclose(taps, taps[::-1], rtol=0, atol=1e-15)
    _, response = scipy.signal.freqz(taps, worN=[250, 3000, 14000], fs=SR)
    assert abs(response[1]) == pytest.approx(1, abs=0.01)
    assert abs(response[0]) < 0.1 and abs(response[2]) < 0.01
    assert fir_bandpass(SR, low_hz=None, high_hz=4000).sum() == pytest.approx(1)
    with pytest.raises(ParameterError, match="high_hz=16000 must lie between 0 and half"):
        fir_bandpass(SR, low_hz=500, high_hz=16000)


# -- the envelope ------------------------------------------------------------------------------


def test_envelope_equals_evsonganalys_filtfilt_pipeline_away_from_the_edges(rng):
    """SmoothData.m: filtfilt with the 513-tap FIR, square, centred 2 ms boxcar."""
    y = (0.05 * rng.standard_normal(SR)).astype(np.float32)
    y[8000:12000] += _tone(0.125)
    raw = y.astype(np.float64) * 32768
    taps = fir_bandpass(SR, low_hz=500, high_hz=10000)
    filtered = scipy.signal.filtfilt(taps, [1.0], raw, padlen=512)
    width = 64
    full = np.convolve(filtered**2, np.ones(width) / width)
    offset = width // 2  # MATLAB's round((len(smooth) - len(song)) / 2)
    expected = full[offset : offset + len(y)]
    got = Amplitude().envelope(y, sr=SR)
    interior = slice(2000, len(y) - 2000)
    np.testing.assert_allclose(got[interior], expected[interior], rtol=1e-9)


def test_envelope_without_filter_is_a_centred_moving_average_with_zeros_beyond_the_ends():
    y = np.zeros(50, np.float32)
    y[0], y[20], y[49] = 1.0, 0.5, 0.25
    got = Amplitude(low_hz=None, high_hz=None, amplitude_scale=1.0).envelope(y, sr=2000)
    width = 4  # 2 ms at 2000 Hz: output n averages samples n-1 .. n+2
    padded = np.concatenate([np.zeros(5), y.astype(np.float64) ** 2, np.zeros(5)])
    expected = np.array([padded[n + 5 - 1 : n + 5 + 3].sum() / width for n in range(50)])
    np.testing.assert_allclose(got, expected, rtol=1e-12)


# -- known answers -----------------------------------------------------------------------------


def test_tones_in_silence_are_found_where_they_are(tmp_path):
    times = [(0.2, 0.3), (0.5, 0.65), (1.0, 1.08)]
    y = _place(1.5, *((on, _tone(off - on)) for on, off in times))
    found = _detect(tmp_path, y, _absolute())
    assert found.shape == (3, 2)
    np.testing.assert_allclose(found, times, atol=0.002)


def test_tones_touching_the_ends_of_the_file_are_found(tmp_path):
    y = _place(0.5, (0.0, _tone(0.1)), (0.4, _tone(0.1)))
    for block_s in (float("inf"), 0.0713):
        found = _detect(tmp_path, y, _absolute(), block_s=block_s)
        np.testing.assert_allclose(found, [[0.0, 0.1], [0.4, 0.5]], atol=0.002)


def test_short_gaps_are_closed_and_short_syllables_dropped(tmp_path):
    # Two tones 10 ms apart, then a 6 ms blip.
    y = _place(1.0, (0.2, _tone(0.1)), (0.31, _tone(0.1)), (0.7, _tone(0.006)))
    assert len(_detect(tmp_path, y, _absolute(min_silence_ms=3, min_duration_ms=3))) == 3
    merged = _detect(tmp_path, y, _absolute(min_silence_ms=15, min_duration_ms=3))
    np.testing.assert_allclose(merged[0], [0.2, 0.41], atol=0.002)
    assert len(merged) == 2
    assert len(_detect(tmp_path, y, _absolute(min_silence_ms=15, min_duration_ms=20))) == 1


def test_gap_and_duration_limits_use_evsonganalys_strict_comparisons():
    """evsonganaly keeps gaps longer than min_int and syllables longer than min_dur."""
    detector = _absolute(min_silence_ms=6, min_duration_ms=10)
    # 6 ms = 192 samples, 10 ms = 320 samples at 32 kHz.
    raw = np.array([[0, 400], [592, 1000], [1193, 1513], [3000, 3321]])
    found = detector.finish({"syllable": raw}, sr=SR, n_samples=4000)["syllable"]
    # The 192-sample gap closes, the 193-sample gap stays; [1193, 1513) is 320 samples long.
    assert found.tolist() == [[0, 1000], [3000, 3321]]


def test_hysteresis_starts_above_the_onset_and_ends_at_the_offset_threshold(tmp_path):
    quiet, loud = 0.05, 0.5  # envelope ~1.3e6 and ~1.3e8 in int16 units
    y = _place(
        1.0,
        (0.1, _tone(0.1, amplitude=quiet)),
        (0.2, _tone(0.1, amplitude=loud)),
        (0.3, _tone(0.1, amplitude=quiet)),
        (0.7, _tone(0.1, amplitude=quiet)),  # never loud: not a syllable
    )
    both = _absolute(threshold=None, onset_threshold=1e7, offset_threshold=1e5)
    np.testing.assert_allclose(_detect(tmp_path, y, both), [[0.2, 0.4]], atol=0.002)
    high = _absolute(threshold=1e7)
    np.testing.assert_allclose(_detect(tmp_path, y, high), [[0.2, 0.3]], atol=0.002)
    low = _absolute(threshold=1e5)
    np.testing.assert_allclose(_detect(tmp_path, y, low), [[0.1, 0.4], [0.7, 0.8]], atol=0.002)
    whole = _detect(tmp_path, y, both)
    for block_s in (0.0713, 0.5):
        np.testing.assert_array_equal(_detect(tmp_path, y, both, block_s=block_s), whole)


def test_noise_mode_thresholds_relative_to_the_noise_floor(tmp_path, rng):
    song = _place(2.0, (0.5, _tone(0.2)), (1.2, _tone(0.1, amplitude=0.05)))
    for gain in (1.0, 0.01):  # the same events whatever the recording's level
        y = (gain * (song + 0.001 * rng.standard_normal(len(song)))).astype(np.float32)
        found = _detect(tmp_path, y, Amplitude(), name=f"g{gain}.wav")
        np.testing.assert_allclose(found, [[0.5, 0.7], [1.2, 1.3]], atol=0.003)


def test_noise_floor_ignores_digital_silence_and_all_silence_finds_nothing(tmp_path, rng):
    y = np.zeros(2 * SR, np.float32)
    y[SR:] = 0.001 * rng.standard_normal(SR)
    y[SR + 8000 : SR + 11200] += _tone(0.1)
    found = _detect(tmp_path, y, Amplitude())
    np.testing.assert_allclose(found, [[1.25, 1.35]], atol=0.003)
    assert len(_detect(tmp_path, np.zeros(SR, np.float32), Amplitude(), name="zero.wav")) == 0


def test_noise_floor_is_the_exact_quantile_however_it_is_streamed(tmp_path, rng, monkeypatch):
    y, _ = birdsong(4.0, sr=SR, random_state=3)
    path = write_audio(tmp_path / "song.wav", y, SR)
    recording = Recording(path)
    detector = Amplitude(noise_quantile=0.3)
    envelope = detector.envelope(recording.read_frames(channel=0)[0], sr=SR)
    expected = np.quantile(envelope[envelope > (32768 * 2.0**-24) ** 2], 0.3)
    monkeypatch.setattr(amplitude_module, "_STATS_CHUNK", 10007)
    stats = detector.statistics(recording, channel=0, block_s=60.0)
    assert stats["noise_floor"] == expected
    assert stats["offset_threshold"] == stats["onset_threshold"] == 20 * expected


def test_synthetic_birdsong_is_segmented(tmp_path):
    y, events = birdsong(20.0, sr=SR, snr_db=30, random_state=7)
    found = _detect(tmp_path, y, Amplitude(min_silence_ms=5, min_duration_ms=5))
    scores = _scores(events[["start_s", "stop_s"]].to_numpy(), found, 0.01)
    assert scores["recall"] >= 0.9 and scores["precision"] >= 0.9, scores


# -- block-wise runs equal whole-file runs -----------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"threshold_mode": "absolute", "threshold": 1e7},
        {},
        {"noise_factor": 10, "onset_threshold": 100, "offset_threshold": 5, "smooth_ms": 3.3},
        {"low_hz": None, "high_hz": 6000.0, "smooth_ms": 1.0},
        {"low_hz": None, "high_hz": None, "min_silence_ms": 0, "min_duration_ms": 0},
    ],
)
def test_blockwise_runs_equal_the_whole_file_run(tmp_path, params):
    y, _ = birdsong(8.0, sr=SR, random_state=11)
    path = write_audio(tmp_path / "song.wav", y, SR)
    detector = Amplitude(**params)
    whole = detect_recording(detector, path, block_s=float("inf"))
    assert len(whole) > 10
    for block_s in (0.0713, 0.5, 3.3):
        pd.testing.assert_frame_equal(detect_recording(detector, path, block_s=block_s), whole)


# -- parameters --------------------------------------------------------------------------------


def test_registered_with_its_label_and_defaults():
    detector = make_detector("amplitude", smooth_ms=4)
    assert isinstance(detector, Amplitude) and detector.labels() == ("syllable",)
    assert detector.params()["low_hz"] == 500 and detector.params()["high_hz"] == 10000
    assert detector.smooth_samples(SR) == 128 and Amplitude().smooth_samples(SR) == 64
    # The FIR is evsonganaly's 512th order at 32 kHz, and as long in time at other rates.
    assert Amplitude().filter_order(SR) == 512 and Amplitude().filter_order(2000) == 32
    assert Amplitude(smooth_ms=1.5).smooth_samples(1000) == 2  # MATLAB rounds halves up


@pytest.mark.parametrize(
    ("params", "sr", "message"),
    [
        ({"high_hz": 12000}, 22050, r"high_hz=12000 must be below half the sample rate, 11025"),
        ({"high_hz": 12000}, 22050, r"sr=22050; lower high_hz .* or pass high_hz=None"),
        ({"low_hz": 12000}, SR, "low_hz=12000 must be below high_hz=10000"),
        ({"low_hz": -5}, SR, "low_hz=-5 must be a number of Hz > 0; or None for no high-pass edge"),
        ({"smooth_ms": 0}, SR, "smooth_ms=0 must be a number of ms > 0; the default is 2"),
        ({"smooth_ms": 0.01}, SR, "less than one sample"),
        ({"min_silence_ms": -1}, SR, "min_silence_ms=-1 must be a number of ms >= 0"),
        ({"amplitude_scale": 0}, SR, "amplitude_scale=0 must be a number > 0"),
        (
            {"threshold_mode": "relative"},
            SR,
            "threshold_mode='relative' must be one of 'absolute', 'noise'",
        ),
        ({"threshold_mode": "absolute"}, SR, "'absolute' needs threshold=VALUE"),
        ({"threshold": 1500}, SR, "threshold=1500 applies only with threshold_mode='absolute'"),
        ({"noise_quantile": 1.5}, SR, r"noise_quantile=1.5 must be a number in \[0, 1\]"),
        ({"noise_factor": 0}, SR, "noise_factor=0 must be a number > 0"),
        ({"onset_threshold": 2, "offset_threshold": 3}, SR, "onset_threshold=2 must be at least"),
    ],
)
def test_bad_parameters_are_refused_with_the_fix(params, sr, message):
    with pytest.raises(ParameterError, match=message):
        Amplitude(**params).check(sr)


def test_check_runs_before_any_audio_is_read(tmp_path):
    path = write_audio(tmp_path / "low.wav", np.zeros(1000, np.float32), 16000)
    with pytest.raises(ParameterError, match="low_hz=9000 must be below half"):
        detect_recording(Amplitude(low_hz=9000, high_hz=None), path)
    # A default high edge above the Nyquist frequency is dropped, not refused (test_rates).
    assert len(detect_recording(Amplitude(), path)) == 0


# -- real songs --------------------------------------------------------------------------------


@pytest.mark.realdata
def test_reproduces_evsonganaly_segmentation_of_bengalese_finch_song():
    """Each song segmented with the parameters stored in its .not.mat file recovers every
    annotated syllable to a sample; the few extra segments are ones the annotators deleted
    (calls, noise, a syllable cut by the start of a file)."""
    folder = data_folder("bengalese-finch-gy6or6")
    n_ref = n_est = 0
    pairs, on_errors, off_errors = 0, [], []
    for song in sorted(folder.glob("*.cbin")):
        notmat = song.with_name(song.name + ".not.mat")
        p = read_notmat_segmentation(notmat)
        detector = Amplitude(
            threshold_mode="absolute",
            threshold=p["threshold"],
            smooth_ms=p["sm_win_ms"],
            min_silence_ms=p["min_int_ms"],
            min_duration_ms=p["min_dur_ms"],
        )
        recording = Recording(song)
        assert recording.sr == p["sr"]
        found = detect_recording(detector, recording, channels=[0])
        ref = read_events(notmat)[["start_s", "stop_s"]].to_numpy()
        est = found[["start_s", "stop_s"]].to_numpy()
        matched = _match(ref, est, 0.005)
        n_ref, n_est, pairs = n_ref + len(ref), n_est + len(est), pairs + len(matched)
        on_errors.extend(np.abs(ref[matched[:, 0], 0] - est[matched[:, 1], 0]))
        off_errors.extend(np.abs(ref[matched[:, 0], 1] - est[matched[:, 1], 1]))
    precision, recall = pairs / n_est, pairs / n_ref
    f1 = 2 * precision * recall / (precision + recall)
    assert n_ref == 601
    assert f1 >= 0.95 and recall == 1.0, (f1, precision, recall)  # measured: 0.995, 0.990, 1
    # MATLAB's 1-based indices put evsonganaly's times one sample later than sonotype's.
    assert np.median(on_errors) * SR == pytest.approx(1) == np.median(off_errors) * SR
    assert max(on_errors + off_errors) < 2 / SR


@pytest.mark.realdata
def test_zebra_finch_song_with_parameters_chosen_on_the_training_files():
    """Parameters from a grid search on train/ (F1 at 10 ms). Precision is low because the
    annotations leave out introductory notes and calls, which are as loud as the song:
    nearly all unmatched detections overlap no annotated syllable. Measured on test/:
    F1 0.765, precision 0.721, recall 0.815 at 10 ms."""
    folder = data_folder("zebra-finch-das")
    detector = Amplitude(smooth_ms=16, noise_factor=160, min_silence_ms=2, min_duration_ms=40)
    refs, ests = [], []
    for wav in sorted((folder / "test").glob("*.wav")):
        refs.append(read_events(wav.with_suffix(".csv"), format="simple-csv"))
        ests.append(detect_recording(detector, wav))
    scores = [
        _scores(ref[["start_s", "stop_s"]].to_numpy(), est[["start_s", "stop_s"]].to_numpy(), 0.01)
        for ref, est in zip(refs, ests, strict=True)
    ]
    matched = sum(len(s["pairs"]) for s in scores)
    precision = matched / sum(len(e) for e in ests)
    recall = matched / sum(len(r) for r in refs)
    assert recall >= 0.75 and precision >= 0.65, (precision, recall)
