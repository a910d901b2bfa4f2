"""Household ledgers in Excel: read an office's ledger, check it, import it; export the list.

An import reads the whole file, checks every row with the rules `register_household` uses and
writes nothing when any row is wrong. Households are matched by the head's ID number within the
project, so importing the same file twice changes nothing. New households, their survey steps and
their audit rows are written with Core executemany (PITFALLS.md, "Database").
"""

from __future__ import annotations

import enum
import io
import itertools
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

import openpyxl
import sqlalchemy as sa
from flask_babel import force_locale
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.utils.datetime import from_excel
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from resettle import clock
from resettle.audit.models import AuditEvent
from resettle.audit.services import audit_value, current_actor
from resettle.auth.models import User
from resettle.db import utcnow
from resettle.errors import RuleViolation
from resettle.households.models import CaseStep, CompensationMode, Household, Stage
from resettle.households.queries import HouseholdFilter, filtered_households
from resettle.households.services import (
    EDITABLE_FIELDS,
    HouseholdData,
    MemberData,
    check_step_date,
    next_case_number,
    update_household,
    validate_household_data,
)
from resettle.i18n import MODE_LABELS, STAGE_LABELS
from resettle.idnumbers import mask_id_number, normalise_id_number
from resettle.projects.models import ExpropriationProject
from resettle.translate import gettext as _
from resettle.translate import lazy_gettext as _l

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The language of the files: headers, stage and mode names are Chinese whatever the UI shows.
FILE_LOCALE = "zh_Hans_CN"
HEADER_SEARCH_ROWS = 30
PREVIEW_ROWS = 20


@dataclass(frozen=True)
class Column:
    """One column of a ledger: the field it fills, the header we write, the headers we accept."""

    field: str
    header: str
    aliases: tuple[str, ...]
    required: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("case_number", "案卷号", ("案卷号", "案卷编号", "档案号")),
    Column("head_name", "户主姓名", ("户主", "户主姓名", "被征收人", "被征收人姓名"), True),
    Column(
        "head_id_number",
        "身份证号码",
        ("身份证号", "身份证号码", "公民身份号码", "户主身份证号", "户主身份证号码", "身份证"),
        True,
    ),
    Column("phone", "联系电话", ("联系电话", "手机", "手机号", "手机号码", "电话")),
    Column("house_address", "房屋坐落", ("房屋坐落", "地址", "房屋地址", "坐落"), True),
    Column(
        "legal_area",
        "合法建筑面积(㎡)",
        ("合法建筑面积", "证载面积", "建筑面积", "证载建筑面积"),
        True,
    ),
    Column("unregistered_area", "未登记面积(㎡)", ("未登记面积", "未登记建筑面积")),
    Column("house_use", "房屋用途", ("房屋用途", "用途")),
    Column("compensation_mode", "补偿方式", ("补偿方式", "补偿安置方式", "安置方式")),
    Column("appraisal_unit_price", "评估单价(元/㎡)", ("评估单价",)),
    Column("appraisal_value", "评估价值(元)", ("评估价值", "评估总价", "评估金额")),
    Column("survey_date", "调查日期", ("调查日期", "登记日期", "调查登记日期")),
    Column("selection_order", "选房顺序号", ("选房顺序号", "选房顺序")),
    Column("note", "备注", ("备注",)),
)
COLUMN_BY_FIELD = {c.field: c for c in COLUMNS}
_COLUMN_BY_ALIAS = {alias: c for c in COLUMNS for alias in c.aliases}
# What the export writes in the 环节 column (the import ignores it).
STAGE_HEADER = "环节"
MODE_WORDS = ("货币补偿", "产权调换", "货币+产权调换")

# Fields of a household a ledger can change (the ID number is the key, the case number is fixed).
COMPARED_FIELDS = (
    "head_name",
    "phone",
    "house_address",
    "legal_area",
    "unregistered_area",
    "house_use",
    "compensation_mode",
    "appraisal_unit_price",
    "appraisal_value",
    "selection_order",
    "note",
)

# The template's example row: GB 11643's sample ID number. A row left as it is gets skipped.
EXAMPLE_ROW: dict[str, Any] = {
    "case_number": None,
    "head_name": "张三",
    "head_id_number": "11010519491231002X",
    "phone": "13800138000",
    "house_address": "东城区解放路1号",
    "legal_area": Decimal("85.32"),
    "unregistered_area": Decimal("0.00"),
    "house_use": "住宅",
    "compensation_mode": "产权调换",
    "appraisal_unit_price": Decimal("12000.00"),
    "appraisal_value": Decimal("1023840.00"),
    "survey_date": date(2024, 3, 5),
    "selection_order": None,
    "note": "示例行：导入时跳过，可删除",
}


# ---------------------------------------------------------------------------------------------
# Reading a workbook


@dataclass
class LedgerRow:
    number: int  # the row number Excel shows
    values: list[Any]


