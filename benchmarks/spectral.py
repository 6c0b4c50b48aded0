"""Benchmark: STFT, mel and multitaper throughput on 1 hour of 48 kHz audio.

Run by hand: ``python benchmarks/spectral.py [--minutes 60] [--block-s 60]``.

Synthesises the audio one block at a time (noise plus a sweeping tone) and times, on the
same blocks in the same process:

- ``sonotype.spectral.stft`` against ``scipy.signal.ShortTimeFFT.stft`` and
  ``librosa.stft`` (same window, n_fft, hop and centring);
- ``sonotype.spectral.mel_spectrogram`` against ``librosa.feature.melspectrogram``;
- ``sonotype.spectral.multitaper`` (power and harmonic F-test) against a baseline of one
  ``ShortTimeFFT`` per DPSS taper (power only, no F-test).

Prints times-realtime and the ratios (>1 means sonotype is faster). Then writes the audio
to a temporary 16-bit WAV and, in a fresh subprocess so the peak is its own, streams it
through ``stft_recording`` block by block, printing wall time and peak resident memory
(VmHWM from /proc/self/status).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import scipy.signal
import soundfile as sf

from sonotype.spectral import mel_spectrogram, multitaper, stft

SR = 48000
N_FFT, HOP = 512, 128  # 10.7 ms frames, 2.7 ms hop: a typical bioacoustic STFT at 48 kHz
MEL_N_FFT, MEL_HOP, N_MELS = 1024, 256, 128
MT_N_FFT, MT_HOP, NW = 512, 256, 4.0

CHILD = r"""
import json, sys, time
import numpy as np
from sonotype.audio import Recording
from sonotype.spectral import stft_recording

def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024

path, block_s, n_fft, hop = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rec = Recording(path)
base = peak_mb()
t0 = time.perf_counter()
frames = 0
energy = 0.0
for first, S in stft_recording(rec, n_fft=n_fft, hop_length=hop, block_s=block_s):
    frames += S.shape[-1]
    energy += float(np.einsum("ij,ij->", S.real, S.real) + np.einsum("ij,ij->", S.imag, S.imag))
seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "peak_mb": peak_mb(), "base_mb": base,
                  "frames": frames, "energy": energy}))
