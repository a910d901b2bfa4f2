"""Household ledgers in Excel: read an office's ledger, check it, import it; export the list.

An import reads the whole file, checks every row with the rules `register_household` uses and
writes nothing when any row is wrong. Households are matched by the head's ID number within the
project, so importing the same file twice changes nothing. New households, their survey steps and
their audit rows are written with Core executemany (PITFALLS.md, "Database").
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import openpyxl
import sqlalchemy as sa
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from resettle import clock
from resettle.audit.services import record_core_inserts
from resettle.auth.models import User
from resettle.chinese import in_chinese
from resettle.db import utcnow
from resettle.errors import RuleViolation
from resettle.households.models import CaseStep, CompensationMode, Household, HouseholdMember, Stage
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
from resettle.idnumbers import normalise_id_number
from resettle.privacy import is_pii_field, mask_field
from resettle.projects.models import ExpropriationProject
from resettle.spreadsheets import cells
from resettle.spreadsheets.problems import CellProblem, RowError, RowErrors
from resettle.spreadsheets.reading import Column, SheetRow, find_table, open_workbook, source_bytes
from resettle.spreadsheets.writing import error_report, safe_cell, workbook_bytes
from resettle.translate import gettext as _
from resettle.translate import lazy_gettext as _l

# The language of the files: headers, stage and mode names are Chinese whatever the UI shows.
PREVIEW_ROWS = 20
#: What a ledger waiting for its confirmation is kept as (spreadsheets.stash).
UPLOAD_KIND = "household_ledger"
#: Hears how far a long import has got: (rows done, rows in all).
Progress = Callable[[int, int], None]


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
# The ledger's 序号 is read too: a members sheet may name its household by it.
LEDGER_COLUMNS = (*COLUMNS, Column("serial", "序号", ("序号", "户序号")))
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
# Reading a ledger


@dataclass
class Ledger:
    """The rows of a ledger sheet below its header, and what each column holds."""

    sheet: str
    header_row: int
    columns: dict[str, int]  # field -> column index (0-based)
    headers: dict[str, str]  # field -> the header text as written in the file
    scales: dict[str, int]  # field -> multiplier from the header's unit (万元 → 10000)
    ignored: list[str]  # headers nobody reads
    rows: list[SheetRow]


# ---------------------------------------------------------------------------------------------
# Cell values

_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")
_LOST_DIGITS = re.compile(r"\d(\.\d+)?E\+?\d+")
_TOTAL_WORDS = frozenset({"合计", "总计", "小计"})


def _name(value: Any, scale: int) -> str:
    return _CJK_GAP.sub("", cells.text(value))  # 张  三 (padded to line up) is 张三


def _free_text(value: Any, scale: int) -> str | None:
    return cells.text(value) or None


def _note(value: Any, scale: int) -> str | None:
    return cells.raw_text(value).strip() or None


def id_number_cell(value: Any, required_message: str | None = None) -> str:
    """An ID number from a cell; Excel's number cells keep only 15 digits, which is reported
    (the lost digits cannot be guessed)."""
    if isinstance(value, bool):
        raise RuleViolation(_("An ID number has 17 digits followed by a digit or X."))
    if isinstance(value, int | float):
        if len(str(int(value))) > 15 or isinstance(value, float) and not value.is_integer():
            raise RuleViolation(_reason_lost_digits())
        value = str(int(value))
    text = cells.code(value)
    if _LOST_DIGITS.fullmatch(text.upper()):
        raise RuleViolation(_reason_lost_digits())
    if not text and required_message:
        raise RuleViolation(required_message)
    return normalise_id_number(text)


def _id_number(value: Any, scale: int) -> str:
    return id_number_cell(value, _("The ID number of the head of household is required."))


def _reason_lost_digits() -> str:
    return _(
        "Excel stored this ID number as a number and dropped its last digits, which cannot be "
        "recovered: enter the ID number again as text."
    )


def _phone(value: Any, scale: int) -> str | None:
    return cells.code(value) or None


def _case_number(value: Any, scale: int) -> str | None:
    return cells.code(value) or None


def _decimal(value: Any, scale: int) -> Decimal | None:
    return cells.decimal(value, scale)


def _whole(value: Any, scale: int) -> int | None:
    return cells.whole(value)


def _mode(value: Any, scale: int) -> CompensationMode | None:
    text = cells.code(value)
    if text in cells.BLANKS:
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
    return cells.day(value)


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
    "serial": _case_number,
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
class PlannedRow:
    """One ledger row, checked: its data, what the import will do with it, what is wrong."""

    number: int
    data: HouseholdData
    given: frozenset[str]  # the fields this row fills (blank cells change nothing)
    survey_date: date
    case_number: str | None
    error: RowError
    action: Action = Action.CREATE
    household_id: int | None = None
    serial: str | None = None  # the row's 序号, which the members sheet may refer to
    members: list[MemberData] | None = None  # from the members sheet; None: not listed there
    warnings: list[str] = field(default_factory=list)
    raw: dict[str, str] = field(default_factory=dict)  # the cells as written, for a preview
    failed: frozenset[str] = frozenset()  # fields whose cells are wrong

    @property
    def errors(self) -> list[CellProblem]:
        return self.error.problems

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

    def members_text(self) -> str:
        """The members for the preview: 李四(配偶)、王五(子女)."""
        return "、".join(f"{m.name}({m.relation})" for m in self.members or [])


@dataclass(frozen=True)
class SkippedRow:
    """A row the import leaves out on purpose (a total row, the template's example)."""

    number: int
    reason: str


class SheetHeadings:
    """What a checked ledger says of its sheets' headings (the import's report and the
    preview kept for a job share it): `headers`, `scales`, `sheet`, `header_row`,
    `members_sheet` and `members_header_row` are the subclass's fields."""

    headers: dict[str, str]
    scales: dict[str, int]
    sheet: str
    header_row: int
    members_sheet: str | None
    members_header_row: int | None

    def label(self, name: str) -> str:
        """A column's heading for the preview: as written, unless its unit was converted (a
        万元 column shows yuan, and says so)."""
        written = self.headers.get(name, "")
        if self.scales.get(name, 1) != 1:
            return _(
                "%(header)s (converted from %(written)s)",
                header=COLUMN_BY_FIELD[name].header,
                written=written,
            )
        return written

    def header_rows(self) -> dict[str, int]:
        """The header row of each sheet the check read (for the error report)."""
        rows = {self.sheet: self.header_row}
        if self.members_sheet and self.members_header_row:
            rows[self.members_sheet] = self.members_header_row
        return rows


@dataclass
class ImportReport(SheetHeadings):
    """The outcome of an import or a dry run: counts, errors and the rows for a preview."""

    sheet: str
    header_row: int
    headers: dict[str, str]
    scales: dict[str, int]
    ignored_columns: list[str]
    rows: list[PlannedRow]
    errors: list[RowError]
    skipped: list[SkippedRow] = field(default_factory=list)
    members_sheet: str | None = None
    members_header_row: int | None = None
    member_count: int = 0
    dry_run: bool = False
    saved: bool = False
    skip_bad: bool = False
    needs_confirmation: bool = False  # warnings the person has not confirmed yet

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
    def invalid(self) -> int:
        return self.count(Action.INVALID)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def problem_count(self) -> int:
        return sum(len(e.problems) for e in self.errors)

    @property
    def skipped_example(self) -> bool:
        return any(s.reason == _EXAMPLE_REASON() for s in self.skipped)

    @property
    def warnings(self) -> list[tuple[int, str]]:
        """(row, warning) for every warning the person confirms before importing."""
        return [(r.number, w) for r in self.rows if r.action != Action.INVALID for w in r.warnings]

    def preview(self, limit: int = PREVIEW_ROWS) -> list[PlannedRow]:
        return self.rows[:limit]

    def summary(self) -> str:
        text = _(
            "Created %(created)d, updated %(updated)d, unchanged %(unchanged)d.",
            created=self.created,
            updated=self.updated,
            unchanged=self.unchanged,
        )
        if self.saved and self.invalid:
            text += " " + _(
                "%(n)d rows with problems were left out; the error report lists them.",
                n=self.invalid,
            )
        return text


def _EXAMPLE_REASON() -> str:  # noqa: N802 (a translated constant)
    return _("the template's example row")


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


# The cells that say whose row it is; a row with none of them but with numbers holds sums.
_IDENTITY_FIELDS = ("head_name", "head_id_number", "house_address", "case_number")
_NUMBER_FIELDS = ("legal_area", "unregistered_area", "appraisal_unit_price", "appraisal_value")


def _total_row_reason(ledger: Ledger, row: SheetRow, values: dict[str, Any]) -> str | None:
    """Why a row is a total (合计, 小计, 总计) or a row of sums only, or None for a household."""
    identity = [values.get(f) for f in _IDENTITY_FIELDS]
    words = ("".join(cells.text(v).split()) for v in row.values if isinstance(v, str))
    if any(w in word for word in words for w in _TOTAL_WORDS) and all(
        cells.is_blank(v) or any(w in cells.text(v) for w in _TOTAL_WORDS) for v in identity
    ):
        return _("a total row (合计/小计/总计)")
    if all(cells.is_blank(v) for v in identity) and any(
        not cells.is_blank(values.get(f)) for f in _NUMBER_FIELDS
    ):
        return _("a row of sums only (no name, ID number or address)")
    return None


def _check_row(ledger: Ledger, row: SheetRow, today: date) -> PlannedRow | SkippedRow | None:
    """Read and check one row with the registration rules; None for a blank row, SkippedRow
    for a total row."""
    values_in = {
        f: (row.values[i] if i < len(row.values) else None) for f, i in ledger.columns.items()
    }
    if all(cells.is_blank(v) for f, v in values_in.items() if f != "serial"):
        return None  # (offices number their empty rows in advance)
    reason = _total_row_reason(ledger, row, values_in)
    if reason is not None:
        return SkippedRow(row.number, reason)
    error = RowError(row.number, sheet=ledger.sheet)

    def problem(name: str | None, message: str) -> None:
        if name == "actual_date":
            name = "survey_date"
        error.add(_column_of(ledger.headers, name), message, ledger.columns.get(name or ""))

    failed: set[str] = set()
    values: dict[str, Any] = {}
    for name, value in values_in.items():
        try:
            values[name] = _READERS[name](value, ledger.scales.get(name, 1))
        except RuleViolation as exc:
            problem(name, exc.message)
            failed.add(name)
            values[name] = _STAND_INS.get(name)
    if values.get("legal_area") is None and "legal_area" not in failed:
        problem("legal_area", _("The legal floor area is required."))
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
        warnings_confirmed=True,  # collected for the import's own confirmation
    )
    # The service's rules stop at the first problem: stand in for each reported field and go on.
    for _attempt in range(len(_STAND_INS) + 1):
        try:
            data = validate_household_data(data)
            break
        except RuleViolation as exc:
            if exc.field not in failed:
                problem(exc.field, exc.message)
            if exc.field not in _STAND_INS or exc.field in failed:
                break
            failed.add(exc.field)
            setattr(data, exc.field, _STAND_INS[exc.field])
    serial = values.pop("serial", None)
    given = frozenset(n for n, v in values.items() if v is not None and v != "" and n not in failed)
    survey_date = values.get("survey_date") or today
    if "survey_date" not in failed:
        try:
            check_step_date(survey_date, None, today)
        except RuleViolation as exc:
            problem("survey_date", exc.message)
    for name, message in _limits_errors(data, values.get("case_number")):
        if name not in failed:
            problem(name, message)
    return PlannedRow(
        number=row.number,
        data=data,
        given=given,
        survey_date=survey_date,
        case_number=values.get("case_number"),
        error=error,
        action=Action.INVALID if error.problems else Action.CREATE,
        serial=serial,
        warnings=list(data.warnings),
        raw={n: cells.raw_text(v) for n, v in values_in.items()},
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


def _current_members(session: Session, household_ids: list[int]) -> dict[int, list[tuple]]:
    """The members of these households as (name, relation, ID number), in their order."""
    found: dict[int, list[tuple]] = {h: [] for h in household_ids}
    for start in range(0, len(household_ids), 500):
        query = (
            sa.select(
                HouseholdMember.household_id,
                HouseholdMember.name,
                HouseholdMember.relation,
                HouseholdMember.id_number,
            )
            .where(HouseholdMember.household_id.in_(household_ids[start : start + 500]))
            .order_by(HouseholdMember.id)
        )
        for household_id, name, relation, id_number in session.execute(query):
            found[household_id].append((name, relation, id_number))
    return found


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
    row.error.add(_column_of(ledger.headers, name), reason, ledger.columns.get(name))
    row.action = Action.INVALID


def plan_import(
    session: Session,
    project: ExpropriationProject,
    ledger: Ledger,
    today: date,
    members: MemberSheet | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Check every row of the ledger (and its members sheet) against the rules and the
    project's households; `progress(done, total)` hears how many rows are checked."""
    rows: list[PlannedRow] = []
    skipped: list[SkippedRow] = []
    first_row_of_id: dict[str, int] = {}
    total = len(ledger.rows)
    for checked, ledger_row in enumerate(ledger.rows):
        if progress is not None and checked % 100 == 0:
            progress(checked, total)
        row = _check_row(ledger, ledger_row, today)
        if row is None:
            continue
        if isinstance(row, SkippedRow):
            skipped.append(row)
            continue
        if _is_example(row):
            skipped.append(SkippedRow(row.number, _EXAMPLE_REASON()))
            continue
        rows.append(row)
        if "head_id_number" in row.given:
            number = row.data.head_id_number
            if number in first_row_of_id:
                reason = _("Same ID number as row %(row)d.", row=first_row_of_id[number])
                _add_error(ledger, row, "head_id_number", reason)
            else:
                first_row_of_id[number] = row.number

    member_errors = RowErrors()
    if members is not None:
        _attach_members(ledger, rows, members, member_errors)

    existing = _existing(session, project)
    for row in rows:
        current = existing.get(row.data.head_id_number) if "head_id_number" in row.given else None
        if current is not None:
            row.household_id = current.id
    present = _current_members(
        session, [r.household_id for r in rows if r.household_id and r.members is not None]
    )
    for row in rows:
        if row.household_id is None:
            continue
        current = existing[row.data.head_id_number]
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
        if row.members is not None:
            wanted = [(m.name, m.relation, m.id_number) for m in row.members]
            same = same and wanted == present[row.household_id]
        row.action = Action.UNCHANGED if same else Action.UPDATE

    _check_case_numbers(session, ledger, rows)
    _check_selection_orders(ledger, rows, existing)
    _number_new_households(session, project, [r for r in rows if r.action != Action.INVALID])
    errors = [r.error for r in rows if r.error.problems] + list(member_errors)
    return ImportReport(
        sheet=ledger.sheet,
        header_row=ledger.header_row,
        headers=ledger.headers,
        scales=ledger.scales,
        ignored_columns=ledger.ignored,
        rows=rows,
        errors=errors,
        skipped=skipped,
        members_sheet=members.sheet if members else None,
        members_header_row=members.header_row if members else None,
        member_count=sum(len(r.members or []) for r in rows),
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
# The members sheet (家庭成员): one row per member, keyed to its household's ledger row by the
# head's ID number, the case number or the ledger's 序号.

MEMBER_SHEET_TITLE = "家庭成员"
MEMBER_COLUMNS: tuple[Column, ...] = (
    Column("case_number", "案卷号", ("案卷号", "案卷编号", "档案号")),
    Column("serial", "序号", ("序号", "户序号")),
    Column(
        "head_id_number",
        "户主身份证号",
        ("户主身份证号", "户主身份证号码", "户主公民身份号码", "户主身份证"),
    ),
    Column("head_name", "户主姓名", ("户主", "户主姓名")),
    Column("name", "成员姓名", ("成员姓名", "姓名", "家庭成员", "家庭成员姓名"), True),
    Column("relation", "与户主关系", ("与户主关系", "关系", "家庭关系", "与户主的关系"), True),
    Column(
        "id_number",
        "身份证号码",
        ("成员身份证号", "成员身份证号码", "身份证号", "身份证号码", "公民身份号码"),
    ),
)
_MEMBER_KEYS = ("head_id_number", "case_number", "serial")
# How ledgers write a relation, to the relations the household form offers.
_RELATIONS = {
    "配偶": ("配偶", "妻", "妻子", "夫", "丈夫", "爱人", "老伴"),
    "子女": ("子女", "子", "女", "儿子", "女儿", "长子", "次子", "长女", "次女", "三子", "三女"),
    "父母": ("父母", "父", "母", "父亲", "母亲"),
    "孙子女": ("孙子女", "孙子", "孙女", "外孙", "外孙子", "外孙女"),
    "兄弟姐妹": ("兄弟姐妹", "兄", "弟", "姐", "妹", "哥哥", "弟弟", "姐姐", "妹妹"),
}
_RELATION_OF = {word: relation for relation, words in _RELATIONS.items() for word in words}
_HEAD_WORDS = frozenset({"户主", "本人"})


@dataclass
class MemberRow:
    number: int
    keys: dict[str, str]  # key field -> value
    member: MemberData
    error: RowError


@dataclass
class MemberSheet:
    sheet: str
    header_row: int
    headers: dict[str, str]
    columns: dict[str, int]
    rows: list[MemberRow]


def _member_relation(value: Any) -> str:
    word = "".join(cells.text(value).split())
    return _RELATION_OF.get(word, "其他" if word else "")


def read_members(sheet: str, header_row: int, headers: dict, columns: dict, rows) -> MemberSheet:
    """The members sheet's rows, each checked on its own (name, relation, ID number)."""
    members = MemberSheet(sheet, header_row, headers, columns, [])
    if not any(k in columns for k in _MEMBER_KEYS):
        raise RuleViolation(
            _(
                "The sheet %(sheet)s lists members but no column says whose: add the head's ID "
                "number (户主身份证号), the case number (案卷号) or the ledger's 序号.",
                sheet=sheet,
            ),
            "file",
        )
    for row in rows:
        values = {f: (row.values[i] if i < len(row.values) else None) for f, i in columns.items()}
        if all(cells.is_blank(v) for v in values.values()):
            continue
        error = RowError(row.number, sheet=sheet)

        def problem(name: str, message: str, error: RowError = error) -> None:
            error.add(headers.get(name, ""), message, columns.get(name))

        relation_word = "".join(cells.text(values.get("relation")).split())
        if relation_word in _HEAD_WORDS:
            continue  # the head of household listed among the members
        if cells.code(values.get("head_id_number")) == EXAMPLE_ROW["head_id_number"]:
            continue  # the template's example
        keys: dict[str, str] = {}
        for key in _MEMBER_KEYS:
            if key not in values or cells.is_blank(values[key]):
                continue
            try:
                keys[key] = (
                    id_number_cell(values[key])
                    if key == "head_id_number"
                    else cells.code(values[key])
                )
            except RuleViolation as exc:
                problem(key, exc.message)
        if not keys and not error.problems:
            problem(
                next(k for k in _MEMBER_KEYS if k in columns),
                _("Say whose member this is: the head's ID number, the case number or 序号."),
            )
        name = _name(values.get("name"), 1)
        if not name:
            problem("name", _("Each member needs a name and a relation."))
        relation = _member_relation(values.get("relation"))
        if not relation:
            problem("relation", _("Each member needs a name and a relation."))
        id_number: str | None = None
        if not cells.is_blank(values.get("id_number")):
            try:
                id_number = id_number_cell(values.get("id_number"))
            except RuleViolation as exc:
                problem("id_number", exc.message)
        member = MemberData(name, relation, id_number)
        members.rows.append(MemberRow(row.number, keys, member, error))
    return members


def _attach_members(
    ledger: Ledger, rows: list[PlannedRow], members: MemberSheet, errors: RowErrors
) -> None:
    """Give each ledger row the members its sheet lists for it; a member row's problem is the
    household's problem too (a household is imported with all of its members or not at all)."""
    index: dict[tuple[str, str], PlannedRow] = {}
    for row in rows:
        if "head_id_number" in row.given:
            index[("head_id_number", row.data.head_id_number)] = row
        if row.case_number:
            index[("case_number", row.case_number)] = row
        if row.serial:
            index[("serial", row.serial)] = row
    for member_row in members.rows:
        owner = next((index[(k, v)] for k, v in member_row.keys.items() if (k, v) in index), None)
        if owner is None and member_row.keys:
            key, value = next(iter(member_row.keys.items()))
            member_row.error.add(
                members.headers.get(key, ""),
                _("No row of the sheet %(sheet)s has %(value)s.", sheet=ledger.sheet, value=value),
                members.columns.get(key),
            )
        if owner is not None and not member_row.error.problems:
            try:
                checked = validate_household_data(
                    HouseholdData(
                        head_name="-",
                        head_id_number=EXAMPLE_ROW["head_id_number"],
                        house_address="-",
                        legal_area=Decimal("0"),
                        members=[member_row.member],
                        warnings_confirmed=True,
                    )
                )
            except RuleViolation as exc:
                member_row.error.add(
                    members.headers.get("id_number", ""),
                    exc.message,
                    members.columns.get("id_number"),
                )
            else:
                owner.warnings.extend(checked.warnings)
        if member_row.error.problems:
            errors.extend([member_row.error])
            if owner is not None:
                _add_error(
                    ledger,
                    owner,
                    "head_name",
                    _(
                        "Row %(row)d of the sheet %(sheet)s (a member of this household) has "
                        "problems.",
                        row=member_row.number,
                        sheet=members.sheet,
                    ),
                )
            continue
        if owner.members is None:
            owner.members = []
        owner.members.append(member_row.member)


# ---------------------------------------------------------------------------------------------
# Writing


EXAMPLE_MEMBER = {
    "head_id_number": EXAMPLE_ROW["head_id_number"],
    "head_name": EXAMPLE_ROW["head_name"],
    "name": "李四",
    "relation": "配偶",
    "id_number": "110105195003070027",
}
TEMPLATE_NOTES = (
    "调查登记表：每户一行，从表头下一行起填写；表头上方可以有标题行，表头可以占两行。",
    "必填：户主姓名、身份证号码、房屋坐落、合法建筑面积(㎡)。身份证号码请以文本格式填写（数字格式会丢失后三位）。",
    "金额单位为元；表头写明(万元)的列按万元换算为元。日期如 2024-03-05。",
    "合计、小计、总计行以及只有数字的汇总行不会导入，预览中列为“已跳过”。",
    "家庭成员：每个成员一行，写明户主身份证号（或案卷号，或调查登记表的序号）、成员姓名、"
    "与户主关系、身份证号码。户主本人不必列出。",
    "再次导入同一文件不会重复添加：已有的户按户主身份证号匹配，有变化的会被更新；"
    "列出了家庭成员的户，其成员以文件为准。",
    "示例行（张三）导入时自动跳过，可删除。",
)


def _household_data(household: Household) -> HouseholdData:
    values = {f: getattr(household, f) for f in EDITABLE_FIELDS}
    members = [MemberData(m.name, m.relation, m.id_number) for m in household.members]
    return HouseholdData(**values, members=members, warnings_confirmed=True)


def _update(session: Session, rows: list[PlannedRow]) -> None:
    """Changed rows go through `update_household`, its rules and its audit trail."""
    for row in rows:
        household = session.get(Household, row.household_id)
        data = _household_data(household)
        for name in row.given & set(COMPARED_FIELDS):
            setattr(data, name, getattr(row.data, name))
        if row.members is not None:
            data.members = [MemberData(m.name, m.relation, m.id_number) for m in row.members]
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


def _read_back_ids(
    connection: sa.Connection, select: sa.Select, household_ids: list[int]
) -> list[sa.Row]:
    """Rows of a select restricted to these households, read in chunks of 500 ids."""
    found: list[sa.Row] = []
    for start in range(0, len(household_ids), 500):
        chunk = household_ids[start : start + 500]
        found.extend(connection.execute(select.where(select.selected_columns[1].in_(chunk))))
    return found


def _insert(
    session: Session, project: ExpropriationProject, rows: list[PlannedRow], operator: User | None
) -> None:
    """New households, their survey steps, members and audit events, each with one Core
    executemany (PITFALLS.md: ORM add_all is 25 times slower)."""
    if not rows:
        return
    now = utcnow()
    households = Household.__table__
    steps = CaseStep.__table__
    members_table = HouseholdMember.__table__
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
    new_ids = [values["id"] for values in household_rows]
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
        (household_id, step_id)
        for step_id, household_id in _read_back_ids(
            connection,
            sa.select(steps.c.id, steps.c.household_id).where(steps.c.stage == Stage.SURVEYED),
            new_ids,
        )
    )
    for values in step_rows:
        values["id"] = step_ids[values["household_id"]]
    member_rows = [
        {
            "household_id": values["id"],
            "name": m.name,
            "relation": m.relation,
            "id_number": m.id_number,
        }
        for row, values in zip(rows, household_rows, strict=True)
        for m in row.members or []
    ]
    if member_rows:
        connection.execute(members_table.insert(), member_rows)
        member_rows = [
            dict(r._mapping)
            for r in _read_back_ids(
                connection,
                sa.select(
                    members_table.c.id,
                    members_table.c.household_id,
                    members_table.c.name,
                    members_table.c.relation,
                    members_table.c.id_number,
                ).order_by(members_table.c.id),
                new_ids,
            )
        ]
    record_core_inserts(session, Household, household_rows)
    record_core_inserts(session, CaseStep, step_rows)
    record_core_inserts(session, HouseholdMember, member_rows)


def stated_ledger_rows(data: bytes) -> int | None:
    """Refuse a file that is no ledger from its first rows (RuleViolation, field "file"), and
    say how many rows its sheets state they have, without reading them: None when a sheet
    does not say. Cheap: it decides whether the check runs at once or as a background job."""
    with open_workbook(data) as workbook:
        counts = [sheet.stated_rows() for sheet in workbook.sheets]  # (before rows are read)
        find_table(workbook, LEDGER_COLUMNS)
    if any(count is None for count in counts):
        return None
    return sum(counts)  # type: ignore[arg-type]


def read_ledger(source: bytes | str | Path | IO[bytes]) -> Ledger:
    """The ledger sheet of a workbook: its header row found, merged cells filled."""
    return read_ledger_file(source_bytes(source))[0]


def read_ledger_file(data: bytes) -> tuple[Ledger, MemberSheet | None]:
    """The ledger sheet of a workbook and, when the workbook has one, its members sheet."""
    with open_workbook(data) as workbook:
        table = find_table(workbook, LEDGER_COLUMNS)
        header = table.header
        ledger = Ledger(
            sheet=table.sheet.name,
            header_row=header.row,
            columns=header.columns,
            headers=header.headers,
            scales=header.scales,
            ignored=header.ignored,
            rows=list(table.rows),
        )
        found = find_table(workbook, MEMBER_COLUMNS, skip=frozenset({ledger.sheet}), required=False)
        members = None
        if found is not None:
            members = read_members(
                found.sheet.name,
                found.header.row,
                found.header.headers,
                found.header.columns,
                found.rows,
            )
    return ledger, members


def import_households(
    session: Session,
    project: ExpropriationProject,
    data: bytes | str | Path | IO[bytes],
    *,
    operator: User | None,
    dry_run: bool = False,
    skip_bad: bool = False,
    confirm_warnings: bool = False,
    today: date | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import a ledger into the project (never commits): every row or, when any row is wrong,
    none; with `skip_bad` the good rows and not the bad ones. Rows with warnings (an ID
    number's region code the national table lacks) are imported only with `confirm_warnings`.
    `progress(done, total)` hears how many rows are checked (a background job shows it).

    Raises RuleViolation (field "file") when the file itself cannot be read.
    """
    today = today or clock.today()
    data = source_bytes(data)
    ledger, members = read_ledger_file(data)
    report = plan_import(session, project, ledger, today, members, progress)
    report.dry_run = dry_run
    report.skip_bad = skip_bad
    report.needs_confirmation = bool(report.warnings) and not confirm_warnings
    if dry_run or report.needs_confirmation or (report.errors and not skip_bad):
        return report
    try:
        with session.begin_nested():
            _update(session, [r for r in report.rows if r.action == Action.UPDATE])
            _insert(
                session, project, [r for r in report.rows if r.action == Action.CREATE], operator
            )
    except _RowFailed as failed:
        row = failed.row
        _add_error(ledger, row, failed.violation.field or "", failed.args[0])
        report.errors = [r.error for r in report.rows if r.error.problems]
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


def import_error_report(data: bytes, report: ImportReport) -> bytes:
    """The uploaded file back as .xlsx with a 错误说明 column and the bad cells marked."""
    errors = RowErrors()
    errors.extend(report.errors)
    return error_report(data, errors, report.header_rows())


# ---------------------------------------------------------------------------------------------
# Writing workbooks: the template and the export

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
    members = workbook.create_sheet(MEMBER_SHEET_TITLE)
    member_fields = ["head_id_number", "head_name", "name", "relation", "id_number"]
    for index, width in enumerate((21, 10, 10, 12, 21), start=1):
        members.column_dimensions[get_column_letter(index)].width = width
    for letter in "AE":
        members.column_dimensions[letter].number_format = "@"
    by_field = {c.field: c for c in MEMBER_COLUMNS}
    members.append([safe_cell(members, by_field[f].header, bold=True) for f in member_fields])
    members.append(
        [safe_cell(members, EXAMPLE_MEMBER[f], "@" if "id" in f else None) for f in member_fields]
    )
    notes = workbook.create_sheet("填写说明")
    notes.column_dimensions["A"].width = 100
    for line in TEMPLATE_NOTES:
        notes.append([safe_cell(notes, line)])
    return workbook_bytes(workbook)


def export_households(
    session: Session, filters: HouseholdFilter, *, full_ids: bool, today: date | None = None
) -> bytes:
    """The filtered household list as .xlsx, in the template's columns plus the stage.

    ID numbers and phones are masked unless `full_ids` (`privacy.sees_full_personal_data`);
    text that Excel would run as a formula stays text.
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
    masked = [f for f in fields if is_pii_field(f)]
    workbook = openpyxl.Workbook(write_only=True)
    ws = _sheet(workbook, "被征收户", fields, headers)
    with in_chinese():
        stages = {s: str(label) for s, label in STAGE_LABELS.items()}
        modes = {m: str(label) for m, label in MODE_LABELS.items()}
    for household, survey_date in session.execute(query):
        values = {f: getattr(household, f, None) for f in fields}
        values["stage"] = stages[household.stage]
        values["compensation_mode"] = modes.get(household.compensation_mode)
        values["survey_date"] = survey_date
        if not full_ids:
            for field in masked:
                values[field] = mask_field(field, values[field])
        ws.append([safe_cell(ws, values[f], _FORMATS.get(f)) for f in fields])
    return workbook_bytes(workbook)
