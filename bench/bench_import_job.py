"""Benchmark: a large ledger's preview and confirmation through their background jobs (the
upload, the check job, the import job), timed from the request to the job's end.

Run from the repository root: ``python bench/bench_import_job.py [--rows N]`` (default 100,000;
IMPORT_MAX_ROWS is raised to match). Jobs run inside the request here (JOBS_IMMEDIATE), on a
new SQLite file: what a worker would spend, without a request's time limit.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import sqlalchemy as sa  # noqa: E402
from bench_import import build_ledger  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from resettle import create_app  # noqa: E402
from resettle.auth.models import Role  # noqa: E402
from resettle.auth.services import create_user  # noqa: E402
from resettle.extensions import db  # noqa: E402
from resettle.households.models import Household  # noqa: E402
from resettle.projects.models import ExpropriationProject  # noqa: E402

PASSWORD = "Quiet-Harbour-Lamp-9"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ledger = Path(tmp) / "ledger.xlsx"
        started = time.perf_counter()
        build_ledger(ledger, args.rows)
        print(
            f"ledger: {args.rows} rows + {args.rows // 2} members, built in "
            f"{time.perf_counter() - started:.1f} s"
        )
        app = create_app(
            {
                "TESTING": True,
                "WTF_CSRF_ENABLED": False,
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite3",
                "JOBS_IMMEDIATE": True,
                "JOB_FILES_DIR": f"{tmp}/files",
                "IMPORT_MAX_ROWS": args.rows + 100,
                "MAX_CONTENT_LENGTH": 200 * 1024 * 1024,
            }
        )
        with app.app_context():
            upgrade()
            project = ExpropriationProject(code="BJ", name="导入任务基准")
            db.session.add(project)
            create_user(
                db.session,
                "bench",
                "基准",
                Role.CASEWORKER,
                PASSWORD,
                must_change=False,
                all_projects=True,
            )
            db.session.commit()
            project_id = project.id
            db.session.remove()
        client = app.test_client()
        assert (
            client.post("/login", data={"username": "bench", "password": PASSWORD}).status_code
            == 302
        )
        started = time.perf_counter()
        with ledger.open("rb") as source:
            response = client.post(
                "/households/import",
                data={"project_id": str(project_id), "ledger": (source, "ledger.xlsx")},
                content_type="multipart/form-data",
            )
        status = client.get(
            response.headers["Location"], headers={"Accept": "application/json"}
        ).json
        preview = time.perf_counter() - started
        print(f"preview job: {preview:.1f} s, {status['state']}: {status['message']}")
        page = client.get(status["result"]).get_data(as_text=True)
        token = page.split('name="token" type="hidden" value="')[1].split('"')[0]
        started = time.perf_counter()
        response = client.post("/households/import/confirm", data={"token": token})
        status = client.get(
            response.headers["Location"], headers={"Accept": "application/json"}
        ).json
        confirm = time.perf_counter() - started
        print(f"confirm job: {confirm:.1f} s, {status['state']}: {status['message']}")
        with app.app_context():
            stored = db.session.scalar(sa.select(sa.func.count()).select_from(Household))
        print(f"households stored: {stored}")
        return 0 if stored == args.rows else 1


if __name__ == "__main__":
    raise SystemExit(main())
