"""Benchmark: the household list with filters at 100,000 households (target: < 200 ms a page).

Times the whole server side of GET /households/?… (query, count, template) through the
Flask test client, on SQLite and, when BENCH_DATABASE_URL is set, on PostgreSQL.
Run from the repo root: `python bench/bench_household_list.py` (or `make bench`).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask_migrate import upgrade  # noqa: E402

from bench._data import PASSWORD, fill, on_each_database  # noqa: E402
from resettle import create_app  # noqa: E402
from resettle.extensions import db  # noqa: E402

HOUSEHOLDS = int(os.environ.get("BENCH_HOUSEHOLDS", "100000"))
TARGET_MS = 200.0


def measure(url: str, label: str) -> bool:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        with db.engine.begin() as conn:
            seconds = fill(conn, HOUSEHOLDS)
        print(f"  filled {HOUSEHOLDS:,} households in {seconds:.1f} s")
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
        db.session.remove()
    client = app.test_client()
    response = client.post("/login", data={"username": "cw1", "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    cases = {
        "first page, no filter": "/households/",
        "page 1,000": "/households/?page=1000",
        "project + stage": "/households/?project=1&stage=signed",
        "overdue": "/households/?overdue=1",
        "caseworker": "/households/?caseworker=3",
        "search by name": "/households/?q=王伟",
        "search by case number": "/households/?q=B1-004242",
        "search by ID tail": "/households/?q=004242",
        "all filters": "/households/?project=2&stage=vacated&overdue=1&caseworker=5",
    }
    ok = True
    print(f"{label}: household list at {HOUSEHOLDS:,} households (target < {TARGET_MS:.0f} ms)")
    for name, path in cases.items():
        times = []
        for _ in range(7):
            start = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (path, response.status_code)
        median = statistics.median(times)
        verdict = "PASS" if median < TARGET_MS else "FAIL"
        ok &= median < TARGET_MS
        print(f"  {name:<24} median {median:7.1f} ms  max {max(times):7.1f} ms  {verdict}")
    with app.app_context():
        db.engine.dispose()
    return ok


def main() -> int:
    return on_each_database(measure, "bench_list")


if __name__ == "__main__":
    sys.exit(main())
