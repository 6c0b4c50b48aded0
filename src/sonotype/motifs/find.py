"""Top motif pair and top discord of each recording, or of each label's events.

Per recording, the CENS of the whole recording (streamed) gets one matrix profile. Per
label, the CENS of each of the label's events is computed on its own span, the spans are
concatenated, and windows that would straddle two events are excluded, so a motif always
lies inside one event (events shorter than the window cannot hold one and are skipped).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sonotype.checks import check_number
from sonotype.errors import ParameterError
from sonotype.motifs.features import DEFAULT_SETTINGS, CensSettings, recording_cens, span_cens
from sonotype.motifs.profile import MatrixProfile, exclusion_zone, matrix_profile

Progress = Callable[[int, int], None]

#: Default motif window in seconds (birdclef-2022's).
DEFAULT_WINDOW_S = 5.0


@dataclass(frozen=True)
class MotifResult:
    """The matrix profile of one group (a recording or a label) and where its frames lie.

    Attributes
    ----------
    group : str
        The recording's name or the label.
    profile : MatrixProfile
    segments : DataFrame
        One row per concatenated span: ``recording``, ``start_s`` (time of its first
        frame's centre), ``first_frame`` (its offset in the concatenation), ``n_frames``.
    rate_hz : float
        True CENS frame rate.
    """

    group: str
    profile: MatrixProfile
    segments: pd.DataFrame
    rate_hz: float

    @property
    def window_s(self) -> float:
        return self.profile.window / self.rate_hz

    def locate(self, frame: int) -> tuple[str, float]:
        """The recording and start time (seconds) of the window starting at ``frame``."""
        row = self.segments.iloc[
            int(np.searchsorted(self.segments["first_frame"].to_numpy(), frame, "right")) - 1
        ]
        return str(row["recording"]), float(
            row["start_s"] + (frame - row["first_frame"]) / self.rate_hz
        )

    def summary(self) -> dict:
        """The motif pair and the discord, as one row of :func:`motif_table`."""
        i, j, distance = self.profile.motif()
        k, discord_distance = self.profile.discord()
        (rec_i, t_i), (rec_j, t_j), (rec_k, t_k) = self.locate(i), self.locate(j), self.locate(k)
        if (rec_j, t_j) < (rec_i, t_i):  # the pair in time order
            (rec_i, t_i), (rec_j, t_j) = (rec_j, t_j), (rec_i, t_i)
        w = self.window_s
        return {
            "group": self.group,
            "motif_recording": rec_i, "motif_start_s": t_i, "motif_stop_s": t_i + w,
            "match_recording": rec_j, "match_start_s": t_j, "match_stop_s": t_j + w,
            "motif_distance": distance,
            "discord_recording": rec_k, "discord_start_s": t_k, "discord_stop_s": t_k + w,
            "discord_distance": discord_distance,
        }  # fmt: skip


def window_frames(window_s: float, rate_hz: float) -> int:
    """The motif window in frames (at least 3)."""
    window_s = check_number(window_s, name="window", minimum=0, inclusive="neither", default=5.0,
                            hint="it is the motif length in seconds")  # fmt: skip
    frames = round(window_s * rate_hz)
    if frames < 3:
        raise ParameterError(
            f"window={window_s:g} s is {frames} CENS frames at {rate_hz:g} per second; a motif "
            "needs at least 3: use a longer --window or a higher --rate",
            parameter="window",
        )
    return frames


def recording_motifs(
    recording,
    *,
    name: str,
    settings: CensSettings = DEFAULT_SETTINGS,
    window_s: float = DEFAULT_WINDOW_S,
    channel: int = 0,
    engine: str = "auto",
) -> MotifResult:
    """The matrix profile of one recording's CENS (read block by block).

    Parameters
    ----------
    recording : Recording
    name : str
        The recording's name in the project (reported as ``group`` and ``recording``).
    settings : CensSettings
    window_s : float
        Motif length in seconds.
    channel : int
    engine : {"auto", "numpy", "stumpy"}

    Returns
    -------
    MotifResult
    """
    rate = settings.frame_rate_hz(recording.sr)
    m = window_frames(window_s, rate)
    cens = recording_cens(recording, settings, channel=channel)
    # A motif needs two windows farther apart than the exclusion zone (a quarter window).
    if cens.shape[1] - m + 1 < exclusion_zone(m) + 2:
        raise ParameterError(
            f"{name} lasts {recording.duration_s:.1f} s, too short for a motif window of "
            f"{window_s:g} s: use a shorter --window",
            parameter="window",
        )
    profile = matrix_profile(cens, window=m, engine=engine)
    segments = pd.DataFrame(
        {"recording": [name], "start_s": [0.0], "first_frame": [0], "n_frames": [cens.shape[1]]}
    )
    return MotifResult(name, profile, segments, rate)


def label_motifs(
    events: pd.DataFrame,
    open_recording: Callable[[str], object],
    *,
    label: str,
    settings: CensSettings = DEFAULT_SETTINGS,
    window_s: float = DEFAULT_WINDOW_S,
    engine: str = "auto",
) -> MotifResult:
    """The matrix profile of the concatenated CENS of one label's events.

    Parameters
    ----------
    events : DataFrame
        Events table of the label (``recording``, ``start_s``, ``stop_s``, ``channel``).
    open_recording : callable
        Maps a recording name to its :class:`~sonotype.audio.Recording`.
    label : str
    settings, window_s, engine
        As in :func:`recording_motifs`.
    """
    parts, rows, first = [], [], 0
    m = None
    for event in events.sort_values(["recording", "start_s"]).itertuples(index=False):
        rec = open_recording(event.recording)
        rate = settings.frame_rate_hz(rec.sr)
        m = window_frames(window_s, rate) if m is None else m
        channel = 0 if pd.isna(getattr(event, "channel", 0)) else int(event.channel)
        stop_s = min(float(event.stop_s), rec.duration_s)
        if (stop_s - event.start_s) * rate < m + 1:
            continue
        y = rec.read(float(event.start_s), stop_s, channel=channel)[0]
        cens = span_cens(y, sr=rec.sr, settings=settings)
        parts.append(cens)
        rows.append((event.recording, float(event.start_s), first, cens.shape[1]))
        first += cens.shape[1]
    if not parts:
        raise ParameterError(
            f"label {label!r}: none of its {len(events)} events lasts longer than the motif "
            f"window of {window_s:g} s; use a shorter --window or --per recording",
            parameter="window",
        )
    series = np.concatenate(parts, axis=1)
    lengths = [r[3] for r in rows]
    if sum(n - m + 1 for n in lengths) < 2 + (len(lengths) == 1) * 2 * int(np.ceil(m / 4)):
        raise ParameterError(
            f"label {label!r}: its events hold too few {window_s:g} s windows to find a "
            "repeated motif; use a shorter --window",
            parameter="window",
        )
    profile = matrix_profile(series, window=m, lengths=lengths, engine=engine)
    segments = pd.DataFrame(rows, columns=["recording", "start_s", "first_frame", "n_frames"])
    return MotifResult(label, profile, segments, rate)


def motif_table(results: list[MotifResult]) -> pd.DataFrame:
    """One row per group: the motif pair (``motif_*``, ``match_*``), its distance, and the
    discord (``discord_*``), times in seconds."""
    return pd.DataFrame([r.summary() for r in results])
