"""Plans in the app: deadlines follow the plans, re-plan at once, and the transition check."""

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from resettle.audit.models import AuditEvent
from resettle.calendar import china_calendar
from resettle.errors import RuleViolation
from resettle.extensions import db
from resettle.households.models import CaseStep, CompensationMode, Stage
from resettle.plans.deadlines import household_deadlines
from resettle.plans.models import CalendarDay, OfficialYear, PlanKind
from resettle.plans.services import (
    NodeData,
    add_calendar_day,
    add_months,
    app_calendar,
    months_started,
    plan_for_project,
    plan_for_site,
    replan,
    save_node,
    template_for,
    transition_risks,
)
from resettle.sites.models import ResettlementSite

TODAY = date(2025, 6, 2)


def _deadline(household, stage):
    found = household_deadlines(db.session, household).get(stage)
    return found.deadline if found else None


def test_templates_come_with_realistic_nodes():
    site = template_for(db.session, PlanKind.SITE)
    assert [n.name for n in site.nodes] == [
        "选址",
        "用地规划许可",
        "工程规划许可",
        "施工许可",
        "开工",
        "主体封顶",
        "竣工验收",
        "交付",
    ]
    project = template_for(db.session, PlanKind.PROJECT)
    assert [n.name for n in project.nodes] == [
        "征收决定公告",
        "入户调查",
        "评估",
        "签约",
        "腾空交房",
        "拆除",
        "净地交付",
    ]
    assert template_for(db.session, PlanKind.SITE) is site  # created once


def test_household_deadlines_follow_the_project_plan(make_project, make_household):
    project = make_project(land_delivery_date=date(2026, 6, 30))
    households = [make_household(project=project) for _ in range(3)]
    plan = plan_for_project(db.session, project)
    result = replan(db.session, plan, today=TODAY)
    assert set(result.moved) == {
        Stage.SURVEYED,
        Stage.APPRAISED,
        Stage.SIGNED,
        Stage.VACATED,
        Stage.DEMOLISHED,
    }
    by_key = {n.key: n for n in plan.nodes}
    # 2026-06-30 is a Tuesday and a working day: the sink finishes there
    assert by_key["land_delivery"].planned_finish == date(2026, 6, 30)
    cal = china_calendar()
    for n in plan.nodes:
        assert cal.is_workday(n.planned_finish)
    for h in households:
        assert _deadline(h, Stage.SIGNED) == by_key["signing"].planned_finish
        assert _deadline(h, Stage.VACATED) == by_key["vacating"].planned_finish
        assert _deadline(h, Stage.DEMOLISHED) == by_key["demolition"].planned_finish
        assert _deadline(h, Stage.HANDED_OVER) is None
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "replan", AuditEvent.entity_id == plan.id)
    )
    assert event.changes["deadlines"]["signed"] == [
        None,
        by_key["signing"].planned_finish.isoformat(),
    ]


def test_overdue_households_follow_the_plan(make_project, make_household):
    from resettle.households.models import Household
    from resettle.plans.deadlines import late_households_condition

    project = make_project(land_delivery_date=date(2026, 6, 30))
    behind = make_household(project=project, stage=Stage.SURVEYED)
    ahead = make_household(project=project, stage=Stage.DEMOLISHED)
    plan = plan_for_project(db.session, project)
    replan(db.session, plan, today=TODAY)
    appraisal = next(n for n in plan.nodes if n.key == "appraisal").planned_finish

    def overdue(today):
        return set(
            db.session.scalars(
                sa.select(Household.id).where(
                    late_households_condition(db.session, today, china_calendar())
                )
            )
        )

    assert behind.id not in overdue(TODAY)
    assert behind.id not in overdue(appraisal)  # due that day, not late yet
    day_after = china_calendar().add_workdays(appraisal, 1)
    assert behind.id in overdue(day_after) and ahead.id not in overdue(day_after)
    # a deadline entered on the household's own step counts too
    ahead.steps.append(CaseStep(stage=Stage.SETTLED, deadline=date(2025, 5, 1)))
    db.session.flush()
    assert ahead.id in overdue(TODAY)


def test_changing_the_promised_date_moves_every_deadline(make_project, make_household):
    project = make_project(land_delivery_date=date(2026, 6, 30))
    household = make_household(project=project)
    plan = plan_for_project(db.session, project)
    replan(db.session, plan, today=TODAY)
    before = _deadline(household, Stage.SIGNED)
    project.land_delivery_date = date(2026, 9, 30)
    replan(db.session, plan, today=TODAY)
    after = _deadline(household, Stage.SIGNED)
    assert after > before
    # National Day 2026 lies between: the shift is more than the plain working-day count
    assert china_calendar().workdays_between(before, after) > 0


