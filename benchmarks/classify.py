"""Benchmark: classification at 32 kHz against the machine's compute limit, and streaming latency.

Run by hand: ``python benchmarks/classify.py [--minutes 5] [--repeats 3] [--threads 2]
[--set KEY=VALUE ...]``.

Prints, in one run:

1. The network's cost: multiply-adds of every convolution (the spectrogram front end and the
   blocks, counted from the module shapes) per second of 32 kHz audio, as FLOPs, in all and
   per block. The network is the default one unless ``--set KEY=VALUE`` (repeatable; as
   ``sonotype train --set`` reads them, e.g. ``--set feature_maps=16,32,32,32``) changes a setting:
   the cost, every classification and the streaming measure then use that network.
2. The machine's matrix-multiply rate (a timed 2048 x 2048 ``torch.matmul`` at ``--threads``
   threads, measured again in every round because the load changes), hence the compute-limit
   realtime factor: matmul FLOP/s divided by the network's FLOPs per second of audio. Both
   by wall time and by CPU time (FLOPs per CPU-second): on a machine shared with other work,
   wall times follow the load, while the CPU-time rates compare like with like. The default
   is one thread, as each worker of ``sonotype classify``'s pool runs (one per core); with
   more threads than free cores, OpenMP's spinning inflates CPU time.
3. ``classify_recording`` over ``--minutes`` of synthetic birdsong, each variant in a fresh
   process (glibc's malloc settings are per process), variants alternating round by round,
   medians over ``--repeats`` rounds: the torch path as it was before issue 13 (torch's
   max-pool kernel, default malloc thresholds), each fix alone, all fixes, and the onnx
   engine. For each: times realtime by wall time and per CPU-second, the share of the
   compute limit (per CPU-second: the network's FLOP rate over matmul's), CPU and system
   seconds and minor page faults per hour of audio, peak memory; and the largest difference
   in probabilities from the torch path before, with the share of frames whose top label
   agrees.
4. Streaming: the network at the fly rate (2.5 kHz) fed 25.6 ms chunks of synthetic
   fly song through ``StreamClassifier``, per engine: median and 99th percentile of the time
   per chunk.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from sonotype.synth import birdsong

SR = 32000

#: Variant name: (engine, strided max-pool, raised malloc thresholds, block frames).
VARIANTS = {
    "torch, before issue 13": ("torch", False, False, 1024),
    "torch + malloc thresholds": ("torch", False, True, 1024),
    "torch + strided max-pool": ("torch", True, False, 1024),
    "torch, all fixes": ("torch", True, True, 1024),
    "torch, all fixes, blocks of 4096": ("torch", True, True, 4096),
    "onnxruntime": ("onnx", True, False, 1024),
}

CHILD = r"""
import json, resource, sys, time
import numpy as np, torch
from sonotype.audio import Recording
from sonotype.models import inference
from sonotype.models.config import network_config
from sonotype.models.network import build_network
path, seconds, out_path, threads = sys.argv[1], float(sys.argv[2]), sys.argv[3], int(sys.argv[4])
engine, strided, malloc, block = json.loads(sys.argv[5])
settings = json.loads(sys.argv[6])
torch.manual_seed(0)
torch.set_num_threads(threads)
sr = 32000
network = build_network(network_config(**settings), sr=sr, n_labels=7).eval()
if not strided:  # torch's own pooling kernel, as before
    for b in network.blocks:
        if isinstance(b.pool, torch.nn.MaxPool2d):
            b.pool = torch.nn.MaxPool2d(b.pool.kernel_size)
if not malloc:
    inference.raise_malloc_thresholds = lambda: None
recording = Recording(path)
frames = inference.n_output_frames(recording, sr=sr, output_step=network.output_step)
frames = min(frames, int(seconds * sr / network.output_step))
out = np.zeros((frames, 7), np.float32)
before = resource.getrusage(resource.RUSAGE_SELF)
t0 = time.perf_counter()
inference.classify_recording(network, recording, out, sr=sr, engine=engine, block_frames=block)
elapsed = time.perf_counter() - t0
after = resource.getrusage(resource.RUSAGE_SELF)
np.save(out_path, out)
print(json.dumps({
    "seconds": elapsed, "audio_s": frames * network.output_step / sr,
    "cpu_s": after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime,
    "sys_s": after.ru_stime - before.ru_stime, "faults": after.ru_minflt - before.ru_minflt,
    "peak_mb": after.ru_maxrss / 1024,
}))
"""

MATMUL = r"""
import json, sys, time
import torch
torch.set_num_threads(int(sys.argv[1]))
a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
for _ in range(3):
    a @ b
