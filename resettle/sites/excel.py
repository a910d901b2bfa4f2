"""The flat list as Excel: read an estate's units from a workbook, and the blank template.

Files come from many offices: the header may sit under a title, be named a little differently
(楼号 for 楼栋, 房号 for 室号, 面积 for 建筑面积(㎡)), and cells may hold full-width digits or stray
spaces. Every unusable cell is reported with its row, column and reason; the caller imports
nothing while any is reported.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from resettle.errors import RuleViolation
from resettle.sites.services import (
    MAX_FLOORS,
    UnitRow,
    UnitSheet,
    clean_entrance,
    clean_number,
    normalise_text,
    parse_area,
)
from resettle.spreadsheets.problems import RowError
from resettle.spreadsheets.reading import Column, find_table, open_workbook
from resettle.translate import gettext as _

# The columns of the template, in order, with the header spellings seen in practice (compared
# without spaces, full-width forms and units).
UNIT_COLUMNS: tuple[Column, ...] = (
    Column(
        "building",
        "楼栋",
        ("楼栋", "楼栋号", "楼号", "栋号", "栋", "幢", "幢号", "楼幢", "楼幢号", "楼"),
        True,
    ),
    Column("entrance", "单元", ("单元", "单元号")),
    Column("floor", "楼层", ("楼层", "层", "层次", "所在楼层", "所在层", "层号"), True),
    Column("number", "室号", ("室号", "房号", "房间号", "室", "户号", "门牌号", "房屋号"), True),
    Column("area", "建筑面积(㎡)", ("建筑面积", "面积", "房屋面积", "建面", "套内建筑面积"), True),
)
COLUMNS = {c.field: c.header for c in UNIT_COLUMNS}


def _cell_text(value: Any) -> str:
    """A cell as text: numbers without a trailing '.0', strings normalised (full-width, spaces)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int):
        return str(value)
    return normalise_text(str(value))


def _parse_floor(value: Any) -> int:
    if isinstance(value, (datetime, date)):
        raise ValueError
    text = re.sub(r"(层|楼|F)$", "", _cell_text(value), flags=re.IGNORECASE)
    if not re.fullmatch(r"-?\d+", text):
        raise ValueError
    return int(text)


def read_units_workbook(data: bytes) -> UnitSheet:
    """Read the flats of an .xlsx or .xls file (the first sheet with their header); refuse a
    file that is neither."""
    with open_workbook(data) as workbook:
        table = find_table(workbook, UNIT_COLUMNS)
        positions = table.header.columns
        result = UnitSheet(columns=dict(table.header.headers))
        seen: dict[tuple[str, str, str], int] = {}
        for sheet_row in table.rows:
            values = sheet_row.values
            cells = {
                name: (values[col] if col < len(values) else None)
                for name, col in positions.items()
            }
            if all(_cell_text(v) == "" for v in cells.values()):
                continue
            row = _read_row(sheet_row.number, cells, result, positions)
            if row is None:
                continue
            if row.key in seen:
                result.errors.add(
                    sheet_row.number,
                    result.columns["number"],
                    _("The same flat as row %(row)d.", row=seen[row.key]),
                    index=positions["number"],
                )
                continue
            seen[row.key] = sheet_row.number
            result.rows.append(row)
    if not result.rows and not result.errors:
        raise RuleViolation(_("The file lists no flats under its header row."), "file")
    return result


def _read_row(
    row_number: int, cells: dict[str, Any], sheet: UnitSheet, positions: dict[str, int]
) -> UnitRow | None:
    """One data row as a UnitRow, or None after adding the reason of each bad cell to `sheet`."""
    error = RowError(row_number)

    def bad(name: str, message: str) -> None:
        error.add(sheet.columns[name], message, positions.get(name))

    building = _cell_text(cells["building"])
    if not building:
        bad("building", _("This cell is empty."))
    elif len(building) > 50:
        bad("building", _("At most %(n)d characters.", n=50))
    entrance = clean_entrance(_cell_text(cells.get("entrance")))
    if len(entrance) > 10:
        bad("entrance", _("At most %(n)d characters.", n=10))
    floor = 0
    if _cell_text(cells["floor"]) == "":
        bad("floor", _("This cell is empty."))
    else:
        try:
            floor = _parse_floor(cells["floor"])
        except ValueError:
            bad("floor", _("Enter the floor as a whole number, such as 15."))
        else:
            if not 1 <= floor <= MAX_FLOORS:
                bad("floor", _("A building has 1 to %(n)d floors.", n=MAX_FLOORS))
    number = clean_number(_cell_text(cells["number"]))
    if not number:
        bad("number", _("This cell is empty."))
    elif len(number) > 10:
        bad("number", _("At most %(n)d characters.", n=10))
    area = Decimal("0")
    raw_area = cells["area"]
    if _cell_text(raw_area) == "":
        bad("area", _("This cell is empty."))
    elif isinstance(raw_area, (datetime, date, bool)):
        bad("area", _("Enter an area in square metres, such as 89.50."))
    else:
        try:
            area = parse_area(_cell_text(raw_area))
        except RuleViolation as exc:
            bad("area", exc.message)
    if error.problems:
        sheet.errors.extend([error])
        return None
    return UnitRow(row_number, building, entrance, floor, number, area)


def units_template() -> bytes:
    """A blank workbook with the import columns, an example row explained on a second sheet."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "房源"
    sheet.append(list(COLUMNS.values()))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="EEF1F5")
        cell.alignment = Alignment(horizontal="center")
    for letter, width in zip("ABCDE", (12, 8, 8, 10, 14), strict=True):
        sheet.column_dimensions[letter].width = width
        # Entrance and number as text, so 0101 keeps its zero.
        if letter in "BD":
            for row in range(2, 2001):
                sheet[f"{letter}{row}"].number_format = "@"
    sheet.freeze_panes = "A2"
    notes = workbook.create_sheet("填写说明")
    notes.column_dimensions["A"].width = 90
    for line in (
        "每行一套房源，从第 2 行起填写；表头上方可以有标题行。",
        "楼栋：如 1#楼、2号楼；同一楼栋的名称须一致。",
        "单元：如 1、2；只有一个单元的楼可留空（按 1 单元）。",
        "楼层：整数，如 15。",
        "室号：如 1502；同一楼栋同一单元内不能重复。",
        "建筑面积(㎡)：大于 0，最多两位小数，如 89.50。",
        "示例：1#楼 | 1 | 15 | 1502 | 89.50",
        "再次导入同一文件不会重复添加：已有房源按楼栋、单元、室号匹配，面积或楼层变化的可选房源会被更正。",
    ):
        notes.append([line])
    out = BytesIO()
    workbook.save(out)
    return out.getvalue()
