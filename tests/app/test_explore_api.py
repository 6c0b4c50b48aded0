"""Explore through the API: sets, points as float32, colour codes, rows, similarity,
exemplars and bulk labelling."""

from __future__ import annotations

import numpy as np

from sonotype.app.api.explore import principal_plane
from sonotype.store.project import Project

SET = "embeddings:syllables"


def test_sets_points_and_columns(client):
    (found,) = client.get("/api/explore/sets").json()
    assert found["id"] == SET and found["n"] == 46 and found["dimensions"] == 8
    response = client.get(f"/api/explore/{SET}/points")
    coords = np.frombuffer(response.content, "<f4").reshape(-1, 2)
    assert coords.shape == (46, 2) and response.headers["x-count"] == "46"
    meta = client.get(f"/api/explore/{SET}/columns").json()
    assert meta["n"] == 46 and meta["similarity"]
    assert {"label", "annotated", "kind", "recording", "animal"} <= set(meta["columns"])
    assert meta["columns"]["annotated"] == ["a", "b", "c", "d"]
    codes = np.frombuffer(client.get(f"/api/explore/{SET}/codes/annotated").content, "<i4")
    assert codes.shape == (46,) and set(codes) == {0, 1, 2, 3}
    assert client.get(f"/api/explore/{SET}/codes/nope").status_code == 400
    assert client.get("/api/explore/other:x/points").status_code == 400
    assert client.get("/api/explore/embeddings:missing/points").status_code == 400


def test_rows_similar_and_exemplars(client):
    rows = client.get(f"/api/explore/{SET}/rows", params={"i": "0,5"}).json()
    assert [r["row"] for r in rows] == [0, 5] and rows[0]["recording_id"] == 1
    assert rows[0]["annotated"] in "abcd"
    assert client.get(f"/api/explore/{SET}/rows?i=999").status_code == 400
    near = client.get(f"/api/explore/{SET}/similar", params={"row": 3, "k": 5}).json()
    assert near[0] == {"row": 3, "distance": 0.0}
    assert [n["distance"] for n in near] == sorted(n["distance"] for n in near)
    # The points cluster by syllable type: the nearest ones share its annotated label.
    wanted = ",".join(str(n["row"]) for n in near)
    labels = {
        r["row"]: r["annotated"] for r in client.get(f"/api/explore/{SET}/rows?i={wanted}").json()
    }
    assert len(set(labels.values())) == 1
    catalogue = client.get(f"/api/explore/{SET}/exemplars?column=annotated&per_category=3").json()
    assert sorted(catalogue) == ["a", "b", "c", "d"]
    assert all(len(rows) == 3 for rows in catalogue.values())


def test_bulk_label_is_one_edit_replacing_earlier_labels(client, project_dir):
    chosen = [0, 1, 2, 3]
    response = client.post(f"/api/explore/{SET}/label", json={"rows": chosen, "label": "x"})
    assert response.status_code == 200, response.text
    # The rows had annotated events at their spans (the truth): those are replaced.
    assert response.json()["replaced"] == 4
    with Project(project_dir) as project:
        annotated = project.events(kinds=["annotated"])
        assert (annotated["label"] == "x").sum() == 4 and len(annotated) == 46
    codes = client.get(f"/api/explore/{SET}/columns").json()["columns"]["annotated"]
    assert "x" in codes
    client.post("/api/undo")
    with Project(project_dir) as project:
        assert (project.events(kinds=["annotated"])["label"] == "x").sum() == 0
    bad = client.post(f"/api/explore/{SET}/label", json={"rows": [99], "label": "x"})
    assert bad.status_code == 400


def test_principal_plane():
    rng = np.random.default_rng(0)
    flat = rng.normal(size=(50, 2)).astype(np.float32)
    assert np.array_equal(principal_plane(flat), flat)
    line = np.outer(np.arange(50), np.ones(5)).astype(np.float32)
    plane = principal_plane(line)
    assert plane.shape == (50, 2) and np.ptp(plane[:, 1]) < 1e-3 * np.ptp(plane[:, 0])


