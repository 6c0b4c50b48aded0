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
