"""Discovery's spectrogram settings against human labels: which defaults to ship.

Run by hand: ``python benchmarks/discover_settings.py [--quick]``. Needs ``../shared/data``
(the synthetic birds are made here). One process runs everything, so umap's numba
compilation is paid once.

Data, each split in two: the settings are chosen on the *validation* halves only and the
*test* halves are reported separately, never used for a choice.

- Bengalese finch gy6or6 (evsonganaly ``.not.mat``, 10 songs, 32 kHz) and the zebra finch
  (DAS data set, 16 files, 32 kHz): the recordings in name order, alternately validation
  and test (DAS's own ``test/`` holds only 54 syllables, too few to cluster).
- The demo's synthetic birds (``write_demo_dataset``, 2 birds x 3 songs, 32 kHz):
  ``random_state=0`` validation, ``random_state=1`` test.

Candidates, fixed before measuring: both time modes, each with the current settings
(64 x 64, linear, whole band, PCA 32) and four one-change variants (a 500-10,000 Hz band,
mel rows, 32 x 32, PCA 16). Each candidate runs ``discover`` up to the cluster stage with the
small UMAP x HDBSCAN grid; its clustering is the one the composite score selects (no labels).

The rule, stated before measuring: the new defaults are the candidate with the highest mean
AMI over the three validation sets; a candidate within 0.005 of the best keeps the settings
closer to the current defaults. The table also shows the candidate the composite score picks
on each set (what a grid over all candidates would select without labels), to say whether
the unsupervised score could choose the settings instead.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sonotype.pipeline.discover import GRIDS, DiscoverConfig, discover
from sonotype.store import Project
from sonotype.synth.dataset import write_demo_dataset

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CURRENT = {
    "time_mode": "pad",
    "n_freq": 64,
    "n_time": 64,
    "freq_scale": "linear",
    "freq_range_hz": None,
    "n_components": 32,
}
VARIANTS = {
    "current": {},
    "band 500-10000": {"freq_range_hz": (500.0, 10000.0)},
    "mel": {"freq_scale": "mel"},
    "32x32": {"n_freq": 32, "n_time": 32},
    "pca16": {"n_components": 16},
}
CANDIDATES = {
    f"{mode} {variant}": {**CURRENT, **change, "time_mode": mode}
    for mode in ("pad", "stretch")
    for variant, change in VARIANTS.items()
}


def linked(folder: Path, files: list[Path]) -> Path:
    """A folder of links (not copies) to ``files``."""
    audio = folder / "audio"
    audio.mkdir(parents=True)
    for file in files:
        os.symlink(file, audio / file.name)
    return audio


def alternate(files: list[Path], half: int | None) -> list[Path]:
    """Every other recording in name order: the even ones (half 0) or the odd ones (half 1);
    all of them for ``half=None``."""
    ordered = sorted(files, key=lambda f: f.name)
    return ordered if half is None else ordered[half::2]


def gy6or6(folder: Path, half: int | None) -> tuple[Project, str | None]:
    songs = alternate(list((DATA / "bengalese-finch-gy6or6").glob("*.cbin")), half)
    files = [s.with_name(s.name + n) for s in songs for n in ("", ".not.mat")]
    audio = linked(folder, files + [s.with_suffix(".rec") for s in songs])
    project = Project.init(folder, audio_roots=[audio])
    project.scan()
    project.import_files(sorted(audio.glob("*.not.mat")))
    return project, None


def zebra_finch(folder: Path, half: int | None) -> tuple[Project, str | None]:
    songs = alternate(list((DATA / "zebra-finch-das").glob("*/*.wav")), half)
    audio = linked(folder, songs + [s.with_suffix(".csv") for s in songs])
    project = Project.init(folder, audio_roots=[audio])
    project.scan()
    project.import_files(sorted(audio.glob("*.csv")))
    return project, None


def demo_birds(folder: Path, half: int | None) -> tuple[Project, str | None]:
    # The whole set is the demo's own (random_state=0), which is also the validation half.
    dataset = write_demo_dataset(folder / "data", n_flies=0, random_state=half or 0)
    project = Project.init(folder, audio_roots=[dataset.audio_root])
    project.scan()
    project.import_files([dataset.folder / "annotations" / "truth.csv"], source="truth")
    return project, "birds/*"


DATASETS = {"gy6or6": gy6or6, "zebra finch": zebra_finch, "demo birds": demo_birds}


def measure(project: Project, recordings: str | None, settings: dict) -> dict:
    """The composite's choice for one candidate: its scores against the human labels."""
    config = DiscoverConfig(recordings=recordings, grid=dict(GRIDS["small"]), **settings)
    result = discover(project, config, until="cluster")
    top = result.summary.iloc[0]
    return {
        "syllables": len(result.events),
        "types": result.events["label"].nunique(),
        "clusters": int(top["n_clusters"]),
        "noise": float(top["noise_fraction"]),
        "composite": float(top["composite"]),
        "ami": float(top["ami"]),
        "ari": float(top["ari"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the two 'current' candidates")
    parser.add_argument(
        "--whole",
        action="store_true",
        help="the two 'current' candidates on the whole data sets (the docs' accuracy table)",
    )
    args = parser.parse_args()
    if args.whole:
        whole()
        return
    candidates = {k: v for k, v in CANDIDATES.items() if not args.quick or k.endswith("current")}
    rows = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in DATASETS.items():
            for half, split in enumerate(("validation", "test")):
                project, recordings = make(Path(tmp) / f"{name}-{split}".replace(" ", "-"), half)
                with project:
                    for candidate, settings in candidates.items():
                        scores = measure(project, recordings, settings)
                        rows.append(
                            {"data": name, "split": split, "candidate": candidate, **scores}
                        )
                        print(f"{name:12} {split:10} {candidate:22} AMI {scores['ami']:.3f} "
                              f"ARI {scores['ari']:.3f} ({time.perf_counter() - started:.0f} s)",
                              flush=True)  # fmt: skip
    table = pd.DataFrame(rows)
    pd.set_option("display.width", 200)
    for split in ("validation", "test"):
        part = table[table["split"] == split]
        ami = part.pivot(index="candidate", columns="data", values="ami")
        ari = part.pivot(index="candidate", columns="data", values="ari")
        clusters = part.pivot(index="candidate", columns="data", values="clusters")
        wide = pd.concat({"AMI": ami, "ARI": ari, "clusters": clusters}, axis=1)
        wide[("AMI", "mean")] = ami.mean(axis=1)
        wide[("ARI", "mean")] = ari.mean(axis=1)
        wide = wide.sort_values(("AMI", "mean"), ascending=False)
        sizes = part.groupby("data")[["syllables", "types"]].first()
        print(f"\n{split}: " + ", ".join(
            f"{d} {r.syllables} syllables ({r.types} types)" for d, r in sizes.iterrows()
        ))  # fmt: skip
        print(wide.round(3).to_string())
        picked = part.loc[part.groupby("data")["composite"].idxmax()]
        print(
            "composite's pick among the candidates: "
            + "; ".join(f"{r.data}: {r.candidate} (AMI {r.ami:.3f})" for r in picked.itertuples())
            + f"; mean AMI {picked['ami'].mean():.3f}"
        )
    validation = table[table["split"] == "validation"]
    means = validation.groupby("candidate")["ami"].mean()
    best = means.max()
    close = [c for c in CANDIDATES if c in means and means[c] >= best - 0.005]
    # Closest to the current defaults: 'pad current' first, then the other 'current', then
    # the order of VARIANTS.
    order = sorted(
        close,
        key=lambda c: (
            not c.endswith("current"),
            not c.startswith("pad"),
            list(CANDIDATES).index(c),
        ),
    )
    print(f"\nrule (best mean validation AMI, ties within 0.005 to the current): {order[0]}")
    print(f"mean validation AMI {means[order[0]]:.3f}; best {best:.3f}")
    test = table[table["split"] == "test"].groupby("candidate")[["ami", "ari"]].mean()
    print(f"test mean AMI/ARI of the choice: {test.loc[order[0], 'ami']:.3f} / "
          f"{test.loc[order[0], 'ari']:.3f}; of 'pad current': {test.loc['pad current', 'ami']:.3f}"
          f" / {test.loc['pad current', 'ari']:.3f}")  # fmt: skip
    print(f"total {time.perf_counter() - started:.0f} s")


def whole() -> None:
    """Old (pad) and new (stretch) defaults on every recording of each data set."""
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in DATASETS.items():
            project, recordings = make(Path(tmp) / name.replace(" ", "-"), None)
            with project:
                for candidate in ("pad current", "stretch current"):
                    started = time.perf_counter()
                    r = measure(project, recordings, CANDIDATES[candidate])
                    print(f"{name:12} {candidate:16} {r['syllables']} syllables, {r['clusters']} "
                          f"clusters ({r['types']} types), {r['noise']:.1%} noise, AMI "
                          f"{r['ami']:.3f}, ARI {r['ari']:.3f}, "
                          f"{time.perf_counter() - started:.0f} s", flush=True)  # fmt: skip


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
