"""Demo data: deterministic for a seed, consistent, valid ID numbers, every stage present."""

import sqlalchemy as sa

from resettle.audit.services import acting_as
from resettle.auth.models import User
from resettle.auth.services import verify_password
from resettle.demo.services import DEMO_AS_OF, reset_demo_accounts, seed_demo
from resettle.extensions import db
from resettle.households.models import CaseStep, CompensationMode, Household, Stage
from resettle.households.stages import STAGE_ORDER
from resettle.idnumbers import validate_id_number
from resettle.plans.deadlines import household_deadlines
from resettle.sites.models import Unit, UnitStatus


def _snapshot():
    return [
        (
            h.case_number,
            h.head_name,
            h.head_id_number,
            h.stage.value,
            str(h.legal_area),
            [(s.stage.value, s.actual_date) for s in h.steps],
        )
        for h in db.session.scalars(sa.select(Household).order_by(Household.case_number))
    ]


def test_seed_builds_consistent_demo_data(app):
    with acting_as("demo-seed"):
        summary = seed_demo(db.session, households=400, seed=7)
    assert summary == {"projects": 2, "households": 400, "units": 600}
    households = list(db.session.scalars(sa.select(Household)))
    assert {h.stage for h in households} == set(Stage)
    for h in households:
        assert validate_id_number(h.head_id_number) == h.head_id_number
        assert all(validate_id_number(m.id_number) == m.id_number for m in h.members)
        recorded = sorted(
            (s for s in h.steps if s.actual_date), key=lambda s: STAGE_ORDER.index(s.stage)
        )
        dates = [s.actual_date for s in recorded]
        assert dates == sorted(dates) and all(d <= DEMO_AS_OF for d in dates)
        assert recorded[-1].stage == h.stage
        # deadlines come from the project's plan
        assert {Stage.SIGNED, Stage.VACATED} <= set(household_deadlines(db.session, h))
        reached = STAGE_ORDER.index(h.stage)
        if reached >= STAGE_ORDER.index(Stage.SIGNED):
            assert h.compensation_mode is not None
        if reached >= STAGE_ORDER.index(Stage.APPRAISED):
            assert h.appraisal_value is not None
        if h.compensation_mode == CompensationMode.MONEY:
            assert not {s.stage for s in h.steps} & {Stage.SELECTED, Stage.HANDED_OVER}
    allocated = list(db.session.scalars(sa.select(Unit).where(Unit.household_id.is_not(None))))
    assert allocated
    for unit in allocated:
        if unit.status == UnitStatus.HANDED_OVER:
            assert unit.building.complete
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CaseStep)) > 400


def test_same_seed_same_data(app):
    with acting_as("demo-seed"):
        seed_demo(db.session, households=60, seed=11)
    first = _snapshot()
    db.session.rollback()
    with acting_as("demo-seed"):
        seed_demo(db.session, households=60, seed=11)
    assert _snapshot() == first


def test_demo_accounts_get_new_printed_passwords(app):
    with acting_as("demo-seed"):
        seed_demo(db.session, households=20, seed=1)
        credentials = reset_demo_accounts(db.session)
    assert {role for _u, role, _p in credentials} == {"admin", "caseworker", "supervisor", "leader"}
    for username, _role, password in credentials:
        user = db.session.scalar(sa.select(User).where(User.username == username))
        assert verify_password(user.password_hash, password)


