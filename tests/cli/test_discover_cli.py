"""``sonotype discover`` and its stages: the spectrogram options reach the pipeline."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from sonotype.audio import write_audio
from sonotype.cli.main import app
from sonotype.errors import ParameterError
from sonotype.store import Project
from sonotype.synth import birdsong, syllable_types

runner = CliRunner()
SR = 16000


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    folder = tmp_path_factory.mktemp("discover-cli")
    rng = np.random.default_rng(2)
    y, events = birdsong(
        12.0, sr=SR, types=syllable_types(3, sr=SR, rng=rng), recording="song.wav", random_state=rng
    )
    write_audio(folder / "audio" / "song.wav", y, SR)
    with Project.init(folder) as p:
        p.scan()
        p.add_events(events, command="test", description="truth")
    return folder


def test_spectrogram_options_reach_the_spectrograms(project, monkeypatch):
    import sonotype.features as features

    seen = []
    original = features.syllable_spectrograms
    monkeypatch.setattr(
        features,
        "syllable_spectrograms",
        lambda *a, params, **k: seen.append(params) or original(*a, params=params, **k),
    )
    result = invoke(
        "embed", "-p", project, "--time-mode", "stretch", "--n-freq", "16", "--n-time", "12",
        "--freq-scale", "mel", "--freq-range-hz", "400,20000", "--n-components", "4",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (params,) = seen
    assert (params.time_mode, params.n_freq, params.n_time) == ("stretch", 16, 12)
    assert (params.freq_scale, params.freq_range_hz) == ("mel", (400.0, 8000.0))
    assert "lowered to 8000 Hz" in result.output
    assert "spectrograms: 16 x 12" in result.output
    assert "embedding: 4 dimensions" in result.output


def test_an_option_replaces_the_grid_files_values(project, tmp_path):
    (tmp_path / "g.toml").write_text('time_mode = ["pad", "stretch"]\nn_freq = [8, 16]\n')
    result = invoke(
        "features", "-p", project, "--grid", tmp_path / "g.toml", "--n-freq", "8", "--n-time", "8"
    )
    assert result.exit_code == 0, result.output
    assert "2 spectrogram settings" in result.output
    assert "pad 8x8 linear 0-8000Hz" in result.output
    assert "stretch 8x8 linear 0-8000Hz" in result.output


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("--time-mode", "strech", "--time-mode='strech' must be one of 'pad', 'stretch'"),
        ("--n-freq", "1", r"--n-freq=1 must be a whole number >= 2"),
        ("--freq-range-hz", "500", r"--freq-range-hz='500' must be \(low, high\) in Hz"),
        ("--freq-range-hz", "9000,12000", r"lies above the Nyquist frequency 8000 Hz"),
        ("--n-components", "0", r"--n-components=0 must be a whole number >= 1"),
    ],
)
def test_bad_options_name_the_option(project, option, value, message):
    with pytest.raises(ParameterError, match=message):
        invoke("features", "-p", project, option, value)


def test_bad_name_names_the_option(project):
    with pytest.raises(ParameterError, match=r"--name='a b' must start with a letter or digit"):
        invoke("discover", "-p", project, "--name", "a b")


@pytest.mark.slow
def test_named_runs_write_their_own_catalog_and_events(project):
    small = ["--grid", "small", "--n-freq", "8", "--n-time", "8"]
    first = invoke("discover", "-p", project, "--name", "first", *small)
    assert first.exit_code == 0, first.output
    assert "reports/discover/first/index.html" in first.output.replace("\n", "")
    second = invoke("discover", "-p", project, "--name", "second", *small, "--seed", "1")
    assert second.exit_code == 0, second.output
    with Project.open(project) as p:
        for name in ("first", "second"):
            assert (p.reports_dir / "discover" / name / "index.html").is_file()
        assert set(p.events(kinds=["clustered"])["source"]) >= {"first", "second"}
        runs = [r for r in p.runs() if r["command"] == "discover"]
        assert [r["name"] for r in runs[:2]] == ["second", "first"]
        # Again with nothing changed: every stage is found, none computed.
        again = invoke("discover", "-p", project, "--name", "first", *small)
        assert again.exit_code == 0, again.output
        latest = p.runs()[0]["id"]
        assert p.run_steps(latest, status="computed") == []
        assert len(p.run_steps(latest, status="cached")) == 8


@pytest.mark.slow
def test_a_corrupt_recording_is_reported_and_the_exit_status_says_partial(tmp_path):
    rng = np.random.default_rng(3)
    types = syllable_types(3, sr=SR, rng=rng)
    tables = []
    for name in ("a.wav", "b.wav"):
        y, events = birdsong(20.0, sr=SR, types=types, recording=name, random_state=rng)
        write_audio(tmp_path / "audio" / name, y, SR)
        tables.append(events)
    with Project.init(tmp_path) as p:
        p.scan()
        for events in tables:
            p.add_events(events, command="test", description="truth")
    broken = tmp_path / "audio" / "b.wav"
    broken.write_bytes(broken.read_bytes()[:200])  # truncated after the scan
    result = invoke("discover", "-p", tmp_path, "--n-freq", "8", "--n-time", "8")
    assert result.exit_code == 3, result.output
    assert "failed: b.wav" in result.output
    assert "left out 1 recording that failed" in result.output
    with Project.open(tmp_path) as p:
        (run,) = p.runs()[:1]
        assert run["status"] == "partial" and "b.wav" in run["error"]
        assert set(p.events(kinds=["clustered"])["recording"]) == {"a.wav"}
