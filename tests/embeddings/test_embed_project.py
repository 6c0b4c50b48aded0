"""sonotype embed --model: windows as events, events centred, cached by content, resumable."""

import numpy as np
import pytest

from sonotype.annotations.events import make_events
from sonotype.audio import write_audio
from sonotype.embeddings import list_embedding_sets, load_embedding_set
from sonotype.embeddings.embed import embed_project
from sonotype.embeddings.units import centred_spans, read_spans
from sonotype.errors import ParameterError
from sonotype.pipeline.executors import LocalExecutor
from sonotype.store import Project
from tests.embeddings.conftest import SR, WINDOW_S, expected, export, write_card

pytest.importorskip("torch")


@pytest.fixture
def project(tmp_path, rng, network):
    for i, seconds in enumerate((2.0, 3.2, 1.1)):
        # Other rates than the model's: resampled to it.
        audio = 0.2 * rng.standard_normal(int(seconds * 16000))
        write_audio(tmp_path / "p" / "audio" / f"r{i}.wav", audio, 16000, subtype="FLOAT")
    cards = tmp_path / "p" / "embedders"
    cards.mkdir(parents=True)
    write_card(cards, export(network, cards, "torchscript"), output=0, scores_output=1)
    with Project.init(tmp_path / "p") as p:
        p.scan()
        yield p


def _embed(project, model="tiny", **kwargs):
    return embed_project(project, model, executor=LocalExecutor(1), **kwargs)


def test_windows_are_stored_as_events_and_vectors_are_the_models(project, network):
    outcome = _embed(project, windows=(0.5, 0.25), species_events=True, min_score=0.0)
    embedding = load_embedding_set(project.folder, "tiny-windows")
    assert embedding.unit == "windows" and embedding.model == "tiny"
    windows = project.events(kinds=["window"], sources=["tiny-windows"])
    assert (
        len(windows) == len(embedding.events) == 8 + 12 + 4
    )  # halves of a window at the ends kept
    np.testing.assert_array_equal(embedding.events["start_s"], windows["start_s"])
    # The first recording's vectors: its windows read and resampled as the stage reads them.
    from sonotype.audio import Recording

    rows = embedding.events["recording"] == "r1.wav"
    spans = centred_spans(embedding.events[rows], WINDOW_S)
    ((_, audio),) = read_spans(
        Recording(project.recording_path("r1.wav")),
        spans,
        np.zeros(len(spans), int),
        sr=SR,
        samples=4000,
        batch_size=99,
    )
    np.testing.assert_allclose(
        embedding.vectors[rows.to_numpy()], expected(network, audio, 2.0)[0], rtol=1e-4, atol=1e-5
    )
    # Species events: every label of every window at min_score 0 (3 labels, top 3).
    predicted = project.events(kinds=["predicted"], sources=["tiny-windows"])
    assert len(predicted) == 3 * len(windows)
    assert set(outcome.species.columns) >= {"recording", "species", "best_score"}
    assert (project.reports_dir / "embeddings" / "tiny-windows" / "species.csv").is_file()


def test_a_rerun_computes_nothing_and_an_interrupted_run_resumes(project):
    first = _embed(project, windows=(0.5, 0.5), recordings="r0*", name="w")
    assert (first.computed, first.cached) == (1, 0)
    second = _embed(project, windows=(0.5, 0.5), name="w")
    assert (second.computed, second.cached) == (2, 1)
    third = _embed(project, windows=(0.5, 0.5), name="w")
    assert (third.computed, third.cached) == (0, 3)
    np.testing.assert_array_equal(third.embedding.vectors, second.embedding.vectors)
    # Another name, the same spans: found done too.
    assert _embed(project, windows=(0.5, 0.5), name="w2").computed == 0


def test_events_are_centred_in_the_window_and_points_work(project, network):
    events = make_events(
        ["r1.wav", "r1.wav", "r2.wav"], [0.1, 1.0, 0.5], [0.3, 1.0, 0.9], ["a", "b", "a"]
    )
    project.add_events(events, command="test", description="test")
    outcome = _embed(project, kind="annotated")
    assert outcome.embedding.name == "tiny-annotated" and outcome.embedding.unit == "events"
    assert outcome.embedding.events["label"].tolist() == ["a", "b", "a"]
    assert outcome.embedding.vectors.shape == (3, 4)
    assert np.isfinite(outcome.embedding.vectors).all()


def test_syllable_embedders_fit_on_all_units(project):
    outcome = _embed(project, "pca", windows=(0.5, 0.5))
    n = len(outcome.embedding.events)
    assert outcome.embedding.vectors.shape == (n, min(32, n))
    flat = _embed(project, "flat", windows=(0.5, 0.5))
    assert flat.embedding.vectors.shape == (n, 64 * 64)
    assert list_embedding_sets(project.folder) == ["flat-windows", "pca-windows"]


def test_a_broken_recording_is_left_out_and_reported(project):
    path = project.recording_path("r2.wav")
    path.write_bytes(path.read_bytes()[:100])
    outcome = _embed(project, windows=(0.5, 0.5))
    assert list(outcome.failures) == ["r2.wav"]
    assert set(outcome.embedding.events["recording"]) == {"r0.wav", "r1.wav"}


def test_bad_requests_are_clear(project):
    with pytest.raises(ParameterError, match="exactly one of --windows"):
        _embed(project)
    with pytest.raises(ParameterError, match="no events of kind 'detected'"):
        _embed(project, kind="detected")
    with pytest.raises(ParameterError, match="--species-events: model 'pca' has no scores"):
        _embed(project, "pca", windows=(1, 1), species_events=True)


def test_a_recording_changed_since_the_scan_is_embedded_again(project, rng):
    first = _embed(project, windows=(0.5, 0.5))
    path = project.recording_path("r0.wav")
    write_audio(path, 0.2 * rng.standard_normal(2 * 16000), 16000, subtype="FLOAT")
    again = _embed(project, windows=(0.5, 0.5))
    assert (again.computed, again.cached) == (1, 2)
    rows = (again.embedding.events["recording"] == "r0.wav").to_numpy()
    assert not np.allclose(again.embedding.vectors[rows], first.embedding.vectors[rows])
