"""Benchmark: ``read_events`` of annotation tables against pandas' own ``read_csv`` of them.

Run by hand: ``python benchmarks/read_tables.py [--data DIR] [--events 1000000] [--repeats 5]``.

Two cases, on the data ``benchmarks/events_io.py`` makes (1,000,000 events on 100
recordings, times at full float precision, 20 labels and a score):

==================  ================================================  ===========================
case                sonotype                                          yardstick
==================  ================================================  ===========================
100 Raven tables    ``read_events`` of each (10,000 selections each)  ``pd.read_csv(f, sep="\\t")``
                                                                      of each
one CSV             ``read_events`` of the 1,000,000-row simple CSV   ``pd.read_csv`` of it
==================  ================================================  ===========================

Both run in this one process, alternating (sonotype, pandas, sonotype, pandas, ...) after one
warm-up run each (imports, the page cache), with ``gc.collect()`` before each run. It prints
the medians of the CPU time (user + system, which other jobs on the machine change much less
than wall time) and of the wall time, and their ratios. ``read_events`` is given the audio
folder, as ``Project.import_files`` gives a project's audio roots, so that each Raven table's
recording is found (``rec000.wav``). The yardstick parses and nothing else: no validation, no
line numbers for messages, no canonical Events table.

``--data DIR`` reuses a folder holding ``raven/*.txt``, ``events.csv`` and (optionally)
``template/audio`` (e.g. one left by ``events_io.py``'s setup); without it the files are
generated into a temporary folder with the same generator and seed as ``events_io.py``.
"""

from __future__ import annotations

import argparse
import gc
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sonotype.annotations import read_events

N_RECORDINGS = 100


def generate(root: Path, n: int, n_rec: int = N_RECORDINGS) -> None:
    """The simple CSV and Raven tables of ``events_io.py``'s setup (same seed, same files),
    and empty stand-ins for the recordings so the Raven reader finds their names."""
    per = -(-n // n_rec)
    rng = np.random.default_rng(0)
    names = np.repeat([f"rec{i:03d}.wav" for i in range(n_rec)], per)[:n]
    k = np.tile(np.arange(per), n_rec)[:n]
    start = k * 0.01 + rng.uniform(0, 0.004, n)
    stop = start + rng.uniform(0.001, 0.005, n)
    labels = np.array([f"syll_{i}" for i in range(20)])[rng.integers(0, 20, n)]
    score = rng.random(n)
    low = rng.uniform(500, 1000, n)
    high = low + rng.uniform(100, 400, n)
    audio = root / "template" / "audio"
    audio.mkdir(parents=True)
    for i in range(n_rec):
        (audio / f"rec{i:03d}.wav").touch()
    pd.DataFrame(
        {
            "recording": names,
            "onset_s": start,
            "offset_s": stop,
            "label": labels,
            "kind": "detected",
            "channel": 0,
            "source": "bench",
            "score": score,
        }
    ).to_csv(root / "events.csv", index=False)
    raven = root / "raven"
    raven.mkdir()
    for i in range(n_rec):
        rows = slice(i * per, min((i + 1) * per, n))
        m = len(start[rows])
        pd.DataFrame(
            {
                "Selection": np.arange(1, m + 1),
                "View": "Spectrogram 1",
                "Channel": 1,
                "Begin Time (s)": start[rows],
                "End Time (s)": stop[rows],
                "Low Freq (Hz)": low[rows],
                "High Freq (Hz)": high[rows],
                "Annotation": labels[rows],
            }
        ).to_csv(raven / f"rec{i:03d}.Table.1.selections.txt", sep="\t", index=False)


def timed(work) -> tuple[float, float, int]:
    """CPU seconds, wall seconds and the number of rows ``work()`` read."""
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    n = work()
    return time.process_time() - cpu, time.perf_counter() - wall, n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="folder with raven/*.txt and events.csv")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    made = None
    if args.data is None:
        made = args.data = Path(tempfile.mkdtemp(prefix="sonotype-read-tables-"))
        generate(made, args.events)
    try:
        raven = sorted((args.data / "raven").glob("*.txt"))
        csv = args.data / "events.csv"
        audio = [args.data / "template" / "audio"]
        cases = {
            f"{len(raven)} Raven tables": (
                lambda: sum(len(read_events(f, audio_dirs=audio)) for f in raven),
                lambda: sum(len(pd.read_csv(f, sep="\t")) for f in raven),
            ),
            "one CSV": (
                lambda: len(read_events(csv, audio_dirs=audio)),
                lambda: len(pd.read_csv(csv)),
            ),
        }
        print(
            f"{args.repeats} alternating runs in one process after a warm-up, medians; "
            "CPU = user + system"
        )
        print(
            f"{'case':18} {'rows':>9} {'sonotype cpu':>12} {'pandas cpu':>10} {'ratio':>6} "
            f"{'sonotype wall':>13} {'pandas wall':>11} {'ratio':>6}"
        )
        for case, (ours, theirs) in cases.items():
            ours(), theirs()  # warm-up
            runs: dict[str, list[tuple[float, float, int]]] = {"ours": [], "theirs": []}
            for _ in range(args.repeats):
                runs["ours"].append(timed(ours))
                runs["theirs"].append(timed(theirs))
            cpu = {k: statistics.median(r[0] for r in v) for k, v in runs.items()}
            wall = {k: statistics.median(r[1] for r in v) for k, v in runs.items()}
            print(
                f"{case:18} {runs['ours'][0][2]:9,d} {cpu['ours']:12.3f} {cpu['theirs']:10.3f} "
                f"{cpu['ours'] / cpu['theirs']:6.2f} {wall['ours']:13.3f} "
                f"{wall['theirs']:11.3f} {wall['ours'] / wall['theirs']:6.2f}"
            )
    finally:
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)


if __name__ == "__main__":
    main()
