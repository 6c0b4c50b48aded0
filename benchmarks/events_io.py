"""Benchmark: importing, exporting and converting 1,000,000 events against pandas + SQLite.

Run by hand: ``python benchmarks/events_io.py [--events 1000000] [--repeats 3]``.

The events are spread over 100 recordings (short, low-rate WAV files that a project
indexes), 10,000 per recording, with times at full float precision as a detector writes
them, 20 labels and a score. They are written once as one simple CSV file and as a folder
of 100 Raven selection tables. Each case then runs sonotype and its yardstick alternately
(A, B, A, B, ...), each run in a fresh subprocess so that its peak resident memory
(``ru_maxrss``) is its own, and prints the median time, median peak memory and the ratio,
and the ratio of median CPU times (user + system: on a machine other jobs load, the wall
times swing with the load, the CPU times much less):

==================  ===========================================  ==============================
case                sonotype                                     yardstick
==================  ===========================================  ==============================
import csv          ``Project.import_files`` (one CSV file)      ``pd.read_csv`` + ``to_sql``
import csv+idx      the same                                     the same in WAL mode, then the
                                                                 3 indexes a project keeps
import raven        ``Project.import_files`` (100 Raven tables)  ``read_csv`` each + ``to_sql``
export csv          ``Project.export`` to a simple CSV           ``pd.read_sql`` + ``to_csv``
export raven        ``Project.export`` to 100 Raven tables       ``read_sql`` + ``to_csv`` each
convert raven>csv   ``sonotype convert DIR -o out.csv``          ``read_csv`` each + ``to_csv``
convert raven>aud   ``sonotype convert DIR -o out/ --to          crowsetta ``Raven.from_file``
                    audacity``                                   + ``AudBBox.to_file`` each
==================  ===========================================  ==============================

The yardsticks do no validation, no error reporting and no undo log; the SQLite yardstick
writes into a plain (rollback-journal) database. crowsetta is optional: without it the last
case prints "skipped (not installed)".
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

N_RECORDINGS = 100
SR = 1000

SETUP = r"""
import sys, sqlite3
from pathlib import Path
import numpy as np, pandas as pd, soundfile as sf
from sonotype.store.project import Project

root, n, n_rec, sr = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
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
    sf.write(audio / f"rec{i:03d}.wav", np.zeros(int((per * 0.01 + 1) * sr), np.int16), sr)
pd.DataFrame({"recording": names, "onset_s": start, "offset_s": stop, "label": labels,
              "kind": "detected", "channel": 0, "source": "bench", "score": score}
             ).to_csv(root / "events.csv", index=False)
raven = root / "raven"
raven.mkdir()
for i in range(n_rec):
    rows = slice(i * per, min((i + 1) * per, n))
    m = len(start[rows])
    pd.DataFrame({"Selection": np.arange(1, m + 1), "View": "Spectrogram 1", "Channel": 1,
                  "Begin Time (s)": start[rows], "End Time (s)": stop[rows],
                  "Low Freq (Hz)": low[rows], "High Freq (Hz)": high[rows],
                  "Annotation": labels[rows]}).to_csv(
        raven / f"rec{i:03d}.Table.1.selections.txt", sep="\t", index=False)
with Project.init(root / "template", audio_roots=[audio]) as project:
    project.scan()
shutil = __import__("shutil")
shutil.copytree(root / "template", root / "filled")
with Project.open(root / "filled") as project:
    project.import_files([root / "events.csv"])
with sqlite3.connect(root / "plain.db") as con:
    pd.read_csv(root / "events.csv").to_sql("events", con, index=False)
"""

CHILD = r"""
import json, resource, shutil, sqlite3, sys, time
from pathlib import Path
import numpy as np, pandas as pd

case, who, root, out = sys.argv[1], sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])
raven_files = sorted((root / "raven").glob("*.txt"))
if who == "sonotype":
    from sonotype.store.project import Project
    from sonotype.cli.main import app
if who == "sonotype" and case.startswith("import"):
    shutil.copytree(root / "template", out / "project")
if who == "crowsetta":
    import crowsetta
base_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
cpu = time.process_time()
t = time.perf_counter()
if who == "sonotype":
    if case in ("import csv", "import csv+idx"):
        with Project.open(out / "project") as p:
            n = p.import_files([root / "events.csv"]).total
    elif case == "import raven":
        with Project.open(out / "project") as p:
            n = p.import_files(raven_files).total
    elif case.startswith("export"):
        with Project.open(root / "filled") as p:
            fmt = case.split()[1]
            fmt = "simple-csv" if fmt == "csv" else fmt
            n = len(p.export(out / ("e.csv" if fmt == "simple-csv" else "e/"), format=fmt))
    else:
        target = ["-o", str(out / "c.csv")] if case.endswith("csv") else [
            "-o", str(out / "c") + "/", "--to", "audacity"]
        app(["convert", str(root / "raven"), *target], standalone_mode=False)
        n = 0
