"""Benchmark: the matrix profile of CENS at 10 frames per second, in times realtime.

Run by hand: ``python benchmarks/motifs.py [--minutes 2 5 10 20] [--window 5] [--threads 1]``.

For each duration, on synthetic CENS-like sequences (12 rows, Hann-smoothed random chroma,
unit-norm frames, as CENS is) of that many minutes at 10 frames per second, each
measurement in a fresh process (so numba's compilation and peak memory are its own):

- ``stumpy``: the plain ``stumpy.mstump(series, m)`` call, first call (with compilation:
  what one ``sonotype motifs`` process pays) and second call (compiled);
- ``numpy``: sonotype's BLAS engine (``matrix_profile(engine="numpy")``);

and prints seconds, times realtime (audio duration / seconds) and the process's peak
resident memory (``ru_maxrss``) minus that of the same process before the call. Also the
CENS front end itself: ``recording_cens`` over a synthetic WAV of the same length.

``--threads`` sets numba's and BLAS's threads in the children (``NUMBA_NUM_THREADS``,
``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS``); 1 by default, so
that the engines compare like with like on a machine shared with other work, where
stumpy's parallel threads otherwise fight over the cores (measured 30-50 times slower
under a load average of 20).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

RATE_HZ = 10.0

_CHILD = r"""
import json, resource, sys, time
import numpy as np
import scipy.ndimage
kind, minutes, window_s = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
rng = np.random.default_rng(0)
n = int(minutes * 60 * 10)
x = scipy.ndimage.uniform_filter1d(rng.random((12, n)), 10, axis=1)
x /= np.linalg.norm(x, axis=0, keepdims=True)
m = int(window_s * 10)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
out = {}
if kind == "stumpy":
    import stumpy
    t = time.perf_counter(); stumpy.mstump(x, m); out["first_s"] = time.perf_counter() - t
    t = time.perf_counter(); stumpy.mstump(x, m); out["seconds"] = time.perf_counter() - t
elif kind == "numpy":
    from sonotype.motifs.profile import matrix_profile
    t = time.perf_counter(); matrix_profile(x, window=m, engine="numpy")
    out["seconds"] = out["first_s"] = time.perf_counter() - t
else:
    import soundfile as sf
    from sonotype.audio import Recording
    from sonotype.motifs.features import recording_cens
    from sonotype.synth.motif import planted_motif
    path = sys.argv[4]
    sf.write(path, planted_motif(duration_s=minutes * 60, rng=rng, sr=32000), 32000)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter(); recording_cens(Recording(path))
    out["seconds"] = out["first_s"] = time.perf_counter() - t
out["peak_mb"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
print(json.dumps(out))
"""


def measure(kind: str, minutes: float, window_s: float, wav: str, threads: int) -> dict:
    env = dict(os.environ)
    for name in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                 "MKL_NUM_THREADS"):  # fmt: skip
        env[name] = str(threads)
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, kind, str(minutes), str(window_s), wav],
        capture_output=True, text=True, check=True, env=env,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[2, 5, 10, 20])
    parser.add_argument("--window", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    print(f"{'minutes':>7} {'engine':>8} {'first s':>8} {'s':>8} {'x realtime':>11} "
          f"{'peak MB':>8}", flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        wav = str(Path(tmp) / "audio.wav")
        for minutes in args.minutes:
            for kind in ("cens", "numpy", "stumpy"):
                r = measure(kind, minutes, args.window, wav, args.threads)
                speed = minutes * 60 / r["seconds"]
                print(f"{minutes:7g} {kind:>8} {r['first_s']:8.2f} {r['seconds']:8.2f} "
                      f"{speed:11.0f} {r['peak_mb']:8.1f}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