@dataclass
class Ledger:
    """The rows of a ledger sheet below its header, and what each column holds."""

    sheet: str
    header_row: int
    columns: dict[str, int]  # field -> column index (0-based)
    headers: dict[str, str]  # field -> the header text as written in the file
    scales: dict[str, int]  # field -> multiplier from the header's unit (万元 → 10000)
    ignored: list[str]  # headers nobody reads
    rows: list[LedgerRow]


@dataclass
class _Header:
    row: int
    columns: dict[str, int]
    headers: dict[str, str]
    scales: dict[str, int]
    ignored: list[str]

    @property
    def missing(self) -> list[Column]:
        return [c for c in COLUMNS if c.required and c.field not in self.columns]


_UNIT = re.compile(r"\(([^()]*)\)$")


def _header_key(text: Any) -> tuple[str, int]:
    """A header without spaces, required marks and units, and the multiplier its unit implies."""
    key = "".join(unicodedata.normalize("NFKC", str(text)).split()).strip("*:")
    scale = 1
    while match := _UNIT.search(key):
        if "万元" in match.group(1):
            scale = 10_000
        key = key[: match.start()].strip("*:")
    return key, scale


def _header_text(value: Any) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def _merged_ranges(ws: Any) -> list[tuple[int, int, int, int]]:
    """Merged cells as (min_row, min_col, max_row, max_col)."""
    merged = getattr(ws, "merged_cells", None)
    if merged is not None:
        return [(r.min_row, r.min_col, r.max_row, r.max_col) for r in merged.ranges]
    # A read-only worksheet skips <mergeCells> (after <sheetData>): read them from its XML.
    try:
        with ws._get_source() as source:
            xml = source.read()
    except (AttributeError, KeyError, OSError):
        return []
    tail = xml[xml.rfind(b"</sheetData>") :]
    found = []
    for ref in re.findall(rb'<(?:\w+:)?mergeCell\s[^>]*?ref="([A-Z]+[0-9]+:[A-Z]+[0-9]+)"', tail):
        min_col, min_row, max_col, max_row = range_boundaries(ref.decode())
        found.append((min_row, min_col, max_row, max_col))
    return found


def _rows(ws: Any, merged: list[tuple[int, int, int, int]]) -> Iterator[LedgerRow]:
    """Every row with its number; each cell of a merged range holds the range's value."""
    fills: dict[int, list[tuple[int, tuple[int, int]]]] = {}
    anchors: set[tuple[int, int]] = set()
    for min_row, min_col, max_row, max_col in merged:
        if (max_row - min_row + 1) * (max_col - min_col + 1) > 200_000:
            continue  # a merge that large is page layout, not data
        anchors.add((min_row, min_col))
        for r in range(min_row, max_row + 1):
            for c in range(min_col, max_col + 1):
                if (r, c) != (min_row, min_col):
                    fills.setdefault(r, []).append((c, (min_row, min_col)))
    anchor_values: dict[tuple[int, int], Any] = {}
    anchor_cols: dict[int, list[int]] = {}
    for r, c in anchors:
        anchor_cols.setdefault(r, []).append(c)
    if hasattr(ws, "reset_dimensions"):
        ws.reset_dimensions()  # the stored dimension may be wrong; read every row there is
    for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
        cells = list(values)
        for c in anchor_cols.get(number, ()):
            anchor_values[(number, c)] = cells[c - 1] if c <= len(cells) else None
        for c, anchor in fills.get(number, ()):
            if c > len(cells):
                cells.extend([None] * (c - len(cells)))
            cells[c - 1] = anchor_values.get(anchor)
        yield LedgerRow(number, cells)


def _find_header(rows: list[LedgerRow], merged: list[tuple[int, int, int, int]]) -> _Header | None:
    """The row (of the first rows) naming the most known columns, with rows above it for groups."""
    spans = {
        (r, c): (min_row, min_col)
        for min_row, min_col, max_row, max_col in merged
        if max_col > min_col
        for r in range(min_row, max_row + 1)
        for c in range(min_col + 1, max_col + 1)
    }  # cells covered by a merge to their left: the merged header names one column only
    best: _Header | None = None
    for i, row in enumerate(rows):
        header = _Header(row.number, {}, {}, {}, [])
        duplicates: list[tuple[str, str]] = []
        for index, value in enumerate(row.values):
            if (row.number, index + 1) in spans:
                continue
            text = _header_text(value)
            candidates = [text]
            for above in rows[max(i - 2, 0) : i][::-1]:
                upper = _header_text(above.values[index]) if index < len(above.values) else ""
                if upper and upper != text:
                    candidates.append(f"{upper}/{text}" if text else upper)
            for candidate in candidates:
                key, scale = _header_key(candidate.replace("/", ""))
                column = _COLUMN_BY_ALIAS.get(key)
                if column is None:
                    continue
                if column.field in header.columns:
                    duplicates.append((header.headers[column.field], candidate))
                else:
                    header.columns[column.field] = index
                    header.headers[column.field] = candidate
                    header.scales[column.field] = scale
                break
            else:
                shown = next((c for c in candidates if c), "")
                if shown:
                    header.ignored.append(shown)
        if best is None or len(header.columns) > len(best.columns):
            best = header
            best_duplicates = duplicates
    if best is None or len(best.columns) < 2:
        return None
    if best_duplicates:
        first, second = best_duplicates[0]
        raise RuleViolation(
            _(
                "The columns %(first)s and %(second)s hold the same thing; keep one of them.",
                first=first,
                second=second,
            ),
            "file",
        )
    return best


