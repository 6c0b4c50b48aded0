"""Benchmark: reading 1 hour of 48 kHz audio block-wise versus whole.

Run by hand: ``python benchmarks/read_blocks.py [--hours 1] [--block-s 60]``.

Writes a temporary 16-bit mono WAV, then in fresh subprocesses (so each peak memory is its
own) reads it (a) whole with ``Recording.read()`` and (b) block by block with
``Recording.blocks()``, computing the RMS of every second either way so both do the same
work. Prints wall time, times-realtime, peak resident memory of each, and the ratios.
Block-wise peak memory must stay under 200 MB whatever the file's length.
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

SR = 48000

CHILD = r"""
import json, sys, time
import numpy as np
from sonotype.audio import Recording

def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024

def per_second_rms(y, sr):
    # einsum squares and sums without a temporary the size of y.
    frames = y[: len(y) // sr * sr].reshape(-1, sr)
    return np.sqrt(np.einsum("ij,ij->i", frames, frames) / sr)

mode, path, block_s = sys.argv[1], sys.argv[2], float(sys.argv[3])
rec = Recording(path)
base = peak_mb()
t0 = time.perf_counter()
if mode == "whole":
    y = rec.read()[0]
    rms = per_second_rms(y, rec.sr)
else:
    parts = []
    for block in rec.blocks(block_s):
        y = block.core[0]
        parts.append(per_second_rms(y, rec.sr))
    rms = np.concatenate(parts)
seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "peak_mb": peak_mb(), "base_mb": base,
                  "checksum": float(rms.sum())}))
"""


def write_long_wav(path: Path, hours: float) -> None:
    """A long WAV written one minute at a time (so writing it needs little memory)."""
    rng = np.random.default_rng(0)
    with sf.SoundFile(path, "w", SR, 1, subtype="PCM_16") as f:
        for _ in range(round(hours * 60)):
            f.write((0.1 * rng.standard_normal(SR * 60)).astype(np.float32))


def run(mode: str, path: Path, block_s: float) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(path), str(block_s)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--block-s", type=float, default=60.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "long.wav"
        t0 = time.perf_counter()
        write_long_wav(path, args.hours)
        audio_s = args.hours * 3600
        print(
            f"wrote {audio_s:.0f} s of {SR} Hz audio ({path.stat().st_size / 1e6:.0f} MB) "
            f"in {time.perf_counter() - t0:.1f} s"
        )
        whole = run("whole", path, args.block_s)
        blocks = run("blocks", path, args.block_s)
    assert abs(whole["checksum"] - blocks["checksum"]) < 1e-3 * abs(whole["checksum"])
    print(f"{'':<22}{'seconds':>9}{'x realtime':>12}{'peak MB':>10}{'above start MB':>16}")
    for name, r in (("whole file", whole), (f"blocks of {args.block_s:g} s", blocks)):
        print(
            f"{name:<22}{r['seconds']:>9.2f}{audio_s / r['seconds']:>12.0f}"
            f"{r['peak_mb']:>10.0f}{r['peak_mb'] - r['base_mb']:>16.0f}"
        )
    print(
        f"speed ratio blocks/whole: {whole['seconds'] / blocks['seconds']:.2f}x "
        f"(>1 means block-wise is faster)"
    )
    print(f"peak memory ratio whole/blocks: {whole['peak_mb'] / blocks['peak_mb']:.1f}x")
    verdict = "OK" if blocks["peak_mb"] < 200 else "OVER BUDGET"
    print(f"block-wise peak {blocks['peak_mb']:.0f} MB (budget 200 MB): {verdict}")


if __name__ == "__main__":
    main()
