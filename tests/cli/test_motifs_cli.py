"""``sonotype motifs``: the planted motif is reported, saved with its profile, and shown."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sonotype.audio import write_audio
from sonotype.cli.main import app
from sonotype.motifs.store import load_motifs
from sonotype.store import Project
from sonotype.synth.motif import planted_motif

runner = CliRunner()
SR = 16000


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    folder = tmp_path_factory.mktemp("motifs-cli")
    rng = np.random.default_rng(5)
    write_audio(folder / "audio" / "a.wav", planted_motif(starts_s=(12.0, 41.0), rng=rng), SR)
    write_audio(folder / "audio" / "b.wav", planted_motif(starts_s=(30.0, 5.0), rng=rng), SR)
    events = pd.DataFrame({
        "recording": ["a.wav", "a.wav", "b.wav"], "start_s": [9.0, 38.0, 0.0],
        "stop_s": [19.0, 49.0, 20.0], "label": ["song", "song", "other"],
        "kind": ["annotated"] * 3, "channel": [0] * 3, "source": ["test"] * 3,
    })  # fmt: skip
    with Project.init(folder) as p:
        p.scan()
        p.add_events(events, command="test", description="truth")
    return folder


def test_motifs_per_recording_finds_the_planted_copies(project):
    result = invoke("motifs", "-p", project, "--engine", "numpy")
    assert result.exit_code == 0, result.output
    table, results, info = load_motifs(project, "motifs")
    rows = table.set_index("group")
    assert rows.loc["a.wav", "motif_start_s"] == pytest.approx(12.0, abs=0.3)
    assert rows.loc["a.wav", "match_start_s"] == pytest.approx(41.0, abs=0.3)
    assert rows.loc["b.wav", "motif_start_s"] == pytest.approx(5.0, abs=0.3)
    assert rows.loc["b.wav", "match_start_s"] == pytest.approx(30.0, abs=0.3)
    # The full profile is stored: one distance per 5 s window of 60 s at 10 frames/s.
    assert len(results[0].profile.distances) == 601 - 50 + 1
    assert info["window_s"] == 5.0
    report = project / "reports" / "motifs-motifs" / "index.html"
    assert "profile-0000.png" in report.read_text()
    assert (report.parent / "profile-0001.png").stat().st_size > 1000


def test_motifs_per_label(project):
    result = invoke("motifs", "-p", project, "--per", "label", "--label", "song",
                    "--name", "songs", "--engine", "numpy")  # fmt: skip
    assert result.exit_code == 0, result.output
    table, _, info = load_motifs(project, "songs")
    (row,) = table.itertuples(index=False)
    assert row.group == "song" and info["per"] == "label"
    assert row.motif_start_s == pytest.approx(12.0, abs=0.3)
    assert row.match_start_s == pytest.approx(41.0, abs=0.3)


def test_bad_options_name_the_flag(project):
    result = runner.invoke(app, ["motifs", "-p", str(project), "--per", "song"])
    assert result.exit_code != 0
    assert "per" in str(result.exception)
    result = runner.invoke(app, ["motifs", "-p", str(project), "--per", "label",
                                 "--label", "nope"])  # fmt: skip
    assert "no such events" in str(result.exception)


def test_distances_writes_an_embedding_set_with_its_metric(project):
    from sonotype.embeddings.sets import load_embedding_set

    result = invoke("distances", "-p", project, "--metric", "phase-aware", "--n-fft", "128",
                    "--hop-length", "64", "--n-time", "8")  # fmt: skip
    assert result.exit_code == 0, result.output
    emb = load_embedding_set(project, "complex-phase-aware")
    assert emb.vectors.shape == (3, 65 * 8 * 3) and emb.info["metric"] == "cosine"
    np.testing.assert_allclose(np.linalg.norm(emb.vectors, axis=1), 1.0, rtol=1e-5)
    result = runner.invoke(app, ["distances", "-p", str(project), "--metric", "phase"])
    assert "metric" in str(result.exception)
