"""Hardening of the store and its commands (issue 11): permissions that follow the umask,
leftovers of killed runs cleaned, events past their recording's end, one-line errors instead
of tracebacks, undo's count, progress in logs, plurals and exit codes."""

from __future__ import annotations

import contextlib
import os
import stat
import subprocess
import sys
import time

import numpy as np
import pytest
from typer.testing import CliRunner

from sonotype import atomic
from sonotype.annotations import concat_events, make_events, write_events
from sonotype.audio import write_audio
from sonotype.cli import console
from sonotype.cli.main import app
from sonotype.errors import AnnotationError, ParameterError
from sonotype.report.project_report import write_project_report
from sonotype.store import Project, event_store

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@contextlib.contextmanager
def umask(mask: int):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A scanned project with two 2 s recordings, as the current folder."""
    for name in ("one.wav", "sub/two.wav"):
        write_audio(tmp_path / "proj" / "audio" / name, np.zeros(16000), 8000)
    with Project.init(tmp_path / "proj") as project:
        project.scan()
    monkeypatch.chdir(tmp_path / "proj")
    return tmp_path / "proj"


def notes(path, recordings, starts, stops):
    write_events(make_events(recordings, starts, stops, ["a"] * len(starts)), path)
    return path


# -- permissions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mask", "file_mode", "folder_mode"), [(0o022, 0o644, 0o755), (0o077, 0o600, 0o700)]
)
def test_outputs_follow_the_umask(folder, mask, file_mode, folder_mode):
    with umask(mask):
        notes(folder / "notes.csv", ["one.wav", "two.wav"], [0.1, 0.2], [0.3, 0.4])
        assert invoke("import", "notes.csv").exit_code == 0
        assert invoke("export", "-o", "out", "-f", "raven").exit_code == 0
        assert invoke("export", "-o", "all.csv", "-f", "simple-csv").exit_code == 0
        with Project.open(folder) as project:
            array = project.artifacts.put_file(
                "test", inputs={}, params={}, suffix=".txt", write=lambda p: p.write_text("x")
            )
            staged = atomic.staging_folder(folder / "artifacts" / "models", "m")
            report = write_project_report(project, max_images=1, span_s=0.5)
    written = [folder / "all.csv", array, *(folder / "out").rglob("*.txt")]
    assert len(written) == 4
    written += [report, *report.parent.rglob("*.png")]
    assert len(written) == 6
    for path in written:
        assert mode(path) == file_mode, path
    assert mode(folder / "out") == folder_mode
    assert mode(array.parent) == folder_mode
    assert mode(staged) == folder_mode


def test_atomic_writes_follow_the_umask_even_when_the_writer_replaces_the_file(tmp_path):
    with umask(0o022):
        with atomic.atomic_path(tmp_path / "a.txt") as tmp:
            tmp.unlink()  # some writers remove the file and create a new one
            tmp.write_text("x")
        with atomic.atomic_paths([tmp_path / "b.txt", tmp_path / "c" / "d.txt"]) as tmps:
            for tmp in tmps:
                tmp.write_text("y")
    for name in ("a.txt", "b.txt", "c/d.txt"):
        assert mode(tmp_path / name) == 0o644


# -- leftovers ------------------------------------------------------------------------------


def dead_pid() -> int:
    """The id of a process that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def leftover(folder, name, pid, *, is_dir=False, host=None):
    """A file or folder named as sonotype names its temporaries, for process ``pid``."""
    tag = host or atomic._host_tag()
    path = folder / f".{name}.sonotype-{tag}-{pid}.abc123{'' if is_dir else '.tmp'}"
    if is_dir:
        (path / "checkpoints").mkdir(parents=True)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("half")
    return path


def test_stale_leftovers_are_cleaned_and_nothing_else(folder):
    models = folder / "artifacts" / "models"
    gone = leftover(models, "m", dead_pid(), is_dir=True)
    tmp = leftover(folder / "reports" / "x", "index.html", dead_pid())
    live = leftover(models, "n", os.getppid(), is_dir=True)  # a running process
    other_host = leftover(models, "o", dead_pid(), is_dir=True, host="00000000")
    users = models / ".m.ab12cd.tmp"  # not a sonotype name (an old or a user's file)
    users.write_text("mine")
    with Project.open(folder):
        pass
    assert not gone.exists() and not tmp.exists()
    assert live.exists() and other_host.exists() and users.exists()


