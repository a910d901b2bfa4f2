"""Supervision orders (督办单): issued for late items, followed, answered, closed, escalated."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from resettle import clock
from resettle.auth.models import User
from resettle.calendar import WorkCalendar
from resettle.chinese import in_chinese
from resettle.db import utcnow
from resettle.documents.dates import chinese_date
from resettle.errors import RuleViolation
from resettle.households import stages
from resettle.households.models import CaseStep, Household
from resettle.notices.models import NoticeType
from resettle.notices.services import draft_notices, store_notices
from resettle.plans.deadlines import days_late
from resettle.plans.models import PlanNode
from resettle.plans.services import app_calendar
from resettle.supervision.levels import LEVEL_LABELS
from resettle.supervision.models import (
    ItemKind,
    OrderStatus,
    SupervisionItem,
    SupervisionOrder,
    SupervisionResponse,
)
from resettle.supervision.overdue import OverdueItem, items_by_keys
from resettle.translate import gettext as _
from resettle.translate import lazy_gettext as _l

MAX_RECTIFY_WORKDAYS = 60

ORDER_STATUS_LABELS = {
    OrderStatus.OPEN: _l("Issued, awaiting response"),
    OrderStatus.RESPONDED: _l("Response received"),
    OrderStatus.CLOSED: _l("Order closed"),
}


@dataclass
class OrderData:
    keys: list[str]
    responsible_unit: str
    rectify_workdays: int
    note: str | None = None


def suggested_unit(items: Sequence[OverdueItem]) -> str:
    """The unit most of the items belong to (to fill the order form)."""
    units = Counter(i.responsible_unit for i in items if i.responsible_unit)
    return units.most_common(1)[0][0] if units else ""


def issue_order(
    session: Session,
    data: OrderData,
    *,
    user: User | None,
    today: date | None = None,
    calendar: WorkCalendar | None = None,
) -> SupervisionOrder:
    """立项 and 交办: a supervision order for late items, numbered and printed as a notice."""
    today = today or clock.today()
    calendar = calendar or app_calendar(session)
    keys = list(dict.fromkeys(k for k in data.keys if k))
    if not keys:
        raise RuleViolation(_("Choose at least one late item for the order."), "items")
    unit = " ".join((data.responsible_unit or "").split())
    if not unit:
        raise RuleViolation(_("Name the responsible unit the order goes to."), "responsible_unit")
    if len(unit) > 100:
        raise RuleViolation(_("The unit's name is too long."), "responsible_unit")
    workdays = data.rectify_workdays
    if workdays is None or not 1 <= workdays <= MAX_RECTIFY_WORKDAYS:
        raise RuleViolation(
            _(
                "The rectification period is 1 to %(n)d working days.",
                n=MAX_RECTIFY_WORKDAYS,
            ),
            "rectify_workdays",
        )
    items = items_by_keys(session, keys, today, calendar=calendar)
    if len(items) < len(keys):
        raise RuleViolation(
            _(
                "%(n)d of the chosen items are no longer open (done, or not due soon); "
                "reload the list and choose again.",
                n=len(keys) - len(items),
            ),
            "items",
        )
    taken = [i for i in items if i.order_number]
    if taken:
        raise RuleViolation(
            _(
                "%(item)s is under supervision order %(number)s already (not closed yet).",
                item=f"{taken[0].subject} {taken[0].what}",
                number=taken[0].order_number,
            ),
            "items",
        )
    rectify_by = calendar.add_workdays(today, workdays)
    note = (data.note or "").strip() or None
    with in_chinese():
        printed = [
            {
                "scope": i.scope,
                "subject": i.subject,
                "stage": i.what,
                "deadline": i.deadline.isoformat(),
                "provisional": i.provisional,
                "days_late": i.days_late,
                "level": str(LEVEL_LABELS[i.level]),
                "person": i.responsible_person,
                "leader": i.leader,
            }
            for i in items
        ]
    details = {
        "type": NoticeType.SUPERVISION.value,
        "unit": unit,
        "rectify_workdays": workdays,
        "rectify_by": rectify_by.isoformat(),
        "rectify_by_text": chinese_date(rectify_by),
        "note": note or "",
        "item_count": len(items),
        "rows": printed,
    }
    drafts = draft_notices(session, NoticeType.SUPERVISION, [details], [None], issued_on=today)
    notice = store_notices(
        session,
        drafts,
        made_at=utcnow(),
        title=f"督办单 {drafts[0].number}",
        user=user,
        issued_on=today,
    )[0]
    order = SupervisionOrder(
        notice=notice,
        responsible_unit=unit,
        issued_on=today,
        rectify_workdays=workdays,
        rectify_by=rectify_by,
        note=note,
        status=OrderStatus.OPEN,
        issued_by_id=user.id if user else None,
    )
    for i in items:
        order.items.append(
            SupervisionItem(
                kind=i.kind,
                plan_node_id=i.node_id if i.kind == ItemKind.NODE else None,
                household_id=i.household_id,
                stage=i.stage if i.kind == ItemKind.STEP else None,
                scope=i.scope[:240],
                subject=i.subject[:240],
                deadline=i.deadline,
                provisional=i.provisional,
                days_late=i.days_late,
                level=i.level,
                responsible_unit=i.responsible_unit,
                responsible_person=i.responsible_person,
                leader=i.leader,
            )
        )
    session.add(order)
    session.flush()
    return order


def items_done(session: Session, order: SupervisionOrder) -> dict[int, date | bool | None]:
    """跟踪: for each item of the order, when it was done (a date, True when done without a
    recorded date, None while open), read live from the plan and the households."""
    node_ids = {i.plan_node_id for i in order.items if i.plan_node_id}
    household_ids = {i.household_id for i in order.items if i.household_id}
    finished = (
        dict(
            session.execute(
                sa.select(PlanNode.id, PlanNode.actual_finish).where(PlanNode.id.in_(node_ids))
            ).all()
        )
        if node_ids
        else {}
    )
    current_stages = (
        dict(
            session.execute(
                sa.select(Household.id, Household.stage).where(Household.id.in_(household_ids))
            ).all()
        )
        if household_ids
        else {}
    )
    actual = (
        {
            (h, s): d
            for h, s, d in session.execute(
                sa.select(CaseStep.household_id, CaseStep.stage, CaseStep.actual_date).where(
                    CaseStep.household_id.in_(household_ids), CaseStep.actual_date.is_not(None)
                )
            )
        }
        if household_ids
        else {}
    )
    done: dict[int, date | bool | None] = {}
    for item in order.items:
        if item.kind == ItemKind.NODE:
            done[item.id] = finished.get(item.plan_node_id) if item.plan_node_id else True
        else:
            when = actual.get((item.household_id, item.stage))
            current = current_stages.get(item.household_id)
            reached = current is not None and stages.reached(current, item.stage)
            done[item.id] = when or (True if reached else None)
    return done


def open_item_count(session: Session, order: SupervisionOrder) -> int:
    return sum(1 for value in items_done(session, order).values() if not value)


def _check_date(day: date | None, order: SupervisionOrder, today: date, field_name: str) -> date:
    if day is None:
        raise RuleViolation(_("Enter the date."), field_name)
    if day > today:
        raise RuleViolation(_("The date cannot be in the future."), field_name)
    if day < order.issued_on:
        raise RuleViolation(
            _(
                "The date cannot be before the order was issued (%(date)s).",
                date=order.issued_on.isoformat(),
            ),
            field_name,
        )
    return day


def record_response(
    session: Session,
    order: SupervisionOrder,
    *,
    responded_on: date | None,
    text: str,
    user: User | None,
    today: date | None = None,
) -> SupervisionResponse:
    """反馈: the responsible unit's answer, with its date."""
    today = today or clock.today()
    if order.status == OrderStatus.CLOSED:
        raise RuleViolation(_("This order is closed."), "text")
    responded_on = _check_date(responded_on, order, today, "responded_on")
    text = (text or "").strip()
    if not text:
        raise RuleViolation(_("Enter what the unit answered."), "text")
    response = SupervisionResponse(
        responded_on=responded_on, text=text, recorded_by_id=user.id if user else None
    )
    order.responses.append(response)
    order.status = OrderStatus.RESPONDED
    session.flush()
    return response