def test_every_demo_household_looks_the_same_to_staff_resident_and_supervision(
    app, client, login_as, monkeypatch
):
    """On the demo data, for every household: the staff household page, the resident's case
    page and the supervision overdue list show the same path, next stage, deadlines and
    late stages."""
    from datetime import date

    from resettle.calendar import china_calendar
    from resettle.households import stages
    from resettle.public.services import case_status, find_case
    from resettle.supervision.overdue import OverdueFilter, overdue_items
    from tests.households.test_one_path import staff_timeline

    with acting_as("demo-seed"):
        seed_demo(db.session, households=160, seed=7)
    monkeypatch.setattr("resettle.clock.today", lambda: DEMO_AS_OF)
    login_as("supervisor")
    calendar = china_calendar()
    supervised: dict[int, dict[Stage, tuple[date, bool]]] = {}
    for item in overdue_items(db.session, OverdueFilter(), DEMO_AS_OF, calendar=calendar)[1]:
        if item.household_id is not None:
            supervised.setdefault(item.household_id, {})[item.stage] = (
                item.deadline,
                item.days_late > 0,
            )
    households = list(db.session.scalars(sa.select(Household).order_by(Household.case_number)))
    assert {h.compensation_mode for h in households} == {None, *CompensationMode}
    conn = db.session.connection()
    late_somewhere = 0
    for h in households:
        staff = staff_timeline(client, h)
        public = case_status(
            conn, find_case(conn, h.case_number, h.head_id_number[-6:]), DEMO_AS_OF, calendar
        )
        path = stages.path(h.compensation_mode)
        upcoming = stages.next_stage(h.compensation_mode, h.stage)
        where = f"{h.case_number} ({h.compensation_mode}, {h.stage})"
        assert [s for s, *_ in staff] == [s.stage for s in public.steps] == list(path), where
        assert [s for s, state, *_ in staff if state == "next"] == (
            [upcoming] if upcoming else []
        ), where
        assert (public.next_step.stage if public.next_step else None) == upcoming, where
        staff_deadlines = {s: due for s, _state, due, _late in staff if due}
        assert staff_deadlines == {s.stage: s.deadline for s in public.steps if s.deadline}, where
        staff_late = {s for s, _state, _due, late in staff if late}
        assert staff_late == {s.stage for s in public.steps if s.late}, where
        listed = supervised.get(h.id, {})
        assert {s for s, (_due, late) in listed.items() if late} == staff_late, where
        assert {s: due for s, (due, _late) in listed.items()} == {
            s: staff_deadlines[s] for s in listed
        }, where
        late_somewhere += bool(staff_late)
    assert late_somewhere  # the demo has late households, so the comparison means something


def test_demo_data_is_chinese_whoever_loads_it(app):
    """Seeded while the page language is English: plan names and the sealed disclosure rows are
    still Chinese."""
    from flask import session

    from resettle.disclosure.models import Disclosure, DisclosureKind
    from resettle.plans.models import Plan
    from resettle.translate import gettext

    with app.test_request_context("/"):
        session["lang"] = "en"
        assert gettext("Property swap") == "Property swap"
        with acting_as("demo-seed"):
            seed_demo(db.session, households=40, seed=5)
    assert set(db.session.scalars(sa.select(Plan.name))) == {
        "征收项目默认计划",
        "安置房项目默认计划",
    }
    rows = [
        row
        for d in db.session.scalars(
            sa.select(Disclosure).where(Disclosure.kind == DisclosureKind.COMPENSATION)
        )
        for row in d.rows
    ]
    assert rows and {row["mode"] for row in rows} <= {"货币补偿", "产权调换", "货币补偿与产权调换"}
    assert "被征收房屋价值补偿" in {line["label"] for row in rows for line in row["lines"]}


def test_more_households_than_flats_get_more_buildings(app, monkeypatch):
    """An estate too small for the households who chose a flat grows by buildings: everyone who
    selected has a flat of their own, and every flat handed over is in a complete building."""
    from resettle.demo import services
    from resettle.sites.models import Building

    for key, value in {"buildings": 2, "complete_buildings": 1, "floors": 2}.items():
        monkeypatch.setitem(services.SITE, key, value)  # 16 flats, 8 of them complete
    with acting_as("demo-seed"):
        summary = seed_demo(db.session, households=120, seed=4)
    selected = [
        h
        for h in db.session.scalars(sa.select(Household))
        if STAGE_ORDER.index(h.stage) >= STAGE_ORDER.index(Stage.SELECTED)
        and h.compensation_mode != CompensationMode.MONEY
    ]
    assert len(selected) > 16 and summary["units"] > 16
    assert all(len(h.units) == 1 for h in selected)
    for h in selected:
        unit = h.units[0]
        handed = h.stage != Stage.SELECTED
        assert unit.status == (UnitStatus.HANDED_OVER if handed else UnitStatus.ALLOCATED)
        assert unit.building.complete or not handed
    names = list(db.session.scalars(sa.select(Building.name).order_by(Building.id)))
    assert names == [f"{n}#楼" for n in range(1, len(names) + 1)] and len(names) > 2