walls, cpus = [], []
for _ in range(7):
    t0, c0 = time.perf_counter(), time.process_time()
    a @ b
    walls.append(time.perf_counter() - t0); cpus.append(time.process_time() - c0)
flop = 2 * 2048**3 / 1e9
print(json.dumps({"gflops": flop / sorted(walls)[3], "gflops_cpu": flop / sorted(cpus)[3]}))
"""

STREAM = r"""
import json, sys, time
import numpy as np, torch
from sonotype.models.config import network_config
from sonotype.models.network import build_network
from sonotype.models.streaming import StreamClassifier
from sonotype.synth import flysong
engine, threads, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
settings = json.loads(sys.argv[4])
torch.manual_seed(0)
torch.set_num_threads(threads)
sr = 2500
network = build_network(network_config(**settings), sr=sr, n_labels=3).eval()
audio, _ = flysong(seconds, random_state=0)
audio = audio.astype(np.float32)
chunk = round(0.0256 * sr)
stream = StreamClassifier(network, engine=engine)
for i in range(20):  # warm up (first calls allocate and, for onnx, export)
    stream.push(audio[i * chunk : (i + 1) * chunk])
stream.reset()
times = []
for i in range(0, len(audio) - chunk + 1, chunk):
    t0 = time.perf_counter()
    stream.push(audio[i : i + chunk])
    times.append(time.perf_counter() - t0)
print(json.dumps({"ms": [1000 * t for t in times]}))
"""


def overrides(pairs: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` network settings, read as ``sonotype train --set`` reads them and checked
    now (an unknown key or a bad value stops here, not after training)."""
    from sonotype.cli.supervised import parse_network_settings
    from sonotype.models.config import network_config

    settings = parse_network_settings(pairs)
    network_config(**settings)
    return settings


def network_cost(sr: float = SR, settings: dict[str, Any] | None = None) -> dict:
    """Multiply-adds per second of audio of the network (the default one, or the default
    with ``settings`` changed), from its module shapes: in all and per block."""
    import torch

    from sonotype.models.config import network_config
    from sonotype.models.network import build_network

    network = build_network(network_config(**(settings or {})), sr=sr, n_labels=7)
    step = network.output_step
    frames = round(sr / step)
    audio = torch.zeros(1, 1, network.receptive_field + (frames - 1) * step)
    macs = {"conv": 0}
    block_macs = [0] * len(network.blocks)

    def counter(block: int | None):
        def count(module, _, output):  # output elements x multiply-adds per element
            n = output.numel() * module.weight[0].numel()
            macs["conv"] += n
            if block is not None:
                block_macs[block] += n

        return count

    convs = (torch.nn.Conv1d, torch.nn.Conv2d)
    in_block = {id(m): i for i, b in enumerate(network.blocks) for m in b.modules()}
    hooks = [
        m.register_forward_hook(counter(in_block.get(id(m))))
        for m in network.modules()
        if isinstance(m, convs)
    ]
    network.train()  # in training mode the blocks call their Conv2d modules (no folding)
    with torch.no_grad():
        network(audio)
    for hook in hooks:
        hook.remove()
    front = network.frontend
    spectrogram_frames = (audio.shape[-1] - front.window) // front.hop + 1
    macs["frontend"] = front.basis.shape[0] * front.window * spectrogram_frames
    audio_s = frames * step / sr
    return {
        "gflop_per_s": 2 * (macs["conv"] + macs["frontend"]) / audio_s / 1e9,
        "block_gflop_per_s": [2 * m / audio_s / 1e9 for m in block_macs],
        **macs,
    }


def write_audio(path: Path, minutes: float) -> None:
    """``minutes`` of synthetic birdsong at 32 kHz, written a minute at a time."""
    with sf.SoundFile(path, "w", SR, 1, subtype="PCM_16") as f:
        whole, rest = divmod(minutes * 60, 60)
        for i, seconds in enumerate([60.0] * int(whole) + ([rest] if rest else [])):
            y, _ = birdsong(seconds, sr=SR, random_state=i)
            f.write(np.clip(y, -1, 1))


