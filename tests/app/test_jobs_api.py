"""Runs and jobs through the API: start a command, follow it, read its log, cancel it."""

from __future__ import annotations

import time

import pytest


def wait(client, job_id, *, until, timeout_s=120):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}").json()
        if until(job):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not get there: {job}")


@pytest.mark.slow
def test_a_detect_job_runs_records_its_run_and_logs(client, project_dir):
    response = client.post("/api/jobs", json={"command": "detect", "args": ["--source", "job"]})
    assert response.status_code == 201, response.text
    job = wait(client, response.json()["id"], until=lambda j: not j["running"])
    assert job["exit_code"] == 0, client.get(f"/api/jobs/{job['id']}/log").text
    assert job["run_status"] == "ok" and job["steps"]["computed"] >= 1
    runs = client.get("/api/runs").json()
    assert runs[0]["id"] == job["run_id"] and runs[0]["command"] == "detect"
    assert "detected" in client.get(f"/api/jobs/{job['id']}/log").text
    assert any(s["source"] == "job" for s in client.get("/api/sources").json())
    assert client.get("/api/jobs").json()[0]["id"] == job["id"]
    assert client.post(f"/api/jobs/{job['id']}/cancel").status_code == 400


@pytest.mark.slow
def test_cancel_a_running_job(client, project_dir):
    # Discovery compiles its UMAP kernels first (tens of seconds): it is still running when
    # its run is recorded and the cancel comes.
    body = {"command": "discover", "args": []}
    job_id = client.post("/api/jobs", json=body).json()["id"]
    job = wait(client, job_id, until=lambda j: j["run_id"] is not None or not j["running"])
    assert job["running"], client.get(f"/api/jobs/{job_id}/log").text
    cancelled = client.post(f"/api/jobs/{job_id}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    job = wait(client, job_id, until=lambda j: not j["running"])
    assert job["exit_code"] == 130, client.get(f"/api/jobs/{job_id}/log").text
    assert job["run_status"] == "cancelled"
    assert "cancelled" in client.get(f"/api/jobs/{job_id}/log").text


def test_jobs_refuse_what_they_cannot_run(client):
    bad = client.post("/api/jobs", json={"command": "rm", "args": []})
    assert bad.status_code == 400 and "detect" in bad.json()["detail"]
    bad = client.post("/api/jobs", json={"command": "detect", "args": ["-p", "/tmp"]})
    assert bad.status_code == 400 and "set by the app" in bad.json()["detail"]
    assert client.get("/api/jobs/77").status_code == 404
    assert client.get("/api/jobs/77/log").status_code == 404
    assert client.post("/api/runs/999/cancel").status_code == 404
    assert client.get("/api/runs").status_code == 200


def test_cancelling_a_run_that_has_ended_is_a_conflict(client, project_dir):
    from sonotype.store.project import Project

    with Project(project_dir) as project, project.run("test", {}) as outcome:
        run_id = outcome.id
    runs = client.get("/api/runs").json()
    assert runs[0]["id"] == run_id and runs[0]["status"] == "ok"
    response = client.post(f"/api/runs/{run_id}/cancel")
    assert response.status_code == 409 and "not running" in response.json()["detail"]
