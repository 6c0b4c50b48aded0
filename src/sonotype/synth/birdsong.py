"""Songbird-like song: syllable types sung in stereotyped sequences, in bouts.

Each syllable type has a shape (an FM sweep, a harmonic stack, a noise burst, a trill or a
click), a typical duration and pitch; each rendition varies in duration, pitch and amplitude
as real renditions do. Syllables follow a first-order transition matrix that favours one
motif order, so the song has syntax; bouts of motifs are separated by silence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sonotype.checks import check_number
from sonotype.errors import ParameterError
from sonotype.synth.noise import add_noise

SYLLABLE_SHAPES = ("sweep", "stack", "noise", "trill", "click")


@dataclass(frozen=True)
class SyllableType:
    """One syllable type: its name, shape, typical duration (s) and frequencies (Hz)."""

    name: str
    shape: str
    duration_s: float
    low_hz: float
    high_hz: float


def syllable_types(n_types: int, *, sr: int, rng: np.random.Generator) -> list[SyllableType]:
    """``n_types`` distinct syllable types, shapes cycling through :data:`SYLLABLE_SHAPES`.

    Types of the same shape (the 1st and 6th, ...) sit in separate frequency bands, so every
    type is told apart by its shape or its pitch: a known answer for clustering. Frequencies
    stay below 0.4 x ``sr`` so every type fits under the Nyquist frequency.
    """
    ceiling = min(0.4 * sr, 9000.0)
    bands = -(-n_types // len(SYLLABLE_SHAPES))  # how often each shape recurs
    types = []
    for i in range(n_types):
        shape = SYLLABLE_SHAPES[i % len(SYLLABLE_SHAPES)]
        band = i // len(SYLLABLE_SHAPES)
        # Shapes within a band spread out too, in a scrambled order.
        offset = ((i % len(SYLLABLE_SHAPES)) * 0.618) % 1.0
        centre = ceiling * (0.15 + 0.7 * (band + 0.2 + 0.6 * offset) / bands)
        span = rng.uniform(0.15, 0.3) * centre / bands
        duration = 0.012 if shape == "click" else rng.uniform(0.04, 0.16)
        types.append(
            SyllableType(
                name=chr(ord("a") + i),
                shape=shape,
                duration_s=float(duration),
                low_hz=float(centre - span / 2),
                high_hz=float(centre + span / 2),
            )
        )
    return types


def render_syllable(
    stype: SyllableType, *, sr: int, rng: np.random.Generator, variation: float = 0.08
) -> np.ndarray:
    """One rendition of ``stype``: duration, pitch and amplitude jittered by ``variation``."""
    duration = stype.duration_s * (1 + variation * rng.standard_normal())
    duration = max(duration, 0.006)
    pitch = 1 + 0.5 * variation * rng.standard_normal()
    low, high = stype.low_hz * pitch, stype.high_hz * pitch
    t = np.arange(round(duration * sr)) / sr
    if stype.shape == "sweep":
        freq = np.linspace(high, low, len(t))
        y = np.sin(2 * np.pi * np.cumsum(freq) / sr)
    elif stype.shape == "stack":
        f0 = low / 2
        y = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 5) if f0 * k < sr / 2)
    elif stype.shape == "noise":
        y = _bandpass_noise(len(t), low, high, sr=sr, rng=rng)
    elif stype.shape == "trill":
        rate_hz = 40.0
        freq = (low + high) / 2 + (high - low) / 2 * np.sin(2 * np.pi * rate_hz * t)
        y = np.sin(2 * np.pi * np.cumsum(freq) / sr)
    else:  # click: a short broadband transient
        y = _bandpass_noise(len(t), low / 2, min(high * 1.5, 0.45 * sr), sr=sr, rng=rng)
        y *= np.exp(-t / (duration / 4))
    y = np.asarray(y, dtype=np.float64)
    y /= np.max(np.abs(y)) or 1.0
    amplitude = 0.5 * np.exp(0.2 * rng.standard_normal())
    return (amplitude * y * ramp(len(t), sr)).astype(np.float32)


def birdsong(
    duration_s: float,
    *,
    sr: int = 32000,
    n_types: int = 5,
    types: list[SyllableType] | None = None,
    motif_probability: float = 0.9,
    snr_db: float = 20.0,
    recording: str = "song.wav",
    random_state: int | np.random.Generator | None = None,
    repeat: str | None = None,
    repeat_count: tuple[int, int] = (3, 6),
    repeat_gap_s: tuple[float, float] = (0.001, 0.0015),
) -> tuple[np.ndarray, pd.DataFrame]:
    """A synthetic songbird recording and its exact syllable annotations.

    Parameters
    ----------
    duration_s : float
        Length of the recording in seconds.
    sr : int
        Sample rate in Hz.
    n_types : int
        Number of syllable types (ignored when ``types`` is given).
    types : list of SyllableType, optional
        The bird's repertoire; pass the same list to make several songs of one bird.
    motif_probability : float
        Probability that a syllable is followed by the next one of the motif (a, b, c, ...);
        otherwise the next syllable is drawn uniformly. 1.0 gives perfectly linear song.
    snr_db : float
        Signal-to-noise ratio of the syllables over white background noise.
    recording : str
        Recording name written in the events.
    random_state : int or Generator, optional
        Seed for a reproducible song.
    repeat : str, optional
        A syllable type (by name) sung several times in a row at each of its turns, as
        Bengalese finches repeat notes, with very short gaps between the renditions.
    repeat_count : (int, int)
        Least and most renditions of ``repeat`` at each turn (drawn uniformly).
    repeat_gap_s : (float, float)
        Range of the gaps between its renditions, in seconds (drawn uniformly); other
        syllables follow each other after 20 to 60 ms.

    Returns
    -------
    y : ndarray, float32, shape (samples,)
    events : DataFrame
        Events table: one ``annotated`` event per syllable, labelled with its type name,
        with ``low_hz``/``high_hz`` bounds and ``label:shape``.
    """
    check_number(duration_s, name="duration_s", minimum=0, inclusive="neither", unit="seconds")
    check_number(motif_probability, name="motif_probability", minimum=0, maximum=1)
    rng = np.random.default_rng(random_state)
    types = types or syllable_types(n_types, sr=sr, rng=rng)
    k = len(types)
    names = [t.name for t in types]
    if repeat is not None and repeat not in names:
        raise ParameterError(f"repeat={repeat!r} is not a syllable type; the types: {names}")
    if not 1 <= repeat_count[0] <= repeat_count[1]:
        raise ParameterError(f"repeat_count={repeat_count!r} must be (least, most), 1 <= least")
    if not 0 <= repeat_gap_s[0] <= repeat_gap_s[1]:
        raise ParameterError(f"repeat_gap_s={repeat_gap_s!r} must be (least, most) >= 0")
    transitions = np.full((k, k), (1 - motif_probability) / k)
    transitions[np.arange(k), (np.arange(k) + 1) % k] += motif_probability

    n = round(duration_s * sr)
    y = np.zeros(n, dtype=np.float32)
    mask = np.zeros(n, dtype=bool)
    rows = []
    t = rng.uniform(0.2, 0.6)
    while t < duration_s:
        # A bout: several motifs' worth of syllables, then silence.
        current = 0
        for _ in range(int(rng.integers(2, 4)) * k):
            stype = types[current]
            times, full = 1, False
            if stype.name == repeat:
                times = int(rng.integers(repeat_count[0], repeat_count[1] + 1))
            for rendition in range(times):
                sound = render_syllable(stype, sr=sr, rng=rng)
                start = round(t * sr)
                if start + len(sound) >= n:
                    full = True
                    break
                y[start : start + len(sound)] += sound
                mask[start : start + len(sound)] = True
                rows.append((start / sr, (start + len(sound)) / sr, stype))
                last = rendition == times - 1
                t = (start + len(sound)) / sr + (
                    rng.uniform(0.02, 0.06) if last else rng.uniform(*repeat_gap_s)
                )
            if full:
                break
            current = int(rng.choice(k, p=transitions[current]))
        t += rng.uniform(0.8, 2.0)

    y = add_noise(y, snr_db, signal_mask=mask, rng=rng)
    from sonotype.annotations.events import make_events

    events = make_events(
        recording,
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2].name for r in rows],
        source="synth",
        low_hz=[r[2].low_hz for r in rows],
        high_hz=[r[2].high_hz for r in rows],
        extra_labels={"shape": [r[2].shape for r in rows]},
    )
    return y, events


def ramp(n: int, sr: int, ramp_s: float = 0.003) -> np.ndarray:
    """An amplitude envelope with raised-cosine on/off ramps, to avoid clicks at the edges."""
    r = min(round(ramp_s * sr), n // 2)
    envelope = np.ones(n)
    if r > 0:
        edge = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, r))
        envelope[:r] = edge
        envelope[n - r :] = edge[::-1]
    return envelope


def _bandpass_noise(
    n: int, low_hz: float, high_hz: float, *, sr: int, rng: np.random.Generator
) -> np.ndarray:
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / sr)
    spectrum[(freqs < low_hz) | (freqs > high_hz)] = 0
    return np.fft.irfft(spectrum, n)