def test_replace_folder_swaps_whole_folders(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "old.txt").write_text("old")
    new = atomic.staging_folder(tmp_path, "m")
    (new / "new.txt").write_text("new")
    atomic.replace_folder(new, tmp_path / "m")
    assert [p.name for p in tmp_path.iterdir()] == ["m"]
    assert [p.name for p in (tmp_path / "m").iterdir()] == ["new.txt"]
    # What a kill between the two renames would leave aside is a stale leftover.
    aside = tmp_path / f".m.sonotype-{atomic._host_tag()}-{dead_pid()}.old"
    aside.mkdir()
    assert atomic.clean_stale(tmp_path) == [aside]


def test_a_killed_exports_temporaries_are_removed_by_the_next_export(folder):
    notes(folder / "notes.csv", ["one.wav"], [0.1], [0.3])
    invoke("import", "notes.csv")
    stale = leftover(folder / "out", "one.Table.1.selections.txt", dead_pid())
    assert invoke("export", "-o", "out", "-f", "raven", "--kind", "annotated").exit_code == 0
    assert not stale.exists()
    assert [p.name for p in (folder / "out").iterdir()] == ["one.Table.1.selections.txt"]


def test_a_failed_export_leaves_no_folder(folder, monkeypatch):
    notes(folder / "notes.csv", ["one.wav", "two.wav"], [0.1, 0.2], [0.3, 0.4])
    invoke("import", "notes.csv")
    from sonotype.annotations.formats import FORMATS

    def broken(*args, **kwargs):
        raise AnnotationError("x", "cannot write")

    monkeypatch.setattr(type(FORMATS.get("raven")), "write", broken)
    with pytest.raises(AnnotationError):
        invoke("export", "-o", folder / "new" / "deeper", "-f", "raven")
    assert not (folder / "new").exists()


# -- events past the end of their recording -------------------------------------------------


def test_events_past_the_end_are_refused_naming_file_event_and_recording(folder):
    path = notes(folder / "late.csv", ["one.wav"] * 3, [0.1, 1.9, 2.5], [0.2, 2.4, 2.6])
    with pytest.raises(AnnotationError, match=r"late.csv: event 2 .*'one.wav' \(2 s long\)"):
        invoke("import", path)
    with Project.open(folder) as project:
        assert project.events().empty


def test_clip_shortens_or_drops_events_past_the_end(folder):
    path = notes(folder / "late.csv", ["one.wav"] * 3, [0.1, 1.9, 2.5], [0.2, 2.4, 2.6])
    result = invoke("import", path, "--clip")
    assert result.exit_code == 0, result.output
    assert "1 event shortened" in result.output and "1 event dropped" in result.output
    with Project.open(folder) as project:
        events = project.events()
    assert events["start_s"].tolist() == [0.1, 1.9]
    assert events["stop_s"].tolist() == pytest.approx([0.2, 2.0])


def test_an_event_ending_exactly_at_the_end_is_inside(folder):
    assert invoke("import", notes(folder / "n.csv", ["one.wav"], [1.5], [2.0])).exit_code == 0


# -- one-line errors instead of tracebacks --------------------------------------------------


def test_init_inside_a_file_or_with_a_file_as_audio_root(tmp_path):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "good.wav").write_bytes(b"RIFF")
    with pytest.raises(ParameterError, match="is a file"):
        invoke("init", tmp_path / "bad" / "good.wav")
    with pytest.raises(ParameterError, match=r"--audio .*good.wav is a file.*--audio"):
        invoke("init", tmp_path / "p", "--audio", tmp_path / "bad" / "good.wav")
    assert not (tmp_path / "p").exists()


