"""Benchmark: classifying 1 hour of 32 kHz audio, fully convolutional against per window.

Run by hand: ``python benchmarks/classify.py [--minutes 60] [--window-minutes 1]``.

Writes a synthetic hour of birdsong at 32 kHz and builds the default network (spectrogram
front end, four dilated convolutions; the weights do not change the cost). Each run happens
in a fresh subprocess so that its peak memory is its own:

1. ``classify_recording`` in the default, fully convolutional mode over the whole hour
   (blocks of 4096 output frames, four blocks per batch): times-realtime and peak memory.
2. The same network evaluated one context window per output frame (``mode="windows"``,
   batches of 512 windows), the way a per-window classifier works: on ``--window-minutes``
   of the audio (it is that much slower), times-realtime extrapolated per second of audio.

Prints the ratio, and checks that both modes give the same probabilities on the first minute.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from sonotype.synth import birdsong

CHILD = r"""
import json, sys, time
import numpy as np, torch
from sonotype.audio import Recording
from sonotype.models.config import network_config
from sonotype.models.inference import classify_recording, n_output_frames
from sonotype.models.network import build_network
path, mode, seconds, out_path = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
torch.manual_seed(0)
torch.set_num_threads(int(sys.argv[5]))
sr = 32000
network = build_network(network_config(), sr=sr, n_labels=7).eval()
recording = Recording(path)
frames = n_output_frames(recording, sr=sr, output_step=network.output_step)
frames = min(frames, int(seconds * sr / network.output_step))
out = np.zeros((frames, 7), np.float32)
t0 = time.perf_counter()
classify_recording(network, recording, out, sr=sr, mode=mode)
elapsed = time.perf_counter() - t0
np.save(out_path, out[: int(60 * sr / network.output_step)])
peak = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
audio_s = frames * network.output_step / sr
print(json.dumps({"seconds": elapsed, "audio_s": audio_s, "peak_mb": peak / 1024}))
"""


def write_audio(path: Path, minutes: float) -> None:
    """``minutes`` of synthetic birdsong at 32 kHz, written one minute at a time."""
    with sf.SoundFile(path, "w", 32000, 1, subtype="PCM_16") as f:
        for i in range(round(minutes)):
            y, _ = birdsong(60.0, sr=32000, random_state=i)
            f.write(np.clip(y, -1, 1))


def run(path: Path, mode: str, seconds: float, out: Path, threads: int) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), mode, str(seconds), str(out), str(threads)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        raise SystemExit(result.stderr)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--window-minutes", type=float, default=1.0)
    parser.add_argument("--threads", type=int, default=2, help="torch threads (cores)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        audio = folder / "hour.wav"
        write_audio(audio, args.minutes)
        conv = run(audio, "convolutional", args.minutes * 60, folder / "c.npy", args.threads)
        per = run(audio, "windows", args.window_minutes * 60, folder / "w.npy", args.threads)
        a, b = np.load(folder / "c.npy"), np.load(folder / "w.npy")
        n = min(len(a), len(b))
        difference = float(np.abs(a[:n] - b[:n]).max())
    speed_conv = conv["audio_s"] / conv["seconds"]
    speed_per = per["audio_s"] / per["seconds"]
    print(f"{args.minutes:g} min of 32 kHz audio, default network, {args.threads} threads")
    print(
        f"fully convolutional: {conv['seconds']:.1f} s, {speed_conv:.0f}x realtime, "
        f"peak {conv['peak_mb']:.0f} MB"
    )
    print(
        f"one window per frame ({per['audio_s']:.0f} s of audio): {per['seconds']:.1f} s, "
        f"{speed_per:.1f}x realtime, peak {per['peak_mb']:.0f} MB"
    )
    print(f"ratio: fully convolutional is {speed_conv / speed_per:.0f}x faster")
    print(f"largest difference between the two on the first minute: {difference:.2e}")


if __name__ == "__main__":
    main()
