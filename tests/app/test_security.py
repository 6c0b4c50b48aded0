"""The token off loopback, the Host check on loopback, and the path checks."""

from __future__ import annotations

import os

import pytest
from fastapi.testclient import TestClient

from sonotype.app import create_app
from sonotype.app.security import PathRefused, is_loopback, safe_path


def test_a_token_is_needed_on_every_request_audio_and_images_included(project_dir):
    app = create_app(project_dir, token="s3cret")
    with TestClient(app, base_url="http://192.0.2.1") as client:
        for url in ("/", "/api/recordings", "/api/recordings/1/audio.wav?stop_s=1",
                    "/api/recordings/1/spectrogram.png?stop_s=1", "/files/reports/x",
                    "/static/app.js", "/docs"):  # fmt: skip
            response = client.get(url)
            assert response.status_code == 401, url
            assert "token" in response.json()["detail"]
        assert client.get("/api/recordings?token=wrong").status_code == 401
        wrong = {"Authorization": "token x"}
        assert client.get("/api/recordings", headers=wrong).status_code == 401
        ok = client.get("/api/recordings?token=s3cret")
        assert ok.status_code == 200
        # The page's later requests (images, audio) carry the cookie the first one set.
        assert client.get("/api/recordings/1/spectrogram.png?stop_s=1").status_code == 200
    with TestClient(app, base_url="http://192.0.2.1") as other:
        headers = {"Authorization": "token s3cret"}
        assert other.get("/api/recordings/1/audio.wav?stop_s=1", headers=headers).status_code == 200


def test_on_loopback_a_foreign_host_name_is_refused(project_dir):
    app = create_app(project_dir)
    with TestClient(app, base_url="http://evil.example") as client:
        assert client.get("/api/recordings").status_code == 403
    with TestClient(app, base_url="http://localhost:5006") as client:
        assert client.get("/api/recordings").status_code == 200


def test_is_loopback():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.2")


def test_serve_makes_a_token_off_loopback(project_dir, monkeypatch):
    from sonotype.app import serve, server

    seen = {}
    monkeypatch.setattr(server, "run_server", lambda app, **kw: seen.update(app=app, **kw))
    serve(project_dir, host="0.0.0.0", port=5999, announce=lambda url: seen.update(url=url))
    token = seen["app"].state.sonotype.token
    assert token and len(token) > 30
    assert seen["url"] == f"http://127.0.0.1:5999/?token={token}"
    serve(project_dir, host="127.0.0.1", port=5999, announce=lambda url: seen.update(url=url))
    assert seen["app"].state.sonotype.token is None
    assert seen["url"] == "http://127.0.0.1:5999/"


def test_files_serves_reports_artifacts_and_audio(client, project_dir):
    (project_dir / "reports" / "r.html").write_text("<p>hi</p>")
    assert client.get("/files/reports/r.html").text == "<p>hi</p>"
    assert client.get("/files/artifacts/embeddings/syllables/info.json").json()["n"] > 0
    assert client.get("/files/audio/0/song_1.wav").content[:4] == b"RIFF"
    assert client.get("/files/reports/missing.html").status_code == 404
    assert client.get("/files/audio/3/song_1.wav").status_code == 403


def test_other_paths_are_refused(client, project_dir):
    (project_dir / "sonotype.toml").read_text()
    # The project's own files are not served: the database, the config.
    assert client.get("/files/reports/../sonotype.db").status_code in (403, 404)
    assert client.get("/files/sonotype.toml").status_code == 404


def test_dot_dot_is_refused(client):
    response = client.get("/files/reports/a/%2E%2E/%2E%2E/sonotype.toml")
    assert response.status_code == 403
    assert "'..'" in response.json()["detail"]


def test_absolute_paths_are_refused(client, project_dir):
    response = client.get(f"/files/reports/{project_dir / 'sonotype.toml'}")
    assert response.status_code == 403, response.text
    response = client.get("/files/reports//etc/passwd")
    assert response.status_code == 403
    assert "absolute" in response.json()["detail"]


@pytest.mark.skipif(os.name != "posix", reason="symbolic links")
def test_symlink_escapes_are_refused(client, project_dir, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    (project_dir / "reports" / "link.txt").symlink_to(secret)
    (project_dir / "reports" / "dir").symlink_to(tmp_path)
    for url in ("/files/reports/link.txt", "/files/reports/dir/secret.txt"):
        response = client.get(url)
        assert response.status_code == 403
        assert "symbolic link" in response.json()["detail"]
    # A link that stays inside is fine.
    (project_dir / "reports" / "inside.txt").write_text("ok")
    (project_dir / "reports" / "alias.txt").symlink_to(project_dir / "reports" / "inside.txt")
    assert client.get("/files/reports/alias.txt").text == "ok"


@pytest.mark.parametrize(
    ("path", "why"),
    [("", "empty"), ("/etc/passwd", "absolute"), ("C:/x", "absolute"), ("a/../../b", "'..'"),
     ("a\\..\\b", "'..'"), ("a\x00b", "NUL")],
)  # fmt: skip
def test_safe_path_refusals(tmp_path, path, why):
    with pytest.raises(PathRefused, match=why):
        safe_path(tmp_path, path)


def test_the_database_and_config_are_not_served_even_from_an_audio_root(project_dir):
    from sonotype.store.config import CONFIG_NAME

    config = project_dir / CONFIG_NAME
    config.write_text(config.read_text().replace('roots = ["audio"]', 'roots = ["audio", "."]'))
    with TestClient(create_app(project_dir), base_url="http://127.0.0.1") as client:
        for name in ("sonotype.db", "sonotype.toml", "sonotype.db-wal"):
            response = client.get(f"/files/audio/1/{name}")
            assert response.status_code == 403, name
        assert client.get("/files/audio/1/audio/song_1.wav").status_code == 200
