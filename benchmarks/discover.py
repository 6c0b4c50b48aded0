"""Discovery on 5,000 synthetic syllables: a cold and a warm call, per stage, and the catalog
before and after it was drawn from arrays.

Run by hand: ``python benchmarks/discover.py [--repeats 3] [--songs 29]``.

- **Cold and warm calls.** Each call is ``discover`` (defaults: the small grid) on a new
  project (so nothing is cached in its artifact store) in a new Python process. A *cold*
  call gets an empty numba cache folder (``SONOTYPE_CACHE_DIR``; what the first call after
  installing pays), a *warm* call the folder the previous cold call filled (every later
  process). Calls alternate cold, warm, cold, warm, ...; the table gives medians of the
  whole process's wall time, its imports, the numba compilation seconds it paid (numba's
  compile events), and each stage's seconds from the run's steps (``project.run_steps``;
  the spectrograms are one step per recording, run in parallel, so their sum is CPU time
  across workers, and the wall time of that stage is shown too).
- **Same answer.** Every call prints a hash of its PCA output and of its clusters; they
  must all agree (separate projects and processes, cold or warm).
- **Catalog.** In one process, alternating: the former catalog (one matplotlib figure with
  constrained layout per gallery, embedding and transition heatmap, as the code before
  issue 13 drew them; reproduced below as the yardstick) and today's ``write_catalog``, on
  the same 5,000 syllables in 25 clusters plus noise, two animals.
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
import time
from pathlib import Path

import numpy as np
import pandas as pd

SR = 16000

CHILD = r"""
import json, sys, time, hashlib, collections
t0 = time.perf_counter()
from numba.core import event
compile_s = collections.Counter()
class Compiles(event.Listener):
    # Outermost compile events only: nested ones are inside them.
    depth = 0
    def on_start(self, ev):
        if self.depth == 0:
            self.start = time.perf_counter()
        self.depth += 1
    def on_end(self, ev):
        self.depth -= 1
        if self.depth == 0:
            compile_s["all"] += time.perf_counter() - self.start
event.register("numba:compile", Compiles())
import numpy as np
from sonotype.pipeline.discover import DiscoverConfig, discover
from sonotype.store import Project
t1 = time.perf_counter()
marks = []
with Project.open(sys.argv[1]) as project:
    mark = lambda s: marks.append((s, time.perf_counter()))
    result = discover(project, DiscoverConfig(), step=mark)
    steps = project.run_steps(result.run_id)
    embedding = np.ascontiguousarray(result.embedding)
    labels = np.ascontiguousarray(result.best.clustering.labels)
t2 = time.perf_counter()
marks.append(("end", t2))
stage_s = collections.Counter()
for step in steps:
    stage_s[step["stage"]] += step["seconds"] or 0.0
