"""Benchmark: detectors on 1 hour of audio, and the vectorised F-test against a loop.

Run by hand: ``python benchmarks/detect.py [--minutes 60]``.

1. Writes a synthetic hour at 2500 Hz (fly song) and at 32 kHz (birdsong), then runs
   ``time-freq`` and ``amplitude`` on each in a fresh subprocess (so peak memory is the
   detector's own), printing times-realtime and peak resident memory.
2. Times sonotype's multitaper F-test (all windows and tapers at once) against a
   straightforward implementation that loops over windows (one FFT per taper per window),
   on the same 2500 Hz audio, and prints the ratio; both give the same F statistics.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from sonotype.spectral import dpss_tapers, multitaper
from sonotype.synth import birdsong, flysong

CHILD = r"""
import json, sys, time
from sonotype.detect import detect_recording, make_detector
method, path, params = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
detector = make_detector(method, **params)
t0 = time.perf_counter()
events = detect_recording(detector, path)
seconds = time.perf_counter() - t0
peak = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
print(json.dumps({"seconds": seconds, "peak_mb": peak / 1024, "events": len(events)}))
"""

SETTINGS = {
    2500: {"time-freq": {}, "amplitude": {"low_hz": 100, "high_hz": 1000}},
    32000: {"time-freq": {"freq_n_ms": 16}, "amplitude": {}},
}


def write_hour(path: Path, sr: int, minutes: float) -> None:
    """``minutes`` of synthetic song, written one minute at a time."""
    make = flysong if sr == 2500 else birdsong
    with sf.SoundFile(path, "w", sr, 1, subtype="PCM_16") as f:
        for i in range(round(minutes)):
            y, _ = make(60.0, sr=sr, random_state=i)
            f.write(np.clip(y, -1, 1))


def run_detector(method: str, path: Path, params: dict) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, method, str(path), json.dumps(params)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def f_test_loop(y: np.ndarray, *, n: int, hop: int, nw: float) -> np.ndarray:
    """Thomson's F statistic window by window: the straightforward implementation."""
    tapers = dpss_tapers(n, nw=nw)
    k = len(tapers)
    h0 = tapers.sum(axis=1)
    out = []
    for start in range(0, len(y) - n + 1, hop):
        window = y[start : start + n]
        spectra = np.array([np.fft.rfft(taper * window) for taper in tapers])
        mu = (spectra * h0[:, None]).sum(axis=0) / (h0**2).sum()
        residual = (np.abs(spectra - mu * h0[:, None]) ** 2).sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            out.append((k - 1) * np.abs(mu) ** 2 * (h0**2).sum() / residual)
    return np.array(out).T


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    args = parser.parse_args()
    audio_s = args.minutes * 60
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'rate':>6} {'detector':<10} {'seconds':>8} {'x realtime':>11} {'peak MB':>8}")
        for sr, methods in SETTINGS.items():
            path = Path(tmp) / f"hour_{sr}.wav"
            write_hour(path, sr, args.minutes)
            for method, params in methods.items():
                r = run_detector(method, path, params)
                print(f"{sr:>6} {method:<10} {r['seconds']:>8.1f} "
                      f"{audio_s / r['seconds']:>11.0f} {r['peak_mb']:>8.0f}")  # fmt: skip

    # The F-test on ten minutes of fly song (the loop is slow), both ways.
    y, _ = flysong(600.0, random_state=0)
    n, hop, nw = 64, 32, 4.0
    t0 = time.perf_counter()
    fast = multitaper(y.astype(np.float64), sr=2500, n_fft=n, hop_length=hop, nw=nw, center=False)
    t_fast = time.perf_counter() - t0
    t0 = time.perf_counter()
    slow = f_test_loop(y.astype(np.float64), n=n, hop=hop, nw=nw)
    t_slow = time.perf_counter() - t0
    np.testing.assert_allclose(fast.f_statistic, slow, rtol=1e-6, atol=1e-9)
    print(f"F-test on 600 s at 2500 Hz: vectorised {t_fast:.2f} s, per-window loop "
          f"{t_slow:.2f} s: {t_slow / t_fast:.1f}x faster (same F statistics)")  # fmt: skip


if __name__ == "__main__":
    main()
