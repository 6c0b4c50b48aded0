"""Search by a span that matches no stored row: embedded with the set's own model."""

from __future__ import annotations

import numpy as np
import pytest

from sonotype.audio import write_audio
from sonotype.embeddings.embed import embed_project
from sonotype.embeddings.search import Query, embed_query, search_set
from sonotype.errors import ParameterError
from sonotype.pipeline.executors import LocalExecutor
from sonotype.store import Project
from tests.embeddings.conftest import export, write_card
from tests.embeddings.test_search import invoke

pytest.importorskip("torch")


@pytest.fixture
def project(tmp_path, rng, network):
    """r0, r1: noise at 16 kHz; r2: r0's audio again, so r2's spans have twins in r0."""
    audio = [0.2 * rng.standard_normal(int(s * 16000)) for s in (3.0, 2.0)]
    for i, y in enumerate([*audio, audio[0]]):
        write_audio(tmp_path / "p" / "audio" / f"r{i}.wav", y, 16000, subtype="FLOAT")
    cards = tmp_path / "p" / "embedders"
    cards.mkdir(parents=True)
    write_card(cards, export(network, cards, "torchscript"), output=0, scores_output=1)
    with Project.init(tmp_path / "p") as p:
        p.scan()
        yield p


def _embed(project, model, **kwargs):
    return embed_project(project, model, executor=LocalExecutor(1), **kwargs).embedding


@pytest.mark.parametrize("model", ["tiny", "flat"])
def test_a_stored_span_embedded_again_is_its_row(project, model):
    embedding = _embed(project, model, windows=(0.5, 0.25))
    assert embedding.info["model_spec"] == model
    for row in (0, 5, len(embedding.events) - 1):
        event = embedding.events.iloc[row]
        query = Query(event["recording"], float(event["start_s"]), float(event["stop_s"]))
        vector = embed_query(project, embedding, query)
        np.testing.assert_allclose(vector, embedding.vectors[row], rtol=1e-5, atol=1e-6)


def test_a_stored_event_embedded_again_is_its_row(project):
    from sonotype.annotations.events import make_events

    events = make_events("r1.wav", [0.3, 1.0], [0.45, 1.3], "x", source="truth")
    project.add_events(events, command="test", description="two events")
    embedding = _embed(project, "tiny", kind="annotated")
    assert embedding.info["pad"] == "zeros"
    vector = embed_query(project, embedding, Query("r1.wav", 1.0, 1.3))
    np.testing.assert_allclose(vector, embedding.vectors[1], rtol=1e-5, atol=1e-6)


def test_a_new_span_finds_its_nearest_neighbours(project):
    # The set holds r0 and r1 only; r2 is a copy of r0, so r2's 0.5-1.0 is r0's 0.5-1.0.
    embedding = _embed(project, "tiny", windows=(0.5, 0.5), recordings="r[01].wav")
    assert set(embedding.events["recording"]) == {"r0.wav", "r1.wav"}
    hits = search_set(embedding, Query("r2.wav", 0.5, 1.0), k=3, project=project)
    assert (hits.loc[0, "recording"], hits.loc[0, "start_s"]) == ("r0.wav", 0.5)
    assert hits.loc[0, "similarity"] == pytest.approx(1.0, abs=1e-5)
    assert hits["similarity"].is_monotonic_decreasing and len(hits) == 3
    # A span between stored windows (overlap 0.2 with each) is embedded, not matched, and
    # ranked against every row, none left out.
    shifted = search_set(embedding, Query("r0.wav", 0.2, 0.7), k=len(embedding.events),
                         project=project)  # fmt: skip
    assert len(shifted) == len(embedding.events)
    vector = embed_query(project, embedding, Query("r0.wav", 0.2, 0.7))
    X = np.asarray(embedding.vectors)
    cosine = X @ vector / (np.linalg.norm(X, axis=1) * np.linalg.norm(vector))
    assert shifted["row"].iloc[0] == int(np.argmax(cosine))
    np.testing.assert_allclose(np.sort(cosine)[::-1], shifted["similarity"], atol=1e-5)
    with pytest.raises(ParameterError, match="matches no stored row"):
        search_set(embedding, Query("r0.wav", 0.2, 0.7), k=3)  # no project: no model


def test_new_spans_that_cannot_be_embedded_are_refused(project):
    embedding = _embed(project, "pca", windows=(0.5, 0.5))
    with pytest.raises(ParameterError, match="fitted on all the set's rows"):
        search_set(embedding, Query("r0.wav", 0.2, 0.7), project=project)
    tiny = _embed(project, "tiny", windows=(0.5, 0.5))
    with pytest.raises(ParameterError, match="not a recording of the project"):
        search_set(tiny, Query("r9.wav", 0.2, 0.7), project=project)
    with pytest.raises(ParameterError, match="after the recording's end"):
        search_set(tiny, Query("r1.wav", 2.5, 2.9), project=project)
    card = project.folder / "embedders" / "tiny.toml"
    card.write_text(card.read_text().replace("input_scale = 2.0", "input_scale = 3.0"))
    with pytest.raises(ParameterError, match="not the one set 'tiny-windows' was made with"):
        search_set(tiny, Query("r0.wav", 0.2, 0.7), project=project)


def test_search_command_embeds_a_new_span(project):
    _embed(project, "tiny", windows=(0.5, 0.5), recordings="r[01].wav")
    result = invoke("search", "-p", project.folder, "-q", "r2.wav:0.5-1.0", "-e",
                    "tiny-windows", "--k", "2", "--no-gallery")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1].split()[:3] == ["1", "r0.wav", "0.5"]


@pytest.mark.slow
def test_birdnet_query_embedded_again_is_its_row(project):
    from sonotype.embeddings.models import ModelUnavailable, resolve_model

    try:
        resolve_model("birdnet").load()
    except ModelUnavailable as why:
        pytest.skip(f"birdnet cannot run here: {why}")
    embedding = _embed(project, "birdnet", windows=(1.0, 1.0))
    event = embedding.events.iloc[2]
    query = Query(event["recording"], float(event["start_s"]), float(event["stop_s"]))
    vector = embed_query(project, embedding, query)
    np.testing.assert_allclose(vector, embedding.vectors[2], rtol=1e-4, atol=1e-5)
    hits = search_set(embedding, Query("r2.wav", 1.0, 2.0), k=1, project=project)
    assert (hits.loc[0, "recording"], hits.loc[0, "start_s"]) == ("r0.wav", 1.0)
