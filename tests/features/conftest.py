"""Synthetic recordings shared by the feature tests (written once per module)."""

from __future__ import annotations

import numpy as np
import pytest

from sonotype.annotations import make_events
from sonotype.audio import write_audio
from sonotype.synth.birdsong import birdsong

SR = 22050


@pytest.fixture(scope="module")
def song(tmp_path_factory):
    """A 30 s synthetic song with 5 syllable types: ``(folder, events)``."""
    folder = tmp_path_factory.mktemp("song")
    y, events = birdsong(30.0, sr=SR, n_types=5, random_state=7)
    write_audio(folder / "song.wav", y, SR)
    return folder, events


@pytest.fixture(scope="module")
def tones(tmp_path_factory):
    """``tones.wav`` (1 s of silence, a 2 kHz tone from 0.3 to 0.7 s) and its folder."""
    folder = tmp_path_factory.mktemp("tones")
    t = np.arange(SR) / SR
    y = np.where((t >= 0.3) & (t < 0.7), 0.5 * np.sin(2 * np.pi * 2000 * t), 0.0)
    write_audio(folder / "tones.wav", y.astype(np.float32), SR)
    return folder


def tone_events(*spans, recording="tones.wav", channel=0):
    """Events over ``(start_s, stop_s)`` spans of one recording."""
    return make_events(
        recording,
        [a for a, _ in spans],
        [b for _, b in spans],
        "x",
        channel=channel,
    )
