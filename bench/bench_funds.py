"""Benchmark: compensation and the payment plan of 100,000 households (target: under 10 s),
on SQLite and, when BENCH_DATABASE_URL is set, on PostgreSQL.

`fund_plan` computes every household's compensation with the same Decimal arithmetic as the
household page (house value, moving allowance, bonus, flat price tiers, the monthly
allowance with its overrun multiplier) and spreads it over the months of the plan.
Run from the repo root: `python bench/bench_funds.py` (or `make bench`).
"""

from __future__ import annotations

import os
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from bench._data import fill, on_each_database  # noqa: E402
from resettle import create_app  # noqa: E402
from resettle.extensions import db  # noqa: E402
from resettle.funds.models import FundSource  # noqa: E402
from resettle.funds.services import RuleData, create_rule_version, fund_plan  # noqa: E402
from resettle.households.models import CaseStep, Household  # noqa: E402
from resettle.plans.services import plan_for_site, replan  # noqa: E402
from resettle.projects.models import ExpropriationProject  # noqa: E402
from resettle.sites.models import ResettlementSite  # noqa: E402

HOUSEHOLDS = int(os.environ.get("BENCH_HOUSEHOLDS", "100000"))
TARGET_S = 10.0
TODAY = date(2026, 11, 20)


def prepare(conn: sa.Connection) -> None:
    """Give the synthetic households money facts: modes, values, signing and vacating dates."""
    modes = sa.case(
        (Household.id % 3 == 0, "money"), (Household.id % 3 == 1, "swap"), else_="mixed"
    )
    conn.execute(
        sa.update(Household).values(
            compensation_mode=modes,
            appraisal_value=Household.legal_area * 10000,
            entitled_area=Household.legal_area,
            stage="vacated",
        )
    )
    ids = list(conn.scalars(sa.select(Household.id)))
    base = date(2025, 4, 1)
    steps = []
    for hid in ids:
        steps.append(
            {
                "household_id": hid,
                "stage": "vacated",
                "deadline": None,
                "actual_date": base + timedelta(days=40 + hid % 200),
            }
        )
    conn.execute(sa.delete(CaseStep).where(CaseStep.stage == "signed"))
    for start in range(0, len(steps), 50000):
        conn.execute(sa.insert(CaseStep), steps[start : start + 50000])
    signed = [
        {
            "household_id": s["household_id"],
            "stage": "signed",
            "deadline": None,
            "actual_date": s["actual_date"] - timedelta(days=20),
        }
        for s in steps
    ]
    for start in range(0, len(signed), 50000):
        conn.execute(sa.insert(CaseStep), signed[start : start + 50000])


def measure(url: str, label: str) -> bool:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        with db.engine.begin() as conn:
            fill(conn, HOUSEHOLDS, projects=1)
            prepare(conn)
        project = db.session.scalar(sa.select(ExpropriationProject))
        project.transition_months = 18
        site = ResettlementSite(name="基准安置房", promised_handover_date=date(2027, 12, 31))
        db.session.add(site)
        db.session.flush()
        project.site_id = site.id
        replan(db.session, plan_for_site(db.session, site), today=TODAY)
        create_rule_version(
            db.session,
            project,
            RuleData(
                effective_from=date(2025, 1, 1),
                moving_allowance_per_m2=Decimal("15"),
                temporary_allowance_per_m2_month=Decimal("12"),
                signing_bonus=Decimal("20000"),
                price_within_entitled=Decimal("3200"),
                band_m2=Decimal("10"),
                price_first_band=Decimal("5800"),
                price_beyond_band=Decimal("11500"),
            ),
        )
        db.session.add(
            FundSource(
                project_id=project.id,
                kind="fiscal",
                name="财政",
                amount=Decimal("50000000000"),
                available_on=date(2025, 3, 1),
            )
        )
        db.session.commit()
        started = time.perf_counter()
        plan = fund_plan(db.session, project, today=TODAY)
        seconds = time.perf_counter() - started
        db.engine.dispose()
    ok = seconds < TARGET_S and plan.households == HOUSEHOLDS
    print(
        f"{label}: compensation and payment plan of {plan.households:,} households in "
        f"{seconds:.2f} s over {len(plan.months)} months, planned {plan.planned_total:,.2f} yuan "
        f"(target < {TARGET_S:.0f} s) {'PASS' if ok else 'FAIL'}"
    )
    return ok


def main() -> int:
    return on_each_database(measure, "bench_funds")


if __name__ == "__main__":
    sys.exit(main())
