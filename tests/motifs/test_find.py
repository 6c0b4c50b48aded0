import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from sonotype.audio import Recording
from sonotype.errors import ParameterError
from sonotype.motifs.features import CensSettings
from sonotype.motifs.find import label_motifs, motif_table, recording_motifs, window_frames
from sonotype.synth.motif import planted_motif


def _write(path, y, sr=16000):
    sf.write(path, y, sr)
    return Recording(path)


def test_planted_motif_is_found_at_its_times(tmp_path, rng):
    y = planted_motif(duration_s=60.0, starts_s=(12.0, 41.0), rng=rng)
    rec = _write(tmp_path / "a.wav", y)
    result = recording_motifs(rec, name="a.wav", window_s=5.0, engine="numpy")
    row = motif_table([result]).iloc[0]
    assert row["motif_start_s"] == pytest.approx(12.0, abs=0.3)
    assert row["match_start_s"] == pytest.approx(41.0, abs=0.3)
    assert row["motif_stop_s"] - row["motif_start_s"] == pytest.approx(5.0)
    # The discord is some stretch other than the motif's copies.
    assert not 11.0 < row["discord_start_s"] < 13.0


def test_per_label_motif_lies_inside_events_and_finds_the_copies(tmp_path, rng):
    y = planted_motif(duration_s=60.0, starts_s=(12.0, 41.0), rng=rng)
    _write(tmp_path / "a.wav", y)
    # Two events hold one copy each (with different context around it), a third none.
    events = pd.DataFrame({
        "recording": ["a.wav"] * 3, "start_s": [9.0, 38.0, 50.0], "stop_s": [19.0, 49.0, 59.0],
        "label": ["x"] * 3, "channel": [0] * 3,
    })  # fmt: skip
    result = label_motifs(events, lambda name: Recording(tmp_path / name), label="x", window_s=5.0)
    row = result.summary()
    assert row["motif_start_s"] == pytest.approx(12.0, abs=0.3)
    assert row["match_start_s"] == pytest.approx(41.0, abs=0.3)
    assert (result.profile.indices[np.isfinite(result.profile.distances)] >= 0).all()


def test_label_whose_events_are_shorter_than_the_window_is_a_clear_error(tmp_path, rng):
    _write(tmp_path / "a.wav", planted_motif(duration_s=20.0, starts_s=(2.0,), rng=rng))
    events = pd.DataFrame({"recording": ["a.wav"], "start_s": [1.0], "stop_s": [2.0],
                           "label": ["x"], "channel": [0]})  # fmt: skip
    with pytest.raises(ParameterError, match="shorter --window"):
        label_motifs(events, lambda n: Recording(tmp_path / n), label="x", window_s=5.0)


def test_window_too_short_in_frames_names_the_option():
    with pytest.raises(ParameterError, match="--window") as info:
        window_frames(0.2, CensSettings(rate_hz=10).frame_rate_hz(16000))
    assert info.value.parameter == "window"


def test_recording_too_short_for_two_windows_names_it(tmp_path, rng):
    rec = _write(tmp_path / "short.wav", planted_motif(duration_s=5.5, starts_s=(), rng=rng))
    with pytest.raises(ParameterError, match=r"short.wav lasts 5.5 s.*shorter --window"):
        recording_motifs(rec, name="short.wav", window_s=5.0)
