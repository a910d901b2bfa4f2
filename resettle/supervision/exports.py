"""The overdue list as documents: the printed list (PDF) and the Excel file.

Plain functions of a session, the filters and the as-of day that return bytes, so a screen, a
CLI command or a background job can make them alike. Both are Chinese documents whatever the
screen's language.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import openpyxl
from openpyxl.utils import get_column_letter
from sqlalchemy.orm import Session

from resettle.calendar import WorkCalendar
from resettle.chinese import in_chinese
from resettle.db import utcnow
from resettle.documents.rendering import ParallelRenderer
from resettle.errors import RuleViolation
from resettle.i18n import STAGE_LABELS
from resettle.projects.models import ExpropriationProject
from resettle.spreadsheets.writing import safe_cell, workbook_bytes
from resettle.supervision.levels import LEVEL_LABELS, Level
from resettle.supervision.models import ItemKind
from resettle.supervision.overdue import (
    KIND_LABELS,
    UNASSIGNED,
    OverdueFilter,
    OverdueItem,
    _group,
    overdue_items,
    overdue_summary,
)
from resettle.translate import gettext as _

MAX_PDF_ROWS = 5000
MAX_XLSX_ROWS = 200_000
OVERDUE_TITLE = "督查督办逾期清单"
NO_UNIT_TEXT = "（未明确责任单位）"


def filter_description(session: Session, filters: OverdueFilter) -> list[str]:
    """The filters in words for the printed list's head (a Chinese document, like the Excel)."""
    parts = []
    if filters.project_id is not None:
        project = session.get(ExpropriationProject, filters.project_id)
        if project is not None:
            parts.append(f"项目：{project.code} {project.name}")
    if filters.unit is not None:
        parts.append(f"责任单位：{NO_UNIT_TEXT if filters.unit == UNASSIGNED else filters.unit}")
    if filters.level is not None:
        with in_chinese():
            parts.append(f"等级：{LEVEL_LABELS[filters.level]}")
    return parts


def _plain_row(item: OverdueItem) -> dict[str, Any]:
    return {
        "level": str(LEVEL_LABELS[item.level]),
        "level_value": item.level.value,
        "days_late": item.days_late,
        "scope": item.scope,
        "subject": item.subject,
        "what": item.what,
        "deadline": item.deadline.isoformat(),
        "provisional": item.provisional,
        "person": item.responsible_person or "",
        "leader": item.leader or "",
        "caseworker": item.caseworker or "",
        "order": item.order_number or "",
    }


def _too_long() -> RuleViolation:
    return RuleViolation(
        _(
            "The list has more than %(n)d items, too many to print: filter by project, unit "
            "or level, or download it as Excel.",
            n=MAX_PDF_ROWS,
        ),
        "unit",
    )


def check_printable(
    session: Session, filters: OverdueFilter, today: date, *, calendar: WorkCalendar | None = None
) -> int:
    """How many rows the printed list has; RuleViolation when too many to print (asked by the
    page before it starts the job, from the per-unit counts alone)."""
    total = sum(s.total for s in overdue_summary(session, filters, today, calendar=calendar))
    if total > MAX_PDF_ROWS:
        raise _too_long()
    return total


def overdue_pdf_context(
    session: Session,
    filters: OverdueFilter,
    today: date,
    *,
    made_at: datetime | None = None,
    calendar: WorkCalendar | None = None,
) -> dict[str, Any]:
    """The plain data the printed overdue list is made from (RuleViolation when too long)."""
    summaries, items = overdue_items(
        session, filters, today, limit=MAX_PDF_ROWS + 1, calendar=calendar
    )
    if len(items) > MAX_PDF_ROWS:
        raise _too_long()
    groups = []
    for summary, group_items in _group(items, summaries):
        groups.append(
            {
                "unit": summary.unit or NO_UNIT_TEXT,
                "total": summary.total,
                "counts": [
                    (str(LEVEL_LABELS[level]), summary.by_level.get(level, 0)) for level in Level
                ],
                "rows": [_plain_row(i) for i in group_items],
            }
        )
    totals: Counter[Level] = Counter()
    for summary in summaries:
        totals.update(summary.by_level)
    return {
        "title": OVERDUE_TITLE,
        "made_at": made_at or utcnow(),
        "as_of": today.isoformat(),
        "filters": filter_description(session, filters),
        "groups": groups,
        "total": len(items),
        "totals": [(str(LEVEL_LABELS[level]), totals.get(level, 0)) for level in Level],
    }


OVERDUE_PDF_TEMPLATE = "supervision/pdf/overdue.html"


