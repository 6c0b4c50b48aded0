"""Bad parameters, outputs that exist, hangs and memory (issue 11), through the CLI runner.

Every refusal is checked the way a user meets it: the exit code, a one-line message that names
the option as the CLI spells it (no traceback), and nothing written.
"""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from sonotype.annotations import make_events, read_events, write_events
from sonotype.audio import write_audio
from sonotype.cli.main import app, cli_message
from sonotype.errors import SonotypeError
from sonotype.synth import flysong

runner = CliRunner()


def cli(*args) -> tuple[int, str]:
    """Run the command as `sonotype` does: ``(exit code, stdout and stderr)``.

    A SonotypeError becomes the one-line ``error:`` message (a library parameter named by
    its option, :func:`~sonotype.cli.main.cli_message`) and exit code 1 of
    :func:`sonotype.cli.main.run`; any other exception is a bug and is raised here.
    """
    args = [str(a) for a in args]
    result = runner.invoke(app, args)
    text = result.stdout + result.stderr
    error = result.exception
    if isinstance(error, SonotypeError):
        return 1, text + f"error: {cli_message(error, args)}"
    if error is not None and not isinstance(error, SystemExit):
        raise error
    assert "Traceback" not in text
    return result.exit_code, " ".join(text.split())


def files_in(folder) -> dict:
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns for p in folder.rglob("*")}


@pytest.fixture
def fly(tmp_path):
    y, _ = flysong(4, random_state=0)
    write_audio(tmp_path / "audio" / "fly.wav", y, 2500)
    return tmp_path / "audio" / "fly.wav"


# detect


@pytest.mark.parametrize("value", ["0", "-1", "nan"])
def test_detect_block_s_must_be_positive(fly, tmp_path, value):
    before = files_in(tmp_path)
    code, text = cli("detect", fly, "-o", tmp_path / "out.csv", "--block-s", value)
    assert code == 1
    assert f"--block-s {float(value)!r} must be a number of seconds > 0" in text
    assert files_in(tmp_path) == before


def test_detect_workers_must_not_be_negative(fly, tmp_path):
    before = files_in(tmp_path)
    code, text = cli("detect", fly, "-o", tmp_path / "out.csv", "--workers", "-3")
    assert code == 1
    assert "--workers -3 must be an integer >= 0; the default is 0" in text
    assert files_in(tmp_path) == before


def test_detect_refuses_an_existing_output_before_detecting(fly, tmp_path):
    (tmp_path / "out.csv").write_text("kept\n")
    before = files_in(tmp_path)
    # A missing recording: had detection run first, it would be reported as failed.
    code, text = cli("detect", fly, tmp_path / "nosuch.wav", "-o", tmp_path / "out.csv")
    assert code == 1
    assert "-o/--output" in text and "out.csv already exists; pass --force" in text
    assert "failed" not in text
    assert files_in(tmp_path) == before


def test_detect_writes_nothing_when_every_recording_failed(tmp_path):
    (tmp_path / "bad.wav").write_bytes(b"not audio")
    args = ("detect", tmp_path / "bad.wav", tmp_path / "nosuch.wav", "-o", tmp_path / "out.csv")
    before = files_in(tmp_path)
    code, text = cli(*args, "--workers", "2")
    assert code == 1
    assert "every recording failed (2); nothing written" in text
    # Each failure names its recording once.
    assert "failed: nosuch.wav: no such file" in text
    assert text.count("nosuch.wav") == 1
    assert files_in(tmp_path) == before
    # So the next run is not refused with "already exists".
    code, text = cli(*args, "--workers", "1")
    assert "already exists" not in text


def test_detect_partial_failure_keeps_the_others_with_exit_code_3(fly, tmp_path):
    code, text = cli("detect", fly, tmp_path / "nosuch.wav", "-o", tmp_path / "out.csv",
                     "--workers", "1")  # fmt: skip
    assert code == 3
    assert "in 1 recording:" in text and "1 recording of 2 failed" in text
    assert set(read_events(tmp_path / "out.csv")["recording"]) == {"fly.wav"}


# spectrogram


