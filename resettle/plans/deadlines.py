"""Where a household's stage deadlines come from, and what "late" means (DOMAIN.md,
"Back-scheduling" and "Supervision"): the one home of both.

- Sources: a plan node tagged with a stage sets that stage's deadline for the households of its
  owner: the expropriation project's plan sets every stage but the handover, the estate's plan
  (安置房项目) sets the handover, for the households whose path goes through it (see
  `households.stages`). A deadline entered on the household's own case step wins over the plan.
- Late: an open step (no actual date) is late when its deadline lies at least one working day
  behind today (`WorkCalendar.workdays_between(deadline, today) > 0`): a deadline on Friday is
  not late on Saturday or Sunday, and is late on Monday by one working day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from resettle.calendar import WorkCalendar
from resettle.db import core_connection
from resettle.households import stages
from resettle.households.models import CaseStep, CompensationMode, Household, Stage
from resettle.plans.models import Plan, PlanNode
from resettle.projects.models import ExpropriationProject

SITE_STAGES: tuple[Stage, ...] = (Stage.HANDED_OVER,)  # set by the estate's plan


def set_by_site(stage: Stage) -> bool:
    """True when the estate's plan sets this stage's deadline (else the project's plan does)."""
    return Stage(stage) in SITE_STAGES


def sets_deadline(
    plan_project_id: int | None, plan_site_id: int | None, stage: Stage | None
) -> bool:
    """True when a node tagged `stage` in a plan of this owner sets a household deadline."""
    if stage is None:
        return False
    if set_by_site(stage):
        return plan_site_id is not None
    return plan_project_id is not None


def sets_deadline_sql(
    project_id: sa.ColumnElement | int, site_id: sa.ColumnElement | int | None
) -> sa.ColumnElement[bool]:
    """SQL over Plan and PlanNode: the node sets a stage deadline for the households of
    `project_id` (moving into `site_id`, or None: no estate's deadline applies)."""
    # `== None` would render IS NULL and match the project plans: no estate, no site deadline
    from_site = sa.false() if site_id is None else Plan.site_id == site_id
    return sa.and_(
        PlanNode.stage.is_not(None),
        sa.or_(
            sa.and_(Plan.project_id == project_id, PlanNode.stage.not_in(SITE_STAGES)),
            sa.and_(from_site, PlanNode.stage.in_(SITE_STAGES)),
        ),
    )


@dataclass(frozen=True)
class PlanDeadline:
    deadline: date
    provisional: bool
    node: str
    forecast: date | None = None  # the plan node's forecast finish, when scheduled from today
    forecast_provisional: bool = False

    @property
    def expected(self) -> tuple[date, bool]:
        """The date to expect and whether it is provisional: the forecast when the plan is
        forecast to finish after the deadline, the deadline otherwise (never earlier)."""
        if self.forecast is not None and self.forecast > self.deadline:
            return self.forecast, self.forecast_provisional
        return self.deadline, self.provisional


_PLAN_DEADLINES = (
    sa.select(
        PlanNode.stage,
        PlanNode.planned_finish,
        PlanNode.provisional,
        PlanNode.name,
        PlanNode.forecast_finish,
        PlanNode.forecast_provisional,
    )
    .join(Plan, Plan.id == PlanNode.plan_id)
    .where(
        PlanNode.planned_finish.is_not(None),
        sets_deadline_sql(sa.bindparam("project_id"), sa.bindparam("site_id")),
    )
)


def plan_deadlines(
    session: Session | sa.Connection,
    project_id: int,
    site_id: int | None,
    *,
    mode: CompensationMode | None,
) -> dict[Stage, PlanDeadline]:
    """The stage deadlines the plans set for the households of a project with this mode: the
    project's plan, and the estate's plan for the handover when the path goes through it."""
    rows = core_connection(session).execute(
        _PLAN_DEADLINES,
        {"project_id": project_id, "site_id": site_id if stages.gets_flat(mode) else None},
    )
    return {row.stage: PlanDeadline(*row[1:]) for row in rows if stages.on_path(mode, row.stage)}


def with_step_deadlines(
    planned: dict[Stage, PlanDeadline], step_deadlines: dict[Stage, date | None]
) -> dict[Stage, PlanDeadline]:
    """The plans' deadlines with the ones entered on the household's own case steps winning."""
    result = dict(planned)
    for stage, deadline in step_deadlines.items():
        if deadline is not None:
            result[stage] = PlanDeadline(deadline, False, "")
    return result


def household_deadlines(session: Session, household: Household) -> dict[Stage, PlanDeadline]:
    """The deadline of each stage on one household's path: from the plans, a deadline entered
    on the household's own case step winning."""
    site_id = household.project.site_id if household.project else None
    return with_step_deadlines(
        plan_deadlines(session, household.project_id, site_id, mode=household.compensation_mode),
        {
            s.stage: s.deadline
            for s in household.steps
            if stages.on_path(household.compensation_mode, s.stage)
        },
    )


# --- late ----------------------------------------------------------------------------------------


def days_late(calendar: WorkCalendar, deadline: date, today: date) -> int:
    """Working days from the deadline to today (0 or less: not late)."""
    try:
        return calendar.workdays_between(deadline, today)
    except ValueError:  # a date outside the calendar's range: count calendar days
        return (today - deadline).days


def is_late(calendar: WorkCalendar, deadline: date | None, today: date, done: bool) -> bool:
    """True when a step with this deadline, not done, is late today."""
    return deadline is not None and not done and days_late(calendar, deadline, today) > 0


def first_deadline_late_by_at_most(calendar: WorkCalendar, today: date, k: int) -> date:
    """The earliest deadline that is late by at most k working days on `today` (so with a fixed
    `today`, "late" is "deadline before first_deadline_late_by_at_most(calendar, today, 0)",
    which SQL can compare)."""
    first, last = calendar.covered_range
    lo, hi = first.toordinal(), last.toordinal()
    if calendar.workdays_between(first, today) <= k:
        return first
    while lo < hi:  # days late falls as the deadline moves later
        mid = (lo + hi) // 2
        if calendar.workdays_between(date.fromordinal(mid), today) <= k:
            hi = mid
        else:
            lo = mid + 1
    return date.fromordinal(lo)


def late_stages(
    mode: CompensationMode | None,
    current: Stage,
    deadlines: dict[Stage, PlanDeadline],
    calendar: WorkCalendar,
    today: date,
) -> set[Stage]:
    """The stages on the household's path, not reached yet, whose deadline is late today."""
    return {
        stage
        for stage, due in deadlines.items()
        if stages.on_path(mode, stage)
        and not stages.reached(current, stage)
        and days_late(calendar, due.deadline, today) > 0
    }


def late_households_condition(
    session: Session, today: date, calendar: WorkCalendar
) -> sa.ColumnElement[bool]:
    """A condition on Household: some stage on its path and not reached yet is late today
    (`late_stages`, in working days), a deadline on the household's own step winning over
    the plan's.

    Plan deadlines are shared by every household of a project (or estate), so this is one
    small comparison per late plan deadline instead of a deadline copied onto every
    household: a date change re-plans 100,000 households by re-scheduling a handful of nodes.
    """
    late_before = first_deadline_late_by_at_most(calendar, today, 0)
    late = session.execute(
        sa.select(Plan.project_id, Plan.site_id, PlanNode.stage)
        .join(PlanNode, PlanNode.plan_id == Plan.id)
        .where(
            Plan.is_template.is_(False),
            PlanNode.stage.is_not(None),
            PlanNode.planned_finish < late_before,
        )
        .distinct()
    ).all()
    conditions: list[sa.ColumnElement[bool]] = []
    for project_id, site_id, stage in late:
        if not sets_deadline(project_id, site_id, stage):
            continue
        if set_by_site(stage):
            owner = Household.project_id.in_(
                sa.select(ExpropriationProject.id).where(ExpropriationProject.site_id == site_id)
            )
        else:
            owner = Household.project_id == project_id
        own_deadline = (
            sa.select(CaseStep.id)
            .where(
                CaseStep.household_id == Household.id,
                CaseStep.stage == stage,
                CaseStep.deadline.is_not(None),
            )
            .exists()
        )
        conditions.append(
            sa.and_(
                owner,
                stages.before_sql(Household.stage, stage),
                stages.on_path_sql(Household.compensation_mode, stage),
                ~own_deadline,
            )
        )
    # A deadline entered on the household's own step. Measured at 100,000 households:
    # PostgreSQL is fastest reading the partial index of open deadlines once (IN: 54 ms a list
    # page against 500 ms with EXISTS); SQLite probing it per household (EXISTS: 96 ms against
    # 346 ms with IN).
    if session.get_bind().dialect.name == "postgresql":
        owner_of_step = aliased(Household)
        open_late = (
            sa.select(CaseStep.household_id)
            .join(owner_of_step, owner_of_step.id == CaseStep.household_id)
            .where(
                CaseStep.actual_date.is_(None),
                CaseStep.deadline < late_before,
                stages.rank_sql(CaseStep.stage) > stages.rank_sql(owner_of_step.stage),
                stages.on_path_sql(owner_of_step.compensation_mode, CaseStep.stage),
            )
        )
        conditions.append(Household.id.in_(open_late))
    else:
        open_late = sa.select(CaseStep.id).where(
            CaseStep.household_id == Household.id,
            CaseStep.actual_date.is_(None),
            CaseStep.deadline < late_before,
            stages.rank_sql(CaseStep.stage) > stages.rank_sql(Household.stage),
            stages.on_path_sql(Household.compensation_mode, CaseStep.stage),
        )
        conditions.append(open_late.exists())
    return sa.or_(*conditions)