def read_ledger(source: str | Path | IO[bytes]) -> Ledger:
    """The ledger in an .xlsx file: its header row found, merged cells filled, blank rows kept."""
    try:
        workbook = openpyxl.load_workbook(source, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError):
        raise RuleViolation(
            _(
                "This is not an Excel workbook (.xlsx), or it is damaged. Open it in Excel, "
                "save it as .xlsx and try again."
            ),
            "file",
        ) from None
    try:
        sheets = [workbook.active] + [ws for ws in workbook.worksheets if ws is not workbook.active]
        closest: _Header | None = None
        for ws in sheets:
            if ws is None or not hasattr(ws, "iter_rows"):
                continue
            merged = _merged_ranges(ws)
            rows = _rows(ws, merged)
            head = list(itertools.islice(rows, HEADER_SEARCH_ROWS))
            header = _find_header(head, merged)
            if header is None:
                continue
            if header.missing:
                if closest is None or len(header.columns) > len(closest.columns):
                    closest = header
                continue
            body = [r for r in head if r.number > header.row]
            body.extend(rows)
            return Ledger(
                sheet=ws.title,
                header_row=header.row,
                columns=header.columns,
                headers=header.headers,
                scales=header.scales,
                ignored=header.ignored,
                rows=body,
            )
    finally:
        workbook.close()
    if closest is not None:
        raise RuleViolation(
            _(
                "The header row (row %(row)d) has no column for %(missing)s.",
                row=closest.row,
                missing="、".join(c.header for c in closest.missing),
            ),
            "file",
        )
    raise RuleViolation(
        _(
            "No header row found in the first %(n)d rows: the file needs the columns %(columns)s.",
            n=HEADER_SEARCH_ROWS,
            columns="、".join(c.header for c in COLUMNS if c.required),
        ),
        "file",
    )


# ---------------------------------------------------------------------------------------------
# Cell values

