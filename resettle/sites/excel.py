"""The flat list as Excel: read an estate's units from a workbook, and the blank template.

Files come from many offices: the header may sit under a title, be named a little differently
(楼号 for 楼栋, 房号 for 室号, 面积 for 建筑面积(㎡)), and cells may hold full-width digits or stray
spaces. Every unusable cell is reported with its row, column and reason; the caller imports
nothing while any is reported.
"""

from __future__ import annotations

import re
import zipfile
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils.exceptions import InvalidFileException

from resettle.errors import RuleViolation
from resettle.sites.services import (
    MAX_FLOORS,
    RowError,
    UnitRow,
    UnitSheet,
    clean_entrance,
    clean_number,
    normalise_text,
    parse_area,
)
from resettle.translate import gettext as _

# The columns of the template, in order: field -> header.
COLUMNS = {
    "building": "楼栋",
    "entrance": "单元",
    "floor": "楼层",
    "number": "室号",
    "area": "建筑面积(㎡)",
}
REQUIRED = ("building", "floor", "number", "area")
# Header spellings seen in practice, after normalising (no spaces, half-width, unit dropped).
ALIASES = {
    "building": {"楼栋", "楼栋号", "楼号", "栋号", "栋", "幢", "幢号", "楼幢", "楼幢号", "楼"},
    "entrance": {"单元", "单元号"},
    "floor": {"楼层", "层", "层次", "所在楼层", "所在层", "层号"},
    "number": {"室号", "房号", "房间号", "室", "户号", "门牌号", "房屋号"},
    "area": {"建筑面积", "面积", "房屋面积", "建面", "套内建筑面积"},
}
HEADER_SEARCH_ROWS = 20


def _header_field(value: Any) -> str | None:
    """Which field a header cell names: '建筑面积（㎡）' and ' 面积 ' both name the area."""
    if not isinstance(value, str):
        return None
    text = normalise_text(value)
    text = re.sub(r"[(\[【].*$", "", text)  # 建筑面积(m2) -> 建筑面积
    text = re.sub(r"[/:]?(m2|㎡|平方米|平米)$", "", text, flags=re.IGNORECASE)
    for name, spellings in ALIASES.items():
        if text in spellings:
            return name
    return None


def _find_header(rows: list[tuple[Any, ...]]) -> tuple[int, dict[str, int]] | None:
    """The first row (0-based) naming every required column, with each field's column index."""
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        found: dict[str, int] = {}
        for col, value in enumerate(row):
            name = _header_field(value)
            if name and name not in found:
                found[name] = col
        if all(name in found for name in REQUIRED):
            return index, found
    return None


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
    """Read the flats on the first sheet of an .xlsx file; refuse a file that is not one."""
    try:
        workbook = load_workbook(BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise RuleViolation(
            _("This file is not an Excel workbook (.xlsx). Save it as .xlsx and upload it again."),
            "file",
        ) from None
    try:
        sheet = workbook.worksheets[0]
        rows = [tuple(r) for r in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()
    header = _find_header(rows)
    if header is None:
        raise RuleViolation(
            _(
                "No header row with the columns %(columns)s was found on the first sheet.",
                columns="、".join(COLUMNS[name] for name in REQUIRED),
            ),
            "file",
        )
    header_index, positions = header
    header_row = rows[header_index]
    result = UnitSheet(
        columns={name: str(header_row[col]).strip() for name, col in positions.items()}
    )
    seen: dict[tuple[str, str, str], int] = {}
    for index in range(header_index + 1, len(rows)):
        row_number = index + 1  # as Excel shows it
        cells = {
            name: (rows[index][col] if col < len(rows[index]) else None)
            for name, col in positions.items()
        }
        if all(_cell_text(v) == "" for v in cells.values()):
            continue
        row = _read_row(row_number, cells, result)
        if row is None:
            continue
        if row.key in seen:
            result.errors.append(
                RowError(
                    row_number,
                    result.columns["number"],
                    _("The same flat as row %(row)d.", row=seen[row.key]),
                )
            )
            continue
        seen[row.key] = row_number
        result.rows.append(row)
    if not result.rows and not result.errors:
        raise RuleViolation(_("The file lists no flats under its header row."), "file")
    return result


def _read_row(row_number: int, cells: dict[str, Any], sheet: UnitSheet) -> UnitRow | None:
    """One data row as a UnitRow, or None after adding the reason of each bad cell to `sheet`."""
    errors: list[RowError] = []

    def bad(name: str, message: str) -> None:
        errors.append(RowError(row_number, sheet.columns[name], message))

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
    if errors:
        sheet.errors.extend(errors)
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
