"""What the public pages show: project progress, a resident's own case, verified notices.

Everything here is built from allowlisted fields only (masked names, case numbers, dates,
areas, amounts, flats); an ID number, phone, member or note never leaves this module.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from resettle.agreements.kinds import AGREEMENT_KIND_LABELS
from resettle.agreements.services import agreements_for_household, verify_agreement
from resettle.audit.services import record_event
from resettle.calendar import WorkCalendar
from resettle.clock import OFFICE_TZ
from resettle.db import core_connection, money
from resettle.funds.models import CompensationRule
from resettle.funds.services import (
    FACT_COLUMNS,
    allowance_figures,
    allowance_paid_query,
    base_terms,
    current_rule_id,
    facts_from,
)
from resettle.households import stages
from resettle.households.models import CaseStep, Household, Stage
from resettle.households.services import stage_label
from resettle.households.stages import SWAP_MODES
from resettle.notices.models import Notice, NoticeType
from resettle.notices.services import NOTICE_TYPE_LABELS, verify_notice
from resettle.plans.deadlines import is_late, late_stages, plan_deadlines, with_step_deadlines
from resettle.plans.models import Plan, PlanNode
from resettle.plans.services import app_calendar
from resettle.privacy import mask_name
from resettle.projects.models import ExpropriationProject
from resettle.sites.models import Building, ResettlementSite, Unit

# --- projects --------------------------------------------------------------------------------


@dataclass
class ProjectFigures:
    households: int = 0
    signed: int = 0
    by_stage: dict[Stage, int] = field(default_factory=dict)

    @property
    def signing_rate(self) -> float:
        """Signed households (at signing or any later stage) over all, 0.0 to 1.0."""
        return self.signed / self.households if self.households else 0.0


def project_figures(session: Session, project_ids: list[int]) -> dict[int, ProjectFigures]:
    """Live stage counts and the signing rate of each project, in one grouped query."""
    figures = {pid: ProjectFigures() for pid in project_ids}
    rows = session.execute(
        sa.select(Household.project_id, Household.stage, sa.func.count())
        .where(Household.project_id.in_(project_ids))
        .group_by(Household.project_id, Household.stage)
    )
    for project_id, stage, count in rows:
        entry = figures[project_id]
        entry.by_stage[stage] = count
        entry.households += count
        if stages.reached(stage, Stage.SIGNED):
            entry.signed += count
    return figures


@dataclass(frozen=True)
class GanttBar:
    """One plan node on the public chart: planned span and what happened (or is forecast)."""

    name: str
    planned_start: date
    planned_finish: date
    actual_start: date | None
    actual_finish: date | None
    forecast_finish: date | None
    provisional: bool
    late: bool
    forecast_provisional: bool = False
    left: float = 0.0  # percentages of the chart's width
    width: float = 0.0
    done_left: float = 0.0
    done_width: float = 0.0


def public_gantt(session: Session, project: ExpropriationProject, today: date) -> dict[str, Any]:
    """The project's plan (and its estate's) as bars: planned against actual, in percent."""
    owners = [Plan.project_id == project.id]
    if project.site_id is not None:
        owners.append(Plan.site_id == project.site_id)
    nodes = session.execute(
        sa.select(
            PlanNode.name,
            PlanNode.planned_start,
            PlanNode.planned_finish,
            PlanNode.actual_start,
            PlanNode.actual_finish,
            PlanNode.forecast_finish,
            PlanNode.provisional,
            PlanNode.forecast_provisional,
        )
        .join(Plan, Plan.id == PlanNode.plan_id)
        .where(sa.or_(*owners), PlanNode.planned_finish.is_not(None))
        .order_by(Plan.site_id.is_not(None), PlanNode.planned_start, PlanNode.position)
    ).all()
    if not nodes:
        return {"bars": [], "start": None, "end": None, "today_left": None}
    dates = [d for n in nodes for d in n[1:6] if d is not None] + [today]
    start, end = min(dates), max(dates)
    span = max((end - start).days, 1)

    def pct(day: date) -> float:
        return round((day - start).days / span * 100, 2)

    calendar = app_calendar(session)
    bars = []
    for name, p_start, p_finish, a_start, a_finish, forecast, provisional, f_prov in nodes:
        p_start = p_start or p_finish
        done_from = a_start or (p_start if a_finish else None)
        done_to = a_finish or (today if a_start else None)
        late = a_finish > p_finish if a_finish else is_late(calendar, p_finish, today, False)
        bars.append(
            GanttBar(
                name=name,
                planned_start=p_start,
                planned_finish=p_finish,
                actual_start=a_start,
                actual_finish=a_finish,
                forecast_finish=forecast,
                provisional=provisional,
                forecast_provisional=f_prov,
                late=late,
                left=pct(p_start),
                width=max(pct(p_finish) - pct(p_start), 0.8),
                done_left=pct(done_from) if done_from else 0.0,
                done_width=max(pct(done_to) - pct(done_from), 0.8)
                if done_from and done_to
                else 0.0,
            )
        )
    return {"bars": bars, "start": start, "end": end, "today_left": pct(today)}


# --- a resident's own case ---------------------------------------------------------------------


def normalise_suffix(text: str | None) -> str:
    """The last six characters of an ID number as typed: full-width folded, x upper-cased."""
    return unicodedata.normalize("NFKC", "".join((text or "").split())).upper()


def lookup_key(case_number: str) -> str:
    """A hashed identifier of a case number for the audit trail and the rate limit (the
    number itself is not written down by a public lookup)."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    normalised = unicodedata.normalize("NFKC", (case_number or "").strip()).upper()
    return hmac.new(secret, normalised.encode(), hashlib.sha256).hexdigest()[:24]


