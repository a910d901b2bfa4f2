"""Benchmark: 1,000 notices issued in one batch PDF (target: under 60 s), on SQLite and, when
BENCH_DATABASE_URL is set, on PostgreSQL. Times the whole issue: guards, numbers, check codes,
QR codes, the PDF (one document, page breaks, one FontConfiguration) and its archive.

Run from the repo root: `python bench/bench_notices_batch.py` (or `make bench`).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from bench._data import GIVEN, SURNAMES  # noqa: E402
from resettle import create_app  # noqa: E402
from resettle.extensions import db  # noqa: E402
from resettle.households.models import Household, Stage  # noqa: E402
from resettle.notices.models import NoticeType  # noqa: E402
from resettle.notices.services import begin_numbering, issue_batch  # noqa: E402
from resettle.plans.models import Plan, PlanKind, PlanNode  # noqa: E402
from resettle.projects.models import ExpropriationProject  # noqa: E402

NOTICES = int(os.environ.get("BENCH_NOTICES", "1000"))
TARGET_S = 60.0
TODAY = date(2025, 6, 18)


def setup() -> None:
    """The database migrated, a project with a signing deadline and NOTICES households
    (inside an app context)."""
    upgrade()
    project = ExpropriationProject(
        code="NB1",
        name="通知书基准项目",
        decision_number="东政征决字〔2025〕9号",
        decision_date=date(2025, 3, 10),
        signing_start=date(2025, 3, 20),
        signing_end=date(2025, 7, 31),
    )
    db.session.add(project)
    db.session.flush()
    plan = Plan(kind=PlanKind.PROJECT, name="基准计划", project_id=project.id)
    plan.nodes.append(
        PlanNode(
            key="signing",
            name="签约",
            position=0,
            duration=1,
            stage=Stage.SIGNED,
            planned_start=date(2025, 7, 31),
            planned_finish=date(2025, 7, 31),
        )
    )
    db.session.add(plan)
    db.session.execute(
        sa.insert(Household),
        [
            {
                "project_id": project.id,
                "case_number": f"NB1-{n:05d}",
                "head_name": SURNAMES[n % len(SURNAMES)]
                + GIVEN[(n * 7) % len(GIVEN)]
                + GIVEN[(n * 13) % len(GIVEN)],
                "head_id_number": f"{110101198001010000 + n:018d}",
                "house_address": f"东城区解放路{n % 300}号{n % 7 + 1}单元",
                "legal_area": "85.00",
                "unregistered_area": "0.00",
                "house_use": "住宅",
                "stage": Stage.APPRAISED.value,
                "version_id": 1,
            }
            for n in range(NOTICES)
        ],
    )
    db.session.commit()


def measure(url: str, label: str) -> bool:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        setup()
        with app.test_request_context(base_url="https://zhengqian.example.gov.cn"):
            started = time.perf_counter()
            begin_numbering(db.session)
            households = list(db.session.scalars(sa.select(Household)))
            document = issue_batch(
                db.session, households, NoticeType.SIGNING, user=None, today=TODAY
            )
            pages, size = document.pages, document.size
            db.session.commit()
            elapsed = time.perf_counter() - started
        db.session.remove()
        db.engine.dispose()
    ok = elapsed < TARGET_S and pages >= NOTICES
    print(
        f"{label}: {NOTICES:,} signing reminders in one PDF ({pages:,} pages, "
        f"{size / 1_000_000:.1f} MB, archived): {elapsed:.1f} s "
        f"({elapsed / NOTICES * 1000:.0f} ms a notice; target < {TARGET_S:.0f} s) "
        f"{'PASS' if ok else 'FAIL'}"
    )
    return ok


def main() -> int:
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        ok &= measure(f"sqlite:///{tmp}/bench-notices.sqlite3", "SQLite")
    if os.environ.get("BENCH_DATABASE_URL"):
        os.environ["TEST_DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
        from tests.dbs import fresh_database

        ok &= measure(fresh_database("bench_notices", Path(tempfile.gettempdir())), "PostgreSQL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
