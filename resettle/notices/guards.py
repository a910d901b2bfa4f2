"""Which household may get which notice: the guards of each notice type."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from resettle import clock
from resettle.agreements.models import Agreement, latest_agreement
from resettle.errors import RuleViolation
from resettle.funds.services import AllowanceStatement, allowance_statement
from resettle.households import stages
from resettle.households.models import Household, Stage
from resettle.households.services import stage_label
from resettle.households.stages import SWAP_MODES
from resettle.i18n import format_money
from resettle.notices.models import Notice, NoticeType
from resettle.notices.types import HOUSEHOLD_TYPES, NOTICE_TYPE_LABELS
from resettle.plans.deadlines import PlanDeadline, household_deadlines
from resettle.plans.services import app_calendar
from resettle.translate import gettext as _


def _deadline(
    deadlines: dict[Stage, PlanDeadline], household: Household, stage: Stage, what: str
) -> PlanDeadline:
    due = deadlines.get(stage)
    if due is None:
        raise RuleViolation(
            _(
                "No %(stage)s deadline is set for household %(case)s (in the plan or on the "
                "case): the %(notice)s needs one.",
                stage=stage_label(stage),
                case=household.case_number,
                notice=what,
            ),
            "type",
        )
    return due


@dataclass
class NoticeInput:
    """What a caseworker adds when issuing: the selection time of a selection notice, and the
    date the notice asks for when it is not the plan's (which may have passed)."""

    selection_at: datetime | None = None
    deadline: date | None = None
    again: bool = False  # confirmed: another one while one of this type is in force


#: The stage whose deadline a notice asks for (the date printed as "请您于…前").
DEADLINE_STAGES = {
    NoticeType.SIGNING: Stage.SIGNED,
    NoticeType.VACATING: Stage.VACATED,
    NoticeType.HANDOVER: Stage.HANDED_OVER,
}


#: How the date a notice asks for was set, when not from the plan (PlanDeadline.node).
BY_NOTICE_PERIOD = "(notice period)"
BY_CASEWORKER = "(entered)"
BY_AGREEMENT = "(agreement)"


def agreed_moving(session: Session, household: Household) -> tuple[str, date, bool] | None:
    """The number of the household's agreement in force, the moving deadline it sets, and
    whether that date is provisional."""
    row = session.execute(
        latest_agreement(household.id, Agreement.number, Agreement.figures)
    ).first()
    if row is None or not (row.figures or {}).get("moving_deadline"):
        return None
    figures = row.figures
    return (
        row.number,
        date.fromisoformat(figures["moving_deadline"]),
        bool(figures.get("moving_deadline_provisional")),
    )


def project_period_end(session: Session, household: Household, today: date) -> PlanDeadline:
    """The date a notice issued `today` asks for by the project's notice period: that many
    working days from the issue date (provisional where the calendar is)."""
    calendar = app_calendar(session)
    day = calendar.add_workdays(today, household.project.notice_workdays)
    return PlanDeadline(
        day, provisional=calendar.touches_provisional(today, day), node=BY_NOTICE_PERIOD
    )


def asked_deadline(
    session: Session,
    household: Household,
    notice_type: NoticeType,
    deadlines: dict[Stage, PlanDeadline],
    data: NoticeInput,
    today: date,
) -> PlanDeadline | None:
    """The date the notice asks for, never before its issue date: the one the caseworker
    entered, else the plan's while it has not passed, else the project's notice period from
    the issue date (a notice dated today cannot ask for last month)."""
    stage = DEADLINE_STAGES.get(NoticeType(notice_type))
    if stage is None:
        return None
    if data.deadline is not None:
        if data.deadline < today:
            raise RuleViolation(
                _(
                    "Household %(case)s: the date %(date)s is before the issue date %(today)s; "
                    "a notice cannot ask for a date already past.",
                    case=household.case_number,
                    date=data.deadline.isoformat(),
                    today=today.isoformat(),
                ),
                "deadline",
            )
        agreed = agreed_moving(session, household) if stage == Stage.VACATED else None
        if agreed is not None and data.deadline < agreed[1]:
            raise RuleViolation(
                _(
                    "Household %(case)s: agreement %(number)s lets it move by %(date)s; a "
                    "notice cannot ask for an earlier date.",
                    case=household.case_number,
                    number=agreed[0],
                    date=agreed[1].isoformat(),
                ),
                "deadline",
            )
        return PlanDeadline(data.deadline, provisional=False, node=BY_CASEWORKER)
    if stage == Stage.VACATED:  # the agreement's date binds, not the plan's
        agreed = agreed_moving(session, household)
        if agreed is not None and agreed[1] >= today:
            return PlanDeadline(agreed[1], provisional=agreed[2], node=BY_AGREEMENT)
    due = deadlines.get(stage)
    if due is None or due.deadline >= today:
        return due
    return project_period_end(session, household, today)