def _planned_demolition(make_project, make_household):
    """A project's plan, its demolition node and a household's signing deadline before."""
    project = make_project(land_delivery_date=date(2026, 6, 30))
    household = make_household(project=project)
    plan = plan_for_project(db.session, project)
    replan(db.session, plan, today=TODAY)
    demolition = next(n for n in plan.nodes if n.key == "demolition")
    return plan, demolition, household, _deadline(household, Stage.SIGNED)


def _save_demolition(plan, demolition, *, duration, predecessors):
    save_node(
        db.session,
        plan,
        demolition,
        NodeData(
            name=demolition.name,
            duration=duration,
            stage=Stage.DEMOLISHED,
            predecessors=tuple(predecessors),
        ),
        today=TODAY,
    )


def test_a_longer_duration_moves_earlier_deadlines(make_project, make_household):
    plan, demolition, household, before = _planned_demolition(make_project, make_household)
    links = [(k.predecessor_id, k.lag) for k in demolition.predecessors]
    _save_demolition(plan, demolition, duration=demolition.duration + 10, predecessors=links)
    assert china_calendar().workdays_between(_deadline(household, Stage.SIGNED), before) == 10


def test_a_longer_lag_after_a_predecessor_moves_earlier_deadlines(make_project, make_household):
    plan, demolition, household, before = _planned_demolition(make_project, make_household)
    links = [(k.predecessor_id, k.lag) for k in demolition.predecessors]
    assert links, "the template's demolition follows another node"
    longer = [(pred, lag + 5) for pred, lag in links]
    _save_demolition(plan, demolition, duration=demolition.duration, predecessors=longer)
    assert [(k.predecessor_id, k.lag) for k in demolition.predecessors] == longer
    assert china_calendar().workdays_between(_deadline(household, Stage.SIGNED), before) == 5


def test_a_cycle_is_refused_naming_the_node(make_project):
    project = make_project(land_delivery_date=date(2026, 6, 30))
    plan = plan_for_project(db.session, project)
    replan(db.session, plan, today=TODAY)
    survey = next(n for n in plan.nodes if n.key == "survey")
    signing = next(n for n in plan.nodes if n.key == "signing")
    with pytest.raises(RuleViolation) as excinfo:
        save_node(
            db.session,
            plan,
            survey,
            NodeData(
                name="入户调查", duration=30, stage=Stage.SURVEYED, predecessors=((signing.id, 0),)
            ),
            today=TODAY,
        )
    assert "入户调查" in excinfo.value.message or "签约" in excinfo.value.message
    assert "循环" in excinfo.value.message


def test_no_promised_date_means_no_schedule(make_project):
    project = make_project(land_delivery_date=None)
    plan = plan_for_project(db.session, project)
    assert replan(db.session, plan, today=TODAY).moved == {}
    assert plan.schedule_error and all(n.planned_finish is None for n in plan.nodes)


def test_admin_entered_days_change_the_calendar():
    db.session.add(CalendarDay(day=date(2025, 6, 3), working=False, note="防汛"))
    db.session.add(OfficialYear(year=2027))
    db.session.add(CalendarDay(day=date(2027, 2, 8), working=False, official=True, note="春节"))
    db.session.flush()
    cal = app_calendar(db.session)
    assert not cal.is_workday(date(2025, 6, 3))
    assert not cal.is_workday(date(2027, 2, 8))
    assert not cal.is_provisional(date(2027, 5, 1))
    assert cal.is_provisional(date(2028, 5, 1))


def test_plan_reaching_into_a_year_without_data_is_provisional(make_project):
    site = ResettlementSite(name="臻雅苑", promised_handover_date=date(2028, 6, 30))
    db.session.add(site)
    db.session.flush()
    plan = plan_for_site(db.session, site)
    replan(db.session, plan, today=TODAY)
    handover = next(n for n in plan.nodes if n.key == "handover")
    assert handover.provisional is True


def test_a_forecast_through_2027_is_stored_as_provisional_until_2027_is_entered(make_project):
    # the estate needs about 580 working days: from mid-2025 its forecast runs into 2027
    site = ResettlementSite(name="臻雅苑", promised_handover_date=date(2026, 12, 31))
    db.session.add(site)
    db.session.flush()
    plan = plan_for_site(db.session, site)
    replan(db.session, plan, today=TODAY)
    handover = next(n for n in plan.nodes if n.key == "handover")
    assert handover.forecast_finish.year == 2027
    assert handover.forecast_provisional is True
    siting = next(n for n in plan.nodes if n.key == "siting")  # forecast in 2025
    assert siting.forecast_provisional is False
    db.session.add(OfficialYear(year=2027, note="国办发明电"))
    db.session.flush()
    replan(db.session, plan, today=TODAY)
    assert handover.forecast_finish.year == 2027
    assert handover.forecast_provisional is False


def test_a_forecast_ending_in_2026_is_not_provisional(make_project):
    project = make_project(land_delivery_date=date(2026, 6, 30))
    plan = plan_for_project(db.session, project)
    replan(db.session, plan, today=TODAY)
    finishes = [n.forecast_finish for n in plan.nodes]
    assert max(finishes).year == 2026 and min(finishes).year == 2025
    assert [n.forecast_provisional for n in plan.nodes] == [False] * len(plan.nodes)


