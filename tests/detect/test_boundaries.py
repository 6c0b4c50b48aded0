"""Syllable boundaries relative to each syllable's own peak (``onset_db``, ``offset_db``):
known answers on synthetic syllables with decaying tails, and real zebra finch song."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sonotype.annotations import read_events
from sonotype.audio import write_audio
from sonotype.detect import detect_recording
from sonotype.detect.amplitude import Amplitude, _peak_relative_bounds
from sonotype.evaluate import match_events
from tests.fixtures.shared import data_folder

SR = 32000
BODY_S, TAIL_S, TAIL_DB = 0.04, 0.04, 40.0


def decaying_syllables(rng, peaks=(0.5, 0.1, 0.02, 0.5, 0.1, 0.02)):
    """3 kHz syllables: 40 ms at their peak amplitude, then a 40 ms tail falling linearly in
    dB by 40 dB, then silence; white noise 73 to 45 dB under the peaks. Returns the signal
    and the true ``(onset_s, offset_s)``, the offset being the end of the tail."""
    y = 1e-4 * rng.standard_normal(3 * SR)
    t = np.arange(round((BODY_S + TAIL_S) * SR)) / SR
    gain_db = np.where(t < BODY_S, 0.0, -TAIL_DB * (t - BODY_S) / TAIL_S)
    shape = np.minimum(1.0, t / 0.001) * 10 ** (gain_db / 20) * np.sin(2 * np.pi * 3000 * t)
    truth = []
    for i, peak in enumerate(peaks):
        start = round((0.2 + 0.45 * i) * SR)
        y[start : start + len(t)] += peak * shape
        truth.append((start / SR, (start + len(t)) / SR))
    return y.astype(np.float32), np.array(truth)


@pytest.fixture
def tails(tmp_path, rng):
    y, truth = decaying_syllables(rng)
    return write_audio(tmp_path / "tails.wav", y, SR, subtype="FLOAT"), truth


def _errors(path, truth, detector):
    found = detect_recording(detector, path)[["start_s", "stop_s"]].to_numpy()
    assert len(found) == len(truth), found
    return 1000 * (found - truth)  # ms, detected minus true


def test_a_global_threshold_ends_quiet_syllables_earlier_than_loud_ones(tails):
    path, truth = tails
    offsets = _errors(path, truth, Amplitude())[:, 1]
    # The tail of a loud syllable stays above the threshold to its end; a quiet one's tail
    # crosses it 32 dB down, 8 ms before its end.
    assert offsets.max() - offsets.min() > 6, offsets


def test_peak_relative_offsets_fall_the_same_way_in_every_syllable(tails):
    path, truth = tails
    errors = _errors(path, truth, Amplitude(offset_db=30, onset_db=30))
    # 30 dB below the peak is 30 ms into the 40 ms tail: 10 ms before its end, loud or quiet.
    np.testing.assert_allclose(errors[:, 1], -10, atol=1.5)
    np.testing.assert_allclose(errors[:, 0], 0, atol=1.5)


def test_peak_relative_bounds_move_in_and_out_and_stop_at_valleys():
    env = np.array([1, 2, 50, 100, 60, 30, 5, 1.0])
    # Out to where the envelope falls to the level on both sides...
    assert _peak_relative_bounds(env, 3, 4, floor=0, onset_db=10, offset_db=6).tolist() == [2, 6]
    # ...in to where it rises above it (the threshold boundary was too wide)...
    assert _peak_relative_bounds(env, 0, 8, floor=0, onset_db=3, offset_db=3).tolist() == [3, 5]
    # ...never below the floor, and only the side asked for.
    bounds = _peak_relative_bounds(env, 3, 4, floor=40, onset_db=30, offset_db=None)
    assert bounds.tolist() == [2, 4]
    valley = np.array([100, 60, 40, 30, 50, 90.0])
    bounds = _peak_relative_bounds(valley, 0, 2, floor=0, onset_db=None, offset_db=40)
    assert bounds.tolist() == [0, 3]


def test_peak_relative_bounds_are_block_independent(tails):
    path, _ = tails
    detector = Amplitude(offset_db=25, onset_db=20)
    whole = detect_recording(detector, path, block_s=float("inf"))
    assert whole.equals(detect_recording(detector, path, block_s=0.137))


@pytest.mark.realdata
def test_zebra_finch_offsets_with_the_parameters_chosen_on_train():
    """benchmarks/detect_boundaries.py: with the thresholds chosen on train/, the median
    offset on test/ is 3.6 ms early (onset 2.3 ms late); bound both at 5 ms."""
    folder = data_folder("zebra-finch-das")
    detector = Amplitude(smooth_ms=16, noise_factor=160, min_silence_ms=2, min_duration_ms=40)
    refs, preds = [], []
    for wav in sorted((folder / "test").glob("*.wav")):
        ref = read_events(wav.with_suffix(".csv"), format="simple-csv")
        refs.append(ref.assign(recording=wav.name, label="syllable"))
        preds.append(detect_recording(detector, wav).assign(label="syllable"))
    pairs = match_events(pd.concat(refs), pd.concat(preds), min_iou=0.5)
    assert len(pairs) >= 45  # of 54 annotated syllables
    assert abs(1000 * pairs["offset_error_s"].median()) <= 5
    assert abs(1000 * pairs["onset_error_s"].median()) <= 5
