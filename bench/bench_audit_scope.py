"""Benchmark: what the project scope costs the audit list (/audit/) at 100,000 households.

Every household and case step gets its insert event (300,000 audit rows, as an import writes
them). Three supervisors read the list: one who sees every project (no scope), one bounded to
one project of two (its events are every other row: the first page is found at once), and one
bounded to a project with no records yet (the worst case: the whole table is read to find that
nothing but its own login is visible). On SQLite and, with BENCH_DATABASE_URL, PostgreSQL.
Run from the repo root: `python bench/bench_audit_scope.py`.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from bench._data import PASSWORD, audit_rows, fill, on_each_database  # noqa: E402
from resettle import create_app  # noqa: E402
from resettle.auth.models import User, UserProject  # noqa: E402
from resettle.extensions import db  # noqa: E402
from resettle.households.models import Household  # noqa: E402
from resettle.projects.models import ExpropriationProject  # noqa: E402

HOUSEHOLDS = int(os.environ.get("BENCH_HOUSEHOLDS", "100000"))
RUNS = int(os.environ.get("BENCH_RUNS", "7"))


def _p50(client, path: str) -> float:  # noqa: ANN001
    client.get(path)
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return statistics.median(times)


def _client(app, username: str):  # noqa: ANN001, ANN202
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    return client


def _supervisor(conn: sa.Connection, name: str, project_id: int | None, hash_: str) -> None:
    conn.execute(
        sa.insert(User),
        [
            {
                "username": name,
                "full_name": name,
                "role": "supervisor",
                "password_hash": hash_,
                "active": True,
                "is_demo": False,
                "failed_logins": 0,
                "all_projects": project_id is None,
            }
        ],
    )
    if project_id is not None:
        user_id = conn.scalar(sa.select(User.id).where(User.username == name))
        conn.execute(sa.insert(UserProject), [{"user_id": user_id, "project_id": project_id}])


def measure(url: str, label: str) -> bool:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        with db.engine.begin() as conn:
            fill(conn, HOUSEHOLDS)
            events = audit_rows(conn)
            conn.execute(
                sa.insert(ExpropriationProject),
                [
                    {
                        "code": "EMPTY",
                        "name": "空项目",
                        "version_id": 1,
                        "transition_months": 24,
                        "remind_workdays": 5,
                        "supervise_workdays": 10,
                    }
                ],
            )
            first = conn.scalar(sa.select(sa.func.min(ExpropriationProject.id)))
            empty = conn.scalar(
                sa.select(ExpropriationProject.id).where(ExpropriationProject.code == "EMPTY")
            )
            hash_ = conn.scalar(sa.select(User.password_hash).where(User.username == "cw1"))
            _supervisor(conn, "office", None, hash_)
            _supervisor(conn, "bounded", first, hash_)
            _supervisor(conn, "empty", empty, hash_)
            household = conn.scalar(
                sa.select(sa.func.max(Household.id)).where(Household.project_id == first)
            )
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
        db.session.remove()
    clients = {name: _client(app, name) for name in ("office", "bounded", "empty")}
    paths = {
        "first page": "/audit/",
        "page 100": "/audit/?page=100",
        "households": "/audit/?entity_type=Household",
        "one record": f"/audit/Household/{household}",
    }
    print(f"{label}: /audit/ p50, {events:,} audit rows, {HOUSEHOLDS:,} households, {RUNS} runs")
    print(f"  {'page':<12} {'every project':>14} {'one of two':>12} {'empty project':>14}")
    for name, path in paths.items():
        times = []
        for who in ("office", "bounded", "empty"):
            if who == "empty" and name == "one record":
                times.append(float("nan"))
                continue
            times.append(_p50(clients[who], path))
        print(f"  {name:<12} {times[0]:11.1f} ms {times[1]:9.1f} ms {times[2]:11.1f} ms")
    with app.app_context():
        db.engine.dispose()
    return True


def main() -> int:
    return on_each_database(measure, "bench_audit_scope")


if __name__ == "__main__":
    sys.exit(main())
