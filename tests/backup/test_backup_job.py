"""A backup started from the admin page runs as a job: its outcome is the summary (where it was
written, size, SHA-256, that it was checked), never the file; other accounts cannot start it or
see it."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import sqlalchemy as sa

from resettle.auth.models import Role
from resettle.backup.services import verify_backup
from resettle.extensions import db
from resettle.jobs.models import Job, JobState


def _status(client, location):
    return client.get(location, headers={"Accept": "application/json"})


def test_an_admin_starts_a_backup_and_gets_its_summary(
    app, client, login_as, monkeypatch, tmp_path
):
    monkeypatch.setitem(app.config, "BACKUP_DIR", str(tmp_path))
    login_as(Role.ADMIN)
    page = client.get("/admin/backups").get_data(as_text=True)
    assert 'action="/admin/backups"' in page and app.config["BACKUP_DIR"] in page
    response = client.post("/admin/backups")
    assert response.status_code == 303 and "/jobs/" in response.location
    status = _status(client, response.location).json
    assert status["state"] == "done", status
    job = db.session.scalars(sa.select(Job).where(Job.kind == "backup")).one()
    assert job.project_id is None and job.file_path is None  # no download of the backup
    assert status["result"].endswith("/admin/backups")
    (written,) = Path(tmp_path).glob("*.backup")
    message = status["message"]
    assert str(written) in message
    assert f"{written.stat().st_size:,}" in message
    assert hashlib.sha256(written.read_bytes()).hexdigest() in message
    assert "flask backup verify" in message
    assert verify_backup(written).manifest["format"] == "resettle-backup"
    # the admin page lists it by name and size; nowhere is the file itself offered
    listing = client.get("/admin/backups").get_data(as_text=True)
    assert written.name in listing
    assert not re.search(r'href="[^"]*\.backup"', listing)
    assert client.get(f"{response.location}/file").status_code == 404


def test_a_backup_is_refused_to_other_roles_and_invisible_to_bounded_accounts(
    app, client, login_as, make_project, monkeypatch, tmp_path
):
    monkeypatch.setitem(app.config, "BACKUP_DIR", str(tmp_path))
    for role in (Role.CASEWORKER, Role.SUPERVISOR, Role.LEADER):
        login_as(role)
        assert client.get("/admin/backups").status_code == 403
        assert client.post("/admin/backups").status_code == 403
        client.post("/logout")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Job)) == 0
    login_as(Role.ADMIN)
    location = client.post("/admin/backups").location
    assert _status(client, location).json["state"] == JobState.DONE.value
    client.post("/logout")
    # an account bounded by projects does not see the job, even knowing its address
    login_as(Role.SUPERVISOR, projects=[make_project()])
    assert _status(client, location).status_code == 404
    job_id = location.rsplit("/", 1)[-1]
    assert job_id not in client.get("/jobs/").get_data(as_text=True)
    client.post("/logout")
    # nor does another admin: a job is its owner's
    login_as(Role.ADMIN)
    assert _status(client, location).status_code == 404