# The columns a lookup reads: enough to check the suffix and to show the case, nothing else.
_CASE_COLUMNS = (
    Household.id,
    Household.case_number,
    Household.head_id_number,
    Household.head_name,
    Household.stage,
    *FACT_COLUMNS,
    Household.rule_id,
    Household.project_id,
    ExpropriationProject.name.label("project_name"),
    ExpropriationProject.site_id,
    ExpropriationProject.transition_months,
    ExpropriationProject.signing_start,
    ExpropriationProject.signing_end,
)
# The rule the household signed under, as the plain terms the allowance needs; its column
# names do not clash with the household's or the project's, so `base_terms(row, row)` works.
_RULE_TERMS = (
    CompensationRule.moving_allowance_per_m2,
    CompensationRule.temporary_allowance_per_m2_month,
    CompensationRule.month_counting,
    CompensationRule.signing_bonus,
    CompensationRule.price_within_entitled,
    CompensationRule.band_m2,
    CompensationRule.price_first_band,
    CompensationRule.price_beyond_band,
    CompensationRule.overrun_tiers,
)
_FIND_CASE = (
    sa.select(
        *_CASE_COLUMNS,
        *_RULE_TERMS,
        allowance_paid_query(Household.id).scalar_subquery().label("allowance_paid"),
    )
    .join(ExpropriationProject, ExpropriationProject.id == Household.project_id)
    .outerjoin(CompensationRule, CompensationRule.id == Household.rule_id)
    .where(
        sa.func.upper(Household.case_number) == sa.bindparam("number"),
        ExpropriationProject.published.is_(True),  # an unpublished project's cases are not found
    )
    .limit(1)
)
_CASE_STEPS = sa.select(CaseStep.stage, CaseStep.deadline, CaseStep.actual_date).where(
    CaseStep.household_id == sa.bindparam("household_id")
)
_CASE_FLATS = (
    sa.select(ResettlementSite.name, Building.name, Unit.entrance, Unit.number, Unit.area)
    .join(Building, Building.id == Unit.building_id)
    .join(ResettlementSite, ResettlementSite.id == Building.site_id)
    .where(Unit.household_id == sa.bindparam("household_id"))
    .order_by(Unit.id)
)
_RULE = sa.select(CompensationRule.__table__).where(CompensationRule.id == sa.bindparam("rule_id"))


