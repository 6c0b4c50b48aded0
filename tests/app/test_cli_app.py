"""``sonotype app``: finds the project, prints the URL (with a token off loopback), serves."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.request

import pytest
from typer.testing import CliRunner

from sonotype.app import server
from sonotype.cli.main import app

runner = CliRunner()


def test_app_serves_the_project_and_prints_its_url(project_dir, monkeypatch):
    served = {}
    monkeypatch.setattr(server, "run_server", lambda asgi, **kw: served.update(kw, app=asgi))
    result = runner.invoke(app, ["app", "-p", str(project_dir / "audio"), "--port", "5077"])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:5077/" in result.output
    assert served["host"] == "127.0.0.1" and served["port"] == 5077
    assert served["app"].state.sonotype.folder == project_dir.resolve()
    result = runner.invoke(app, ["app", "-p", str(project_dir), "--host", "0.0.0.0"])
    token = served["app"].state.sonotype.token
    assert f"?token={token}" in result.output.replace("\n", "")


def test_app_refuses_a_bad_port(project_dir, monkeypatch):
    from sonotype.cli.main import cli_message
    from sonotype.errors import ParameterError

    monkeypatch.setattr(server, "run_server", lambda *a, **k: None)
    result = runner.invoke(app, ["app", "-p", str(project_dir), "--port", "70000"])
    assert isinstance(result.exception, ParameterError)
    message = cli_message(result.exception, ["app", "--port", "70000"])
    assert message.startswith("--port 70000 must be between 1 and 65535")


@pytest.mark.slow
def test_sigterm_stops_the_app_promptly_with_a_page_listening(project_dir):
    """An open change stream does not hold the server up; stopping is a normal end."""
    from .browser.conftest import free_port

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "sonotype", "app", "-p", str(project_dir), "--port", str(port)],
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/api/"
    for _ in range(300):
        try:
            urllib.request.urlopen(url + "recordings", timeout=2)
            break
        except OSError:
            time.sleep(0.1)
    stream = urllib.request.urlopen(url + "changes")
    assert stream.readline().startswith(b"event: hello")
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=20)
    assert process.returncode == 0, stderr.decode()
    assert "sonotype app stopped" in stderr.decode()