def close_order(
    session: Session,
    order: SupervisionOrder,
    *,
    closed_on: date | None,
    note: str | None,
    user: User | None,
    today: date | None = None,
) -> int:
    """办结: close the order; returns how many of its items are still open (allowed, but said)."""
    today = today or clock.today()
    if order.status == OrderStatus.CLOSED:
        raise RuleViolation(_("This order is closed already."), "closed_on")
    closed_on = _check_date(closed_on, order, today, "closed_on")
    still_open = open_item_count(session, order)
    order.status = OrderStatus.CLOSED
    order.closed_on = closed_on
    order.closed_by_id = user.id if user else None
    order.closing_note = (note or "").strip() or None
    order.items_open_at_close = still_open
    session.flush()
    return still_open


def escalation_workdays(order: SupervisionOrder, today: date, calendar: WorkCalendar) -> int:
    """Working days an order not closed is past its rectification deadline (0 if not)."""
    if order.status == OrderStatus.CLOSED or today <= order.rectify_by:
        return 0
    return max(days_late(calendar, order.rectify_by, today), 1)


@dataclass
class OrderFilter:
    status: str | None = None  # open | closed | escalated
    unit: str | None = None


def list_orders(session: Session, filters: OrderFilter, today: date) -> list[SupervisionOrder]:
    """Orders, newest first, filtered by state (escalated: not closed and past the deadline)."""
    query = (
        sa.select(SupervisionOrder)
        .options(
            selectinload(SupervisionOrder.notice),
            selectinload(SupervisionOrder.items),
        )
        .order_by(SupervisionOrder.issued_on.desc(), SupervisionOrder.id.desc())
    )
    if filters.status == "open":
        query = query.where(SupervisionOrder.status != OrderStatus.CLOSED)
    elif filters.status == "closed":
        query = query.where(SupervisionOrder.status == OrderStatus.CLOSED)
    elif filters.status == "escalated":
        query = query.where(
            SupervisionOrder.status != OrderStatus.CLOSED, SupervisionOrder.rectify_by < today
        )
    if filters.unit:
        query = query.where(SupervisionOrder.responsible_unit == filters.unit)
    return list(session.scalars(query))
