"""Long work under the production web server: gunicorn with two sync workers and its default
30 s timeout, one `flask jobs worker`, a notice batch and overdue PDFs requested at once while
someone keeps reading the household list. Used by tests/jobs/test_gunicorn.py and, at full
size by hand, by bench/bench_jobs_load.py."""

from __future__ import annotations

import html
import http.cookiejar
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask_migrate import upgrade

from resettle.audit.services import acting_as
from resettle.auth.models import Role
from resettle.auth.services import create_user
from resettle.extensions import db
from resettle.households.models import CaseStep, Household, Stage
from tests.conftest import make_test_app
from tests.dbs import fresh_database
from tests.jobs.worker import stop_processes
from tests.sites import add_site, id_number
from tests.supervision import add_plan, add_project

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Gunicorn-Load-Pass-9"
USERNAME = "load.caseworker"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class LoadWorld:
    database_url: str
    folder: Path
    project_id: int
    household_ids: list[int]
    processes: list[subprocess.Popen] = field(default_factory=list)
    base_url: str = ""

    def env(self) -> dict[str, str]:
        env = {
            **os.environ,
            "FLASK_APP": "wsgi",
            "RESETTLE_ENV": "development",
            "DATABASE_URL": self.database_url,
            "SECRET_KEY": "load-test-secret",
            "JOBS_QUEUE_URL": f"sqlite:///{self.folder / 'queue.sqlite3'}",
            "JOB_FILES_DIR": str(self.folder / "files"),
        }
        env.pop("TEST_DATABASE_URL", None)
        return env

    def start(self) -> None:
        """gunicorn as the README says production runs, and one job worker."""
        port = free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        logs = self.folder / "logs"
        logs.mkdir(exist_ok=True)
        for name, command in (
            (
                "gunicorn",
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "-w",
                    "2",
                    "-k",
                    "sync",
                    "-b",
                    f"127.0.0.1:{port}",
                    "wsgi:app",
                ],
            ),
            ("worker", [sys.executable, "-m", "flask", "jobs", "worker"]),
        ):
            self.processes.append(
                subprocess.Popen(
                    command,
                    cwd=ROOT,
                    env=self.env(),
                    stdout=(logs / f"{name}.log").open("wb"),
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.base_url + "/login", timeout=2).read()
                return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.3)
        raise AssertionError("gunicorn did not answer within 60 s")

    def stop(self) -> None:
        stop_processes(self.processes)

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-4000:]}"
            for p in sorted((self.folder / "logs").glob("*.log"))
        )


def make_load_world(folder: Path, households: int) -> LoadWorld:
    """One project whose signing deadline has passed: every appraised household is on the
    overdue list, and each may still get a signing reminder asking for a later date."""
    (folder / "files").mkdir(parents=True, exist_ok=True)
    database_url = fresh_database("jobs_load", folder)
    app = make_test_app(database_url)
    today = date.today()
    with app.app_context():
        upgrade()
        with acting_as("load-test"):
            site, _building = add_site(db.session, floors=2)
            project = add_project(
                db.session,
                site_id=site.id,
                decision_date=today - timedelta(days=120),
                signing_start=today - timedelta(days=100),
                signing_end=today + timedelta(days=200),
            )
            add_plan(
                db.session,
                project=project,
                nodes=[
                    {"name": "签约", "stage": Stage.SIGNED, "deadline": today - timedelta(40)},
                    {"name": "腾空交房", "stage": Stage.VACATED, "deadline": today + timedelta(90)},
                ],
            )
            rows = []
            for n in range(households):
                household = Household(
                    project=project,
                    case_number=f"{project.code}-{n + 1:05d}",
                    head_name=f"李{'一二三四五六七八九十'[n % 10]}{'明华强'[n % 3]}",
                    head_id_number=id_number(n + 9000),
                    house_address=f"东城区解放路{n + 1}号",
                    legal_area=Decimal("85.32"),
                    stage=Stage.APPRAISED,
                )
                for stage in (Stage.SURVEYED, Stage.APPRAISED):
                    household.steps.append(
                        CaseStep(stage=stage, actual_date=today - timedelta(days=60))
                    )
                rows.append(household)
            db.session.add_all(rows)
            db.session.flush()
            create_user(
                db.session,
                USERNAME,
                "压测经办",
                Role.CASEWORKER,
                PASSWORD,
                must_change=False,
                all_projects=True,
            )
            world = LoadWorld(database_url, folder, project.id, [h.id for h in rows])
            db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return world


