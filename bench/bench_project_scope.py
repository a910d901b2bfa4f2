"""Benchmark: what the project scope (片区) costs the household list at 100,000 households.

The same pages through the Flask test client, as an account that sees every project (no
scope: the statements are those from before the scope) and as one bounded by one project of
two (every statement gets the scope's loader criteria), on SQLite and, when
BENCH_DATABASE_URL is set, on PostgreSQL. The bounded account's pages are compared with the
same project filtered by hand (`?project=1`) by the unbounded one: the same rows.
Run from the repo root: `python bench/bench_project_scope.py`.
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

from bench._data import PASSWORD, fill, on_each_database  # noqa: E402
from resettle import create_app  # noqa: E402
from resettle.auth.models import User, UserProject  # noqa: E402
from resettle.extensions import db  # noqa: E402
from resettle.projects.models import ExpropriationProject  # noqa: E402

HOUSEHOLDS = int(os.environ.get("BENCH_HOUSEHOLDS", "100000"))
TARGET_MS = 200.0
RUNS = int(os.environ.get("BENCH_RUNS", "11"))


def _p50(client, path: str) -> float:  # noqa: ANN001
    times = []
    client.get(path)  # warm the statement cache
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


def measure(url: str, label: str) -> bool:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        with db.engine.begin() as conn:
            seconds = fill(conn, HOUSEHOLDS)
            first = conn.scalar(sa.select(sa.func.min(ExpropriationProject.id)))
            hash_ = conn.scalar(sa.select(User.password_hash).where(User.username == "cw1"))
            conn.execute(
                sa.insert(User),
                [
                    {
                        "username": "bounded",
                        "full_name": "片区经办",
                        "role": "caseworker",
                        "password_hash": hash_,
                        "active": True,
                        "is_demo": False,
                        "failed_logins": 0,
                        "all_projects": False,
                    }
                ],
            )
            bounded_id = conn.scalar(sa.select(User.id).where(User.username == "bounded"))
            conn.execute(sa.insert(UserProject), [{"user_id": bounded_id, "project_id": first}])
        print(f"  filled {HOUSEHOLDS:,} households in {seconds:.1f} s")
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
        db.session.remove()
    everyone, bounded = _client(app, "cw1"), _client(app, "bounded")
    cases = {
        "first page": ("/households/", f"/households/?project={first}"),
        "page 500": ("/households/?page=500", f"/households/?project={first}&page=500"),
        "stage signed": ("/households/?stage=signed", f"/households/?project={first}&stage=signed"),
        "overdue": ("/households/?overdue=1", f"/households/?project={first}&overdue=1"),
        "search by name": ("/households/?q=王伟", f"/households/?project={first}&q=王伟"),
    }
    ok = True
    print(f"{label}: household list p50 at {HOUSEHOLDS:,} households, {RUNS} runs each")
    print(f"  {'page':<16} {'no scope':>10} {'no scope, project filter':>26} {'scoped':>10}")
    for name, (path, filtered) in cases.items():
        plain = _p50(everyone, path)
        by_hand = _p50(everyone, filtered)
        scoped = _p50(bounded, path)
        ok &= scoped < TARGET_MS
        print(f"  {name:<16} {plain:8.1f} ms {by_hand:24.1f} ms {scoped:8.1f} ms")
    with app.app_context():
        db.engine.dispose()
    return ok


def main() -> int:
    return on_each_database(measure, "bench_scope")


if __name__ == "__main__":
    sys.exit(main())