def overdue_pdf(
    session: Session,
    filters: OverdueFilter,
    today: date,
    *,
    made_at: datetime | None = None,
    calendar: WorkCalendar | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> bytes:
    """The overdue list as an A4 landscape PDF: header repeated, pages numbered, signatures."""
    with in_chinese():
        context = overdue_pdf_context(session, filters, today, made_at=made_at, calendar=calendar)
        parts = overdue_parts(context)
    total = context["total"]
    laid = {"parts": 0}

    def laid_out(count: int) -> None:
        # Chunks finish in any order; the rows are about evenly spread over the parts.
        laid["parts"] += count
        if progress is not None:
            progress(min(total, round(total * laid["parts"] / len(parts))), total)

    if progress is not None:
        progress(0, total)
    with ParallelRenderer(
        title=context["title"],
        made_at=context["made_at"],
        template=OVERDUE_PDF_TEMPLATE,
        pdf_variant=None,
        expected_parts=len(parts),
        on_rendered=laid_out,
    ) as renderer:
        renderer.submit(parts)
        document = renderer.finish()
    return document.pdf


#: Rows in one part of the printed list: large lists are laid out in parts by several
#: processes (resettle/documents/rendering.py), each part a table under its unit's heading.
ROWS_PER_PART = 25


def overdue_parts(context: dict[str, Any]) -> list[dict[str, Any]]:
    """The printed list as parts: the first carries the title and totals, each unit's first
    part its heading (a bookmark), later parts of a long unit say it continues, and the last
    carries the signature lines."""
    parts: list[dict[str, Any]] = []
    for group in context["groups"]:
        rows = group["rows"]
        for start in range(0, max(len(rows), 1), ROWS_PER_PART):
            parts.append(
                {
                    "n": {
                        "group": group if start == 0 else None,
                        "unit": group["unit"],
                        "continued": start > 0,
                        "rows": rows[start : start + ROWS_PER_PART],
                    }
                }
            )
    if not parts:
        parts.append({"n": {"group": None, "unit": None, "continued": False, "rows": []}})
    parts[0]["n"]["head"] = {key: context[key] for key in ("as_of", "filters", "total", "totals")}
    parts[-1]["n"]["last"] = True
    return parts


XLSX_COLUMNS = (
    ("level", "等级", 8),
    ("days_late", "逾期工作日", 10),
    ("unit", "责任单位", 22),
    ("person", "责任人", 10),
    ("leader", "包挂领导", 12),
    ("kind", "类别", 8),
    ("scope", "项目", 30),
    ("subject", "事项", 26),
    ("what", "环节/节点", 12),
    ("deadline", "期限", 12),
    ("provisional", "期限暂定", 8),
    ("caseworker", "经办人", 10),
    ("order", "督办单", 20),
)


def overdue_xlsx(
    session: Session,
    filters: OverdueFilter,
    today: date,
    *,
    calendar: WorkCalendar | None = None,
) -> bytes:
    """The overdue list as .xlsx (text that Excel would run as a formula stays text)."""
    _summaries_, items = overdue_items(
        session, filters, today, limit=MAX_XLSX_ROWS, calendar=calendar
    )
    workbook = openpyxl.Workbook(write_only=True)
    ws = workbook.create_sheet("逾期清单")
    for index, (_key, _header, width) in enumerate(XLSX_COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = "A3"
    ws.append([safe_cell(ws, f"截至 {today.isoformat()}（按工作日计）", bold=True)])
    ws.append([safe_cell(ws, header, bold=True) for _key, header, _width in XLSX_COLUMNS])
    with in_chinese():
        levels = {level: str(label) for level, label in LEVEL_LABELS.items()}
        kinds = {kind: str(label) for kind, label in KIND_LABELS.items()}
        stage_words = {stage: str(label) for stage, label in STAGE_LABELS.items()}
    for item in items:
        values = {
            "level": levels[item.level],
            "days_late": item.days_late,
            "unit": item.responsible_unit or "",
            "person": item.responsible_person or "",
            "leader": item.leader or "",
            "kind": kinds[item.kind],
            "scope": item.scope,
            "subject": item.subject,
            "what": item.node_name if item.kind == ItemKind.NODE else stage_words[item.stage],
            "deadline": item.deadline,
            "provisional": "暂定" if item.provisional else "",
            "caseworker": item.caseworker or "",
            "order": item.order_number or "",
        }
        ws.append(
            [
                safe_cell(ws, values[key], "yyyy-mm-dd" if key == "deadline" else None)
                for key, _header, _width in XLSX_COLUMNS
            ]
        )
    return workbook_bytes(workbook)
