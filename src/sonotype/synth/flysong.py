"""Fly-like courtship song: pulse trains and sine song, sampled at 2500 Hz by default.

Drosophila melanogaster males sing trains of short pulses (a carrier near 250 Hz under a
few-millisecond envelope, repeated every ~35 ms: the inter-pulse interval) and stretches of
sine song (a ~150 Hz hum lasting a fraction of a second). Pulses are annotated as point events
at their centres, as SongExplorer's tutorial data do; sine song as intervals.

Real recordings also hold sounds nobody annotates: ``clicks_per_s`` adds broadband clicks
(the fly or the apparatus knocking the microphone), away from the song and not annotated.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sonotype.checks import check_number
from sonotype.errors import ParameterError
from sonotype.synth.noise import add_noise


def flysong(
    duration_s: float,
    *,
    sr: int = 2500,
    ipi_ms: float = 35.0,
    pulse_hz: float = 250.0,
    sine_hz: float = 150.0,
    snr_db: float = 15.0,
    clicks_per_s: float = 0.0,
    recording: str = "fly.wav",
    random_state: int | np.random.Generator | None = None,
) -> tuple[np.ndarray, pd.DataFrame]:
    """A synthetic fly song recording and its exact annotations.

    Parameters
    ----------
    duration_s : float
        Length in seconds.
    sr : int
        Sample rate in Hz (must exceed twice ``pulse_hz``).
    ipi_ms : float
        Mean inter-pulse interval within a train, in ms (each interval jitters by ~3 %).
    pulse_hz, sine_hz : float
        Carrier frequencies of pulses and of sine song, in Hz.
    snr_db : float
        Signal-to-noise ratio of the song over white background noise.
    clicks_per_s : float
        Mean rate of unannotated broadband clicks (a few samples of decaying noise, peaks
        0.5 to 4 times a pulse's), at random times at least 30 ms from any song.
    recording : str
        Recording name written in the events.
    random_state : int or Generator, optional
        Seed for a reproducible recording.

    Returns
    -------
    y : ndarray, float32, shape (samples,)
    events : DataFrame
        ``pulse`` point events (start_s == stop_s, at each pulse's centre) and ``sine``
        interval events.
    """
    check_number(duration_s, name="duration_s", minimum=0, inclusive="neither", unit="seconds")
    if sr <= 2 * max(pulse_hz, sine_hz):
        raise ParameterError(
            f"sr={sr} must exceed twice the highest carrier ({max(pulse_hz, sine_hz)} Hz)"
        )
    check_number(clicks_per_s, name="clicks_per_s", minimum=0)
    if ipi_ms <= 10:
        raise ParameterError(f"ipi_ms={ipi_ms!r} must exceed the 10 ms length of a pulse")
    rng = np.random.default_rng(random_state)
    n = round(duration_s * sr)
    y = np.zeros(n, dtype=np.float64)
    mask = np.zeros(n, dtype=bool)
    starts, stops, labels = [], [], []

    half = round(0.005 * sr)  # pulses last ~10 ms
    tp = np.arange(-half, half + 1) / sr
    t = rng.uniform(0.3, 1.0)
    while t < duration_s - 1.0:
        if rng.random() < 0.6:
            # A pulse train of 5 to 20 pulses.
            for _ in range(int(rng.integers(5, 21))):
                centre = round(t * sr)
                if centre + half >= n:
                    break
                phase = rng.choice([0.0, np.pi])  # pulses come in both polarities
                pulse = np.exp(-0.5 * (tp / 0.0018) ** 2) * np.cos(
                    2 * np.pi * pulse_hz * tp + phase
                )
                amplitude = 0.6 * np.exp(0.15 * rng.standard_normal())
                y[centre - half : centre + half + 1] += amplitude * pulse
                mask[centre - half : centre + half + 1] = True
                starts.append(centre / sr)
                stops.append(centre / sr)
                labels.append("pulse")
                t += ipi_ms / 1000 * (1 + 0.03 * rng.standard_normal())
        else:
            length = rng.uniform(0.2, 0.8)
            i0, i1 = round(t * sr), min(round((t + length) * sr), n)
            ts = np.arange(i1 - i0) / sr
            ramp = np.minimum(1.0, np.minimum(ts, ts[-1] - ts) / 0.02)
            y[i0:i1] += 0.3 * ramp * np.sin(2 * np.pi * sine_hz * ts)
            mask[i0:i1] = True
            starts.append(i0 / sr)
            stops.append(i1 / sr)
            labels.append("sine")
            t = i1 / sr
        t += rng.uniform(0.3, 1.5)

    y = add_noise(y.astype(np.float32), snr_db, signal_mask=mask, rng=rng)
    if clicks_per_s:
        _add_clicks(y, mask, clicks_per_s=clicks_per_s, sr=sr, rng=rng)
    from sonotype.annotations.events import make_events

    return y, make_events(recording, starts, stops, labels, source="synth")


def _add_clicks(
    y: np.ndarray, song: np.ndarray, *, clicks_per_s: float, sr: int, rng: np.random.Generator
) -> None:
    """Add clicks to ``y`` in place, at least 30 ms from the samples where ``song`` is true."""
    margin = round(0.030 * sr)
    near_song = np.convolve(song.astype(float), np.ones(2 * margin + 1), mode="same") > 0
    n_clicks = rng.poisson(clicks_per_s * len(y) / sr)
    free = np.flatnonzero(~near_song[margin:-margin]) + margin
    if n_clicks == 0 or free.size == 0:
        return
    for centre in rng.choice(free, n_clicks):
        tau_s = rng.uniform(0.0002, 0.0015)  # a few samples at fly-song rates
        length = max(2, round(6 * tau_s * sr))
        t = np.arange(length) / sr
        click = rng.standard_normal(length) * np.exp(-t / tau_s)
        click *= 0.6 * rng.uniform(0.5, 4.0) / np.abs(click).max()
        stop = min(centre + length, len(y))
        y[centre:stop] += click[: stop - centre].astype(np.float32)
