"""A plan as the wall chart (挂图作战) shows and prints it: its rows and its title, the same for
the plan page and the print job."""

from __future__ import annotations

from resettle import clock
from resettle.extensions import db
from resettle.plans.deadlines import is_late
from resettle.plans.gantt import GanttRow
from resettle.plans.models import Plan
from resettle.plans.services import app_calendar
from resettle.translate import gettext as _


def gantt_rows(plan: Plan) -> list[GanttRow]:
    """The plan's scheduled nodes as wall-chart rows."""
    today = clock.today()
    calendar = app_calendar(db.session)
    rows = []
    for node in plan.nodes:
        if node.planned_start is None or node.planned_finish is None:
            continue
        overdue = is_late(calendar, node.planned_finish, today, node.actual_finish is not None)
        rows.append(
            GanttRow(
                id=node.key,
                name=node.name,
                responsible_unit=node.responsible_unit,
                responsible_person=node.responsible_person,
                leader=node.leader,
                planned_start=node.planned_start,
                planned_finish=node.planned_finish,
                actual_start=node.actual_start,
                actual_finish=node.actual_finish,
                forecast_start=node.forecast_start,
                forecast_finish=node.forecast_finish,
                milestone=node.duration == 0,
                critical=node.critical,
                late=overdue or (node.slip or 0) > 0,
                provisional=node.provisional,
                slip=node.slip,
                forecast_provisional=node.forecast_provisional,
            )
        )
    return rows


def owner_label(plan: Plan) -> str:
    """Whose plan it is: the project, the estate, or a template."""
    if plan.is_template:
        return _("Template")
    if plan.project is not None:
        return f"{plan.project.code} {plan.project.name}"
    return plan.site.name if plan.site is not None else ""


def chart_title(plan: Plan) -> str:
    """The wall chart's title, on the page and on the print."""
    return f"{owner_label(plan)} · {plan.name}"
