"""`sonotype events relabel|delete|accept|counts|list` inside a project."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from sonotype.annotations import concat_events, make_events, write_events
from sonotype.audio import write_audio
from sonotype.cli.main import app
from sonotype.store import Project

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A project with one recording, three annotations and two scored predictions."""
    write_audio(tmp_path / "proj" / "audio" / "one.wav", np.zeros(16000), 8000)
    assert invoke("init", tmp_path / "proj").exit_code == 0
    monkeypatch.chdir(tmp_path / "proj")
    assert invoke("scan").exit_code == 0
    write_events(
        make_events("one.wav", [0.1, 0.5, 1.0], [0.2, 0.6, 1.1], ["a", "a", "b"]),
        tmp_path / "n.csv",
    )
    assert invoke("import", tmp_path / "n.csv", "--source", "me").exit_code == 0
    with Project.open(tmp_path / "proj") as project:
        project.add_events(
            concat_events(
                [
                    make_events(
                        "one.wav",
                        [1.2, 1.5],
                        [1.3, 1.6],
                        "b",
                        kind="predicted",
                        source="net",
                        score=[0.9, 0.3],
                    )
                ]
            ),
            command="test",
            description="predictions",
        )
    return tmp_path / "proj"


def test_relabel_then_undo(folder):
    result = invoke("events", "relabel", "--kind", "annotated", "--label", "a", "--to", "c")
    assert result.exit_code == 0, result.output
    assert "relabelled 2 events (edit 3;" in result.output
    counts = invoke("events", "counts").output
    assert "c" in counts and "5 events in all" in counts
    assert "undid edit 3" in invoke("undo").output


def test_a_filter_that_matches_nothing_fails_clearly(folder):
    result = runner.invoke(
        app, ["events", "relabel", "--kind", "annotated", "--label", "zz", "--to", "c"]
    )
    assert result.exit_code != 0
    assert "no stored events match --kind annotated --label zz" in str(result.exception)


def test_delete_refuses_everything_without_all(folder):
    result = runner.invoke(app, ["events", "delete"])
    assert "--all" in str(result.exception)
    result = invoke("events", "delete", "--all")
    assert "deleted 5 events" in result.output


def test_accept_and_list_with_ids(folder):
    result = invoke(
        "events", "accept", "--kind", "predicted", "--source", "net", "--min-score", "0.5"
    )
    assert "accepted 1 event " in result.output, result.output
    listing = invoke("events", "list", "--kind", "annotated", "--source", "net").output
    assert "0.900" in listing and "1.2000" in listing
    listing = invoke("events", "list", "--kind", "annotated", "--limit", "2").output
    assert "showing 2 of 4 events" in listing


def test_an_empty_source_selects_events_imported_without_one(folder, tmp_path):
    write_events(make_events("one.wav", [1.5], [1.6], "a"), tmp_path / "m.csv")
    assert invoke("import", tmp_path / "m.csv").exit_code == 0  # source ""
    result = invoke("events", "delete", "--kind", "annotated", "--source", "")
    assert "deleted 1 event " in result.output, result.output
