"""The page in headless Chromium: annotate, undo, play, lasso and label, review, live edits."""

from __future__ import annotations

import time

import numpy as np
import pytest

from sonotype.store.project import Project

from .conftest import screenshot

pytestmark = pytest.mark.slow


def events(project_dir, **filters):
    with Project(project_dir) as project:
        return project.events(with_ids=True, **filters)


def eventually(check, timeout_s=15.0):
    """Poll ``check`` until it returns something true; return that."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = check()
        empty = hasattr(found, "__len__") and not len(found)
        if found is not None and found is not False and not empty:
            return found
        if time.monotonic() > deadline:
            raise AssertionError("not seen in time")
        time.sleep(0.1)


def spectrogram_loaded(page):
    page.wait_for_function(
        "document.querySelector('#spec-img').complete"
        " && document.querySelector('#spec-img').naturalWidth > 0",
        timeout=20_000,
    )


def test_drag_creates_an_annotation_in_the_database_and_undo_removes_it(page, project_dir):
    spectrogram_loaded(page)
    page.keyboard.press("2")  # the second label, "b"
    box = page.locator("#spectrogram").bounding_box()
    x0, x1, y = box["x"] + 300, box["x"] + 420, box["y"] + 40
    page.mouse.move(x0, y)
    page.mouse.down()
    page.mouse.move((x0 + x1) / 2, y, steps=3)
    page.mouse.move(x1, y, steps=3)
    page.mouse.up()

    def made():
        found = events(project_dir, sources=["app"])
        return found if len(found) else None

    found = made_events = eventually(made)
    assert len(found) == 1
    event = found.iloc[0]
    assert event["label"] == "b" and event["kind"] == "annotated"
    assert event["recording"] == "song_1.wav"
    seconds_per_px = 5.0 / box["width"]
    assert event["start_s"] == pytest.approx(300 * seconds_per_px, abs=3 * seconds_per_px)
    assert event["stop_s"] == pytest.approx(420 * seconds_per_px, abs=3 * seconds_per_px)
    page.wait_for_selector(f".event[data-id='{made_events.index[0]}']")
    screenshot(page, "annotate")
    page.click("#undo")
    eventually(lambda: events(project_dir, sources=["app"]).empty or None)
    page.wait_for_selector(f".event[data-id='{made_events.index[0]}']", state="detached")
    page.keyboard.press("Control+Shift+Z")  # redo
    eventually(made)


def test_click_makes_a_point_event_and_double_click_accepts_a_predicted_one(page, project_dir):
    spectrogram_loaded(page)
    for kind in ("annotated", "detected"):
        page.uncheck(f"input[data-kind='{kind}']")
    predicted = page.locator(".event.kind-predicted").first
    event_id = int(predicted.get_attribute("data-id"))
    page.keyboard.press("3")  # "c"
    predicted.dblclick()

    def accepted():
        stored = events(project_dir)
        return stored.loc[[event_id]] if stored.loc[event_id, "kind"] == "annotated" else None

    row = eventually(accepted).iloc[0]
    assert row["label"] == "c" and row["source"] == "app"
    box = page.locator("#spectrogram").bounding_box()
    page.mouse.click(box["x"] + 600, box["y"] + 100)
    point = eventually(lambda: events(project_dir, sources=["app"], kinds=["annotated"]).pipe(
        lambda t: t[t["start_s"] == t["stop_s"]]))  # fmt: skip
    assert len(point) == 1


def test_play_audio_moves_the_cursor(page):
    spectrogram_loaded(page)
    page.click("#play")
    page.wait_for_function("window.lastAudio && window.lastAudio.currentTime > 0.2", timeout=20_000)
    assert page.evaluate("!window.lastAudio.paused || window.lastAudio.ended")
    assert page.evaluate("document.querySelector('#cursor').style.display") == "block"
    left = page.evaluate("parseFloat(document.querySelector('#cursor').style.left)")
    assert left > 0


def test_lasso_points_and_label_them_in_bulk(page, project_dir):
    page.click("nav button[data-tab='explore']")
    page.wait_for_function("window.scatter && window.scatter.n === 46", timeout=20_000)
    page.wait_for_timeout(300)
    # Pan: drag the picture 60 px right; on release the view has moved by as much.
    box = page.locator("#scatter-overlay").bounding_box()
    before = page.evaluate("window.scatterToScreen(0)")
    page.mouse.move(box["x"] + 20, box["y"] + 20)
    page.mouse.down()
    page.mouse.move(box["x"] + 80, box["y"] + 20, steps=5)
    page.mouse.up()
    after = page.evaluate("window.scatterToScreen(0)")
    assert after[0] - before[0] == pytest.approx(60, abs=1)
    assert after[1] == pytest.approx(before[1], abs=1)
    screen = np.array(page.evaluate(
        "Array.from({length: window.scatter.n}, (_, i) => window.scatterToScreen(i))"))  # fmt: skip
    # Lasso the points of one cluster: the ones nearest the first point.
    centre = screen[0]
    near = np.argsort(np.hypot(*(screen - centre).T))[:5]
    radius = np.hypot(*(screen[near] - centre).T).max() + 6
    angles = np.linspace(0, 2 * np.pi, 24)
    polygon = centre + radius * np.c_[np.cos(angles), np.sin(angles)]
    inside = np.flatnonzero(np.hypot(*(screen - centre).T) < radius - 1)
    ambiguous = np.abs(np.hypot(*(screen - centre).T) - radius) <= 1
    assert not ambiguous.any()
    page.check("input[name='tool'][value='lasso']")
    page.mouse.move(box["x"] + polygon[0, 0], box["y"] + polygon[0, 1])
    page.mouse.down()
    for x, y in polygon[1:]:
        page.mouse.move(box["x"] + x, box["y"] + y)
    page.mouse.up()
    page.wait_for_function(f"window.scatter.selected.length === {len(inside)}")
    assert sorted(page.evaluate("window.scatter.selected")) == sorted(inside.tolist())
    page.wait_for_selector(f"#grid .snippet >> nth={len(inside) - 1}")
    page.fill("#new-label", "lassoed")
    page.press("#new-label", "Enter")
    page.click("#label-selection")
    labelled = eventually(lambda: events(project_dir, labels=["lassoed"]))
    assert len(labelled) == len(inside)
    assert set(labelled["kind"]) == {"annotated"}
    page.wait_for_selector("#legend >> text=lassoed")
    page.wait_for_selector("#grid .snippet >> text=lassoed")
    screenshot(page, "explore")
    # Hovering a point shows its spectrogram; the catalogue has a row per label.
    x, y = screen[np.argmin(screen[:, 0])]  # the leftmost point (clear of the legend)
    box = page.locator("#scatter-overlay").bounding_box()  # the status line may have wrapped
    page.mouse.move(box["x"] + x, box["y"] + y)
    page.wait_for_selector("#hover img", state="visible")
    page.click("#exemplars")
    for label in ("a", "b", "c", "d", "lassoed"):
        page.wait_for_selector(f"#grid >> text=annotated {label}")


def test_accept_a_predicted_event_from_the_review_queue(page, project_dir):
    page.click("nav button[data-tab='review']")
    page.wait_for_selector("#review-info")
    event_id = int(page.get_attribute("#review-info", "data-id"))
    before = events(project_dir).loc[event_id]
    assert before["kind"] == "predicted"
    page.keyboard.press("a")
    row = eventually(
        lambda: events(project_dir).loc[[event_id]].query("kind == 'annotated'") if event_id in
        events(project_dir).index else None)  # fmt: skip
    assert row.iloc[0]["label"] == before["label"]
    # The queue moved on to the next one.
    page.wait_for_function(
        f"document.querySelector('#review-info').dataset.id !== '{event_id}'", timeout=10_000
    )
    screenshot(page, "review")


def test_two_tabs_see_each_other_s_edits(page, browser, server, project_dir):
    other = browser.new_page(viewport={"width": 1200, "height": 900})
    other.goto(server)
    other.wait_for_selector("body[data-ready='1']", timeout=30_000)
    spectrogram_loaded(page)
    box = page.locator("#spectrogram").bounding_box()
    page.keyboard.press("1")
    page.mouse.move(box["x"] + 700, box["y"] + 30)
    page.mouse.down()
    page.mouse.move(box["x"] + 800, box["y"] + 30, steps=4)
    page.mouse.up()
    made = eventually(lambda: events(project_dir, sources=["app"]))
    began = time.monotonic()
    other.wait_for_selector(f".event[data-id='{made.index[0]}']", timeout=5_000)
    seen_after_s = time.monotonic() - began
    other.close()
    assert seen_after_s < 5


def test_start_a_job_and_follow_it_to_the_end(page, project_dir):
    page.click("nav button[data-tab='jobs']")
    page.select_option("#job-command", "detect")
    page.fill("#job-args", "--source from-page")
    page.click("#job-start")
    page.wait_for_selector("#job-table tbody tr >> text=ok", timeout=120_000)
    page.wait_for_selector("#job-log >> text=detected")
    page.wait_for_selector("#run-table tbody tr >> text=detect")
    assert len(events(project_dir, sources=["from-page"])) > 0
    screenshot(page, "jobs")
