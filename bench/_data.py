"""Synthetic data for the benchmarks: many households inserted with Core executemany."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher

from resettle.audit.chain import chain
from resettle.audit.models import AuditEvent
from resettle.auth.models import User
from resettle.households.models import CaseStep, Household
from resettle.households.stages import STAGE_ORDER
from resettle.privacy import audit_pii_value
from resettle.projects.models import ExpropriationProject

PASSWORD = "Bench-Password-1"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"


def fill(conn: sa.Connection, households: int, *, projects: int = 2, seed: int = 1) -> float:
    """Insert projects, 20 caseworkers and `households` households with two steps each."""
    rng = random.Random(seed)
    started = time.perf_counter()
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
                "land_delivery_date": date(2026, 6, 30),
            }
            for p in range(1, projects + 1)
        ],
    )
    password_hash = PasswordHasher(time_cost=1, memory_cost=1024).hash(PASSWORD)
    conn.execute(
        sa.insert(User),
        [
            {
                "username": f"cw{i}",
                "full_name": f"经办{i}",
                "role": "caseworker",
                "password_hash": password_hash,
                "active": True,
                "is_demo": False,
                "failed_logins": 0,
                "all_projects": True,  # the benchmarks measure every project's records
            }
            for i in range(1, 21)
        ],
    )
    project_ids = list(conn.scalars(sa.select(ExpropriationProject.id)))
    user_ids = list(conn.scalars(sa.select(User.id)))
    rows = [
        {
            "project_id": project_ids[n % projects],
            "case_number": f"B{n % projects + 1}-{n:06d}",
            "head_name": rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
            "head_id_number": f"{110101198001010000 + n:018d}",
            "house_address": f"东城区解放路{n % 300}号",
            "legal_area": f"{rng.randint(4000, 15000) / 100:.2f}",
            "unregistered_area": "0.00",
            "house_use": "住宅",
            "stage": rng.choice(STAGE_ORDER).value,
            "caseworker_id": rng.choice(user_ids),
            "version_id": 1,
        }
        for n in range(households)
    ]
    for start in range(0, len(rows), 20000):
        conn.execute(sa.insert(Household), rows[start : start + 20000])
    base = date(2025, 6, 2)
    steps = []
    for hid in conn.scalars(sa.select(Household.id)):
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
    return time.perf_counter() - started


def audit_rows(conn: sa.Connection) -> int:
    """An insert event (chained) for every household and case step, as an import writes them."""
    now = datetime.now(UTC)
    rows = [
        {
            "occurred_at": now,
            "actor": "import",
            "action": "insert",
            "entity_type": "Household",
            "entity_id": hid,
            "changes": {
                "project_id": [None, pid],
                "head_id_number": [None, audit_pii_value("head_id_number", number)],
            },
        }
        for hid, pid, number in conn.execute(
            sa.select(Household.id, Household.project_id, Household.head_id_number)
        )
    ]
    rows += [
        {
            "occurred_at": now,
            "actor": "import",
            "action": "insert",
            "entity_type": "CaseStep",
            "entity_id": sid,
            "changes": {"household_id": [None, hid]},
        }
        for sid, hid in conn.execute(sa.select(CaseStep.id, CaseStep.household_id))
    ]
    rows.sort(
        key=lambda r: r["entity_id"] if r["entity_type"] == "Household" else r["entity_id"] / 2
    )
    for start in range(0, len(rows), 20000):
        batch = rows[start : start + 20000]
        chain(conn, batch)  # their places in the audit chain, as every audit write takes
        conn.execute(sa.insert(AuditEvent.__table__), batch)
    return len(rows)


def on_each_database(measure: Callable[[str, str], bool], purpose: str) -> int:
    """Run `measure(url, label)` on a fresh SQLite file and, when BENCH_DATABASE_URL is set,
    on a fresh PostgreSQL database; the exit status is 0 only when every run passed."""
    import os
    import tempfile
    from pathlib import Path

    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        ok &= measure(f"sqlite:///{tmp}/{purpose}.sqlite3", "SQLite")
    if os.environ.get("BENCH_DATABASE_URL"):
        os.environ["TEST_DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
        from tests.dbs import fresh_database

        ok &= measure(fresh_database(purpose, Path(tempfile.gettempdir())), "PostgreSQL")
    return 0 if ok else 1