def test_spectrogram_upside_down_band_is_an_error(fly, tmp_path):
    before = files_in(tmp_path)
    code, text = cli("spectrogram", fly, "-o", tmp_path / "s.png", "--low-hz", "5000",
                     "--high-hz", "100")  # fmt: skip
    assert code == 1
    assert "--low-hz 5000 must be below --high-hz 100" in text
    code, text = cli("spectrogram", fly, "-o", tmp_path / "s.png", "--high-hz", "5000")
    assert code == 1
    assert "--high-hz 5000 is above 1250 Hz" in text and "use 0 to 1250" in text
    assert files_in(tmp_path) == before


def test_spectrogram_writes_the_format_its_suffix_names(fly, tmp_path):
    code, _ = cli("spectrogram", fly, "-o", tmp_path / "s.jpg")
    assert code == 0
    assert (tmp_path / "s.jpg").read_bytes()[:3] == b"\xff\xd8\xff"
    before = files_in(tmp_path)
    code, text = cli("spectrogram", fly, "-o", tmp_path / "s.bmp")
    assert code == 1
    assert "-o/--output" in text and "suffix .bmp" in text
    assert ".png, .jpg, .jpeg, .pdf, .svg" in text
    assert files_in(tmp_path) == before


def test_spectrogram_refuses_to_overwrite_without_force(fly, tmp_path):
    target = tmp_path / "new" / "folder" / "s.png"
    assert cli("spectrogram", fly, "-o", target)[0] == 0  # missing folders made, as export does
    before = files_in(tmp_path)
    code, text = cli("spectrogram", fly, "-o", target)
    assert code == 1
    assert "-o/--output" in text and "s.png already exists; pass --force" in text
    assert files_in(tmp_path) == before
    assert cli("spectrogram", fly, "-o", target, "--force")[0] == 0


def test_spectrogram_with_a_huge_label_finishes(fly, tmp_path):
    # A 5 MB label is refused by the reader (an unclosed quote, most likely), at once.
    (tmp_path / "big.csv").write_text(
        f"recording,onset_s,offset_s,label\nfly.wav,1,2,{'L' * 5_000_000}\n"
    )
    code, text = cli("spectrogram", fly, "--events", tmp_path / "big.csv", "-o", tmp_path / "s.png")
    assert code == 1
    assert "big.csv" in text and "10,000" in text
    assert not (tmp_path / "s.png").exists()
    # A long label that is allowed is drawn cut short.
    write_events(make_events("fly.wav", [1.0], [2.0], ["L" * 9_000]), tmp_path / "long.csv")
    code, text = cli(
        "spectrogram", fly, "--events", tmp_path / "long.csv", "-o", tmp_path / "s.png"
    )
    assert code == 0, text
    assert (tmp_path / "s.png").stat().st_size < 1_000_000


# evaluate


@pytest.fixture
def tables(tmp_path):
    events = make_events("s.wav", [0.1, 0.5], [0.2, 0.6], ["a", "b"])
    write_events(events, tmp_path / "ref.csv")
    write_events(events, tmp_path / "pred.csv")
    return tmp_path / "ref.csv", tmp_path / "pred.csv"


def test_evaluate_matches_refuses_to_overwrite_without_force(tables, tmp_path):
    ref, pred = tables
    (tmp_path / "m.csv").write_text("kept\n")
    before = files_in(tmp_path)
    code, text = cli("evaluate", "events", "--ref", ref, "--pred", pred, "--matches",
                     tmp_path / "m.csv")  # fmt: skip
    assert code == 1
    assert "--matches" in text and "m.csv already exists; pass --force" in text
    assert files_in(tmp_path) == before
    code, _ = cli("evaluate", "events", "--ref", ref, "--pred", pred, "--matches",
                  tmp_path / "m.csv", "--force")  # fmt: skip
    assert code == 0
    assert len((tmp_path / "m.csv").read_text().splitlines()) == 3
    # A missing folder is made, as export makes it.
    code, _ = cli("evaluate", "events", "--ref", ref, "--pred", pred, "--matches",
                  tmp_path / "new" / "m.csv")  # fmt: skip
    assert code == 0 and (tmp_path / "new" / "m.csv").exists()


