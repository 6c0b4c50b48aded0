"""The review commands from the command line: xval, mistakes (undoable), learncurve and
compare on synthetic fly song with a tiny network; bad options named as the CLI spells them."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from sonotype.annotations import concat_events, write_events
from sonotype.audio import write_audio
from sonotype.cli.main import app
from sonotype.errors import SonotypeError
from sonotype.store import Project
from sonotype.synth import flysong

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.slow

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


TRAIN = (
    "train", "--name", "tiny", "--labels", "pulse,sine", "--background", "ambient",
    "--steps", "8", "--batch-size", "8", "--device", "cpu", "--set", "conv_layers=2",
    "--set", "feature_maps=4", "--context-ms", "40",
)  # fmt: skip


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    folder = tmp_path_factory.mktemp("review-cli")
    tables = []
    for i in range(3):
        name = f"fly{i}.wav"
        y, events = flysong(6, recording=name, random_state=20 + i)
        write_audio(folder / "audio" / name, y, 2500)
        tables.append(events)
    write_events(concat_events(tables), folder / "truth.csv")
    with Project.init(folder, audio_roots=[folder / "audio"]) as p:
        p.scan()
        p.import_files([folder / "truth.csv"], source="truth")
    torch.set_num_threads(1)
    result = invoke(*TRAIN, "-p", folder)
    assert result.exit_code == 0, result.output
    return folder


def test_xval_prints_the_spread_and_writes_the_report(project):
    result = invoke("xval", "tiny", "--k", "2", "--workers", "1", "-p", project)
    assert result.exit_code == 0, result.output
    assert "accuracy" in result.output and "sd" in result.output
    assert (project / "reports" / "review" / "tiny" / "xval" / "index.html").is_file()
    compared = invoke("compare", "ti", "-p", project)
    assert compared.exit_code == 0, compared.output
    assert "tiny" in compared.output


def test_mistakes_are_stored_and_undone(project):
    result = invoke("mistakes", "tiny", "--k", "2", "--workers", "1", "-p", project)
    assert result.exit_code == 0, result.output
    assert "stored as kind mistaken" in result.output
    with Project.open(project) as p:
        n = len(p.events(kinds=["mistaken"]))
    assert n > 0  # a network trained for 8 steps gets some wrong
    assert "sonotype undo" in result.output
    assert invoke("undo", "-p", project).exit_code == 0
    with Project.open(project) as p:
        assert p.events(kinds=["mistaken"]).empty


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("xval", "tiny", "--k", "1"), "--k 1 must be at least 2"),
        (("xval", "tiny", "--k", "50"), "too few examples for --k 50"),
        (("learncurve", "tiny", "--sizes", "0.5,x"), "--sizes"),
        (("learncurve", "tiny", "--sizes", "2.5"), "whole number of examples per label"),
        (("generalize", "tiny", "--omit", "every"), "--omit every must be one of"),
        (("xval", "nosuch"), "no model named 'nosuch'"),
        (("compare", "zz"), "no xval run of a model whose name starts with 'zz'"),
    ],
)
def test_bad_options_are_named(project, args, message):
    result = runner.invoke(app, [*args, "-p", str(project)])
    assert result.exit_code != 0
    # the CLI's entry point prints sonotype's errors; the runner hands them back raised
    assert isinstance(result.exception, SonotypeError)
    assert message in " ".join(str(result.exception).split())