embedded_at = next(t for s, t in marks if s.startswith("embedding"))
spectrogram_wall = embedded_at - marks[0][1]
print(json.dumps({
    "total_s": t2 - t0, "import_s": t1 - t0, "discover_s": t2 - t1,
    "numba_compile_s": compile_s["all"], "stages": dict(stage_s),
    "spectrograms_wall_s": spectrogram_wall,
    "n": int(len(result.events)), "n_clusters": int(result.best.clustering.n_clusters),
    "embedding_sha": hashlib.sha256(embedding.tobytes()).hexdigest()[:16],
    "labels_sha": hashlib.sha256(labels.tobytes()).hexdigest()[:16],
}))
"""


def write_corpus(folder: Path, songs: int, song_s: float) -> pd.DataFrame:
    """``songs`` songs of four birds (four syllable types each) and their true syllables."""
    from sonotype.audio import write_audio
    from sonotype.synth import birdsong, syllable_types

    rng = np.random.default_rng(13)
    pool = syllable_types(16, sr=SR, rng=rng)
    tables = []
    for i in range(songs):
        bird = i % 4
        name = f"bird{bird + 1}/song{i // 4 + 1:02d}.wav"
        y, events = birdsong(song_s, sr=SR, types=pool[4 * bird : 4 * bird + 4],
                             recording=name, random_state=rng)  # fmt: skip
        write_audio(folder / name, y, SR)
        tables.append(events)
    return pd.concat(tables, ignore_index=True)


def new_project(audio: Path, events: pd.DataFrame, folder: Path) -> Path:
    from sonotype.store import Project

    shutil.copytree(audio, folder / "audio")
    with Project.init(folder) as project:
        project.scan()
        project.add_events(events, command="benchmark", description="truth")
    return folder


def call(project: Path, cache: Path) -> dict:
    env = {**os.environ, "SONOTYPE_CACHE_DIR": str(cache)}
    env.pop("NUMBA_CACHE_DIR", None)  # the cache folder under test, not the user's
    done = subprocess.run([sys.executable, "-c", CHILD, str(project)], env=env, check=True,
                          capture_output=True, text=True)  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def calls(repeats: int, songs: int, song_s: float) -> None:
    with tempfile.TemporaryDirectory(prefix="sonotype-discover-bench-") as tmp:
        tmp = Path(tmp)
        events = write_corpus(tmp / "audio", songs, song_s)
        print(f"{len(events)} synthetic syllables in {songs} songs of {song_s:.0f} s, 16 kHz; "
              f"discover with the defaults (small grid); {os.cpu_count()} cores")  # fmt: skip
        results: dict[str, list[dict]] = {"cold": [], "warm": []}
        for r in range(repeats):
            cache = tmp / f"numba-cache-{r}"
            for kind in ("cold", "warm"):
                project = new_project(tmp / "audio", events, tmp / f"project-{r}-{kind}")
                out = call(project, cache)
                results[kind].append(out)
                print(f"  {kind} call {r + 1}: {out['total_s']:.1f} s (numba compilation "
                      f"{out['numba_compile_s']:.1f} s), {out['n_clusters']} clusters, "
                      f"embedding {out['embedding_sha']}, labels {out['labels_sha']}",
                      flush=True)  # fmt: skip
        rows = {}
        for kind, outs in results.items():

            def med(f, outs=outs):
                return statistics.median(f(o) for o in outs)

            row = {
                "process total": med(lambda o: o["total_s"]),
                "imports": med(lambda o: o["import_s"]),
                "numba compilation": med(lambda o: o["numba_compile_s"]),
                "spectrograms (wall)": med(lambda o: o["spectrograms_wall_s"]),
            }
            for stage in outs[0]["stages"]:
                row[f"step {stage}"] = med(lambda o, s=stage: o["stages"].get(s, 0.0))
            rows[kind] = row
        table = pd.DataFrame(rows).round(2)
        table["cold / warm"] = (table["cold"] / table["warm"]).round(2)
        print(f"\nmedians of {repeats} calls each (seconds):")
        print(table.to_string())
        every = results["cold"] + results["warm"]
        same = len({(o["embedding_sha"], o["labels_sha"]) for o in every}) == 1
        print(f"\nidentical PCA output and clusters in all {len(every)} calls: {same}")


# -- the catalog ------------------------------------------------------------------------------


def catalog_input(rng: np.random.Generator):
    from sonotype.report.catalog import CatalogInput

    n, k = 5000, 25
    clusters = rng.integers(-1, k, n)
    coords = rng.normal(0, 10, (k, 2))[np.maximum(clusters, 0)] + rng.normal(0, 1, (n, 2))
    names = [str(c) for c in range(k)]
    transitions = {
        f"bird{i}": pd.DataFrame(rng.dirichlet(np.ones(k) * 0.3, k), index=names, columns=names)
        for i in (1, 2)
    }
    return CatalogInput(
        title="benchmark", coords=coords, clusters=clusters,
        spectrograms=rng.random((n, 64, 64)).astype(np.float32),
        summary=pd.DataFrame({"rank": range(1, 17), "composite": rng.random(16)}),
        labels=np.array([f"t{c % 11}" for c in clusters]),
        phenotypes=pd.DataFrame({"animal": ["bird1", "bird2"], "entropy": [1.2, 1.4]}),
        transitions=transitions, notes=("a note",),
    )  # fmt: skip


def former_catalog(folder: Path, catalog) -> int:
    """The pictures as the catalog drew them before issue 13: a matplotlib figure with
    constrained layout per gallery (one axes and title per thumbnail), per embedding and per
    transition heatmap. Returns the number of PNG files."""
    from matplotlib.figure import Figure

    from sonotype.plot.catalog import embedding_figure, save_figure, transitions_figure
    from sonotype.report.catalog import _gallery_members

    def gallery_figure(spectrograms, titles, columns=12, cell_in=1.0):
        rows = max(1, -(-len(spectrograms) // columns))
        figure = Figure(figsize=(columns * cell_in, rows * cell_in * 1.1), layout="constrained")
        for i in range(rows * columns):
            ax = figure.add_subplot(rows, columns, i + 1)
            ax.set_axis_off()
            if i < len(spectrograms):
                ax.imshow(spectrograms[i], origin="lower", aspect="auto", cmap="magma")
                ax.set_title(titles[i], fontsize=6)
        return figure

    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    for name, labels in (("clusters", catalog.clusters), ("labels", catalog.labels)):
        # (drawn as today: it used a constrained layout, which cost ~0.2 s more each)
        save_figure(embedding_figure(catalog.coords, labels, title=name),
                    folder / f"embedding_{name}.png")  # fmt: skip
        written += 1
    for cluster, _, typical, edge in _gallery_members(catalog.coords, catalog.clusters):
        titles = [f"#{i}" for i in typical] + [f"edge #{i}" for i in edge]
        chosen = np.concatenate([typical, edge])
        save_figure(gallery_figure(catalog.spectrograms[chosen], titles),
                    folder / f"gallery_{cluster}.png")  # fmt: skip
        written += 1
    for animal, probabilities in catalog.transitions.items():
        save_figure(transitions_figure(probabilities, title=animal),
                    folder / f"transitions_{animal}.png")  # fmt: skip
        written += 1
    return written


def catalog_timing(repeats: int) -> None:
    from sonotype.report.catalog import write_catalog

    catalog = catalog_input(np.random.default_rng(0))
    times: dict[str, list[float]] = {"former (figures)": [], "now (arrays + HTML)": []}
    with tempfile.TemporaryDirectory(prefix="sonotype-catalog-bench-") as tmp:
        write_catalog(Path(tmp) / "warm-up", catalog)  # imports and fonts, for both
        for r in range(repeats):
            start = time.perf_counter()
            n_former = former_catalog(Path(tmp) / f"former-{r}", catalog)
            times["former (figures)"].append(time.perf_counter() - start)
            start = time.perf_counter()
            write_catalog(Path(tmp) / f"now-{r}", catalog)
            times["now (arrays + HTML)"].append(time.perf_counter() - start)
            n_now = len(list((Path(tmp) / f"now-{r}").glob("*.png")))
    former, now = (statistics.median(v) for v in times.values())
    print(f"\ncatalog of 5,000 syllables, 25 clusters + noise, 2 animals; medians of {repeats}, "
          "alternating:")  # fmt: skip
    print(f"  former: {former:.2f} s ({n_former} figures)   now: {now:.2f} s ({n_now} PNG files "
          f"and HTML heatmaps)   speed-up {former / now:.1f}x")  # fmt: skip
    for name, values in times.items():
        print(f"  {name}: " + ", ".join(f"{v:.2f}" for v in values))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="cold/warm pairs (default 3)")
    parser.add_argument("--songs", type=int, default=29, help="songs of 4 birds (default 29)")
    parser.add_argument("--song-s", type=float, default=50.0, help="seconds per song")
    parser.add_argument("--catalog-only", action="store_true")
    args = parser.parse_args()
    if not args.catalog_only:
        calls(args.repeats, args.songs, args.song_s)
    catalog_timing(max(args.repeats, 3))


if __name__ == "__main__":
    main()
