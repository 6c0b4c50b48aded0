import numpy as np
import pandas as pd

from sonotype.motifs.find import MotifResult, motif_table
from sonotype.motifs.profile import MatrixProfile
from sonotype.report.motifs import write_motifs_report

INFO = {"per": "recording", "rate_hz": 10, "smooth_s": 1, "window_s": 0.5, "engine": "numpy"}


def _results(rng, n):
    out = []
    for g in range(n):
        profile = MatrixProfile(rng.random(40), np.roll(np.arange(40), 10), 5)
        segments = pd.DataFrame({"recording": [f"g{g}.wav"], "start_s": [0.0],
                                 "first_frame": [0], "n_frames": [44]})  # fmt: skip
        out.append(MotifResult(f"g{g}.wav", profile, segments, 10.0))
    return out


def test_report_has_the_table_and_caps_the_plots(tmp_path, rng):
    results = _results(rng, 3)
    page = write_motifs_report(tmp_path, "m", motif_table(results), results, INFO, max_plots=2)
    html = page.read_text()
    assert "g2.wav" in html  # every group in the table
    assert "first 2 of 3" in html
    assert sorted(p.name for p in tmp_path.glob("*.png")) == ["profile-0000.png",
                                                               "profile-0001.png"]  # fmt: skip
