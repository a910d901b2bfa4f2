"""The fund plan as an Excel workbook (amounts as numbers with two decimals)."""

from __future__ import annotations

from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import PatternFill

from resettle.funds.services import FundPlan
from resettle.projects.models import ExpropriationProject
from resettle.spreadsheets.writing import safe_cell
from resettle.translate import gettext as _

SHORTFALL = PatternFill("solid", fgColor="FDECEA")
AMOUNT = "#,##0.00"


def fund_plan_workbook(project: ExpropriationProject, plan: FundPlan) -> bytes:
    """One sheet: month, planned, of which overrun, paid, available, balance."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Fund plan"))
    for column, width in zip("ABCDEF", (12, 18, 24, 18, 18, 18), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.append(
        [safe_cell(sheet, f"{project.code} {project.name} · " + _("Fund plan"), bold=True)]
    )
    headers = [
        _("Month"),
        _("Planned out (yuan)"),
        _("Of which: transition overrun (yuan)"),
        _("Paid out (yuan)"),
        _("Available (yuan)"),
        _("Balance (yuan)"),
    ]
    sheet.append([safe_cell(sheet, h, bold=True) for h in headers])
    for row in plan.months:
        cells = [safe_cell(sheet, row.month)] + [
            safe_cell(sheet, value, AMOUNT)
            for value in (row.planned, row.overrun, row.paid, row.available, row.balance)
        ]
        if row.balance < 0:
            for cell in cells:
                cell.fill = SHORTFALL
        sheet.append(cells)
    if plan.first_shortfall_month:
        sheet.append([])
        sheet.append(
            [
                safe_cell(sheet, _("First shortfall month"), bold=True),
                safe_cell(sheet, plan.first_shortfall_month),
            ]
        )
    out = BytesIO()
    book.save(out)
    return out.getvalue()
