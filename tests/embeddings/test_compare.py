"""Comparing embedding sets on their common rows: the intersection, the scores, the command."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from sonotype.annotations.events import make_events
from sonotype.cli.main import app
from sonotype.embeddings.compare import (
    common_rows,
    compare_sets,
    embed_models,
    knn_scores,
    label_silhouette,
    parse_models,
)
from sonotype.embeddings.sets import EmbeddingSet
from sonotype.errors import ParameterError
from tests.embeddings.test_probes_fixtures import make_project

runner = CliRunner()


def test_common_rows_align_sets_in_any_order(rng):
    a = make_events(["r.wav"] * 4, [0.0, 1.0, 2.0, 3.0], [1.0, 2.0, 3.0, 4.0], "")
    b = a.iloc[[3, 1, 0]].reset_index(drop=True)  # another order, one row fewer
    b.loc[0, "start_s"] += 1e-9  # the same window, other arithmetic
    sets = [
        EmbeddingSet("a", "m", "windows", a, np.arange(8.0).reshape(4, 2)),
        EmbeddingSet("b", "n", "windows", b, np.arange(6.0).reshape(3, 2)),
    ]
    pa, pb = common_rows(sets)
    starts_a = a["start_s"].to_numpy()[pa]
    starts_b = b["start_s"].round(6).to_numpy()[pb]
    assert starts_a.tolist() == starts_b.tolist() == [0.0, 1.0, 3.0]
    other = make_events("s.wav", [0.0], [1.0], "")
    with pytest.raises(ParameterError, match="share no rows"):
        common_rows([sets[0], EmbeddingSet("c", "m", "windows", other, np.zeros((1, 2)))])


def test_knn_and_silhouette_separate_signal_from_noise(rng):
    y = np.repeat(["a", "b", "c"], 30)
    X = rng.normal(size=(90, 6))
    X[np.arange(90), np.repeat([0, 1, 2], 30)] += 5
    train = np.arange(90) % 3 != 0
    good = knn_scores(X[train], y[train], X[~train], y[~train])
    assert good["knn_accuracy"] > 0.95
    assert label_silhouette(X, y) > 0.3
    assert abs(label_silhouette(rng.normal(size=(90, 6)), y)) < 0.1
    assert np.isnan(label_silhouette(X, np.repeat("a", 90)))


def _three_sets(rng, n=240):
    """Windows of 6 recordings labelled a/b/c; one set carries the labels, one is noise."""
    recordings = np.repeat([f"r{i}.wav" for i in range(6)], n // 6)
    starts = np.tile(np.arange(n // 6, dtype=float), 6)
    events = make_events(list(recordings), starts, starts + 1, "", kind="window")
    y = np.array(["a", "b", "c"])[np.arange(n) % 3]
    signal = rng.normal(size=(n, 8))
    signal[np.arange(n), np.arange(n) % 3] += 6
    return (
        [
            EmbeddingSet("good", "m1", "windows", events, signal, {"seconds": 2.0}),
            EmbeddingSet("noise", "m2", "windows", events, rng.normal(size=(n, 8))),
        ],
        y,
    )


def test_compare_sets_ranks_the_informative_set_first(rng):
    sets, y = _three_sets(rng)
    result = compare_sets(sets, y, reduce="pca")
    table = result.table.set_index("set")
    good, noise = table.loc["good"], table.loc["noise"]
    assert good["probe_macro_accuracy"] > 0.95 > 0.6 > noise["probe_macro_accuracy"]
    assert good["knn_accuracy"] > noise["knn_accuracy"]
    assert good["silhouette"] > noise["silhouette"]
    assert good["ami_best"] > 0.5 > noise["ami_best"]
    assert good["embed_seconds"] == 2.0 and np.isnan(noise["embed_seconds"])
    assert good["size_mb"] == pytest.approx(240 * 8 * 4 / 1e6)
    assert set(result.scatters) == {"good", "noise"}
    assert result.scatters["good"][0].shape == (240, 2)
    small = compare_sets(sets, y, reduce="pca", max_rows=60)
    assert small.subsampled and small.n_rows == 60


def test_compare_sets_refuses_labels_that_cannot_be_compared(rng):
    sets, y = _three_sets(rng)
    with pytest.raises(ParameterError, match="fewer than 2 labels"):
        compare_sets(sets, np.repeat("a", len(y)), reduce="pca")
    with pytest.raises(ParameterError, match="reduce='tsne'"):
        compare_sets(sets, y, reduce="tsne")


@pytest.mark.slow
def test_compare_with_the_umap_grid(rng):
    sets, y = _three_sets(rng)
    result = compare_sets(sets[:1], y, reduce="umap")
    row = result.table.iloc[0]
    assert row["ami_selected"] > 0.8 and row["ami_best"] >= row["ami_selected"]


@pytest.mark.slow
def test_compare_models_command(tmp_path):
    with make_project(tmp_path / "p", flat=False) as project:
        result = runner.invoke(
            app,
            ["compare-models", "-p", str(project.folder), "--embeddings", "win,noise",
             "--labels-from", "truth", "--reduce", "pca"],
            catch_exceptions=False,
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        report = project.folder / "reports" / "compare" / "compare"
        for name in ("index.html", "compare.csv", "scatter.png"):
            assert (report / name).is_file()
        html = (report / "index.html").read_text()
        assert "probe_macro_f1" in html and "ami_selected" in html


def test_parse_models():
    assert parse_models("birdnet, flat,pca") == ["birdnet", "flat", "pca"]
    for bad in ("flat", "flat,flat", " , "):
        with pytest.raises(ParameterError, match="at least two different models"):
            parse_models(bad)


@pytest.mark.slow
def test_embed_models_makes_one_set_per_model_on_the_same_units(tmp_path):
    from sonotype.embeddings.embed import embed_project
    from sonotype.pipeline.executors import LocalExecutor

    with make_project(tmp_path / "p", flat=False) as project:
        started = []
        sets = embed_models(project, ["flat", "pca"], windows=(0.5, 0.5),
                            executor=LocalExecutor(1), progress=started.append)  # fmt: skip
        assert started == ["flat", "pca"]
        assert [s.name for s in sets] == ["flat-windows", "pca-windows"]
        rows = [common_rows(sets)[i] for i in range(2)]
        assert len(rows[0]) == len(sets[0].events) == len(sets[1].events) > 0
        assert sets[1].vectors.shape[1] < sets[0].vectors.shape[1]
        again = embed_project(project, "flat", windows=(0.5, 0.5), executor=LocalExecutor(1))
        assert again.computed == 0 and again.cached == len(sets[0].events["recording"].unique())


@pytest.mark.slow
def test_compare_models_command_embeds_the_models_first(tmp_path):
    with make_project(tmp_path / "p", flat=False) as project:
        args = ["compare-models", "-p", str(project.folder), "--labels-from", "truth",
                "--reduce", "pca", "--name", "models"]  # fmt: skip
        result = runner.invoke(app, [*args, "--models", "flat,pca", "--windows", "0.5,0.5"],
                               catch_exceptions=False)  # fmt: skip
        assert result.exit_code == 0, result.output
        table = (project.folder / "reports" / "compare" / "models" / "compare.csv").read_text()
        assert "flat-windows" in table and "pca-windows" in table
        for extra, message in (
            (["--models", "flat,pca", "--embeddings", "win,noise"], "exactly one of"),
            (["--embeddings", "win,noise", "--windows", "1,1"], "choose the units of --models"),
            (["--models", "flat,pca"], "exactly one of --windows"),
        ):
            with pytest.raises(ParameterError, match=message):
                runner.invoke(app, [*args, *extra], catch_exceptions=False)


@pytest.mark.slow
def test_compare_models_with_birdnet(tmp_path):
    from sonotype.embeddings.models import ModelUnavailable, resolve_model

    try:
        resolve_model("birdnet").load()
    except ModelUnavailable as why:
        pytest.skip(f"birdnet cannot run here: {why}")
    with make_project(tmp_path / "p", flat=False) as project:
        result = runner.invoke(
            app,
            ["compare-models", "-p", str(project.folder), "--labels-from", "truth",
             "--reduce", "pca", "--models", "birdnet,pca", "--windows", "0.5,0.5"],
            catch_exceptions=False,
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        table = (project.folder / "reports" / "compare" / "compare" / "compare.csv").read_text()
        assert "birdnet-windows" in table and "pca-windows" in table
