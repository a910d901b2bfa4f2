"""Benchmark: re-planning the deadlines of 100,000 households after the promised date changes
(target: under 5 s), on SQLite and, when BENCH_DATABASE_URL is set, on PostgreSQL.

Run from the repo root: `python bench/bench_replan.py` (or `make bench`).
"""

from __future__ import annotations

import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from bench._data import fill, on_each_database  # noqa: E402
from resettle import create_app  # noqa: E402
from resettle.extensions import db  # noqa: E402
from resettle.households.models import Household, Stage  # noqa: E402
from resettle.plans.deadlines import late_households_condition  # noqa: E402
from resettle.plans.services import plan_for_project, replan  # noqa: E402
from resettle.projects.models import ExpropriationProject  # noqa: E402

HOUSEHOLDS = int(os.environ.get("BENCH_HOUSEHOLDS", "100000"))
TARGET_S = 5.0
TODAY = date(2025, 6, 2)


def measure(url: str, label: str) -> bool:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        with db.engine.begin() as conn:
            fill(conn, HOUSEHOLDS, projects=1)
        project = db.session.scalar(sa.select(ExpropriationProject))
        plan = plan_for_project(db.session, project)
        started = time.perf_counter()
        replan(db.session, plan, today=TODAY)
        db.session.commit()
        first = time.perf_counter() - started
        project = db.session.scalar(sa.select(ExpropriationProject))
        project.land_delivery_date = date(2026, 10, 30)
        started = time.perf_counter()
        changed = replan(db.session, plan_for_project(db.session, project), today=TODAY)
        db.session.commit()
        second = time.perf_counter() - started
        # Every household now reads the new deadlines: count those late on the old signing
        # deadline's next day, the way the list and the supervision office query them.
        started = time.perf_counter()
        signing = changed.after[Stage.SIGNED]
        late = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Household)
            .where(late_households_condition(db.session, signing + timedelta(days=1)))
        )
        query = time.perf_counter() - started
        db.engine.dispose()
    ok = second < TARGET_S and Stage.SIGNED in changed.moved and late > 0
    print(
        f"{label}: re-plan {HOUSEHOLDS:,} households: first plan {first:.3f} s, after a date "
        f"change {second:.3f} s ({len(changed.moved)} stage deadlines moved for every "
        f"household; target < {TARGET_S:.0f} s) {'PASS' if ok else 'FAIL'}; then {late:,} "
        f"households found late with the new deadlines in {query * 1000:.0f} ms"
    )
    return ok


def main() -> int:
    return on_each_database(measure, "bench_replan")


if __name__ == "__main__":
    sys.exit(main())