# messages and help


def test_run_prints_brackets_of_a_message(tmp_path, monkeypatch, capsys):
    """The one-line error keeps "[audio] roots" (it was read as markup: "fix  roots")."""
    from sonotype.cli.main import run
    from sonotype.store import Project

    Project.init(tmp_path / "p", audio_roots=[tmp_path / "nosuch"]).close()
    monkeypatch.setattr("sys.argv", ["sonotype", "scan", "--project", str(tmp_path / "p")])
    with pytest.raises(SystemExit) as stop:
        run()
    assert stop.value.code == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "fix [audio] roots" in err and "Traceback" not in err


def test_discover_unknown_embedder_lists_the_valid_ones(tmp_path):
    from sonotype.store import Project

    Project.init(tmp_path).close()
    before = files_in(tmp_path)
    code, text = cli("discover", "--embedder", "foo", "--project", tmp_path)
    assert code == 1
    assert "--embedder 'foo' is not an embedder; use one of" in text
    assert "pca" in text and "flat" in text and "features" in text
    assert "needs" not in text
    assert files_in(tmp_path) == before


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--steps", "0", "--steps 0 must be an integer >= 1"),
        ("--batch-size", "-2", "--batch-size -2 must be an integer >= 1"),
        ("--learning-rate", "0", "--learning-rate 0.0 must be a number > 0"),
    ],
)
def test_train_numbers_are_checked_by_their_option(tmp_path, option, value, message):
    before = files_in(tmp_path)
    code, text = cli("train", "--name", "m", "--labels", "a", option, value, "-p", tmp_path)
    assert code == 1
    assert message in text and "batch_size=" not in text
    assert files_in(tmp_path) == before


def test_info_counts_one_recording_in_the_singular(fly):
    code, text = cli("info", fly)
    assert code == 0
    assert "1 recording " in text + " " and "1 recordings" not in text


def _every_help():
    from sonotype.cli.main import app as main_app

    yield []
    for info in main_app.registered_commands:
        yield [info.name or info.callback.__name__]
    for group in main_app.registered_groups:
        yield [group.name]
        for info in group.typer_instance.registered_commands:
            yield [group.name, info.name or info.callback.__name__]


@pytest.mark.parametrize("command", list(_every_help()), ids=" ".join)
def test_help_shows_value_names_not_python_types(command):
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for python_type in ("<bool>", "<list[", "<str>", "<path>", "<int>", "<float>", "<Path>"):
        assert python_type not in result.output


def test_help_paragraphs_are_not_hard_wrapped():
    result = runner.invoke(app, ["detect", "--help"], env={"COLUMNS": "200"})
    # One paragraph of the docstring, written over two source lines, reads as one line.
    line = "`sonotype detect --method NAME --set KEY=VALUE`; an unknown key lists the valid ones."
    assert line in result.output


def test_classify_warns_when_a_recording_is_resampled(tmp_path, monkeypatch):
    """The warning comes from the rates in the project's index and the model's alone, so
    the model and `classify` are replaced by test doubles: no network is trained here."""
    from types import SimpleNamespace

    from sonotype.pipeline import supervised
    from sonotype.store import Project

    write_audio(tmp_path / "audio" / "slow.wav", np.zeros(70), 7)
    write_audio(tmp_path / "audio" / "fine.wav", np.zeros(2500), 2500)
    with Project.init(tmp_path, audio_roots=[tmp_path / "audio"]) as project:
        project.scan()
    model = SimpleNamespace(sr=2500, labels=["pulse"], step_s=0.01)
    monkeypatch.setattr(supervised, "load_model", lambda project, name: model)
    outcome = SimpleNamespace(paths={}, channel_paths={}, computed=0, cached=0, failures={})
    monkeypatch.setattr(supervised, "classify", lambda project, name, **kwargs: outcome)
    code, text = cli("classify", "m", "-p", tmp_path)
    assert code == 0, text
    assert "warning: slow.wav is at 7 Hz, the model at 2500 Hz: it is resampled up by a " \
        "factor of 357" in text  # fmt: skip
    assert "fine.wav is at" not in text
