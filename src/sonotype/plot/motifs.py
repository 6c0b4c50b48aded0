"""The matrix profile of one group, with its motif pair and discord marked."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure


def profile_figure(result, *, title: str = "") -> Figure:
    """Distance to the nearest neighbour of every window (frames concatenated in order),
    the motif pair in green, the discord in red.

    Parameters
    ----------
    result : sonotype.motifs.find.MotifResult
    title : str
    """
    profile = result.profile
    x_s = np.arange(len(profile.distances)) / result.rate_hz
    y = np.where(np.isfinite(profile.distances), profile.distances, np.nan)
    fig = Figure(figsize=(10, 2.6), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(x_s, y, lw=0.8, color="0.25")
    i, j, _ = profile.motif()
    k, _ = profile.discord()
    w = result.window_s
    for frame, colour, name in ((i, "tab:green", "motif"), (j, "tab:green", None),
                                (k, "tab:red", "discord")):  # fmt: skip
        ax.axvspan(frame / result.rate_hz, frame / result.rate_hz + w, color=colour,
                   alpha=0.25, label=name)  # fmt: skip
    if len(result.segments) > 1:
        for first in result.segments["first_frame"].to_numpy()[1:]:
            ax.axvline(first / result.rate_hz, color="0.7", lw=0.5)
    ax.set_xlabel("time in the concatenated CENS (s)" if len(result.segments) > 1 else "time (s)")
    ax.set_ylabel("distance to nearest window")
    ax.set_xlim(0, max(x_s[-1] if len(x_s) else 0, 1e-9) + w)
    ax.legend(loc="upper right", fontsize="small")
    ax.set_title(title, fontsize="medium")
    return fig
