"""The leader dashboard (督查督办): per responsible unit, its open and late items and its orders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from resettle.calendar import WorkCalendar
from resettle.supervision.levels import Level
from resettle.supervision.models import OrderStatus, SupervisionOrder
from resettle.supervision.overdue import OverdueFilter, overdue_summary


@dataclass
class UnitDashboardRow:
    unit: str | None
    open_items: int = 0
    late_items: int = 0
    supervise_items: int = 0
    orders_open: int = 0
    orders_closed_on_time: int = 0
    orders_closed_late: int = 0
    orders_escalated: int = 0


def dashboard(
    session: Session, today: date, *, calendar: WorkCalendar | None = None
) -> list[UnitDashboardRow]:
    """Per responsible unit: open and late items now, and its orders (open, closed on time,
    closed late, escalated = open past the rectification deadline)."""
    rows: dict[str | None, UnitDashboardRow] = {}
    for summary in overdue_summary(session, OverdueFilter(), today, calendar=calendar):
        row = rows.setdefault(summary.unit, UnitDashboardRow(summary.unit))
        row.open_items = summary.total
        row.late_items = summary.late
        row.supervise_items = summary.by_level.get(Level.SUPERVISE, 0)
    orders = session.execute(
        sa.select(
            SupervisionOrder.responsible_unit,
            SupervisionOrder.status,
            SupervisionOrder.rectify_by,
            SupervisionOrder.closed_on,
        )
    ).all()
    for unit, status, rectify_by, closed_on in orders:
        row = rows.setdefault(unit, UnitDashboardRow(unit))
        if status == OrderStatus.CLOSED:
            if closed_on is not None and closed_on <= rectify_by:
                row.orders_closed_on_time += 1
            else:
                row.orders_closed_late += 1
        else:
            row.orders_open += 1
            if today > rectify_by:
                row.orders_escalated += 1
    return sorted(
        rows.values(),
        key=lambda r: (
            r.unit is None,
            -r.orders_escalated,
            -r.supervise_items,
            -r.late_items,
            r.unit or "",
        ),
    )


def dashboard_totals(rows: Sequence[UnitDashboardRow]) -> UnitDashboardRow:
    total = UnitDashboardRow(None)
    for row in rows:
        for name in (
            "open_items",
            "late_items",
            "supervise_items",
            "orders_open",
            "orders_closed_on_time",
            "orders_closed_late",
            "orders_escalated",
        ):
            setattr(total, name, getattr(total, name) + getattr(row, name))
    return total
