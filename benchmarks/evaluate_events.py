"""Benchmark: scoring 10^4 to 10^6 events (``evaluate_events``): time and peak memory.

Run by hand: ``python benchmarks/evaluate_events.py [--sizes 10000 100000 1000000]``.

Each size runs in a fresh subprocess (so each peak resident memory is its own) on two
layouts of synthetic events, reference and prediction alike:

- ``spread``: 1,000 events per recording, 5 labels, 3 events per second, predictions
  jittered by 5 ms and one in ten dropped (annotated song: small components);
- ``crowded``: one recording, one label, an event every millisecond, predictions shifted by
  0.4 ms (one connected component of every event: the worst case for the assignment; its
  dense cost matrix would need n^2 * 16 bytes). Scored with ``match_events`` alone, since the
  syllable error rate of one sequence of n events takes n^2 steps by definition.

Prints wall time, peak resident memory (VmHWM) and the matches found. Memory must grow
linearly with the number of events.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = r"""
import json, sys, time
import numpy as np
from sonotype.annotations import make_events
from sonotype.evaluate import evaluate_events, match_events

def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024

n, layout = int(sys.argv[1]), sys.argv[2]
rng = np.random.default_rng(0)
if layout == "spread":
    per = 1000
    names = np.repeat([f"r{i}.wav" for i in range(-(-n // per))], per)[:n]
    starts = np.tile(np.arange(per) / 3.0, -(-n // per))[:n]
    labels = rng.choice(list("abcde"), n)
    ref = make_events(names, starts, starts + 0.1, labels)
    keep = rng.random(n) >= 0.1
    jitter = np.abs(starts + rng.normal(0, 0.005, n))
    pred = make_events(names[keep], jitter[keep], jitter[keep] + 0.1, labels[keep])
else:
    starts = np.arange(n) * 0.001
    ref = make_events("s.wav", starts, starts, "a")
    pred = make_events("s.wav", starts + 0.0004, starts + 0.0004, "a")
before = peak_mb()
t = time.perf_counter()
if layout == "spread":
    hits = int(evaluate_events(ref, pred, tolerance_s=0.01).matches.shape[0])
else:
    hits = len(match_events(ref, pred, tolerance_s=0.01))
print(json.dumps({"s": time.perf_counter() - t, "peak_mb": peak_mb(), "tables_mb": before,
                  "hits": hits}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--layouts", nargs="+", default=["spread", "crowded"])
    args = parser.parse_args()
    print(f"{'layout':8} {'events':>9} {'time (s)':>9} {'peak MB':>8} {'tables MB':>9} {'hits':>9}")
    for layout in args.layouts:
        for n in args.sizes:
            run = subprocess.run(
                [sys.executable, "-c", CHILD, str(n), layout], capture_output=True, text=True
            )
            if run.returncode:
                print(f"{layout:8} {n:9d} failed: {run.stderr.strip().splitlines()[-1]}")
                continue
            r = json.loads(run.stdout)
            print(
                f"{layout:8} {n:9d} {r['s']:9.2f} {r['peak_mb']:8.0f} {r['tables_mb']:9.0f} "
                f"{r['hits']:9d}"
            )


if __name__ == "__main__":
    main()