"""


def synthetic_blocks(minutes: float, block_s: float) -> Iterator[np.ndarray]:
    """float32 blocks of noise plus a tone sweeping 2-12 kHz every 10 s, ``block_s`` long."""
    rng = np.random.default_rng(0)
    total = round(minutes * 60 * SR)
    size = round(block_s * SR)
    for start in range(0, total, size):
        t = np.arange(start, min(start + size, total)) / SR
        sweep_hz = 2000 + 1000 * (t % 10)
        phase = 2 * np.pi * np.cumsum(sweep_hz) / SR
        yield (0.1 * rng.standard_normal(t.size) + 0.3 * np.sin(phase)).astype(np.float32)


def time_methods(
    methods: dict[str, Callable[[np.ndarray], object]], blocks: Iterator[np.ndarray]
) -> dict[str, float]:
    """Seconds each method spends over all blocks (each block computed by every method).

    The order of the methods rotates from block to block, so that none is always the one
    that runs first on fresh data or after another's large temporaries were freed.
    """
    seconds = dict.fromkeys(methods, 0.0)
    names = list(methods)
    for i, y in enumerate(blocks):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            method = methods[name]
            t0 = time.perf_counter()
            method(y)
            seconds[name] += time.perf_counter() - t0
    return seconds


def baselines() -> dict[str, dict[str, Callable[[np.ndarray], object]]]:
    window = scipy.signal.get_window("hann", N_FFT, fftbins=True)
    sft = scipy.signal.ShortTimeFFT(window, hop=HOP, fs=SR, mfft=N_FFT, phase_shift=None)
    tapers = scipy.signal.windows.dpss(MT_N_FFT, NW, Kmax=int(2 * NW) - 1, norm=2)
    taper_sfts = [
        scipy.signal.ShortTimeFFT(taper, hop=MT_HOP, fs=SR, mfft=MT_N_FFT, phase_shift=None)
        for taper in tapers
    ]

    def scipy_stft(y):
        return sft.stft(y, p0=0, p1=1 + len(y) // HOP)

    def scipy_multitaper_power(y):
        p1 = 1 + len(y) // MT_HOP
        return sum(np.abs(s.stft(y, p0=0, p1=p1)) ** 2 for s in taper_sfts) / len(taper_sfts)

    groups = {
        "stft": {
            "sonotype": lambda y: stft(y, n_fft=N_FFT, hop_length=HOP),
            "scipy ShortTimeFFT": scipy_stft,
        },
        "mel": {
            "sonotype": lambda y: mel_spectrogram(
                y, sr=SR, n_fft=MEL_N_FFT, hop_length=MEL_HOP, n_mels=N_MELS
            ),
        },
        "multitaper": {
            "sonotype (power + F-test)": lambda y: multitaper(
                y, sr=SR, n_fft=MT_N_FFT, hop_length=MT_HOP, nw=NW
            ),
            "scipy, 1 STFT per taper (power)": scipy_multitaper_power,
        },
    }
    try:
        import librosa
    except ImportError:
        print("librosa is not installed: its columns are skipped")
    else:
        groups["stft"]["librosa"] = lambda y: librosa.stft(y, n_fft=N_FFT, hop_length=HOP)
        groups["mel"]["librosa"] = lambda y: librosa.feature.melspectrogram(
            y=y, sr=SR, n_fft=MEL_N_FFT, hop_length=MEL_HOP, n_mels=N_MELS
        )
    return groups


def stream_memory(minutes: float, block_s: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "long.wav"
        t0 = time.perf_counter()
        with sf.SoundFile(path, "w", SR, 1, subtype="PCM_16") as f:
            for y in synthetic_blocks(minutes, 60.0):
                f.write(y)
        print(
            f"\nwrote {minutes * 60:.0f} s of {SR} Hz audio as 16-bit WAV "
            f"({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t0:.1f} s"
        )
        args = [str(path), str(block_s), str(N_FFT), str(HOP)]
        result = subprocess.run(
            [sys.executable, "-c", CHILD, *args], capture_output=True, text=True, check=True
        )
    r = json.loads(result.stdout)
    whole_mb = r["frames"] * (1 + N_FFT // 2) * 8 / 1e6
    print(
        f"stft_recording, blocks of {block_s:g} s (read + decode + STFT): "
        f"{r['seconds']:.1f} s, {minutes * 60 / r['seconds']:.0f}x realtime, "
        f"{r['frames']} frames"
    )
    print(
        f"peak memory {r['peak_mb']:.0f} MB ({r['peak_mb'] - r['base_mb']:.0f} MB above the "
        f"{r['base_mb']:.0f} MB after imports); the whole complex64 STFT would be "
        f"{whole_mb:.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--block-s", type=float, default=60.0)
    args = parser.parse_args()
    audio_s = args.minutes * 60
    groups = baselines()
    warm = next(synthetic_blocks(1 / 60, 1.0))
    for methods in groups.values():
        for method in methods.values():
            method(warm)  # first-call costs (imports, plans, caches) are not throughput
    print(
        f"{audio_s:.0f} s of {SR} Hz audio in blocks of {args.block_s:g} s; stft n_fft={N_FFT} "
        f"hop={HOP}; mel n_fft={MEL_N_FFT} hop={MEL_HOP} n_mels={N_MELS}; multitaper "
        f"n_fft={MT_N_FFT} hop={MT_HOP} nw={NW:g} k={int(2 * NW) - 1}"
    )
    print(f"{'':<12}{'method':<34}{'seconds':>9}{'x realtime':>12}{'sonotype speed-up':>19}")
    for group, methods in groups.items():
        seconds = time_methods(methods, synthetic_blocks(args.minutes, args.block_s))
        ours = next(iter(seconds.values()))
        for name, s in seconds.items():
            print(f"{group:<12}{name:<34}{s:>9.1f}{audio_s / s:>12.0f}{s / ours:>18.2f}x")
    stream_memory(args.minutes, args.block_s)


if __name__ == "__main__":
    main()
