"""Writing workbooks: cells that stay text, the bytes of a workbook, and the error report (the
office's own file back with a 错误说明 column and the bad cells marked)."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font, PatternFill

from resettle.spreadsheets.problems import RowErrors
from resettle.spreadsheets.reading import open_workbook

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BAD_CELL = PatternFill("solid", fgColor="F8CBAD")
NOTE_HEADER = "错误说明"


def safe_cell(ws: Any, value: Any, number_format: str | None = None, bold: bool = False) -> Any:
    """A cell whose text is never taken for a formula (=, +, -, @ at the start stay text)."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        cell.data_type = "s"
        cell.quotePrefix = True
    if number_format:
        cell.number_format = number_format
    if bold:
        cell.font = Font(bold=True)
    return cell


def workbook_bytes(workbook: Any) -> bytes:
    """The .xlsx file of an openpyxl workbook."""
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _report_cell(ws: Any, value: Any, bad: bool) -> Any:
    if isinstance(value, str) and value.isdigit() and len(value) > 11:
        number_format = "@"  # long digit strings (ID numbers) stay text
    elif hasattr(value, "year"):
        number_format = "yyyy-mm-dd"
    else:
        number_format = None
    cell = safe_cell(ws, value, number_format)
    if bad:
        cell.fill = BAD_CELL
    return cell


def error_report(data: bytes, errors: RowErrors, header_rows: dict[str, int]) -> bytes:
    """The uploaded workbook (.xlsx or .xls) as an .xlsx with the same sheets and cells, a
    错误说明 column after each table's last column saying what is wrong with each bad row, and
    the cells to blame filled red, so the office corrects its own file and uploads it again.

    `header_rows` gives, per sheet name, the row of the table's header (where the new column
    gets its heading)."""
    out = openpyxl.Workbook(write_only=True)
    with open_workbook(data) as book:
        for sheet in book.sheets:
            width = 0
            for row in sheet.rows(fill_merged=False):
                last = max((i for i, v in enumerate(row.values) if v is not None), default=-1)
                width = max(width, last + 1)
            bad_rows = errors.by_sheet(sheet.name)
            header_row = header_rows.get(sheet.name)
            ws = out.create_sheet(sheet.name[:31] or "Sheet")
            for row in sheet.rows(fill_merged=False):
                error = bad_rows.get(row.number)
                blamed = error.columns if error else set()
                values = (row.values + [None] * width)[:width]
                cells = [_report_cell(ws, v, i in blamed) for i, v in enumerate(values)]
                if row.number == header_row:
                    cells.append(safe_cell(ws, NOTE_HEADER, bold=True))
                elif error is not None:
                    note = safe_cell(ws, error.explanation())
                    note.font = Font(color="C00000")
                    cells.append(note)
                ws.append(cells)
    return workbook_bytes(out)
