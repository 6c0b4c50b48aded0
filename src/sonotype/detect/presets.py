"""Detector presets: named sets of detector parameters for a group of animals, each value with
where it comes from (a reference tool's defaults, or a measurement on named data).

A preset is a starting point, not a tuned detector: explicit parameters override its values
(``preset_detector("rodent-usv", noise_factor=40)``, or ``--set`` on the command line), and
``sonotype tune-detector`` fits them to a user's own annotations.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sonotype.detect.base import Detector, make_detector
from sonotype.errors import ParameterError


@dataclass(frozen=True)
class Preset:
    """A named set of detector parameters.

    Attributes
    ----------
    name : str
        The preset's name (``--preset NAME``).
    method : str
        The registered detector it configures.
    summary : str
        One line: what it is for.
    params : mapping
        Parameter name to value, as :func:`~sonotype.detect.make_detector` takes them.
    sources : mapping
        Parameter name to where its value comes from.
    """

    name: str
    method: str
    summary: str
    params: Mapping[str, Any]
    sources: Mapping[str, str] = field(default_factory=dict)


_EVSONGANALY = "evsonganaly's default (Tumer & Brainard 2007)"
_SONGEXPLORER = "SongExplorer's default for its Drosophila tutorial (2500 Hz)"
_USVSEG = "USVSEG's default (Tachibana et al. 2020, PLoS ONE 15:e0228907; usvseg_prm.yaml)"
_BIOACOUSTICS = (
    "bioacoustics::threshold_detection default, R package (after Scott 2012, Bat Bioacoustics)"
)

PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in [
        Preset(
            name="songbird",
            method="amplitude",
            summary="syllables of songbird song (zebra finch, Bengalese finch), 500-10000 Hz",
            params={
                "low_hz": 500.0,
                "high_hz": 10000.0,
                "smooth_ms": 2.0,
                "noise_factor": 20.0,
                "min_silence_ms": 5.0,
                "min_duration_ms": 20.0,
            },
            sources={
                "low_hz": _EVSONGANALY,
                "high_hz": _EVSONGANALY,
                "smooth_ms": _EVSONGANALY + " (sm_win)",
                "min_silence_ms": _EVSONGANALY + " (min_int)",
                "min_duration_ms": _EVSONGANALY + " (min_dur)",
                "noise_factor": (
                    "sonotype's default (13 dB over the noise floor); on zebra finch train/ "
                    "(DAS data set), factors of 20 to 80 score alike"
                ),
            },
        ),
        Preset(
            name="fly",
            method="time-freq",
            summary="Drosophila courtship song (pulses and sine song) at about 2500 Hz",
            params={
                "time_sigma": "9,4",
                "time_smooth_ms": 6.4,
                "time_robust": "median",
                "freq_n_ms": 25.6,
                "freq_nw": 4.0,
                "freq_rho": "0.1,1.0",
                "freq_smooth_ms": 25.6,
            },
            sources={
                name: _SONGEXPLORER
                for name in (
                    "time_sigma",
                    "time_smooth_ms",
                    "time_robust",
                    "freq_n_ms",
                    "freq_nw",
                    "freq_rho",
                    "freq_smooth_ms",
                )
            },
        ),
        Preset(
            name="rodent-usv",
            method="amplitude",
            summary="rodent ultrasonic vocalisations, 40-120 kHz (needs a rate above 80 kHz)",
            params={
                "low_hz": 40000.0,
                "high_hz": 120000.0,
                "smooth_ms": 2.0,
                "noise_factor": 20.0,
                "min_silence_ms": 30.0,
                "min_duration_ms": 3.0,
            },
            sources={
                "low_hz": _USVSEG + " (freqmin)",
                "high_hz": _USVSEG + " (freqmax; dropped below a 240 kHz rate)",
                "min_silence_ms": _USVSEG + " (gapmin: shorter gaps are bridged)",
                "min_duration_ms": _USVSEG + " (durmin)",
                "smooth_ms": "USVSEG's 512-point spectral window at 250 kHz (about 2 ms)",
                "noise_factor": (
                    "sonotype's default (13 dB over the noise floor); USVSEG's threshold "
                    "works on a whitened spectrogram and does not carry over"
                ),
            },
        ),
        Preset(
            name="bat",
            method="amplitude",
            summary="bat echolocation calls, above 16 kHz (needs a rate above 32 kHz)",
            params={
                "low_hz": 16000.0,
                "high_hz": None,
                "smooth_ms": 0.5,
                "noise_factor": 25.0,
                "min_silence_ms": 1.0,
                "min_duration_ms": 1.5,
            },
            sources={
                "low_hz": _BIOACOUSTICS + " (HPF = 16 kHz)",
                "high_hz": _BIOACOUSTICS + " (LPF = half the sample rate)",
                "noise_factor": _BIOACOUSTICS + " (threshold 14 dB over the noise: 10^1.4 = 25)",
                "min_duration_ms": _BIOACOUSTICS + " (min_dur)",
                "smooth_ms": "sonotype's choice: a third of the shortest call kept",
                "min_silence_ms": "sonotype's choice: closes dropouts within a call, not the "
                "gaps between calls (tens of ms)",
            },
        ),
    ]
}


def get_preset(name: str) -> Preset:
    """The preset called ``name``; an unknown name is an error listing the presets."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ParameterError(
            f"--preset {name!r} is not a detector preset; the presets are "
            f"{', '.join(sorted(PRESETS))}"
        ) from None


def preset_detector(name: str, *, method: str | None = None, **params: Any) -> Detector:
    """A detector configured by preset ``name``; ``params`` override the preset's values.

    Parameters
    ----------
    name : str
        One of :data:`PRESETS` (``songbird``, ``fly``, ``rodent-usv``, ``bat``).
    method : str, optional
        The detector, if the caller names one: it must be the preset's.
    **params
        Detector parameters that replace the preset's (unknown ones are an error listing the
        valid ones, as in :func:`~sonotype.detect.make_detector`).

    Examples
    --------
    >>> detector = preset_detector("rodent-usv", noise_factor=40)
    >>> detector.low_hz, detector.noise_factor, detector.min_duration_ms
    (40000.0, 40, 3.0)
    """
    preset = get_preset(name)
    if method is not None and method != preset.method:
        raise ParameterError(
            f"--preset {name} configures --method {preset.method}, not {method}; drop "
            f"--method, or drop --preset and set {method}'s parameters with --set"
        )
    return make_detector(preset.method, **{**preset.params, **params})
