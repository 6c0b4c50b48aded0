"""Mouse-like ultrasonic vocalisations (USVs): frequency-modulated whistles at 250 kHz.

Mice call in bouts of short whistles (about 10-150 ms) between roughly 30 and 110 kHz, far
above anything a detector set up for birdsong listens to. Each call here has one of the
contour shapes of the common mouse call classifications (Scattoni et al. 2008): ``flat``,
``up``, ``down``, ``chevron`` (up then down), ``step`` (a jump in frequency mid-call) and
``complex`` (several oscillations), with per-call amplitude varying by a few dB, so some
calls are faint. The background is white noise at ``snr_db`` under the calls plus louder
low-frequency noise (below ``hum_high_hz``; cage and handling sounds) in bursts, which is
what a detector listening below 10 kHz hears instead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sonotype.checks import check_number
from sonotype.errors import ParameterError
from sonotype.synth.birdsong import ramp

USV_SHAPES = ("flat", "up", "down", "chevron", "step", "complex")

#: Seconds of raised-cosine ramp at each end of a call.
_RAMP_S = 0.001


def usv(
    duration_s: float,
    *,
    sr: int = 250000,
    low_hz: float = 35000.0,
    high_hz: float = 105000.0,
    duration_ms: tuple[float, float] = (10.0, 120.0),
    snr_db: float = 20.0,
    hum_db: float = 20.0,
    hum_high_hz: float = 12000.0,
    recording: str = "usv.wav",
    random_state: int | np.random.Generator | None = None,
) -> tuple[np.ndarray, pd.DataFrame]:
    """A synthetic recording of mouse-like ultrasonic calls and their exact annotations.

    Parameters
    ----------
    duration_s : float
        Length in seconds.
    sr : int
        Sample rate in Hz (default 250000, as ultrasound recorders); must exceed
        ``2 * high_hz``.
    low_hz, high_hz : float
        Every call's instantaneous frequency stays within ``[low_hz, high_hz]``.
    duration_ms : (float, float)
        Shortest and longest call in ms; durations are log-uniform between them.
    snr_db : float
        Call power over the white background noise (whole band), in dB.
    hum_db : float
        Power of the low-frequency noise bursts over the white noise, in dB.
    hum_high_hz : float
        Upper frequency of the low-frequency noise in Hz.
    recording : str
        Recording name written in the events.
    random_state : int or Generator, optional
        Seed for a reproducible recording.

    Returns
    -------
    y : ndarray, float32, shape (samples,)
    events : DataFrame
        Events table: one ``annotated`` event labelled ``usv`` per call, from its first to
        its last sample, with ``low_hz`` / ``high_hz`` the extremes of its contour and
        ``label:shape`` its contour shape.

    Examples
    --------
    >>> y, events = usv(2.0, random_state=0)
    >>> y.shape, set(events["label"])
    ((500000,), {'usv'})
    """
    check_number(duration_s, name="duration_s", minimum=0, inclusive="neither", unit="seconds")
    if not 0 < low_hz < high_hz < sr / 2:
        raise ParameterError(
            f"low_hz={low_hz:g} and high_hz={high_hz:g} must satisfy 0 < low_hz < high_hz < "
            f"sr/2 = {sr / 2:g}"
        )
    shortest, longest = duration_ms
    if not 0 < shortest <= longest:
        raise ParameterError(f"duration_ms={duration_ms!r} must be (shortest, longest) > 0")
    rng = np.random.default_rng(random_state)
    n = round(duration_s * sr)
    y = np.zeros(n, np.float64)
    rows = []
    t = rng.uniform(0.05, 0.3)
    while True:
        # A bout of calls, then a pause.
        for _ in range(int(rng.integers(3, 9))):
            length_s = float(np.exp(rng.uniform(np.log(shortest), np.log(longest)))) / 1000
            start = round(t * sr)
            if start + round(length_s * sr) >= n:
                break
            shape = USV_SHAPES[int(rng.integers(len(USV_SHAPES)))]
            contour = _contour(shape, round(length_s * sr), low_hz, high_hz, rng)
            call = np.sin(2 * np.pi * np.cumsum(contour) / sr) * ramp(len(contour), sr, _RAMP_S)
            # Calls vary by about +-4 dB around one level.
            y[start : start + len(call)] += np.exp(0.45 * rng.standard_normal()) * 0.3 * call
            rows.append((start / sr, (start + len(call)) / sr, contour.min(), contour.max(), shape))
            t = (start + len(call)) / sr + rng.uniform(0.03, 0.25)
        else:
            t += rng.uniform(0.3, 1.0)
            if t < duration_s:
                continue
        break

    mask = np.zeros(n, bool)
    for start_s, stop_s, *_ in rows:
        mask[round(start_s * sr) : round(stop_s * sr)] = True
    signal_power = float(np.mean(y[mask] ** 2)) if mask.any() else 0.045
    noise_rms = np.sqrt(signal_power / 10 ** (snr_db / 10))
    noise = rng.normal(0.0, noise_rms, n)
    noise += _hum_bursts(
        n, sr=sr, high_hz=hum_high_hz, rms=noise_rms * 10 ** (hum_db / 20), rng=rng
    )
    from sonotype.annotations.events import make_events

    events = make_events(
        recording,
        [r[0] for r in rows],
        [r[1] for r in rows],
        "usv",
        source="synth",
        low_hz=[float(r[2]) for r in rows],
        high_hz=[float(r[3]) for r in rows],
        extra_labels={"shape": [r[4] for r in rows]},
    )
    return (y + noise).astype(np.float32), events


def _contour(shape: str, n: int, low_hz: float, high_hz: float, rng) -> np.ndarray:
    """Instantaneous frequency (Hz) of one call of ``n`` samples, within [low_hz, high_hz]."""
    span = high_hz - low_hz
    u = np.linspace(0.0, 1.0, n)
    centre = low_hz + span * rng.uniform(0.25, 0.75)
    sweep = span * rng.uniform(0.1, 0.35)
    if shape == "flat":
        f = centre + 0.02 * span * (u - 0.5)
    elif shape == "up":
        f = centre - sweep / 2 + sweep * u
    elif shape == "down":
        f = centre + sweep / 2 - sweep * u
    elif shape == "chevron":
        f = centre - sweep / 2 + sweep * (1 - np.abs(2 * u - 1))
    elif shape == "step":
        f = np.where(u < rng.uniform(0.3, 0.7), centre - sweep / 2, centre + sweep / 2)
    else:  # complex: a few oscillations
        f = centre + sweep / 2 * np.sin(2 * np.pi * rng.uniform(2, 4) * u)
    return np.clip(f, low_hz, high_hz)


def _hum_bursts(n: int, *, sr: int, high_hz: float, rms: float, rng) -> np.ndarray:
    """Low-pass noise of the given RMS, switched on and off in bursts of 0.1-1 s."""
    from scipy.ndimage import uniform_filter1d

    spectrum = np.fft.rfft(rng.standard_normal(n))
    spectrum[np.fft.rfftfreq(n, 1 / sr) > high_hz] = 0
    hum = np.fft.irfft(spectrum, n)
    hum *= rms / (np.sqrt(np.mean(hum**2)) or 1.0)
    gate = np.zeros(n)
    t = 0
    while t < n:
        on = round(rng.uniform(0.1, 1.0) * sr)
        gate[t : t + on] = rng.uniform(0.3, 1.0)
        t += on + round(rng.uniform(0.1, 1.0) * sr)
    # Smooth the gate over 20 ms so bursts swell and fade like real handling noise.
    gate = uniform_filter1d(gate, max(1, round(0.02 * sr)), mode="constant")
    return hum * gate
