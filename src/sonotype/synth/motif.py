"""A recording with a known repeated motif among random tone sequences (for ``motifs``)."""

from __future__ import annotations

import numpy as np

from sonotype.synth.noise import add_noise


def _tones(pitches_hz: np.ndarray, *, note_s: float, sr: int) -> np.ndarray:
    n = round(note_s * sr)
    t = np.arange(n) / sr
    ramp = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.01)  # 10 ms on and off
    return np.concatenate([np.sin(2 * np.pi * f * t) * ramp for f in pitches_hz])


def planted_motif(
    *,
    duration_s: float = 60.0,
    motif_s: float = 5.0,
    starts_s: tuple[float, ...] = (12.0, 41.0),
    note_s: float = 0.25,
    sr: int = 16000,
    snr_db: float = 20.0,
    rng: np.random.Generator,
) -> np.ndarray:
    """Random tone sequences with one sequence (the motif) repeated at ``starts_s``.

    Every note is a pure tone of a pitch drawn from the semitones of 440-1661 Hz; the
    background draws new notes everywhere except at the motif's copies, so the copies are
    the only repeated stretch of ``motif_s`` seconds.

    Returns
    -------
    ndarray, shape (round(duration_s * sr),), float32
        Audio at ``sr`` Hz with white noise at ``snr_db``.
    """
    semitones = 440.0 * 2.0 ** (np.arange(24) / 12)
    n_notes = round(duration_s / note_s)
    y = _tones(rng.choice(semitones, n_notes), note_s=note_s, sr=sr)[: round(duration_s * sr)]
    motif = _tones(rng.choice(semitones, round(motif_s / note_s)), note_s=note_s, sr=sr)
    for start_s in starts_s:
        start = round(start_s * sr)
        y[start : start + len(motif)] = motif[: len(y) - start]
    return add_noise(0.5 * y, snr_db, signal_mask=np.ones(len(y), bool), rng=rng)