def child(code: str, *args) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, check=False
    )
    if result.returncode:
        raise SystemExit(result.stderr)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0, help="audio per classification")
    parser.add_argument("--repeats", type=int, default=3, help="rounds (medians over them)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per process")
    parser.add_argument("--stream-seconds", type=float, default=60.0)
    parser.add_argument(
        "--set",
        dest="settings",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="Network setting as for `sonotype train --set`, e.g. feature_maps=16,32,32,32; "
        "default network "
        "otherwise.",
    )
    args = parser.parse_args()
    settings = overrides(args.settings)
    described = json.dumps(settings)
    try:
        import onnxruntime  # noqa: F401

        variants = VARIANTS
    except ImportError:
        variants = {k: v for k, v in VARIANTS.items() if v[0] != "onnx"}
        print("onnxruntime: skipped (not installed)")
    engines = ["torch", "onnx"] if "onnxruntime" in variants else ["torch"]
    cost = network_cost(settings=settings)
    runs: dict[str, list[dict]] = {name: [] for name in variants}
    gflops, gflops_cpu, latency = [], [], {e: [] for e in engines}
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        audio = folder / "song.wav"
        write_audio(audio, args.minutes)
        outputs = {}
        for r in range(args.repeats):
            rate = child(MATMUL, args.threads)
            gflops.append(rate["gflops"])
            gflops_cpu.append(rate["gflops_cpu"])
            for i, (name, setting) in enumerate(variants.items()):
                out = folder / f"{i}.npy"
                runs[name].append(
                    child(
                        CHILD,
                        audio,
                        args.minutes * 60,
                        out,
                        args.threads,
                        json.dumps(setting),
                        described,
                    )
                )
                if r == 0:
                    outputs[name] = np.load(out)
            for engine in engines:
                ms = child(STREAM, engine, args.threads, args.stream_seconds, described)["ms"]
                latency[engine].extend(ms)
            print(f"round {r + 1}/{args.repeats} done", file=sys.stderr)
    matmul, matmul_cpu = float(np.median(gflops)), float(np.median(gflops_cpu))
    limit, limit_cpu = matmul / cost["gflop_per_s"], matmul_cpu / cost["gflop_per_s"]
    title = f"network {described}" if settings else "default network"
    print(
        f"{title} at 32 kHz: {cost['gflop_per_s']:.2f} GFLOP per second of audio "
        f"(front end {cost['frontend'] / (cost['frontend'] + cost['conv']):.1%}; blocks "
        + ", ".join(f"{g:.2f}" for g in cost["block_gflop_per_s"])
        + ")"
    )
    print(
        f"matmul at {args.threads} thread(s): {matmul:.0f} GFLOPS by wall time (rounds: "
        f"{', '.join(f'{g:.0f}' for g in gflops)}) -> compute limit {limit:.0f}x realtime; "
        f"{matmul_cpu:.0f} GFLOP per CPU-second -> {limit_cpu:.0f}x realtime per CPU-second"
    )
    print(f"{args.minutes:g} min of audio, {args.repeats} rounds, medians:")
    reference = outputs["torch, before issue 13"]
    header = (
        f"{'':34s} {'x realtime':>10s} {'of limit':>8s} {'x per CPU-s':>11s} {'of limit':>8s} "
        f"{'CPU s/h':>8s} {'sys s/h':>8s} "
        f"{'faults/h':>9s} {'peak MB':>8s} {'max diff':>9s} {'top agree':>9s}"
    )
    print(header)
    for name, results in runs.items():
        per_hour = 3600 / results[0]["audio_s"]
        speed = float(np.median([r["audio_s"] / r["seconds"] for r in results]))
        cpu = float(np.median([r["cpu_s"] for r in results])) * per_hour
        sys_s = float(np.median([r["sys_s"] for r in results])) * per_hour
        faults = float(np.median([r["faults"] for r in results])) * per_hour
        peak = float(np.median([r["peak_mb"] for r in results]))
        diff = float(np.abs(outputs[name] - reference).max())
        agree = float((outputs[name].argmax(1) == reference.argmax(1)).mean())
        per_cpu = 3600 / cpu
        print(
            f"{name:34s} {speed:10.1f} {speed / limit:8.0%} {per_cpu:11.1f} "
            f"{per_cpu / limit_cpu:8.0%} {cpu:8.0f} {sys_s:8.1f} "
            f"{faults:9.2e} {peak:8.0f} {diff:9.1e} {agree:9.2%}"
        )
    print(f"streaming, {title} at 2.5 kHz, 25.6 ms chunks, time per chunk:")
    for engine, ms in latency.items():
        print(
            f"  {engine:6s} median {np.median(ms):.2f} ms, 99th percentile "
            f"{np.percentile(ms, 99):.2f} ms ({len(ms)} chunks)"
        )


if __name__ == "__main__":
    main()