def test_months(make_project):
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert months_started(date(2025, 1, 10), date(2025, 3, 10)) == 2
    assert months_started(date(2025, 1, 10), date(2025, 3, 11)) == 3
    assert months_started(date(2025, 3, 10), date(2025, 3, 1)) == 0


def test_transition_overrun_is_flagged_with_extra_months(make_project, make_household):
    site = ResettlementSite(name="东城臻雅苑", promised_handover_date=date(2027, 6, 30))
    db.session.add(site)
    db.session.flush()
    project = make_project(site_id=site.id, transition_months=12)
    late = make_household(
        project=project, stage=Stage.VACATED, compensation_mode=CompensationMode.SWAP
    )
    late.steps.append(CaseStep(stage=Stage.VACATED, actual_date=date(2025, 3, 3)))
    fine = make_household(
        project=project, stage=Stage.VACATED, compensation_mode=CompensationMode.SWAP
    )
    fine.steps.append(CaseStep(stage=Stage.VACATED, actual_date=date(2026, 12, 1)))
    money = make_household(
        project=project,
        stage=Stage.VACATED,
        compensation_mode=CompensationMode.MONEY,
        appraisal_value=Decimal("1"),
    )
    money.steps.append(CaseStep(stage=Stage.VACATED, actual_date=date(2025, 3, 3)))
    db.session.flush()
    plan = plan_for_site(db.session, site)
    replan(db.session, plan, today=TODAY)
    for h in (late, fine, money):
        db.session.refresh(h)
    risks = transition_risks(db.session, project)
    assert [r.case_number for r in risks] == [late.case_number]
    risk = risks[0]
    assert risk.transition_end == date(2026, 3, 3)
    assert (
        risk.forecast_handover == next(n for n in plan.nodes if n.key == "handover").forecast_finish
    )
    assert risk.extra_months == months_started(date(2026, 3, 3), risk.forecast_handover)
    assert risk.forecast_handover.year == 2027 and risk.forecast_provisional is True
    # handover deadline reaches the swap households through the estate's plan
    assert (
        _deadline(late, Stage.HANDED_OVER)
        == next(n for n in plan.nodes if n.key == "handover").planned_finish
    )
    assert _deadline(money, Stage.HANDED_OVER) is None


def test_a_new_promised_handover_date_replans_the_estate(make_project):
    from resettle.sites.services import site_data, update_site

    site = ResettlementSite(name="新苑", promised_handover_date=date(2027, 6, 30))
    db.session.add(site)
    db.session.flush()
    plan = plan_for_site(db.session, site)
    replan(db.session, plan, today=TODAY)
    handover = next(n for n in plan.nodes if n.key == "handover")
    assert handover.planned_finish == date(2027, 6, 30)
    data = site_data(site)
    data.promised_handover_date = date(2027, 12, 31)
    update_site(db.session, site, data)
    db.session.refresh(handover)
    assert handover.planned_finish == date(2027, 12, 31)


def test_a_new_land_delivery_date_replans_the_project(make_project):
    from resettle.projects.services import project_data, update_project

    project = make_project(land_delivery_date=date(2026, 6, 30))
    plan = plan_for_project(db.session, project)
    replan(db.session, plan, today=TODAY)
    data = project_data(project)
    data.land_delivery_date = date(2026, 9, 30)
    update_project(db.session, project, data)
    sink = next(n for n in plan.nodes if n.key == "land_delivery")
    db.session.refresh(sink)
    assert sink.planned_finish == date(2026, 9, 30)


def test_dates_outside_the_working_day_calendar_are_refused(make_project):
    project = make_project(land_delivery_date=date(2026, 6, 30))
    plan = plan_for_project(db.session, project)
    replan(db.session, plan, today=TODAY)
    survey = next(n for n in plan.nodes if n.key == "survey")
    with pytest.raises(RuleViolation) as refused:
        save_node(
            db.session,
            plan,
            survey,
            NodeData(name="入户调查", duration=30, actual_start=date(2003, 12, 31)),
            today=TODAY,
        )
    assert refused.value.field == "actual_start" and "2004-01-01" in refused.value.message
    for day in (date(1, 1, 1), date(2101, 1, 1)):
        with pytest.raises(RuleViolation) as refused:
            add_calendar_day(db.session, day, working=False, official=False, note=None)
        assert refused.value.field == "day"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CalendarDay)) == 0


def test_a_template_node_takes_no_actual_dates():
    template = template_for(db.session, PlanKind.PROJECT)
    node = template.nodes[0]
    with pytest.raises(RuleViolation) as refused:
        save_node(
            db.session,
            template,
            node,
            NodeData(name=node.name, duration=node.duration, actual_start=date(2025, 1, 6)),
            today=TODAY,
        )
    assert refused.value.field == "actual_start" and node.actual_start is None
