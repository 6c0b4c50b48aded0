"""Events through the API: create, read, change, delete, undo, redo, review, counts, and
edits from two clients seen by both, live."""

from __future__ import annotations

import threading
import time

from fastapi.testclient import TestClient

from sonotype.app import create_app
from sonotype.store.project import Project


def stored(project_dir, **filters):
    with Project(project_dir) as project:
        return project.events(with_ids=True, **filters)


def new_event(label="z", start_s=1.0, stop_s=1.2, **more):
    return {"recording": "song_1.wav", "start_s": start_s, "stop_s": stop_s, "label": label,
            **more}  # fmt: skip


def test_create_is_committed_before_the_answer_and_undo_redo_it(client, project_dir):
    response = client.post("/api/events", json={"events": [new_event(low_hz=1000, high_hz=4000)]})
    assert response.status_code == 201
    (event_id,) = response.json()["ids"]
    # Another connection (another process would do the same) sees it at once.
    row = stored(project_dir, labels=["z"])
    assert row.index.tolist() == [event_id]
    assert row[["kind", "source", "low_hz", "high_hz"]].iloc[0].tolist() == [
        "annotated", "app", 1000.0, 4000.0]  # fmt: skip
    assert client.post("/api/undo").json()["undone"][0]["id"] == response.json()["edit"]["id"]
    assert stored(project_dir, labels=["z"]).empty
    assert client.get("/api/edits").json()["redoable"][0]["id"] == response.json()["edit"]["id"]
    client.post("/api/redo")
    assert stored(project_dir, labels=["z"]).index.tolist() == [event_id]
    assert client.post("/api/redo").json()["redone"] == []


def test_read_filters(client):
    everything = client.get("/api/events").json()
    assert len(everything) == 46 + 46 + 16
    some = client.get("/api/events", params={"recording": "song_1.wav", "kinds": "annotated",
                                             "start_s": 1, "stop_s": 3}).json()  # fmt: skip
    assert some and all(e["recording"] == "song_1.wav" and e["kind"] == "annotated" for e in some)
    assert all(e["stop_s"] >= 1 and e["start_s"] <= 3 for e in some)
    assert all(e["score"] is None for e in some)
    assert {e["label"] for e in client.get("/api/events?labels=a,b").json()} == {"a", "b"}
    assert {e["source"] for e in client.get("/api/events?sources=model").json()} == {"model"}


def test_update_relabels_in_place_and_undo_restores(client, project_dir):
    ids = stored(project_dir, kinds=["detected"]).index.tolist()[:3]
    response = client.patch("/api/events", json={"ids": ids, "changes": {"label": "q"}})
    assert response.status_code == 200
    after = stored(project_dir, kinds=["detected"])
    assert after.loc[ids, "label"].tolist() == ["q"] * 3
    client.post("/api/undo")
    assert stored(project_dir, kinds=["detected"]).loc[ids, "label"].tolist() == ["syllable"] * 3


def test_delete_and_undo(client, project_dir):
    ids = stored(project_dir, kinds=["predicted"]).index.tolist()[:2]
    response = client.delete("/api/events", params={"ids": ",".join(map(str, ids))})
    assert response.status_code == 200
    assert not set(ids) & set(stored(project_dir).index)
    client.post("/api/undo")
    assert set(ids) <= set(stored(project_dir).index)


def test_bad_requests_say_what_is_wrong(client):
    bad = client.post("/api/events", json={"events": [new_event(start_s=2.0, stop_s=1.0)]})
    assert bad.status_code == 400 and "stop_s" in bad.json()["detail"]
    bad = client.post("/api/events", json={"events": [{**new_event(), "recording": "nope.wav"}]})
    assert bad.status_code == 400 and "nope.wav" in bad.json()["detail"]
    assert client.post("/api/events", json={"events": []}).status_code == 422
    bad = client.patch("/api/events", json={"ids": [999999], "changes": {"label": "x"}})
    assert bad.status_code == 400 and "999999" in bad.json()["detail"]
    bad = client.delete("/api/events", params={"ids": "1,x"})
    assert bad.status_code == 400 and "integers" in bad.json()["detail"]
    bad = client.delete("/api/events", params={"ids": "999999"})
    assert bad.status_code == 400
    bad = client.post("/api/undo?n=0")
    assert bad.status_code == 400 and "at least 1" in bad.json()["detail"]
    bad = client.post("/api/redo?n=5")
    assert client.post("/api/redo?n=0").status_code == 400


