"""Real Bengalese finch song (gy6or6): the top motif of each song lies in the song."""

from __future__ import annotations

import numpy as np
import pytest

from sonotype.annotations import concat_events, iter_annotation_files, read_events
from sonotype.audio import Recording
from sonotype.motifs.features import CensSettings
from sonotype.motifs.find import recording_motifs
from tests.fixtures.shared import data_folder

pytestmark = pytest.mark.realdata


def test_each_songs_motif_pair_falls_on_annotated_syllables():
    folder = data_folder("bengalese-finch-gy6or6")
    tables = [read_events(p, relative_to=folder) for p, _ in iter_annotation_files(folder)]
    events = concat_events(tables)
    covered = []
    for name, syllables in list(events.groupby("recording"))[:4]:
        result = recording_motifs(Recording(folder / name), name=name, window_s=1.0,
                                  settings=CensSettings(rate_hz=20, smooth_s=0.25))  # fmt: skip
        row = result.summary()
        for start in (row["motif_start_s"], row["match_start_s"]):
            t = np.linspace(start, start + 1.0, 101)
            inside = ((t[:, None] >= syllables["start_s"].to_numpy())
                      & (t[:, None] < syllables["stop_s"].to_numpy())).any(axis=1)  # fmt: skip
            covered.append(inside.mean())
    # Song is about half syllables, half gaps; silence between songs is none of it.
    assert np.mean(covered) > 0.4
