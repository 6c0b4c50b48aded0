from __future__ import annotations

import pytest

from .project import make_project


@pytest.fixture
def project_dir(tmp_path):
    return make_project(tmp_path / "project")


@pytest.fixture
def client(project_dir):
    from fastapi.testclient import TestClient

    from sonotype.app import create_app

    with TestClient(create_app(project_dir), base_url="http://127.0.0.1") as c:
        yield c