def test_counts_labels_sources(client):
    counts = {(c["label"], c["kind"]): c["n"] for c in client.get("/api/counts").json()}
    assert counts[("syllable", "detected")] == 46
    assert sum(n for (_, kind), n in counts.items() if kind == "annotated") == 46
    one = client.get("/api/counts", params={"recording": "song_1.wav"}).json()
    assert sum(c["n"] for c in one) < sum(counts.values())
    assert set(client.get("/api/labels").json()["labels"]) >= {"a", "b", "c", "d", "syllable"}
    sources = {(s["kind"], s["source"]) for s in client.get("/api/sources").json()}
    assert ("predicted", "model") in sources


def test_review_accept_relabel_reject(client, project_dir):
    queue = client.get("/api/review/predicted").json()
    assert len(queue) == 16 and all(e["kind"] == "predicted" for e in queue)
    first, second, third = (e["id"] for e in queue[:3])
    assert client.post(f"/api/review/event/{first}", json={"action": "accept"}).status_code == 200
    client.post(f"/api/review/event/{second}", json={"action": "relabel", "label": "new"})
    client.post(f"/api/review/event/{third}", json={"action": "reject"})
    events = stored(project_dir)
    assert events.loc[first, "kind"] == "annotated" and events.loc[first, "source"] == "app"
    assert events.loc[second, ["kind", "label"]].tolist() == ["annotated", "new"]
    assert third not in events.index
    assert len(client.get("/api/review/predicted").json()) == 13
    assert client.get("/api/review/nonsense").status_code == 400
    bad = client.post(f"/api/review/event/{first}", json={"action": "maybe"})
    assert bad.status_code == 400
    bad = client.post(f"/api/review/event/{first}", json={"action": "relabel"})
    assert bad.status_code == 400
    # Three edits, undone newest first.
    client.post("/api/undo?n=3")
    assert len(client.get("/api/review/predicted").json()) == 16


def test_two_clients_edit_concurrently_and_see_each_other(project_dir):
    """Two pages (two clients, two threads) add events at once: every edit is kept, each
    is its own undoable edit, and each page's change stream hears of the other's edits."""
    app = create_app(project_dir)
    heard = []

    def listen():
        with (
            TestClient(app, base_url="http://127.0.0.1") as listener,
            listener.stream("GET", "/api/changes", params={"max_s": 4}) as stream,
        ):
            for line in stream.iter_lines():
                if line.startswith("event:"):
                    heard.append((time.monotonic(), line.split(":", 1)[1].strip()))

    def edit(client, label):
        for i in range(10):
            response = client.post(
                "/api/events", json={"events": [new_event(label, 0.1 * i, 0.1 * i + 0.05)]}
            )
            assert response.status_code == 201, response.text

    listener = threading.Thread(target=listen)
    listener.start()
    time.sleep(0.8)
    with (
        TestClient(app, base_url="http://127.0.0.1") as a,
        TestClient(app, base_url="http://127.0.0.1") as b,
    ):
        began = time.monotonic()
        workers = [threading.Thread(target=edit, args=(c, lab)) for c, lab in ((a, "A"), (b, "B"))]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        assert {e["label"] for e in a.get("/api/events?labels=A,B").json()} == {"A", "B"}
        assert len(b.get("/api/events?labels=A,B").json()) == 20
        log = b.get("/api/edits?limit=20").json()["log"]
        assert sum(1 for e in log if e["command"] == "app") == 20
    listener.join()
    kinds = [k for _, k in heard]
    assert kinds[0] == "hello"
    assert "edit" in kinds
    assert any(t >= began for t, k in heard if k == "edit")
