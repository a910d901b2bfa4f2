"""Benchmark: agreements (补偿协议) — one agreement issued on its own (signing recorded, figures,
number, PDF/A, archive), and a batch of 500 in one document; on SQLite and, when
BENCH_DATABASE_URL is set, on PostgreSQL. Targets: one agreement under 1 s, 500 under 120 s.

Run from the repo root: `python bench/bench_agreements.py` (or `make bench`).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from bench._data import GIVEN, SURNAMES  # noqa: E402
from resettle import create_app  # noqa: E402
from resettle.agreements.services import issue_agreement, issue_agreements  # noqa: E402
from resettle.documents.numbers import begin_numbering  # noqa: E402
from resettle.extensions import db  # noqa: E402
from resettle.funds.services import RuleData, create_rule_version  # noqa: E402
from resettle.households.models import CaseStep, Household, Stage  # noqa: E402
from resettle.projects.models import ExpropriationProject  # noqa: E402

BATCH = int(os.environ.get("BENCH_AGREEMENTS", "500"))
SINGLES = 10
TARGET_ONE_S = 1.0
TARGET_BATCH_S = 120.0
TODAY = date(2025, 6, 18)


def _setup() -> None:
    project = ExpropriationProject(
        code="AB1",
        name="协议基准项目",
        decision_number="东政征决字〔2025〕9号",
        decision_date=date(2025, 3, 10),
        signing_start=date(2025, 3, 20),
        signing_end=date(2025, 7, 31),
        transition_months=24,
    )
    db.session.add(project)
    db.session.flush()
    create_rule_version(
        db.session,
        project,
        RuleData(
            effective_from=date(2025, 3, 1),
            moving_allowance_per_m2=Decimal("15"),
            temporary_allowance_per_m2_month=Decimal("12"),
            signing_bonus=Decimal("20000"),
            price_within_entitled=Decimal("3000"),
            band_m2=Decimal("10"),
            price_first_band=Decimal("5000"),
            price_beyond_band=Decimal("12000"),
        ),
    )
    count = BATCH + SINGLES
    db.session.execute(
        sa.insert(Household),
        [
            {
                "project_id": project.id,
                "case_number": f"AB1-{n:05d}",
                "head_name": SURNAMES[n % len(SURNAMES)]
                + GIVEN[(n * 7) % len(GIVEN)]
                + GIVEN[(n * 13) % len(GIVEN)],
                "head_id_number": f"{110101198001010000 + n:018d}",
                "house_address": f"东城区解放路{n % 300}号{n % 7 + 1}单元",
                "legal_area": "85.00",
                "unregistered_area": "0.00",
                "house_use": "住宅",
                "appraisal_value": f"{800000 + n * 37}.50",
                "compensation_mode": "money" if n % 2 else "swap",
                "entitled_area": "90.00",
                "stage": Stage.APPRAISED.value,
                "version_id": 1,
            }
            for n in range(count)
        ],
    )
    ids = db.session.scalars(sa.select(Household.id)).all()
    db.session.execute(
        sa.insert(CaseStep),
        [
            {"household_id": i, "stage": stage.value, "actual_date": date(2025, 4, 1)}
            for i in ids
            for stage in (Stage.SURVEYED, Stage.APPRAISED)
        ],
    )
    db.session.commit()


def measure(url: str, label: str) -> bool:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        _setup()
        households = list(db.session.scalars(sa.select(Household).order_by(Household.id)))
        singles, batch = households[:SINGLES], households[SINGLES:]
        db.session.commit()  # numbering opens its own transaction
        times = []
        for household in singles:
            started = time.perf_counter()
            begin_numbering(db.session)
            issue_agreement(db.session, household, user=None, today=TODAY)
            db.session.commit()
            times.append(time.perf_counter() - started)
        one = sorted(times)[len(times) // 2]
        db.session.commit()
        started = time.perf_counter()
        begin_numbering(db.session)
        agreements = issue_agreements(db.session, batch, user=None, today=TODAY)
        pages, size = agreements[0].document.pages, agreements[0].document.size
        db.session.commit()
        elapsed = time.perf_counter() - started
        db.session.remove()
        db.engine.dispose()
    ok = one < TARGET_ONE_S and elapsed < TARGET_BATCH_S and len(agreements) == len(batch)
    print(
        f"{label}: one agreement (median of {SINGLES}) {one * 1000:.0f} ms "
        f"(target < {TARGET_ONE_S:.0f} s); {len(batch):,} agreements in one PDF "
        f"({pages:,} pages, {size / 1_000_000:.1f} MB, archived): {elapsed:.1f} s "
        f"({elapsed / len(batch) * 1000:.0f} ms an agreement; target < {TARGET_BATCH_S:.0f} s) "
        f"{'PASS' if ok else 'FAIL'}"
    )
    return ok


def main() -> int:
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        ok &= measure(f"sqlite:///{tmp}/bench-agreements.sqlite3", "SQLite")
    if os.environ.get("BENCH_DATABASE_URL"):
        os.environ["TEST_DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
        from tests.dbs import fresh_database

        ok &= measure(fresh_database("bench_agreements", Path(tempfile.gettempdir())), "PostgreSQL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
