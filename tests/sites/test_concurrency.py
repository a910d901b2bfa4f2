"""Twenty households ask for the same flat at the same moment: one gets it, nineteen are told."""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest
import sqlalchemy as sa

from resettle.audit.models import AuditEvent
from resettle.errors import RuleViolation
from resettle.extensions import db
from resettle.households.models import Household, Stage
from resettle.sites.models import Unit, UnitStatus
from resettle.sites.services import allocate_unit, begin_allocation
from tests.conftest import migrated_app_for_threads
from tests.sites import TODAY, add_household, add_project, add_site, flat, msg

CONTENDERS = 20


@pytest.mark.no_transaction
def test_twenty_concurrent_requests_for_one_flat_allocate_it_exactly_once(tmp_path):
    app = migrated_app_for_threads("alloc", tmp_path, CONTENDERS)
    with app.app_context():
        project = add_project(db.session)
        household_ids = [
            add_household(db.session, project, order=n).id for n in range(1, CONTENDERS + 1)
        ]
        _site, building = add_site(db.session, floors=1, areas=("89.50",))
        unit_id = flat(building, "101").id
        label = flat(building, "101").label
        db.session.commit()
        db.session.remove()
        refused_messages = {
            msg(
                "%(flat)s has just been allocated to another household; choose another flat.",
                flat=label,
            ),
            msg(
                "%(flat)s is allocated to another household already; choose another flat.",
                flat=label,
            ),
        }

    barrier = threading.Barrier(CONTENDERS)
    outcomes: dict[int, object] = {}

    def contender(household_id: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                begin_allocation(db.session)
                household = db.session.get(Household, household_id)
                allocate_unit(
                    db.session,
                    unit_id,
                    household,
                    selection_date=date(2026, 5, 18),
                    operator=None,
                    today=TODAY,
                )
                db.session.commit()
                outcomes[household_id] = "allocated"
            except RuleViolation as exc:
                db.session.rollback()
                outcomes[household_id] = exc
            except Exception as exc:  # noqa: BLE001 (any other failure fails the test below)
                db.session.rollback()
                outcomes[household_id] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=contender, args=(h,)) for h in household_ids]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    elapsed = time.perf_counter() - started

    assert len(outcomes) == CONTENDERS, "a contender did not finish"
    winners = [h for h, outcome in outcomes.items() if outcome == "allocated"]
    refusals = [o for o in outcomes.values() if o != "allocated"]
    unexpected = [repr(o) for o in refusals if not isinstance(o, RuleViolation)]
    assert unexpected == [], unexpected  # e.g. no "database is locked", no deadlock
    assert len(winners) == 1
    assert len(refusals) == CONTENDERS - 1
    assert {str(o) for o in refusals} <= refused_messages
    assert {o.field for o in refusals} == {"unit_id"}
    assert elapsed < 30

    with app.app_context():
        unit = db.session.get(Unit, unit_id)
        assert (unit.household_id, unit.status) == (winners[0], UnitStatus.ALLOCATED)
        stages = dict(db.session.execute(sa.select(Household.id, Household.stage)).all())
        assert stages.pop(winners[0]) == Stage.SELECTED
        assert set(stages.values()) == {Stage.DEMOLISHED}
        allocations = db.session.scalars(
            sa.select(AuditEvent).where(
                AuditEvent.entity_type == "Unit", AuditEvent.action == "update"
            )
        ).all()
        assert [e.changes["household_id"] for e in allocations] == [[None, winners[0]]]
        db.session.remove()
        db.engine.dispose()