_WIDE = {0x3000: 0x20}
_WIDE.update({0xFF10 + i: 0x30 + i for i in range(10)})  # ０-９
_WIDE.update({0xFF21 + i: 0x41 + i for i in range(26)})  # Ａ-Ｚ
_WIDE.update({0xFF41 + i: 0x61 + i for i in range(26)})  # ａ-ｚ
_BLANKS = frozenset({"", "-", "/", "—", "无", "None"})
_NUMBER_UNITS = re.compile(r"(元/m2|万元|元|m2|平方米|平米)$")
_DATE_TEXT = re.compile(
    r"(\d{4})\s*[年./-]\s*(\d{1,2})\s*[月./-]\s*(\d{1,2})\s*日?(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?"
)
_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")
_LOST_DIGITS = re.compile(r"\d(\.\d+)?E\+?\d+")
_TOTAL_WORDS = frozenset({"合计", "总计", "小计"})


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _raw_text(value: Any) -> str:
    """A cell as text: whole numbers without `.0`, dates as ISO dates."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _text(value: Any) -> str:
    """Free text: full-width digits, letters and spaces to ASCII, runs of spaces to one."""
    return " ".join(_raw_text(value).translate(_WIDE).split())


def _code(value: Any) -> str:
    """Numbers and codes: every full-width form to ASCII, no spaces, no leading apostrophe."""
    return "".join(unicodedata.normalize("NFKC", _raw_text(value)).split()).lstrip("'")


def _name(value: Any, scale: int) -> str:
    return _CJK_GAP.sub("", _text(value))  # 张  三 (padded to line up) is 张三


def _free_text(value: Any, scale: int) -> str | None:
    return _text(value) or None


def _note(value: Any, scale: int) -> str | None:
    return _raw_text(value).strip() or None


def _id_number(value: Any, scale: int) -> str:
    if isinstance(value, bool):
        raise RuleViolation(_("An ID number has 17 digits followed by a digit or X."))
    if isinstance(value, int | float):
        if len(str(int(value))) > 15 or isinstance(value, float) and not value.is_integer():
            raise RuleViolation(_reason_lost_digits())
        value = str(int(value))
    text = _code(value)
    if _LOST_DIGITS.fullmatch(text.upper()):
        raise RuleViolation(_reason_lost_digits())
    if not text:
        raise RuleViolation(_("The ID number of the head of household is required."))
    return normalise_id_number(text)


def _reason_lost_digits() -> str:
    return _(
        "Excel stored this ID number as a number and dropped its last digits, which cannot be "
        "recovered: enter the ID number again as text."
    )


def _phone(value: Any, scale: int) -> str | None:
    return _code(value) or None


def _case_number(value: Any, scale: int) -> str | None:
    return _code(value) or None


def _decimal(value: Any, scale: int) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise RuleViolation(_("Enter a number."))
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))  # the shortest text that reads back as the stored number
    elif isinstance(value, Decimal):
        number = value
    else:
        text = _code(value).replace(",", "")
        if text in _BLANKS:
            return None
        unit = _NUMBER_UNITS.search(text)
        if unit:
            if unit.group(1) == "万元":
                scale = 10_000
            text = text[: unit.start()]
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise RuleViolation(_("Enter a number.")) from None
        if not number.is_finite():
            raise RuleViolation(_("Enter a number."))
    return number * scale


def _whole(value: Any, scale: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise RuleViolation(_("Enter a whole number."))
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise RuleViolation(_("Enter a whole number."))
    text = _code(value)
    if text in _BLANKS:
        return None
    if not text.isascii() or not text.isdigit():
        raise RuleViolation(_("Enter a whole number."))
    return int(text)


def _mode(value: Any, scale: int) -> CompensationMode | None:
    text = _code(value)
    if text in _BLANKS:
        return None
    if text.lower() in CompensationMode._value2member_map_:
        return CompensationMode(text.lower())
    money = "货币" in text or "现金" in text
    swap = any(word in text for word in ("产权", "调换", "置换", "房屋安置", "实物"))
    if (money and swap) or text in ("混合", "混合补偿"):
        return CompensationMode.MIXED
    if money:
        return CompensationMode.MONEY
    if swap:
        return CompensationMode.SWAP
    raise RuleViolation(
        _("Unknown compensation mode: write %(modes)s.", modes="、".join(MODE_WORDS))
    )


def _date(value: Any, scale: int) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _code(value)
    if text in _BLANKS:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not float(value).is_integer() or len(text) != 8:
            if 1 <= value < 2_958_466:  # an Excel date that lost its date format
                return from_excel(value).date()
            raise RuleViolation(_("Not a date: write it as 2024-03-05."))
    match = _DATE_TEXT.fullmatch(text) or re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text)
    if match is None:
        raise RuleViolation(_("Not a date: write it as 2024-03-05."))
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        raise RuleViolation(_("There is no such date.")) from None


_READERS: dict[str, Callable[[Any, int], Any]] = {
    "case_number": _case_number,
    "head_name": _name,
    "head_id_number": _id_number,
    "phone": _phone,
    "house_address": _free_text,
    "legal_area": _decimal,
    "unregistered_area": _decimal,
    "house_use": _free_text,
    "compensation_mode": _mode,
    "appraisal_unit_price": _decimal,
    "appraisal_value": _decimal,
    "survey_date": _date,
    "selection_order": _whole,
    "note": _note,
}
# Values that let the service's checks go on past a field whose error is already reported.
_STAND_INS: dict[str, Any] = {
    "head_name": "-",
    "head_id_number": EXAMPLE_ROW["head_id_number"],
    "house_address": "-",
    "phone": None,
    "legal_area": Decimal("0"),
    "unregistered_area": None,
    "appraisal_unit_price": None,
    "appraisal_value": None,
    "entitled_area": None,
    "selection_order": None,
    "members": [],
}


# ---------------------------------------------------------------------------------------------
# Checking the rows


class Action(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    INVALID = "invalid"


ACTION_LABELS = {
    Action.CREATE: _l("New"),
    Action.UPDATE: _l("Changed"),
    Action.UNCHANGED: _l("Unchanged"),
    Action.INVALID: _l("Has errors"),
}


@dataclass
class RowError:
    """What is wrong, where: the row number and the header text as Excel shows them."""

    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        if self.column:
            return _(
                "Row %(row)d, %(column)s: %(reason)s",
                row=self.row,
                column=self.column,
                reason=self.reason,
            )
        return _("Row %(row)d: %(reason)s", row=self.row, reason=self.reason)


@dataclass
class PlannedRow:
    """One ledger row, checked: its data, what the import will do with it, what is wrong."""

    number: int
    data: HouseholdData
    given: frozenset[str]  # the fields this row fills (blank cells change nothing)
    survey_date: date
    case_number: str | None
    action: Action = Action.CREATE
    household_id: int | None = None
    errors: list[RowError] = field(default_factory=list)
    raw: dict[str, str] = field(default_factory=dict)  # the cells as written, for a preview
    failed: frozenset[str] = frozenset()  # fields whose cells are wrong

    def display(self, name: str) -> str:
        """A cell for the preview: the value as it will be saved, or as written when wrong."""
        if name in self.failed:
            return self.raw.get(name, "")
        if name == "survey_date":
            return self.survey_date.isoformat()
        if name == "case_number":
            return self.case_number or ""
        value = getattr(self.data, name, None)
        if value is None:
            return ""
        if name == "compensation_mode":
            return str(MODE_LABELS[value])
        return str(value)


@dataclass
class ImportReport:
    """The outcome of an import or a dry run: counts, errors and the rows for a preview."""

    sheet: str
    header_row: int
    headers: dict[str, str]
    ignored_columns: list[str]
    rows: list[PlannedRow]
    errors: list[RowError]
    skipped_example: bool = False
    dry_run: bool = False
    saved: bool = False

    def count(self, action: Action) -> int:
        return sum(1 for r in self.rows if r.action == action)

    @property
    def created(self) -> int:
        return self.count(Action.CREATE)

    @property
    def updated(self) -> int:
        return self.count(Action.UPDATE)

    @property
    def unchanged(self) -> int:
        return self.count(Action.UNCHANGED)

    @property
    def ok(self) -> bool:
        return not self.errors

    def preview(self, limit: int = PREVIEW_ROWS) -> list[PlannedRow]:
        return self.rows[:limit]

    def summary(self) -> str:
        return _(
            "Created %(created)d, updated %(updated)d, unchanged %(unchanged)d.",
            created=self.created,
            updated=self.updated,
            unchanged=self.unchanged,
        )


def _column_of(headers: dict[str, str], name: str | None) -> str:
    """The header text of the column behind a field (a service's field name)."""
    if name == "actual_date":
        name = "survey_date"
    return headers.get(name or "", "")


def _limits_errors(data: HouseholdData, case_number: str | None) -> list[tuple[str, str]]:
    """Values the database columns cannot hold: too long, too many digits."""
    table = Household.__table__
    found = []
    values = {f: getattr(data, f) for f in COMPARED_FIELDS} | {"case_number": case_number}
    for name, value in values.items():
        column_type = table.c[name].type
        if isinstance(value, str) and column_type.length and len(value) > column_type.length:
            found.append((name, _("At most %(n)d characters.", n=column_type.length)))
        elif isinstance(value, Decimal) and isinstance(column_type, sa.Numeric):
            if abs(value) >= Decimal(10) ** (column_type.precision - column_type.scale):
                found.append((name, _("This number is too large.")))
        elif isinstance(value, int) and value > 2**31 - 1:
            found.append((name, _("This number is too large.")))
    return found


def _check_row(ledger: Ledger, row: LedgerRow, today: date) -> PlannedRow | None:
    """Read and check one row with the registration rules; None for a blank or a total row."""
    cells = {f: (row.values[i] if i < len(row.values) else None) for f, i in ledger.columns.items()}
    if all(_is_blank(v) for v in cells.values()):
        return None
    if _is_blank(cells.get("head_id_number")) and any(
        "".join(_text(v).split()) in _TOTAL_WORDS for v in cells.values()
    ):
        return None
    errors: list[RowError] = []
    failed: set[str] = set()
    values: dict[str, Any] = {}
    for name, value in cells.items():
        try:
            values[name] = _READERS[name](value, ledger.scales.get(name, 1))
        except RuleViolation as exc:
            errors.append(RowError(row.number, ledger.headers[name], exc.message))
            failed.add(name)
            values[name] = _STAND_INS.get(name)
    if values.get("legal_area") is None and "legal_area" not in failed:
        errors.append(
            RowError(
                row.number, ledger.headers["legal_area"], _("The legal floor area is required.")
            )
        )
        failed.add("legal_area")
        values["legal_area"] = _STAND_INS["legal_area"]
    data = HouseholdData(
        head_name=values.get("head_name") or "",
        head_id_number=values.get("head_id_number") or "",
        house_address=values.get("house_address") or "",
        legal_area=values["legal_area"],
        phone=values.get("phone"),
        unregistered_area=values.get("unregistered_area") or Decimal("0"),
        house_use=values.get("house_use") or "住宅",
        appraisal_unit_price=values.get("appraisal_unit_price"),
        appraisal_value=values.get("appraisal_value"),
        compensation_mode=values.get("compensation_mode"),
        selection_order=values.get("selection_order"),
        note=values.get("note"),
    )
    # The service's rules stop at the first problem: stand in for each reported field and go on.
    for _attempt in range(len(_STAND_INS) + 1):
        try:
            data = validate_household_data(data)
            break
        except RuleViolation as exc:
            if exc.field not in failed:
                errors.append(
                    RowError(row.number, _column_of(ledger.headers, exc.field), exc.message)
                )
            if exc.field not in _STAND_INS or exc.field in failed:
                break
            failed.add(exc.field)
            setattr(data, exc.field, _STAND_INS[exc.field])
    given = frozenset(n for n, v in values.items() if v is not None and v != "" and n not in failed)
    survey_date = values.get("survey_date") or today
    if "survey_date" not in failed:
        try:
            check_step_date(survey_date, None, today)
        except RuleViolation as exc:
            errors.append(
                RowError(row.number, _column_of(ledger.headers, "survey_date"), exc.message)
            )
    for name, message in _limits_errors(data, values.get("case_number")):
        if name not in failed:
            errors.append(RowError(row.number, _column_of(ledger.headers, name), message))
    return PlannedRow(
        number=row.number,
        data=data,
        given=given,
        survey_date=survey_date,
        case_number=values.get("case_number"),
        action=Action.INVALID if errors else Action.CREATE,
        errors=errors,
        raw={n: _raw_text(v) for n, v in cells.items()},
        failed=frozenset(failed),
    )


def _is_example(row: PlannedRow) -> bool:
    return (
        row.data.head_id_number == EXAMPLE_ROW["head_id_number"]
        and row.data.head_name == EXAMPLE_ROW["head_name"]
    )


def _existing(session: Session, project: ExpropriationProject) -> dict[str, sa.Row]:
    """The project's households by head ID number, with the fields a ledger can change."""
    columns = [getattr(Household, f) for f in COMPARED_FIELDS]
    rows = session.execute(
        sa.select(Household.id, Household.case_number, Household.head_id_number, *columns).where(
            Household.project_id == project.id
        )
    )
    return {r.head_id_number: r for r in rows}


def _taken_case_numbers(session: Session, numbers: list[str]) -> dict[str, str]:
    """Case numbers already in use (in any project), with their household's ID number."""
    taken: dict[str, str] = {}
    for start in range(0, len(numbers), 500):
        chunk = numbers[start : start + 500]
        query = sa.select(Household.case_number, Household.head_id_number).where(
            Household.case_number.in_(chunk)
        )
        taken.update({case: id_number for case, id_number in session.execute(query)})
    return taken


def _add_error(ledger: Ledger, row: PlannedRow, name: str, reason: str) -> None:
    row.errors.append(RowError(row.number, _column_of(ledger.headers, name), reason))
    row.action = Action.INVALID


def plan_import(
    session: Session, project: ExpropriationProject, ledger: Ledger, today: date
) -> ImportReport:
    """Check every row of the ledger against the rules and the project's households."""
    rows: list[PlannedRow] = []
    skipped_example = False
    first_row_of_id: dict[str, int] = {}
    for ledger_row in ledger.rows:
        row = _check_row(ledger, ledger_row, today)
        if row is None:
            continue
        if _is_example(row):
            skipped_example = True
            continue
        rows.append(row)
        if "head_id_number" in row.given:
            number = row.data.head_id_number
            if number in first_row_of_id:
                reason = _("Same ID number as row %(row)d.", row=first_row_of_id[number])
                _add_error(ledger, row, "head_id_number", reason)
            else:
                first_row_of_id[number] = row.number

    existing = _existing(session, project)
    for row in rows:
        current = existing.get(row.data.head_id_number) if "head_id_number" in row.given else None
        if current is None:
            continue
        row.household_id = current.id
        if row.case_number and row.case_number != current.case_number:
            reason = _(
                "This ID number belongs to household %(case)s; the case number in the file differs.",
                case=current.case_number,
            )
            _add_error(ledger, row, "case_number", reason)
        if row.action == Action.INVALID:
            continue
        same = all(
            getattr(row.data, f) == getattr(current, f) for f in COMPARED_FIELDS if f in row.given
        )
        row.action = Action.UNCHANGED if same else Action.UPDATE

    _check_case_numbers(session, ledger, rows)
    _check_selection_orders(ledger, rows, existing)
    if not any(r.errors for r in rows):
        _number_new_households(session, project, rows)
    return ImportReport(
        sheet=ledger.sheet,
        header_row=ledger.header_row,
        headers=ledger.headers,
        ignored_columns=ledger.ignored,
        rows=rows,
        errors=[e for r in rows for e in r.errors],
        skipped_example=skipped_example,
    )


def _check_case_numbers(session: Session, ledger: Ledger, rows: list[PlannedRow]) -> None:
    first_row: dict[str, int] = {}
    new_rows = [r for r in rows if r.case_number and r.household_id is None]
    for row in new_rows:
        if row.case_number in first_row:
            reason = _("Same case number as row %(row)d.", row=first_row[row.case_number])
            _add_error(ledger, row, "case_number", reason)
        else:
            first_row[row.case_number] = row.number
    taken = _taken_case_numbers(session, list(first_row))
    for row in new_rows:
        if row.case_number in taken:
            reason = _("The case number %(case)s is taken.", case=row.case_number)
            _add_error(ledger, row, "case_number", reason)


def _check_selection_orders(
    ledger: Ledger, rows: list[PlannedRow], existing: dict[str, sa.Row]
) -> None:
    """Selection order numbers stay unique in the project once every row is applied."""
    holders: dict[int, list[tuple[str, Any]]] = {}
    in_file = {r.household_id for r in rows if r.household_id and "selection_order" in r.given}
    for current in existing.values():
        if current.selection_order is not None and current.id not in in_file:
            holders.setdefault(current.selection_order, []).append(("db", current.case_number))
    for row in rows:
        if "selection_order" in row.given:
            holders.setdefault(row.data.selection_order, []).append(("row", row))
    for holder_list in holders.values():
        if len(holder_list) < 2:
            continue
        first = holder_list[0]
        for kind, holder in holder_list[1:]:
            if kind != "row":
                continue
            if first[0] == "db":
                reason = _(
                    "Household %(case)s already has this selection order number.", case=first[1]
                )
            else:
                reason = _("Same selection order number as row %(row)d.", row=first[1].number)
            _add_error(ledger, holder, "selection_order", reason)


def _number_new_households(
    session: Session, project: ExpropriationProject, rows: list[PlannedRow]
) -> None:
    """Give new households without a case number the project's next free numbers, in row order."""
    unnumbered = [r for r in rows if r.household_id is None and not r.case_number]
    if not unnumbered:
        return
    prefix = f"{project.code}-"
    start = int(next_case_number(session, project)[len(prefix) :])
    in_file = [
        int(r.case_number[len(prefix) :])
        for r in rows
        if r.case_number
        and r.case_number.startswith(prefix)
        and r.case_number[len(prefix) :].isdigit()
    ]
    start = max([start, *(n + 1 for n in in_file)])
    for offset, row in enumerate(unnumbered):
        row.case_number = f"{prefix}{start + offset:04d}"


# ---------------------------------------------------------------------------------------------
# Writing


def _household_data(household: Household) -> HouseholdData:
    values = {f: getattr(household, f) for f in EDITABLE_FIELDS}
    members = [MemberData(m.name, m.relation, m.id_number) for m in household.members]
    return HouseholdData(**values, members=members)


def _update(session: Session, rows: list[PlannedRow]) -> None:
    """Changed rows go through `update_household`, its rules and its audit trail."""
    for row in rows:
        household = session.get(Household, row.household_id)
        data = _household_data(household)
        for name in row.given & set(COMPARED_FIELDS):
            setattr(data, name, getattr(row.data, name))
        try:
            update_household(
                session,
                household,
                data,
                expected_version=household.version_id,
                loaded_at=utcnow(),
            )
        except RuleViolation as exc:
            raise _RowFailed(row, exc) from None


class _RowFailed(Exception):
    def __init__(self, row: PlannedRow, exc: RuleViolation) -> None:
        super().__init__(exc.message)
        self.row = row
        self.violation = exc


_AUDIT_SKIP = frozenset({"version_id", "updated_at"})  # as the audit flush listener skips them
_JSON_NATIVE = frozenset({str, int})


def _audit_rows(entity_type: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Audit events for rows inserted with Core, as the flush listener would write them."""
    user_id, actor, ip, request_id = current_actor()
    now = utcnow()
    shown: dict[Any, Any] = {}  # dates, times and enums repeat: convert each once

    def plain(value: Any) -> Any:
        kind = type(value)
        if kind in _JSON_NATIVE:
            return value
        if not isinstance(value, date | enum.Enum):  # (Decimal: 1.0 == 1.00, read differently)
            return audit_value(value)
        key = (kind, value)
        if key not in shown:
            shown[key] = audit_value(value)
        return shown[key]

    return [
        {
            "occurred_at": now,
            "user_id": user_id,
            "actor": actor,
            "ip": ip,
            "request_id": request_id,
            "action": "insert",
            "entity_type": entity_type,
            "entity_id": row["id"],
            "changes": {
                k: [None, plain(v)]
                for k, v in row.items()
                if v is not None and k not in _AUDIT_SKIP
            },
        }
        for row in rows
    ]


def _insert(
    session: Session, project: ExpropriationProject, rows: list[PlannedRow], operator: User | None
) -> None:
    """New households, their survey steps and audit events, each with one Core executemany."""
    if not rows:
        return
    now = utcnow()
    households = Household.__table__
    steps = CaseStep.__table__
    household_rows = [
        {
            "project_id": project.id,
            "case_number": row.case_number,
            "stage": Stage.SURVEYED,
            **{f: getattr(row.data, f) for f in EDITABLE_FIELDS},
            "version_id": 1,
            "created_at": now,
            "updated_at": now,
        }
        for row in rows
    ]
    # Plain executemany (no RETURNING: SQLite would then insert row by row); the new ids are
    # read back by case number, which is unique.
    connection = session.connection()
    connection.execute(households.insert(), household_rows)
    ids = dict(
        connection.execute(
            sa.select(households.c.case_number, households.c.id).where(
                households.c.project_id == project.id
            )
        ).all()
    )
    for values in household_rows:
        values["id"] = ids[values["case_number"]]
    step_rows = [
        {
            "household_id": values["id"],
            "stage": Stage.SURVEYED,
            "deadline": None,
            "actual_date": row.survey_date,
            "operator_id": operator.id if operator else None,
            "note": None,
            "recorded_at": now,
        }
        for row, values in zip(rows, household_rows, strict=True)
    ]
    connection.execute(steps.insert(), step_rows)
    step_ids = dict(
        connection.execute(
            sa.select(steps.c.household_id, steps.c.id)
            .join(households, households.c.id == steps.c.household_id)
            .where(households.c.project_id == project.id, steps.c.stage == Stage.SURVEYED)
        ).all()
    )
    for values in step_rows:
        values["id"] = step_ids[values["household_id"]]
    connection.execute(
        sa.insert(AuditEvent.__table__),
        _audit_rows("Household", household_rows) + _audit_rows("CaseStep", step_rows),
    )


def import_households(
    session: Session,
    project: ExpropriationProject,
    source: str | Path | IO[bytes],
    *,
    operator: User | None,
    dry_run: bool = False,
    today: date | None = None,
) -> ImportReport:
    """Import a ledger into the project: all rows or, when any row is wrong, none (never commits).

    Raises RuleViolation (field "file") when the file itself cannot be read.
    """
    today = today or clock.today()
    report = plan_import(session, project, read_ledger(source), today)
    report.dry_run = dry_run
    if report.errors or dry_run:
        return report
    try:
        with session.begin_nested():
            _update(session, [r for r in report.rows if r.action == Action.UPDATE])
            _insert(
                session, project, [r for r in report.rows if r.action == Action.CREATE], operator
            )
    except _RowFailed as failed:
        row = failed.row
        row.errors.append(
            RowError(row.number, _column_of(report.headers, failed.violation.field), failed.args[0])
        )
        row.action = Action.INVALID
        report.errors = [e for r in report.rows for e in r.errors]
        return report
    except (sa.exc.IntegrityError, StaleDataError):
        raise RuleViolation(
            _(
                "The project's households were changed by someone else during the import. "
                "Nothing was imported: import the file again."
            ),
            "file",
        ) from None
    report.saved = True
    return report


# ---------------------------------------------------------------------------------------------
# Writing workbooks: the template and the export

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_WIDTHS = {
    "case_number": 14,
    "head_name": 10,
    "head_id_number": 21,
    "phone": 14,
    "house_address": 30,
    "legal_area": 14,
    "unregistered_area": 12,
    "house_use": 8,
    "compensation_mode": 14,
    "appraisal_unit_price": 14,
    "appraisal_value": 15,
    "survey_date": 12,
    "selection_order": 10,
    "note": 24,
}
_FORMATS = {
    "head_id_number": "@",
    "phone": "@",
    "case_number": "@",
    "legal_area": "0.00",
    "unregistered_area": "0.00",
    "appraisal_unit_price": "#,##0.00",
    "appraisal_value": "#,##0.00",
    "survey_date": "yyyy-mm-dd",
}


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


def _sheet(workbook: Any, title: str, fields: list[str], headers: list[str]) -> Any:
    ws = workbook.create_sheet(title)
    for index, name in enumerate(fields, start=1):
        letter = get_column_letter(index)
        ws.column_dimensions[letter].width = _WIDTHS.get(name, 10)
        if name in _FORMATS:
            ws.column_dimensions[letter].number_format = _FORMATS[name]
    ws.freeze_panes = "A2"
    ws.append([safe_cell(ws, h, bold=True) for h in headers])
    return ws


def _to_bytes(workbook: Any) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def import_template() -> bytes:
    """The ledger template: the header row and one example row, the ID column formatted as text."""
    workbook = openpyxl.Workbook(write_only=True)
    fields = [c.field for c in COLUMNS]
    ws = _sheet(workbook, "调查登记表", fields, [c.header for c in COLUMNS])
    modes = DataValidation(type="list", formula1='"' + ",".join(MODE_WORDS) + '"', allow_blank=True)
    mode_letter = get_column_letter(fields.index("compensation_mode") + 1)
    modes.add(f"{mode_letter}2:{mode_letter}10000")
    ws.data_validations.append(modes)
    ws.append([safe_cell(ws, EXAMPLE_ROW[f], _FORMATS.get(f)) for f in fields])
    return _to_bytes(workbook)


def export_households(
    session: Session, filters: HouseholdFilter, *, full_ids: bool, today: date | None = None
) -> bytes:
    """The filtered household list as .xlsx, in the template's columns plus the stage.

    ID numbers are masked unless `full_ids`; text that Excel would run as a formula stays text.
    """
    surveyed = (
        sa.select(CaseStep.household_id, CaseStep.actual_date)
        .where(CaseStep.stage == Stage.SURVEYED)
        .subquery()
    )
    query = (
        filtered_households(filters, today or clock.today())
        .outerjoin(surveyed, surveyed.c.household_id == Household.id)
        .add_columns(surveyed.c.actual_date)
    )
    fields = ["case_number", "stage"] + [c.field for c in COLUMNS if c.field != "case_number"]
    headers = [COLUMN_BY_FIELD[f].header if f != "stage" else STAGE_HEADER for f in fields]
    workbook = openpyxl.Workbook(write_only=True)
    ws = _sheet(workbook, "被征收户", fields, headers)
    with force_locale(FILE_LOCALE):
        stages = {s: str(label) for s, label in STAGE_LABELS.items()}
        modes = {m: str(label) for m, label in MODE_LABELS.items()}
    for household, survey_date in session.execute(query):
        values = {f: getattr(household, f, None) for f in fields}
        values["stage"] = stages[household.stage]
        values["compensation_mode"] = modes.get(household.compensation_mode)
        values["survey_date"] = survey_date
        if not full_ids:
            values["head_id_number"] = mask_id_number(household.head_id_number)
        ws.append([safe_cell(ws, values[f], _FORMATS.get(f)) for f in fields])
    return _to_bytes(workbook)