def find_case(conn: sa.Connection, case_number: str, id_suffix: str) -> sa.Row | None:
    """The household (as a row of the columns the status page needs) when the case number and
    the last six characters of the head's ID number both match; None otherwise, whatever was
    wrong."""
    number = unicodedata.normalize("NFKC", (case_number or "").strip())
    suffix = normalise_suffix(id_suffix)
    if not number or len(number) > 40 or len(suffix) != 6:
        return None
    candidate = conn.execute(_FIND_CASE, {"number": number.upper()}).first()
    if candidate is not None and hmac.compare_digest(
        candidate.head_id_number[-6:].upper().encode(), suffix.encode()
    ):
        return candidate
    return None


@dataclass
class TimelineStep:
    stage: Stage
    label: str
    done_on: date | None
    deadline: date | None
    provisional: bool
    state: str  # done / next / later
    late: bool


@dataclass
class CaseStatus:
    case_number: str
    name: str
    project_name: str
    stage_label: str
    steps: list[TimelineStep]
    next_step: TimelineStep | None
    flats: list[dict[str, str]]
    allowance: dict[str, Any] | None
    handover: TimelineStep | None
    swap: bool
    # The estate's forecast when it is later than the handover deadline, else the deadline.
    expected_handover: date | None = None
    expected_handover_provisional: bool = False


def case_status(
    conn: sa.Connection, case: sa.Row, today: date, calendar: WorkCalendar | None = None
) -> CaseStatus:
    """The resident's view of the own case (a row from `find_case`): timeline, what is next
    and by when, the flat, the allowance and the expected handover (provisional where the
    plan is). A few small reads of plain columns: this page is what a rush of residents hits."""
    swap = case.compensation_mode in SWAP_MODES
    steps_rows = conn.execute(_CASE_STEPS, {"household_id": case.id}).all()
    done = {r.stage: r.actual_date for r in steps_rows if r.actual_date is not None}
    mode = case.compensation_mode
    deadlines = with_step_deadlines(
        plan_deadlines(conn, case.project_id, case.site_id, mode=mode),
        {r.stage: r.deadline for r in steps_rows if stages.on_path(mode, r.stage)},
    )
    upcoming = stages.next_stage(mode, case.stage)
    late = late_stages(mode, case.stage, deadlines, calendar or app_calendar(conn), today)
    steps: list[TimelineStep] = []
    next_step = None
    for stage in stages.path(mode):
        due = deadlines.get(stage)
        done_on = done.get(stage)
        if done_on is not None:
            state = "done"
        elif stage == upcoming:
            state = "next"
        else:
            state = "later"
        step = TimelineStep(
            stage=stage,
            label=stage_label(stage),
            done_on=done_on,
            deadline=due.deadline if due else None,
            provisional=bool(due and due.provisional),
            state=state,
            late=stage in late,
        )
        if state == "next":
            next_step = step
        steps.append(step)
    units = conn.execute(_CASE_FLATS, {"household_id": case.id}).all()
    flats = [
        {"label": site + Unit.format_label(building, entrance, number), "area": f"{area:.2f}"}
        for site, building, entrance, number, area in units
    ]
    handover = next((s for s in steps if s.stage == Stage.HANDED_OVER), None)
    handover_due = deadlines.get(Stage.HANDED_OVER) if handover is not None else None
    expected, expected_provisional = handover_due.expected if handover_due else (None, False)
    return CaseStatus(
        case_number=case.case_number,
        name=mask_name(case.head_name),
        project_name=case.project_name,
        stage_label=stage_label(case.stage),
        steps=steps,
        next_step=next_step,
        flats=flats,
        allowance=_allowance(conn, case, done, [u.area for u in units], today),
        handover=handover,
        swap=swap,
        expected_handover=expected,
        expected_handover_provisional=expected_provisional,
    )