class Browser:
    """A person's browser: cookies, and the CSRF token of the page it read last."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.jar = http.cookiejar.CookieJar()

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: Any, **kwargs: Any) -> None:
                return None

        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect
        )

    def request(
        self, path: str, data: list[tuple[str, Any]] | None = None, accept: str = "text/html"
    ) -> tuple[int, dict[str, str], bytes]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(
            self.base_url + path, data=body, headers={"Accept": accept}
        )
        try:
            with self.opener.open(request, timeout=120) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def csrf(self, path: str) -> str:
        _status, _headers, body = self.request(path)
        match = re.search(rb'name="csrf_token" value="([^"]+)"', body)
        assert match, body[:500]
        return html.unescape(match.group(1).decode())

    def log_in(self) -> None:
        token = self.csrf("/login")
        status, headers, body = self.request(
            "/login", [("csrf_token", token), ("username", USERNAME), ("password", PASSWORD)]
        )
        assert status == 302, (status, body[:500])

    def job(self, location: str) -> dict[str, Any]:
        path = urllib.parse.urlsplit(location).path
        status, _headers, body = self.request(path, accept="application/json")
        assert status == 200, (status, body[:300])
        return json.loads(body)


@dataclass
class LoadResult:
    submit_seconds: dict[str, float]
    finished: dict[str, dict[str, Any]]
    job_seconds: dict[str, float]
    list_latencies: list[float]
    list_errors: list[int]
    total_seconds: float

    def summary(self) -> str:
        lat = sorted(self.list_latencies)
        median = lat[len(lat) // 2] if lat else float("nan")
        p95 = lat[int(len(lat) * 0.95)] if lat else float("nan")
        jobs = ", ".join(f"{k} {v:.1f} s" for k, v in self.job_seconds.items())
        return (
            f"all four jobs finished in {self.total_seconds:.1f} s ({jobs}); answers to the "
            f"requests that started them: max {max(self.submit_seconds.values()):.2f} s; "
            f"household list meanwhile: {len(lat)} loads, median {median * 1000:.0f} ms, "
            f"95th percentile {p95 * 1000:.0f} ms, max {max(lat) * 1000:.0f} ms, "
            f"errors {len(self.list_errors)}"
        )


def run_load(world: LoadWorld, notices: int, overdue_pdfs: int = 3) -> LoadResult:
    """Start the batch and the PDFs at once through the web; read the household list until
    every job has finished."""
    deadline_day = (date.today() + timedelta(days=30)).isoformat()
    submit: dict[str, float] = {}
    locations: dict[str, str] = {}
    errors: list[str] = []

    def start_batch() -> None:
        browser = Browser(world.base_url)
        browser.log_in()
        token = browser.csrf(f"/notices/batch?project={world.project_id}&type=signing")
        data = [
            ("csrf_token", token),
            ("project", world.project_id),
            ("type", "signing"),
            ("deadline", deadline_day),
            *(("household", h) for h in world.household_ids[:notices]),
        ]
        started = time.perf_counter()
        status, headers, body = browser.request("/notices/batch", data)
        submit["batch"] = time.perf_counter() - started
        if status != 303:
            errors.append(f"batch: {status} {body[:300]!r}")
            return
        locations["batch"] = headers["Location"]

    def start_pdf(n: int) -> None:
        browser = Browser(world.base_url)
        browser.log_in()
        token = browser.csrf(f"/supervision/overdue?project={world.project_id}")
        started = time.perf_counter()
        status, headers, body = browser.request(
            "/supervision/overdue.pdf", [("csrf_token", token), ("project", world.project_id)]
        )
        submit[f"overdue PDF {n}"] = time.perf_counter() - started
        if status != 303:
            errors.append(f"overdue PDF {n}: {status} {body[:300]!r}")
            return
        locations[f"overdue PDF {n}"] = headers["Location"]

    reader = Browser(world.base_url)
    reader.log_in()
    watcher = Browser(world.base_url)
    watcher.log_in()
    began = time.perf_counter()
    starters = [threading.Thread(target=start_batch)] + [
        threading.Thread(target=start_pdf, args=(n,)) for n in range(1, overdue_pdfs + 1)
    ]
    for thread in starters:
        thread.start()
    latencies: list[float] = []
    list_errors: list[int] = []
    finished: dict[str, dict[str, Any]] = {}
    job_seconds: dict[str, float] = {}
    while time.perf_counter() - began < 900:
        started = time.perf_counter()
        status, _headers, _body = reader.request(f"/households/?project={world.project_id}")
        latencies.append(time.perf_counter() - started)
        if status != 200:
            list_errors.append(status)
        if all(not t.is_alive() for t in starters):
            if errors:
                raise AssertionError(errors)
            for name, location in locations.items():
                if name not in finished:
                    status_json = watcher.job(location)
                    if status_json["state"] in ("done", "failed"):
                        finished[name] = status_json
                        job_seconds[name] = time.perf_counter() - began
            if len(finished) == len(starters):
                break
        time.sleep(0.2)
    return LoadResult(
        submit, finished, job_seconds, latencies, list_errors, time.perf_counter() - began
    )
