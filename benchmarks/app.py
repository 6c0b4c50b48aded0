"""Benchmark: the app's spectrogram latency and its scatter's frame time in the browser.

Run by hand: ``python benchmarks/app.py [--spans 20] [--points 200000] [--frames 300]``.

Prints, in one run:

1. Spectrogram images: a project with one 120 s synthetic birdsong recording at 32 kHz,
   served by ``sonotype app`` (a child process, as users run it) on a free port; ``--spans``
   different 10 s spans at 1,200 columns requested over HTTP, each once cold (rendered) and
   then again (cached): median, 95th percentile and largest latency of each, in ms.
2. The explore scatter in headless Debian chromium (``/usr/bin/chromium``, Playwright):
   ``--points`` points in 20 seeded Gaussian clusters, coloured by cluster, panned a little at
   every animation frame for ``--frames`` frames. Per frame: the paint time (the draw calls
   and a one-pixel read-back that waits until the frame is drawn) and the interval between
   animation frames; median and 95th percentile, and the frames per second they make.
   Where chromium has no GPU (as here), WebGL runs on SwiftShader, on the CPU: the numbers
   are the software renderer's.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import soundfile as sf

from sonotype.store.project import Project
from sonotype.synth import birdsong, syllable_types

SR = 32000
DURATION_S = 120.0
SPAN_S = 10.0

PAN_SCRIPT = """async ([n, frames]) => {
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const gauss = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
  const centres = Array.from({length: 20}, () => [gauss() * 10, gauss() * 10]);
  const xy = new Float32Array(2 * n), codes = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 20; codes[i] = c;
    xy[2 * i] = centres[c][0] + gauss(); xy[2 * i + 1] = centres[c][1] + gauss();
  }
  window.scatterSetPoints(xy, codes, Array.from({length: 20}, (_, c) => String(c)));
  const gl = window.scatter.gl, pixel = new Uint8Array(4);
  const paint = [], intervals = [];
  let last = null;
  await new Promise((resolve) => {
    let k = 0;
    const frame = (t) => {
      if (last !== null) intervals.push(t - last);
      last = t;
      window.scatter.cx += 0.003;
      const t0 = performance.now();
      window.scatterPaint();
      if (gl) gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, pixel);
      paint.push(performance.now() - t0);
      if (++k < frames) requestAnimationFrame(frame); else resolve();
    };
    requestAnimationFrame(frame);
  });
  const info = gl ? gl.getParameter(gl.RENDERER) : "2-D canvas";
  return {paint, intervals, renderer: info};
}"""


def make_project(folder: Path) -> Path:
    rng = np.random.default_rng(0)
    (folder / "audio").mkdir(parents=True)
    types = syllable_types(6, sr=SR, rng=rng)
    y, _ = birdsong(DURATION_S, sr=SR, types=types, random_state=0)
    sf.write(folder / "audio" / "long.wav", y, SR)
    with Project.init(folder, audio_roots=[folder / "audio"]) as project:
        project.scan()
    return folder


def start_server(folder: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "sonotype", "app", "-p", str(folder), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    for _ in range(300):
        try:
            urllib.request.urlopen(url + "api/recordings", timeout=2)
            return process, url
        except OSError:
            time.sleep(0.1)
    process.terminate()
    raise RuntimeError("the server did not start")


def fetch_ms(url: str) -> tuple[float, str]:
    began = time.perf_counter()
    with urllib.request.urlopen(url) as response:
        response.read()
        cache = response.headers.get("X-Cache", "")
    return (time.perf_counter() - began) * 1000, cache


def summary(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
    return f"median {statistics.median(values):7.1f}  p95 {p95:7.1f}  max {values[-1]:7.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spans", type=int, default=20)
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--frames", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = make_project(Path(tmp) / "project")
        process, url = start_server(folder)
        try:
            starts = np.linspace(0, DURATION_S - SPAN_S, args.spans)
            urls = [
                f"{url}api/recordings/1/spectrogram.png?start_s={s:.3f}&stop_s={s + SPAN_S:.3f}"
                "&width=1200"
                for s in starts
            ]
            fetch_ms(urls[0].replace("width=1200", "width=1100"))  # warm the imports
            cold = [fetch_ms(u) for u in urls]
            cached = [fetch_ms(u) for u in urls]
            assert all(c == "miss" for _, c in cold) and all(c == "hit" for _, c in cached)
            print(f"spectrogram, {SPAN_S:g} s at {SR} Hz, 1200 columns, {args.spans} spans (ms)")
            print(f"  cold    {summary([ms for ms, _ in cold])}")
            print(f"  cached  {summary([ms for ms, _ in cached])}")
            frames = browser_frames(url, args.points, args.frames)
        finally:
            process.terminate()
            process.wait()
    print(f"scatter, {args.points} points panned for {args.frames} frames ({frames['renderer']})")
    print(f"  paint (ms)           {summary(frames['paint'])}")
    print(f"  frame interval (ms)  {summary(frames['intervals'])}")
    fps = 1000 / statistics.median(frames["intervals"])
    print(f"  frames per second, repainting every frame (median interval): {fps:.1f}")
    print(f"  dragging with the mouse: frame interval (ms) {summary(frames['pan'])}")
    pan_fps = 1000 / statistics.median(frames["pan"])
    print(f"  frames per second while dragging (median interval): {pan_fps:.1f}")
    print(json.dumps({"paint_median_ms": statistics.median(frames["paint"]), "repaint_fps": fps,
                      "drag_fps": pan_fps}))  # fmt: skip


def browser_frames(url: str, points: int, frames: int) -> dict:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--enable-unsafe-swiftshader"]
        )
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto(url)
        page.wait_for_selector("body[data-ready='1']", timeout=60_000)
        page.click("nav button[data-tab='explore']")
        page.wait_for_function("typeof window.scatterSetPoints === 'function'")
        result = page.evaluate(PAN_SCRIPT, [points, frames])
        # Then pan with the mouse, as a user does: drag for two seconds, in small moves.
        page.evaluate("window.scatter.panFrames.length = 0; window.scatter.lastPan = undefined")
        box = page.locator("#scatter-overlay").bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.move(x, y)
        page.mouse.down()
        began = time.perf_counter()
        step = 0
        while time.perf_counter() - began < 2.0:
            step += 1
            page.mouse.move(x + 150 * np.sin(step / 20), y + 80 * np.cos(step / 25))
            page.wait_for_timeout(4)
        page.mouse.up()
        result["pan"] = page.evaluate("window.scatter.panFrames.slice()")
        browser.close()
    return result


if __name__ == "__main__":
    main()