def _allowance(
    conn: sa.Connection, case: sa.Row, done: dict[Stage, date], flat_areas: list, today: date
) -> dict[str, Any] | None:
    facts = facts_from(case, done, flat_areas)
    if not facts.swap or facts.vacated_on is None:
        return None
    if case.rule_id is not None:
        terms = base_terms(case, case)  # the signing rule's columns came with the case
    else:  # signed before the project had rules: the rules in force now
        rule_id = current_rule_id(conn, case.project_id, today)
        rule = conn.execute(_RULE, {"rule_id": rule_id}).first() if rule_id else None
        if rule is None:
            return None
        terms = base_terms(rule, case)
    statement = allowance_figures(facts, terms, money(case.allowance_paid or 0), as_of=today)
    if statement is None:
        return None
    return {
        "start": statement.start,
        "months": statement.months,
        "months_paid": statement.months_paid,
        "months_due": max(statement.months - statement.months_paid, 0),
        "accrued": statement.accrued,
        "paid": statement.paid,
        "due": statement.due,
        "running": statement.running,
    }


def lookup_case(
    session: Session, case_number: str, id_suffix: str, today: date
) -> CaseStatus | None:
    """A resident's lookup: the own case's status when the case number and the last six
    characters of the head's ID number match, None otherwise (whatever was wrong). Every
    lookup leaves an audit row with a hashed identifier of the case number, for the caller to
    commit.

    The reads come first; on SQLite they then end, and the audit row takes the write lock in a
    transaction of its own, so a rush of lookups holds that lock for one insert each instead of
    for every read (and a read transaction is never upgraded, which fails at once with
    "database is locked" when another worker wrote in between)."""
    conn = core_connection(session)
    found = find_case(conn, case_number, id_suffix)
    status = case_status(conn, found, today) if found is not None else None
    if conn.dialect.name == "sqlite":
        session.commit()
        conn = session.connection(execution_options={"sqlite_begin_immediate": True})
    record_event(
        conn,
        "lookup",
        "Household",
        found.id if found is not None else None,
        {"case": [None, lookup_key(case_number)], "found": [None, found is not None]},
        actor="public",
    )
    return status


# --- notices ----------------------------------------------------------------------------------


@dataclass
class VerifiedNotice:
    number: str
    type_label: str
    issued_on: date
    addressee: str  # masked
    voided_on: date | None = None  # voided (作废): no longer in force
    agreement: bool = False  # an agreement (补偿协议), not a notice
    supplements: list[str] = field(default_factory=list)  # later supplementary agreements


def verified_notice(session: Session, number: str, code: str) -> VerifiedNotice | None:
    """The public facts of the notice (or agreement) whose number and check code match; None
    otherwise."""
    notice: Notice | None = verify_notice(session, number or "", code or "")
    if notice is None:
        agreement = verify_agreement(session, number or "", code or "")
        if agreement is None:
            return None
        return VerifiedNotice(
            number=agreement.number,
            type_label=str(AGREEMENT_KIND_LABELS[agreement.kind]),
            issued_on=agreement.signed_on,
            addressee=mask_name((agreement.figures or {}).get("head_name", "")),
            agreement=True,
            supplements=[
                later.number
                for later in agreements_for_household(session, agreement.household_id)
                if later.id > agreement.id
            ],
        )
    if notice.type == NoticeType.SUPERVISION:  # addressed to a unit, not a person
        addressee = (notice.details or {}).get("unit", "")
    else:
        addressee = mask_name((notice.details or {}).get("head_name", ""))
    return VerifiedNotice(
        number=notice.number,
        type_label=str(NOTICE_TYPE_LABELS[notice.type]),
        issued_on=notice.issued_on,
        addressee=addressee,
        voided_on=notice.voided_at.astimezone(OFFICE_TZ).date() if notice.voided_at else None,
    )