def test_the_command_line_prints_system_errors_as_one_line(folder):
    notes(folder / "notes.csv", ["one.wav"], [0.1], [0.3])
    invoke("import", "notes.csv")
    (folder / "afile").write_text("x")
    result = subprocess.run(
        [sys.executable, "-m", "sonotype", "export", "-o", "afile/out.csv", "-f", "simple-csv"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ") and "afile" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_device_that_torch_lacks_is_a_parameter_error():
    torch = pytest.importorskip("torch")
    from sonotype.models.training import pick_device

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ParameterError, match=r"--device cuda is not available here.*cpu"):
        pick_device("cuda")
    with pytest.raises(ParameterError, match="--device tpu is not a device"):
        pick_device("tpu")


# -- undo -----------------------------------------------------------------------------------


def test_undo_refuses_more_edits_than_there_are(folder):
    for i in range(2):
        invoke("import", notes(folder / f"n{i}.csv", ["one.wav"], [0.1], [0.2]))
    with pytest.raises(ParameterError, match=r"only 2 edits are left.*sonotype undo 2"):
        invoke("undo", "100")
    with Project.open(folder) as project:
        assert len(project.events()) == 2  # nothing undone
    result = runner.invoke(app, ["undo", "-1"])
    assert result.exit_code == 2
    assert "greater than or equal to 1" in result.output and "No such option" not in result.output
    assert invoke("undo", "2").exit_code == 0
    assert "nothing to undo" in invoke("undo").output


# -- import's options, messages and progress ------------------------------------------------


def test_an_empty_kind_names_the_option(folder):
    path = notes(folder / "n.csv", ["one.wav"], [0.1], [0.2])
    with pytest.raises(ParameterError, match="--kind '' is empty") as caught:
        invoke("import", path, "--kind", "")
    assert "row" not in str(caught.value)


def test_counts_read_as_english(folder):
    result = invoke("import", notes(folder / "n.csv", ["one.wav"], [0.1], [0.2]))
    assert "imported 1 event from 1 file (edit 1)" in result.output
    (folder / "audio" / "sub" / "two.wav").unlink()
    assert "1 recording indexed" in invoke("scan").output


def test_import_reports_progress_while_storing(folder, monkeypatch):
    monkeypatch.setattr(event_store, "_INSERT_BATCH", 3)
    n = 10
    path = notes(folder / "n.csv", ["one.wav"] * n, np.linspace(0, 1, n), np.linspace(0, 1, n))
    calls = []
    with Project.open(folder) as project:
        project.import_files([path], progress=lambda *call: calls.append(call))
    stage = "importing file 1 of 1, events stored"
    assert calls == [(stage, k, None) for k in (3, 6, 9, 10)]


def test_progress_writes_lines_to_a_log(monkeypatch, capsys):
    monkeypatch.setattr(console, "LOG_INTERVAL_S", 0.02)
    with console.progress("training", 4) as advance:
        advance(2)
        time.sleep(0.2)
    lines = capsys.readouterr().err.splitlines()
    assert lines and all(line.startswith("training: 2/4 (50%), 0:00 elapsed") for line in lines)


def test_progress_estimates_the_time_left_from_the_current_stage(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(console, "time", type("Clock", (), {"monotonic": lambda: now[0]}))
    advance = console.Advance("reading", 1)
    now[0] = 100.0
    advance.set(0, 1000, description="storing")
    now[0] = 110.0
    advance.set(500)
    assert advance.line() == "storing: 500/1,000 (50%), 1:50 elapsed, about 0:10 left"


def test_quick_work_logs_nothing(capsys):
    with console.progress("training", 4) as advance:
        advance(4)
    assert capsys.readouterr().err == ""


# -- exit codes -----------------------------------------------------------------------------


def test_scan_with_unreadable_files_is_a_partial_success(folder):
    (folder / "audio" / "broken.wav").write_text("not audio")
    result = invoke("scan")
    assert result.exit_code == 3
    assert "2 recordings indexed" in result.output
    assert "unreadable" in result.output and "broken.wav" in result.output


def test_import_of_several_files_still_one_edit(folder):
    paths = [notes(folder / f"n{i}.csv", ["one.wav"], [0.1 * i], [0.1 * i + 0.05]) for i in (1, 2)]
    assert "from 2 files" in invoke("import", *paths).output
    with Project.open(folder) as project:
        assert len(project.edit_log()) == 1
        events = project.events()
    assert len(concat_events([events])) == 2
