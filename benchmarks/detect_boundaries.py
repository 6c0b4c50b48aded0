"""Onset and offset accuracy of the ``amplitude`` detector against human boundaries.

Run by hand: ``python benchmarks/detect_boundaries.py [--quick]``.

Data (``../shared/data``): the zebra finch of DAS (``train/`` 14 files, ``test/`` 2 files,
32 kHz, one bird) and the Bengalese finch gy6or6 (10 songs, channel 0, evsonganaly
``.not.mat`` boundaries). Detections and annotations are matched one to one by overlap
(IoU >= 0.5, :func:`sonotype.evaluate.match_events`); for the matched pairs it prints the
median signed onset and offset errors (detected minus human, ms; negative = early) with their
interquartile range, and the F1 of boundary matching within 10 and 20 ms (onset and offset).

Settings are chosen on zebra finch ``train/`` only (F1 within 10 ms; ties go to the plain
thresholds): a grid of peak-relative boundaries (``onset_db``, ``offset_db``) on top of two
threshold settings, the ones chosen earlier on train/ (docs/detect.md) and the ``songbird``
preset (evsonganaly's defaults). Zebra finch ``test/`` and gy6or6 are held out, reported
before and after (an "after" row only where the grid chose a change). About 5 minutes on
one core (``--quick``: 2).
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import numpy as np
import pandas as pd

from sonotype.annotations import read_events
from sonotype.detect import PRESETS, detect_recording, make_detector
from sonotype.evaluate import match_events

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

#: Thresholding chosen earlier on zebra finch train/ (docs/detect.md); the baseline here.
ZEBRA_FINCH = {"smooth_ms": 16, "noise_factor": 160, "min_silence_ms": 2, "min_duration_ms": 40}


def zebra_finch(split: str) -> list[tuple[Path, int, pd.DataFrame]]:
    folder = DATA / "zebra-finch-das" / split
    return [
        (wav, 0, read_events(wav.with_suffix(".csv"), format="simple-csv"))
        for wav in sorted(folder.glob("*.wav"))
    ]


def gy6or6() -> list[tuple[Path, int, pd.DataFrame]]:
    folder = DATA / "bengalese-finch-gy6or6"
    return [
        (song, 0, read_events(song.with_name(song.name + ".not.mat")))
        for song in sorted(folder.glob("*.cbin"))
    ]


def score(params: dict, data) -> dict:
    """Boundary errors and F1 of ``amplitude`` with ``params`` on ``data``."""
    detector = make_detector("amplitude", **params)
    refs, preds = [], []
    for path, channel, ref in data:
        pred = detect_recording(detector, path, channels=[channel], name=path.name)
        ref = ref.assign(recording=path.name, label="syllable", channel=channel)
        refs.append(ref)
        preds.append(pred.assign(label="syllable"))
    ref, pred = pd.concat(refs, ignore_index=True), pd.concat(preds, ignore_index=True)
    pairs = match_events(ref, pred, min_iou=0.5)
    out = {"n_ref": len(ref), "n_pred": len(pred)}
    for name in ("onset", "offset"):
        errors = 1000 * pairs[f"{name}_error_s"].to_numpy()
        q25, q50, q75 = np.percentile(errors, [25, 50, 75]) if len(errors) else [np.nan] * 3
        out[f"{name}_median_ms"], out[f"{name}_iqr_ms"] = q50, (q25, q75)
    for tol_ms in (10, 20):
        hits = len(match_events(ref, pred, tolerance_s=tol_ms / 1000))
        out[f"f1_{tol_ms}ms"] = 2 * hits / max(len(ref) + len(pred), 1)
    return out


def line(name: str, s: dict) -> str:
    def err(key):
        lo, hi = s[f"{key}_iqr_ms"]
        return f"{s[f'{key}_median_ms']:+6.1f} [{lo:+6.1f}, {hi:+6.1f}]"

    return (
        f"{name:<34} onset {err('onset')}  offset {err('offset')}  "
        f"F1@10 {s['f1_10ms']:.3f}  F1@20 {s['f1_20ms']:.3f}  ({s['n_pred']} found / {s['n_ref']})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a coarser grid")
    args = parser.parse_args()
    train, test, bengalese = zebra_finch("train"), zebra_finch("test"), gy6or6()
    print("errors: median [25th, 75th percentile] in ms, detected minus human")
    grid_db = [None, 20, 30] if args.quick else [None, 15, 20, 25, 30]
    bases = {
        "thresholds chosen on train/": ZEBRA_FINCH,
        "songbird preset": dict(PRESETS["songbird"].params),
    }
    chosen = {}
    for base_name, base in bases.items():
        print(f"\n-- {base_name}: peak-relative grid on zebra finch train/ (F1 within 10 ms) --")
        results = {}
        for onset_db, offset_db in itertools.product(grid_db, grid_db):
            params = base | {"onset_db": onset_db, "offset_db": offset_db}
            results[(onset_db, offset_db)] = s = score(params, train)
            print(line(f"onset_db={onset_db} offset_db={offset_db}", s), flush=True)
        # Ties go to the plain thresholds.
        best = max(results, key=lambda k: (round(results[k]["f1_10ms"], 3), k == (None, None)))
        chosen[base_name] = base | {"onset_db": best[0], "offset_db": best[1]}
        print(f"chosen: onset_db={best[0]} offset_db={best[1]}")

    print("\n-- held out: before (thresholds only) and after (chosen on train/) --")
    for data_name, data in (("zebra finch test/", test), ("gy6or6", bengalese)):
        for base_name, base in bases.items():
            print(line(f"{data_name} {base_name}", score(base, data)))
            if chosen[base_name] != base | {"onset_db": None, "offset_db": None}:
                print(line("    after", score(chosen[base_name], data)))


if __name__ == "__main__":
    main()