def store_discovery_run(project_dir, name="birds"):
    """What `sonotype discover --name NAME` leaves: its selection (UMAP points and HDBSCAN
    clusters) and its clusters stored as `clustered` events with a receipt pointing at it."""
    import pandas as pd

    from sonotype.cluster import Clustering
    from sonotype.pipeline.codecs import JsonCodec
    from sonotype.pipeline.discover_codecs import Selection, SelectionCodec
    from sonotype.pipeline.discover_config import FeatureSettings
    from sonotype.reduce import Embedding

    with Project(project_dir) as project:
        syllables = project.events(kinds=["annotated"])
        n = len(syllables)
        codes = pd.factorize(syllables["label"])[0]
        coords = np.c_[codes * 10.0, np.arange(n) % 3].astype(np.float32)
        selection = Selection(
            summary=pd.DataFrame({"score": [1.0]}),
            candidate=0,
            settings=FeatureSettings(
                time_mode="stretch",
                n_freq=8,
                n_time=8,
                freq_scale="linear",
                freq_range_hz=(0.0, 16000.0),
                n_components=4,
            ),
            reduction=Embedding("umap", {"n_neighbors": 5}, coords, np.arange(n)),
            clustering=Clustering("hdbscan", {}, codes.astype(np.int64)),
        )
        target = project.artifacts.put_file(
            "selection", inputs={}, params={"name": name}, suffix=".npz",
            write=lambda tmp: SelectionCodec().write(selection, tmp),
        )  # fmt: skip
        key = target.stem
        project.store_results(syllables.assign(label=codes.astype(str)), kind="clustered",
                              source=name, command="test", description="clusters")  # fmt: skip
        project.artifacts.put_file(
            "clustered-events", inputs={"selection": key}, params={"name": name}, suffix=".json",
            write=lambda tmp: JsonCodec().write({"source": name, "n": n, "hash": "x"}, tmp),
        )  # fmt: skip
    return codes, coords


def test_a_discovery_run_is_a_set_with_its_clusters(client, project_dir):
    codes, coords = store_discovery_run(project_dir)
    sets = {s["id"]: s for s in client.get("/api/explore/sets").json()}
    assert sets["discover:birds"]["n"] == len(codes)
    points = np.frombuffer(client.get("/api/explore/discover:birds/points").content, "<f4")
    assert np.array_equal(points.reshape(-1, 2), coords)
    meta = client.get("/api/explore/discover:birds/columns").json()
    assert meta["columns"]["cluster"] == sorted({str(c) for c in codes})
    assert not meta["similarity"]
    rows = client.get("/api/explore/discover:birds/rows?i=0,1").json()
    assert [r["cluster"] for r in rows] == codes[:2].tolist()
    # The points of a row's cluster are its nearest neighbours (distance in the plane).
    near = client.get("/api/explore/discover:birds/similar?row=0&k=3").json()
    assert all(codes[n["row"]] == codes[0] for n in near)
    missing = client.get("/api/explore/discover:nope/points")
    assert missing.status_code == 400 and "birds" in missing.json()["detail"]


def test_time_stamped_file_names_give_time_columns():
    from sonotype.annotations.events import make_events
    from sonotype.app.api.explore import Scatter, columns_of

    names = ["site1/20240611_063000.wav", "site1/20241224_190000.wav", "notime.wav"]
    events = make_events(names, [0.0, 1.0, 2.0], [0.5, 1.5, 2.5], ["a", "b", "a"])
    scatter = Scatter("x", events, np.zeros((3, 2), np.float32), None, None)
    columns = columns_of(scatter, annotated=np.array(["a", "b", "a"]))
    assert columns["time_of_day"].tolist() == ["morning", "evening", ""]
    assert columns["season"].tolist() == ["summer", "winter", ""]
    assert columns["date"].tolist() == ["2024-06-11", "2024-12-24", ""]
    plain = Scatter("y", events.assign(recording="a.wav"), scatter.coords, None, None)
    assert "time_of_day" not in columns_of(plain, annotated=np.array(["a"] * 3))
