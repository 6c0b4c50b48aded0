"""Motif results on disk: ``artifacts/motifs/NAME/`` in a project.

- ``motifs.parquet``: :func:`~sonotype.motifs.find.motif_table` (one row per group);
- ``profiles.npz``: every group's full matrix profile (``G/distances``, ``G/indices``) and
  where its frames lie (``G/segments_*``), with ``G`` the group's row number;
- ``info.json``: the settings (per, rate, window, engine...) and the groups in order.

The three files appear together or not at all.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from sonotype.atomic import atomic_paths
from sonotype.errors import ParameterError
from sonotype.motifs.find import MotifResult, motif_table
from sonotype.motifs.profile import MatrixProfile

MOTIFS_DIR = Path("artifacts") / "motifs"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")


def motifs_folder(project_dir: Path, name: str) -> Path:
    if not _NAME.match(name):
        raise ParameterError(
            f"--name {name!r}: a motif set name is 1-80 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit",
            parameter="name",
        )
    return Path(project_dir) / MOTIFS_DIR / name


def save_motifs(project_dir: Path, name: str, results: list[MotifResult], info: dict) -> Path:
    """Write the motifs and full profiles of ``results`` as motif set ``name``."""
    folder = motifs_folder(project_dir, name)
    table = motif_table(results)
    arrays = {}
    for g, result in enumerate(results):
        arrays[f"{g}/distances"] = result.profile.distances
        arrays[f"{g}/indices"] = result.profile.indices
        arrays[f"{g}/segments_start_s"] = result.segments["start_s"].to_numpy(float)
        arrays[f"{g}/segments_first_frame"] = result.segments["first_frame"].to_numpy(int)
        arrays[f"{g}/segments_n_frames"] = result.segments["n_frames"].to_numpy(int)
    meta = {
        **info,
        "groups": [r.group for r in results],
        "segment_recordings": [r.segments["recording"].tolist() for r in results],
        "rates_hz": [r.rate_hz for r in results],
        "window_frames": [r.profile.window for r in results],
    }
    paths = [folder / "motifs.parquet", folder / "profiles.npz", folder / "info.json"]
    with atomic_paths(paths) as (table_tmp, arrays_tmp, info_tmp):
        table.to_parquet(table_tmp, index=False)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        arrays_tmp.write_bytes(buffer.getvalue())
        info_tmp.write_text(json.dumps(meta, indent=2, sort_keys=True, default=str))
    return folder


def list_motif_sets(project_dir: Path) -> list[str]:
    root = Path(project_dir) / MOTIFS_DIR
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "info.json").is_file())


def load_motifs(project_dir: Path, name: str) -> tuple[pd.DataFrame, list[MotifResult], dict]:
    """The motif table, the full results and the settings of motif set ``name``."""
    folder = motifs_folder(project_dir, name)
    if not (folder / "info.json").is_file():
        there = list_motif_sets(project_dir)
        raise ParameterError(
            f"--motifs {name!r}: no such motif set; "
            + (f"the project has {', '.join(there)}" if there else "run `sonotype motifs` first"),
            parameter="motifs",
        )
    info = json.loads((folder / "info.json").read_text())
    table = pd.read_parquet(folder / "motifs.parquet")
    results = []
    with np.load(folder / "profiles.npz") as arrays:
        for g, group in enumerate(info["groups"]):
            segments = pd.DataFrame({
                "recording": info["segment_recordings"][g],
                "start_s": arrays[f"{g}/segments_start_s"],
                "first_frame": arrays[f"{g}/segments_first_frame"],
                "n_frames": arrays[f"{g}/segments_n_frames"],
            })  # fmt: skip
            profile = MatrixProfile(
                arrays[f"{g}/distances"], arrays[f"{g}/indices"], info["window_frames"][g]
            )
            results.append(MotifResult(group, profile, segments, info["rates_hz"][g]))
    return table, results, info
