"""Benchmark: the household list with filters at 100,000 households (target: < 200 ms a page).

Times the whole server side of GET /households/?… (query, count, template) through the
Flask test client, on SQLite and, when BENCH_DATABASE_URL is set, on PostgreSQL.
Run from the repo root: `python bench/bench_household_list.py` (or `make bench`).
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402
from argon2 import PasswordHasher  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from resettle import create_app  # noqa: E402
from resettle.auth.models import User  # noqa: E402
from resettle.extensions import db  # noqa: E402
from resettle.households.models import STAGE_ORDER, CaseStep, Household  # noqa: E402
from resettle.projects.models import ExpropriationProject  # noqa: E402

HOUSEHOLDS = int(os.environ.get("BENCH_HOUSEHOLDS", "100000"))
TARGET_MS = 200.0
PASSWORD = "Bench-Password-1"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"


def fill(url: str) -> None:
    rng = random.Random(1)
    now = time.time()
    with db.engine.begin() as conn:
        conn.execute(
            sa.insert(ExpropriationProject),
            [
                {
                    "code": f"B{p}",
                    "name": f"基准项目{p}",
                    "transition_months": 24,
                    "remind_workdays": 5,
                    "supervise_workdays": 10,
                    "version_id": 1,
                }
                for p in (1, 2)
            ],
        )
        conn.execute(
            sa.insert(User),
            [
                {
                    "username": f"cw{i}",
                    "full_name": f"经办{i}",
                    "role": "caseworker",
                    "password_hash": PasswordHasher(time_cost=1, memory_cost=1024).hash(PASSWORD),
                    "active": True,
                    "is_demo": False,
                    "failed_logins": 0,
                }
                for i in range(1, 21)
            ],
        )
        project_ids = list(conn.scalars(sa.select(ExpropriationProject.id)))
        user_ids = list(conn.scalars(sa.select(User.id)))
        rows = []
        for n in range(HOUSEHOLDS):
            stage = rng.choice(STAGE_ORDER)
            rows.append(
                {
                    "project_id": project_ids[n % 2],
                    "case_number": f"B{n % 2 + 1}-{n:06d}",
                    "head_name": rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
                    "head_id_number": f"{110101198001010000 + n:018d}",
                    "house_address": f"东城区解放路{n % 300}号",
                    "legal_area": f"{rng.randint(4000, 15000) / 100:.2f}",
                    "unregistered_area": "0.00",
                    "house_use": "住宅",
                    "stage": stage.value,
                    "caseworker_id": rng.choice(user_ids),
                    "version_id": 1,
                }
            )
        for start in range(0, len(rows), 20000):
            conn.execute(sa.insert(Household), rows[start : start + 20000])
        ids = list(conn.scalars(sa.select(Household.id)))
        base = date(2025, 6, 2)
        steps = []
        for hid in ids:
            steps.append(
                {"household_id": hid, "stage": "surveyed", "actual_date": base, "deadline": None}
            )
            steps.append(
                {
                    "household_id": hid,
                    "stage": "signed",
                    "actual_date": None,
                    "deadline": base + timedelta(days=rng.randint(0, 600)),
                }
            )
        for start in range(0, len(steps), 50000):
            conn.execute(sa.insert(CaseStep), steps[start : start + 50000])
    print(f"  filled {HOUSEHOLDS:,} households, {len(steps):,} steps in {time.time() - now:.1f} s")


def measure(url: str, label: str) -> bool:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        fill(url)
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
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        ok &= measure(f"sqlite:///{tmp}/bench-list.sqlite3", "SQLite")
    pg = os.environ.get("BENCH_DATABASE_URL")
    if pg:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        os.environ["TEST_DATABASE_URL"] = pg
        from tests.dbs import fresh_database

        ok &= measure(fresh_database("bench_list", Path(tempfile.gettempdir())), "PostgreSQL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