def check_notice(
    session: Session,
    household: Household,
    notice_type: NoticeType,
    data: NoticeInput | None = None,
    *,
    today: date | None = None,
) -> dict[Stage, PlanDeadline]:
    """Refuse a notice the household's case does not call for; returns its deadlines."""
    notice_type = NoticeType(notice_type)
    data = data or NoticeInput()
    today = today or clock.today()
    what = str(NOTICE_TYPE_LABELS[notice_type])
    if notice_type not in HOUSEHOLD_TYPES:
        raise RuleViolation(_("This kind of notice cannot be issued here."), "type")
    rank = stages.rank(household.stage)
    case = household.case_number
    deadlines = household_deadlines(session, household)
    if notice_type == NoticeType.SIGNING:
        if rank >= stages.rank(Stage.SIGNED):
            raise RuleViolation(
                _("Household %(case)s has signed already: no signing reminder.", case=case),
                "type",
            )
        _deadline(deadlines, household, Stage.SIGNED, what)
    elif notice_type == NoticeType.VACATING:
        if rank < stages.rank(Stage.SIGNED):
            raise RuleViolation(
                _(
                    "Household %(case)s has not signed yet: a vacating notice follows signing.",
                    case=case,
                ),
                "type",
            )
        if rank >= stages.rank(Stage.VACATED):
            raise RuleViolation(
                _("Household %(case)s has vacated the house already.", case=case), "type"
            )
        _deadline(deadlines, household, Stage.VACATED, what)
    elif notice_type == NoticeType.SELECTION:
        if household.compensation_mode not in SWAP_MODES:
            raise RuleViolation(
                _(
                    "Household %(case)s is not compensated with a flat: no selection notice.",
                    case=case,
                ),
                "type",
            )
        if household.selection_order is None:
            raise RuleViolation(
                _(
                    "Household %(case)s has no selection order number yet: enter it first.",
                    case=case,
                ),
                "type",
            )
        if rank >= stages.rank(Stage.SELECTED):
            raise RuleViolation(
                _("Household %(case)s has selected its flat already.", case=case), "type"
            )
        if rank < stages.rank(Stage.VACATED):
            raise RuleViolation(
                _(
                    "Household %(case)s has not vacated yet: no selection before vacating.",
                    case=case,
                ),
                "type",
            )
        if data.selection_at is None:
            raise RuleViolation(_("Enter the date and time of the selection."), "selection_at")
        if data.selection_at.date() < today:
            raise RuleViolation(_("The selection time cannot be in the past."), "selection_at")
    elif notice_type == NoticeType.HANDOVER:
        if rank >= stages.rank(Stage.HANDED_OVER):
            raise RuleViolation(
                _("Household %(case)s has received its flat already.", case=case), "type"
            )
        if not household.units:
            raise RuleViolation(_("No flat is allocated to household %(case)s.", case=case), "type")
        unfinished = [u.label for u in household.units if not u.building.complete]
        if unfinished:
            raise RuleViolation(
                _(
                    "%(flats)s is not complete yet and cannot be handed over.",
                    flats="、".join(unfinished),
                ),
                "type",
            )
        _deadline(deadlines, household, Stage.HANDED_OVER, what)
    elif notice_type == NoticeType.ALLOWANCE:
        _allowance_due(session, household, today)
    return deadlines


def _allowance_due(session: Session, household: Household, today: date) -> AllowanceStatement:
    """The allowance statement an allowance notice prints; refused when nothing is due."""
    case = household.case_number
    if household.compensation_mode not in SWAP_MODES:
        raise RuleViolation(
            _(
                "Household %(case)s is not compensated with a flat: it gets no temporary "
                "allowance.",
                case=case,
            ),
            "type",
        )
    if stages.rank(household.stage) < stages.rank(Stage.VACATED):
        raise RuleViolation(
            _(
                "Household %(case)s has not vacated yet: the temporary allowance starts on "
                "vacating.",
                case=case,
            ),
            "type",
        )
    statement = allowance_statement(session, household, as_of=today)
    if statement is None:
        raise RuleViolation(
            _(
                "Project %(project)s has no compensation rules yet: the allowance cannot be "
                "computed.",
                project=household.project.code,
            ),
            "type",
        )
    if statement.due <= 0:
        raise RuleViolation(
            _(
                "Household %(case)s has been paid all the allowance accrued so far "
                "(%(amount)s yuan): there is nothing to notify.",
                case=case,
                amount=format_money(statement.accrued),
            ),
            "type",
        )
    return statement


def notice_in_force(
    session: Session, household: Household, notice_type: NoticeType
) -> Notice | None:
    """The household's latest notice of this type that is not void (None when there is none)."""
    return session.scalar(
        sa.select(Notice)
        .where(
            Notice.household_id == household.id,
            Notice.type == NoticeType(notice_type),
            Notice.voided_at.is_(None),
        )
        .order_by(Notice.issued_at.desc(), Notice.id.desc())
        .limit(1)
    )


def check_not_twice(
    session: Session, household: Household, notice_type: NoticeType, data: NoticeInput
) -> None:
    """A second notice of a type while one is in force is issued only when confirmed."""
    if data.again:
        return
    earlier = notice_in_force(session, household, notice_type)
    if earlier is not None:
        raise RuleViolation(
            _(
                "Household %(case)s already has a %(notice)s in force (%(number)s of "
                "%(day)s): confirm to issue another, or void that one first.",
                case=household.case_number,
                notice=NOTICE_TYPE_LABELS[NoticeType(notice_type)],
                number=earlier.number,
                day=earlier.issued_on.isoformat(),
            ),
            "again",
        )