elif who == "pandas":
    if case == "import csv":
        with sqlite3.connect(out / "y.db") as con:
            n = pd.read_csv(root / "events.csv").to_sql("events", con, index=False)
    elif case == "import csv+idx":
        # The same, in WAL mode, with the three indexes a project keeps on its events.
        with sqlite3.connect(out / "y.db") as con:
            con.execute("PRAGMA journal_mode = WAL")
            con.execute("PRAGMA synchronous = FULL")
            n = pd.read_csv(root / "events.csv").to_sql("events", con, index=False)
            con.execute("CREATE INDEX a ON events (recording, onset_s)")
            con.execute("CREATE INDEX b ON events (kind, source)")
            con.execute("CREATE INDEX c ON events (channel)")
    elif case == "import raven":
        with sqlite3.connect(out / "y.db") as con:
            table = pd.concat([pd.read_csv(f, sep="\t") for f in raven_files], ignore_index=True)
            n = table.to_sql("events", con, index=False)
    elif case.startswith("export"):
        with sqlite3.connect(root / "plain.db") as con:
            table = pd.read_sql("SELECT * FROM events", con)
        if case == "export csv":
            table.to_csv(out / "e.csv", index=False)
        else:
            (out / "e").mkdir()
            for name, rows in table.groupby("recording", sort=False):
                rows.to_csv(out / "e" / (name + ".selections.txt"), sep="\t", index=False)
        n = len(table)
    else:
        table = pd.concat([pd.read_csv(f, sep="\t") for f in raven_files], ignore_index=True)
        table.to_csv(out / "c.csv", index=False)
        n = len(table)
else:
    (out / "c").mkdir()
    n = 0
    for f in raven_files:
        raven = crowsetta.formats.bbox.Raven.from_file(f)
        boxes = raven.to_bbox()
        aud = crowsetta.formats.bbox.AudBBox(df=pd.DataFrame({
            "begin_time_s": [b.onset for b in boxes], "end_time_s": [b.offset for b in boxes],
            "label": [b.label for b in boxes], "low_freq_hz": [b.low_freq for b in boxes],
            "high_freq_hz": [b.high_freq for b in boxes]}), annot_path=f)
        aud.to_file(out / "c" / (f.name.split(".")[0] + ".txt"))
        n += len(boxes)
seconds = time.perf_counter() - t
cpu_s = time.process_time() - cpu
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"s": seconds, "cpu_s": cpu_s, "peak_mb": peak, "base_mb": base_mb}))
"""

CASES = {
    "import csv": "pandas",
    "import csv+idx": "pandas",
    "import raven": "pandas",
    "export csv": "pandas",
    "export raven": "pandas",
    "convert raven>csv": "pandas",
    "convert raven>aud": "crowsetta",
}


def run_child(case: str, who: str, root: Path) -> dict | str:
    with tempfile.TemporaryDirectory(dir=root) as out:
        run = subprocess.run(
            [sys.executable, "-c", CHILD, case, who, str(root), out],
            capture_output=True,
            text=True,
        )
    if run.returncode:
        return f"failed: {(run.stderr.strip().splitlines() or ['?'])[-1]}"
    return json.loads(run.stdout.strip().splitlines()[-1])


def installed(module: str) -> bool:
    check = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True)
    return check.returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="sonotype-events-io-"))
    try:
        subprocess.run(
            [sys.executable, "-c", SETUP, str(root), str(args.events), str(N_RECORDINGS), str(SR)],
            check=True,
        )
        print(
            f"{args.events:,} events, {N_RECORDINGS} recordings, {args.repeats} alternating "
            f"repeats, medians; peak = ru_maxrss of the run's process (base = after imports)"
        )
        print(
            f"{'case':18} {'sonotype s':>10} {'yardstick s':>11} {'ratio':>6} {'cpu ratio':>9} "
            f"{'sonotype MB':>11} {'(base)':>6} {'yardstick MB':>12} {'(base)':>6}  yardstick"
        )
        for case in args.cases:
            yardstick = CASES[case]
            have = yardstick == "pandas" or installed(yardstick)
            results: dict[str, list[dict]] = {"sonotype": [], yardstick: []}
            failed = None
            for _ in range(args.repeats):
                for who in ("sonotype", yardstick) if have else ("sonotype",):
                    result = run_child(case, who, root)
                    if isinstance(result, str):
                        failed = f"{who} {result}"
                        break
                    results[who].append(result)
                if failed:
                    break
            if failed:
                print(f"{case:18} {failed}")
                continue
            ours = {
                k: statistics.median(r[k] for r in results["sonotype"])
                for k in results["sonotype"][0]
            }
            if not have:
                print(
                    f"{case:18} {ours['s']:10.2f} {'-':>11} {'-':>6} {'-':>9} "
                    f"{ours['peak_mb']:11.0f} "
                    f"{ours['base_mb']:6.0f} {'-':>12} {'-':>6}  {yardstick}: skipped "
                    "(not installed)"
                )
                continue
            theirs = {k: statistics.median(r[k] for r in results[yardstick]) for k in ours}
            print(
                f"{case:18} {ours['s']:10.2f} {theirs['s']:11.2f} "
                f"{ours['s'] / theirs['s']:6.2f} {ours['cpu_s'] / theirs['cpu_s']:9.2f} "
                f"{ours['peak_mb']:11.0f} {ours['base_mb']:6.0f} "
                f"{theirs['peak_mb']:12.0f} {theirs['base_mb']:6.0f}  {yardstick}"
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
