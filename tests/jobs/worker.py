"""Real job workers for tests: `flask jobs worker` processes on a database and queue of their
own, and a web app (test client) that submits to the same queue."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade

from resettle.audit.services import acting_as
from resettle.auth.models import Role
from resettle.auth.services import create_user
from resettle.extensions import db
from resettle.households.models import Stage
from tests.conftest import make_test_app
from tests.dbs import fresh_database
from tests.sites import add_site
from tests.supervision import add_household, add_plan, add_project

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Worker-Test-Pass-9"


def stop_processes(processes: list[subprocess.Popen], timeout: float = 30) -> None:
    """Stop processes started in sessions of their own as a service manager would: SIGTERM
    (a worker finishes its job), then SIGKILL after `timeout`."""
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    processes.clear()


@dataclass
class JobWorld:
    """A database with two projects and appraised households, a queue, and its workers."""

    app: Flask
    database_url: str
    queue_url: str
    files_dir: Path
    household_ids: list[int]
    other_household_ids: list[int]
    signed_case: str
    workers: list[subprocess.Popen] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    def start_worker(self, *extra: str, stale_seconds: int = 60) -> subprocess.Popen:
        env = {
            **os.environ,
            "FLASK_APP": "wsgi",
            "RESETTLE_ENV": "development",
            "DATABASE_URL": self.database_url,
            "SECRET_KEY": "worker-test-secret",
            "JOBS_QUEUE_URL": self.queue_url,
            "JOB_FILES_DIR": str(self.files_dir),
            "JOB_STALE_SECONDS": str(stale_seconds),
            "RENDER_PROCESSES": "2",
        }
        env.pop("TEST_DATABASE_URL", None)
        log = self.files_dir.parent / f"worker-{len(self.logs)}.log"
        self.logs.append(log)
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "jobs", "worker", *extra],
            cwd=ROOT,
            env=env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.workers.append(process)
        return process

    def stop_workers(self) -> None:
        stop_processes(self.workers)

    def client(self, username: str) -> FlaskClient:
        client = self.app.test_client()
        response = client.post("/login", data={"username": username, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    def worker_log(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in self.logs if p.exists())


def wait_for(client: FlaskClient, location: str, timeout: float = 120) -> list[dict[str, Any]]:
    """Poll a job's JSON until it has finished; every answer seen, in order."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        asked = time.monotonic()
        status = client.get(location, headers={"Accept": "application/json"}).json
        status["_asked"] = round(asked, 2)
        status["_took"] = round(time.monotonic() - asked, 2)
        seen.append(status)
        if status["state"] in ("done", "failed"):
            return seen
        time.sleep(0.05)
    raise AssertionError(
        f"the job did not finish in {timeout} s: last {seen[-1] if seen else None}"
    )


def make_world(tmp: Path, households: int = 60) -> JobWorld:
    database_url = fresh_database("jobs", tmp)
    queue_url = f"sqlite:///{tmp / 'queue.sqlite3'}"
    files = tmp / "files"
    files.mkdir()
    app = make_test_app(
        database_url,
        JOBS_IMMEDIATE=False,
        JOBS_QUEUE_URL=queue_url,
        JOB_FILES_DIR=str(files),
    )
    today = date.today()
    with app.app_context():
        upgrade()
        with acting_as("jobs-test"):
            site, _building = add_site(db.session, floors=2)
            dates = {
                "decision_date": today - timedelta(days=30),
                "signing_start": today - timedelta(days=20),
                "signing_end": today + timedelta(days=120),
            }
            project = add_project(db.session, site_id=site.id, **dates)
            other = add_project(db.session, site_id=site.id, **dates)
            for each in (project, other):
                add_plan(
                    db.session,
                    project=each,
                    nodes=[
                        {"name": "签约", "stage": Stage.SIGNED, "deadline": today + timedelta(60)},
                        {
                            "name": "腾空交房",
                            "stage": Stage.VACATED,
                            "deadline": today + timedelta(120),
                        },
                    ],
                )
            ids = [
                add_household(db.session, project, stage=Stage.APPRAISED).id
                for _ in range(households)
            ]
            others = [add_household(db.session, other, stage=Stage.APPRAISED).id for _ in range(3)]
            signed = add_household(db.session, project, stage=Stage.SIGNED)
            create_user(
                db.session,
                "jobs.all",
                "全片经办",
                Role.CASEWORKER,
                PASSWORD,
                must_change=False,
                all_projects=True,
            )
            create_user(
                db.session,
                "jobs.other",
                "他片经办",
                Role.CASEWORKER,
                PASSWORD,
                must_change=False,
                project_ids=[other.id],
            )
            world = JobWorld(app, database_url, queue_url, files, ids, others, signed.case_number)
            world.project_id, world.other_project_id = project.id, other.id  # type: ignore[attr-defined]
            world.signed_id = signed.id  # type: ignore[attr-defined]
            db.session.commit()
        db.session.remove()
    return world
