"""The error handler of ``sonotype``: library parameter errors name the command's options."""

from __future__ import annotations

import sys

import pytest

from sonotype.annotations import make_events, write_events
from sonotype.checks import check_number
from sonotype.cli.main import cli_message, run
from sonotype.errors import ParameterError, SonotypeError


@pytest.fixture
def tables(tmp_path):
    ref = make_events("song.wav", [0.1, 0.3], [0.2, 0.4], ["a", "b"])
    pred = make_events("song.wav", [0.1, 0.3], [0.2, 0.4], ["a", "b"])
    write_events(ref, tmp_path / "ref.csv")
    write_events(pred, tmp_path / "pred.csv")
    return tmp_path / "ref.csv", tmp_path / "pred.csv"


def test_a_real_command_reports_the_library_error_with_its_option(tables, monkeypatch, capsys):
    ref, pred = tables
    argv = ["sonotype", "evaluate", "events", "--ref", str(ref), "--pred", str(pred)]
    monkeypatch.setattr(sys, "argv", [*argv, "--labels", "a,zz"])
    with pytest.raises(SystemExit) as exited:
        run()
    assert exited.value.code == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "error: --labels ['a', 'zz']: 'zz' occurs in neither table" in err
    assert "labels=" not in err


def names(error: SonotypeError, *args: str) -> str:
    return cli_message(error, list(args))


def test_the_option_is_found_by_its_name_in_the_running_command():
    with pytest.raises(ParameterError) as caught:
        check_number(0, name="block_s", minimum=0, inclusive="neither", unit="seconds")
    assert names(caught.value, "detect", "song.wav", "--block-s", "0").startswith(
        "--block-s 0 must be a number of seconds > 0"
    )
    # another command has no --block-s: the message stays as the library wrote it
    assert names(caught.value, "scan").startswith("block_s=0 must be")
    # an option value that happens to be a command name does not change the command
    assert names(caught.value, "detect", "-o", "scan", "x.wav").startswith("--block-s 0")


def test_messages_without_a_parameter_or_an_option_stay_as_they_are():
    plain = ParameterError("labels=x is wrong")
    assert names(plain, "evaluate", "events") == "labels=x is wrong"
    unknown = ParameterError("time_sigma=-3 must be positive", parameter="time_sigma")
    assert names(unknown, "detect", "a.wav") == "time_sigma=-3 must be positive"
    elsewhere = ParameterError("the labels=x is wrong", parameter="labels")
    assert names(elsewhere, "evaluate", "events") == "the labels=x is wrong"
    assert names(SonotypeError("no project here"), "scan") == "no project here"
