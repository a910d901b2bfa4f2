"""Estate rules: estates, buildings and flats, and selecting a flat with its guards."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from resettle.audit.models import AuditEvent
from resettle.errors import RuleViolation
from resettle.extensions import db
from resettle.households.models import CaseStep, CompensationMode, Stage
from resettle.households.services import record_step, undo_last_step
from resettle.sites.models import Building, Unit, UnitStatus
from resettle.sites.services import (
    BuildingData,
    SiteData,
    UnitData,
    add_building,
    add_unit,
    allocate_unit,
    begin_allocation,
    create_site,
    mark_building_complete,
    parse_areas,
    selection_queue,
    site_overview,
    update_site,
)
from tests.sites import SELECTED_ON, TODAY, add_household, add_project, add_site, flat, msg


def _audit_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))


# --- estates, buildings, flats ---------------------------------------------------------------


def test_an_estate_name_is_unique_and_required():
    site = create_site(db.session, SiteData(" 东城 臻雅苑 ", "纬三路", date(2027, 6, 30)))
    assert site.name == "东城 臻雅苑"
    with pytest.raises(RuleViolation) as taken:
        create_site(db.session, SiteData("东城 臻雅苑"))
    assert taken.value.field == "name"
    assert str(taken.value) == msg("An estate named %(name)s exists already.", name="东城 臻雅苑")
    with pytest.raises(RuleViolation) as empty:
        create_site(db.session, SiteData("  "))
    assert str(empty.value) == msg("The name of the estate is required.")

    other = create_site(db.session, SiteData("滨江花园"))
    with pytest.raises(RuleViolation):
        update_site(db.session, other, SiteData("东城 臻雅苑"))
    update_site(db.session, other, SiteData("滨江花园二期", None, date(2028, 1, 31)))
    assert (other.name, other.promised_handover_date) == ("滨江花园二期", date(2028, 1, 31))


def test_a_building_gets_a_flat_per_entrance_floor_and_position():
    site = create_site(db.session, SiteData("生成测试小区"))
    building = add_building(
        db.session, site, BuildingData("2号楼", 18, 2, 3, parse_areas("89.5，120、 60.123"))
    )
    assert len(building.units) == 2 * 18 * 3
    top = sorted((u.entrance, u.number, u.area) for u in building.units if u.floor == 18)
    assert top == [
        (e, n, a)
        for e in ("1", "2")
        for n, a in (
            ("1801", Decimal("89.50")),
            ("1802", Decimal("120.00")),
            ("1803", Decimal("60.12")),
        )
    ]
    assert {u.status for u in building.units} == {UnitStatus.AVAILABLE}
    overview = {row.site.name: row for row in site_overview(db.session)}["生成测试小区"]
    assert overview.total == 108 and overview.by_status[UnitStatus.AVAILABLE] == 108


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (BuildingData("1#楼", 10, 1, 2, [Decimal("90")]), None),  # one area for both: fine
        (BuildingData("1#楼", 10, 1, 3, [Decimal("90"), Decimal("100")]), "flat_areas"),
        (BuildingData("1#楼", 0, 1, 2, [Decimal("90")]), "floors"),
        (BuildingData("1#楼", 10, 0, 2, [Decimal("90")]), "entrances"),
        (BuildingData("1#楼", 10, 1, 2, ["-5"]), "flat_areas"),
        (BuildingData(" ", 10, 1, 2, ["90"]), "name"),
    ],
)
def test_building_input_is_checked(data, field):
    site = create_site(db.session, SiteData("楼栋校验小区"))
    if field is None:
        assert len(add_building(db.session, site, data).units) == 20
        return
    with pytest.raises(RuleViolation) as refused:
        add_building(db.session, site, data)
    assert refused.value.field == field
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Building).where(Building.site_id == site.id)
        )
        == 0
    )


def test_a_building_name_is_unique_in_its_estate():
    site, building = add_site(db.session, "重名测试小区")
    with pytest.raises(RuleViolation) as taken:
        add_building(db.session, site, BuildingData("1#楼", 5))
    assert str(taken.value) == msg("%(name)s exists already in this estate.", name="1#楼")


def test_a_single_flat_is_added_within_the_building():
    site, building = add_site(db.session, floors=3)
    unit = add_unit(db.session, building, UnitData("１单元", 2, " 203室 ", "75.5"))
    assert (unit.entrance, unit.number, unit.area) == ("1", "203", Decimal("75.50"))
    with pytest.raises(RuleViolation) as too_high:
        add_unit(db.session, building, UnitData("1", 4, "401", "75"))
    assert str(too_high.value) == msg(
        "%(building)s has floors 1 to %(floors)d.", building="1#楼", floors=3
    )
    with pytest.raises(RuleViolation) as twice:
        add_unit(db.session, building, UnitData("1", 2, "203", "75"))
    assert twice.value.field == "number"


def test_flats_of_a_complete_building_can_be_handed_over_and_not_before():
    site, building = add_site(db.session)
    household = add_household(db.session, add_project(db.session), order=1)
    allocate_unit(
        db.session,
        flat(building, "101").id,
        household,
        selection_date=SELECTED_ON,
        operator=None,
        today=TODAY,
    )
    with pytest.raises(RuleViolation):
        record_step(db.session, household, Stage.HANDED_OVER, TODAY, operator=None, today=TODAY)

    mark_building_complete(db.session, building)
    record_step(db.session, household, Stage.HANDED_OVER, TODAY, operator=None, today=TODAY)
    assert flat(building, "101").status == UnitStatus.HANDED_OVER
    with pytest.raises(RuleViolation) as again:
        mark_building_complete(db.session, building)
    assert str(again.value) == msg("%(building)s is marked complete already.", building="1#楼")


# --- selection -------------------------------------------------------------------------------


def test_allocation_gives_the_flat_and_records_the_selection(make_user):
    caseworker = make_user("caseworker")
    site, building = add_site(db.session)
    household = add_household(db.session, add_project(db.session), order=1)
    unit = flat(building, "102")

    allocate_unit(
        db.session, unit.id, household, selection_date=SELECTED_ON, operator=caseworker, today=TODAY
    )

    db.session.expire_all()
    assert unit.status == UnitStatus.ALLOCATED and unit.household_id == household.id
    assert household.stage == Stage.SELECTED
    assert [u.id for u in household.units] == [unit.id]
    step = next(s for s in household.steps if s.stage == Stage.SELECTED)
    assert (step.actual_date, step.operator_id) == (SELECTED_ON, caseworker.id)
    event = db.session.scalars(
        sa.select(AuditEvent).where(
            AuditEvent.entity_type == "Unit",
            AuditEvent.entity_id == unit.id,
            AuditEvent.action == "update",
        )
    ).one()
    assert event.changes == {
        "household_id": [None, household.id],
        "status": ["available", "allocated"],
    }
    assert unit.version_id == 2


def _guard_cases():
    """(description, how to set up, expected message and field) for each refusal."""

    def money_only(project, building):
        return (
            add_household(db.session, project, order=1, mode=CompensationMode.MONEY),
            flat(building, "101").id,
            SELECTED_ON,
        )

    def no_order(project, building):
        return add_household(db.session, project, order=None), flat(building, "101").id, SELECTED_ON

    def not_vacated(project, building):
        return (
            add_household(db.session, project, order=1, stage=Stage.SIGNED),
            flat(building, "101").id,
            SELECTED_ON,
        )

    def not_demolished(project, building):
        return (
            add_household(db.session, project, order=1, stage=Stage.VACATED),
            flat(building, "101").id,
            SELECTED_ON,
        )

    def already_selected(project, building):
        household = add_household(db.session, project, order=1)
        allocate_unit(
            db.session,
            flat(building, "102").id,
            household,
            selection_date=SELECTED_ON,
            operator=None,
            today=TODAY,
        )
        return household, flat(building, "101").id, SELECTED_ON

    def taken_flat(project, building):
        first = add_household(db.session, project, order=1)
        allocate_unit(
            db.session,
            flat(building, "101").id,
            first,
            selection_date=SELECTED_ON,
            operator=None,
            today=TODAY,
        )
        return add_household(db.session, project, order=2), flat(building, "101").id, SELECTED_ON

    def reserved_flat(project, building):
        flat(building, "101").status = UnitStatus.RESERVED
        db.session.flush()
        return add_household(db.session, project, order=1), flat(building, "101").id, SELECTED_ON

    def missing_flat(project, building):
        return add_household(db.session, project, order=1), 987654, SELECTED_ON

    def future_date(project, building):
        return (
            add_household(db.session, project, order=1),
            flat(building, "101").id,
            date(2026, 5, 21),
        )

    def before_demolition(project, building):
        return (
            add_household(db.session, project, order=1),
            flat(building, "101").id,
            date(2026, 4, 9),
        )

    return [
        (
            "money only",
            money_only,
            "household",
            lambda h: msg(
                "A household compensated in money only does not select or receive a flat."
            ),
        ),
        (
            "no order number",
            no_order,
            "household",
            lambda h: msg(
                "Household %(case)s has no selection order number yet: enter it on the "
                "household page before selecting a flat.",
                case=h.case_number,
            ),
        ),
        (
            "not vacated",
            not_vacated,
            "household",
            lambda h: msg(
                "A flat is selected only after the house has been vacated and "
                "demolished: household %(case)s is at “%(stage)s”.",
                case=h.case_number,
                stage=msg("Signed"),
            ),
        ),
        (
            "not demolished",
            not_demolished,
            "household",
            lambda h: msg(
                "A flat is selected only after the house has been vacated and "
                "demolished: household %(case)s is at “%(stage)s”.",
                case=h.case_number,
                stage=msg("Vacated"),
            ),
        ),
        (
            "selected already",
            already_selected,
            "household",
            lambda h: msg("Household %(case)s has selected a flat already.", case=h.case_number),
        ),
        (
            "flat taken",
            taken_flat,
            "unit_id",
            lambda h: msg(
                "%(flat)s is allocated to another household already; choose another flat.",
                flat="1#楼1单元101室",
            ),
        ),
        (
            "flat reserved",
            reserved_flat,
            "unit_id",
            lambda h: msg(
                "%(flat)s is %(status)s and cannot be selected.",
                flat="1#楼1单元101室",
                status=msg("Reserved"),
            ),
        ),
        ("no such flat", missing_flat, "unit_id", lambda h: msg("This flat does not exist.")),
        (
            "date in the future",
            future_date,
            "selection_date",
            lambda h: msg("The date cannot be in the future."),
        ),
        (
            "date before demolition",
            before_demolition,
            "selection_date",
            lambda h: msg(
                "The date cannot be before the previous step (%(date)s).", date="2026-04-10"
            ),
        ),
    ]


@pytest.mark.parametrize(
    ("case", "setup", "field", "expected"), _guard_cases(), ids=[c[0] for c in _guard_cases()]
)
def test_each_selection_guard_refuses_with_its_message_and_changes_nothing(
    case, setup, field, expected
):
    site, building = add_site(db.session)
    household, unit_id, day = setup(add_project(db.session), building)
    db.session.flush()
    units_before = db.session.execute(
        sa.select(Unit.id, Unit.status, Unit.household_id, Unit.version_id).order_by(Unit.id)
    ).all()
    stage_before = household.stage
    steps_before = db.session.scalar(sa.select(sa.func.count()).select_from(CaseStep))
    audit_before = _audit_count()

    with pytest.raises(RuleViolation) as refused:
        allocate_unit(
            db.session, unit_id, household, selection_date=day, operator=None, today=TODAY
        )

    assert str(refused.value) == expected(household)
    assert refused.value.field == field
    db.session.flush()
    db.session.expire_all()
    assert (
        db.session.execute(
            sa.select(Unit.id, Unit.status, Unit.household_id, Unit.version_id).order_by(Unit.id)
        ).all()
        == units_before
    )
    assert household.stage == stage_before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CaseStep)) == steps_before
    assert _audit_count() == audit_before


def test_undoing_the_selection_frees_the_flat_for_the_next_household(make_user):
    supervisor = make_user("supervisor")
    site, building = add_site(db.session)
    project = add_project(db.session)
    first = add_household(db.session, project, order=1)
    second = add_household(db.session, project, order=2)
    unit = flat(building, "201")
    allocate_unit(
        db.session, unit.id, first, selection_date=SELECTED_ON, operator=None, today=TODAY
    )
    db.session.expire_all()

    undone = undo_last_step(db.session, first, reason="选错房号", user=supervisor)

    assert undone == Stage.SELECTED
    db.session.expire_all()
    assert (unit.status, unit.household_id) == (UnitStatus.AVAILABLE, None)
    assert first.stage == Stage.DEMOLISHED and first.units == []
    assert [h.id for h in selection_queue(db.session, project.id)] == [first.id, second.id]
    allocate_unit(
        db.session, unit.id, second, selection_date=SELECTED_ON, operator=None, today=TODAY
    )
    db.session.expire_all()
    assert unit.household_id == second.id


def test_the_queue_lists_waiting_swap_households_in_selection_order():
    site, building = add_site(db.session)
    project = add_project(db.session)
    third = add_household(db.session, project, order=3)
    first = add_household(db.session, project, order=1, mode=CompensationMode.MIXED)
    unnumbered = add_household(db.session, project, order=None)
    second = add_household(db.session, project, order=2)
    add_household(db.session, project, order=4, mode=CompensationMode.MONEY)
    add_household(db.session, project, order=5, stage=Stage.VACATED)
    add_household(db.session, add_project(db.session), order=6)  # another project
    selected = add_household(db.session, project, order=7)
    allocate_unit(
        db.session,
        flat(building, "101").id,
        selected,
        selection_date=SELECTED_ON,
        operator=None,
        today=TODAY,
    )

    queue = selection_queue(db.session, project.id)

    assert [h.id for h in queue] == [first.id, second.id, third.id, unnumbered.id]


def test_begin_allocation_must_open_the_transaction():
    db.session.execute(sa.select(1))
    with pytest.raises(RuntimeError):
        begin_allocation(db.session)
