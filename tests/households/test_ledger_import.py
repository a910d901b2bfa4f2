"""Importing households from an office's Excel ledger: messy files, bad rows, re-imports, upload."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa
from flask_babel import gettext
from stdnum.cn import ric

from resettle import clock
from resettle.audit.models import AuditEvent
from resettle.auth.models import Role
from resettle.errors import RuleViolation
from resettle.extensions import db
from resettle.households.ledger import (
    EXAMPLE_ROW,
    Action,
    import_households,
    import_template,
    read_ledger,
)
from resettle.households.models import CaseStep, CompensationMode, Household, Stage
from resettle.privacy import audit_pii_value

HEADERS = ["户主姓名", "身份证号码", "房屋坐落", "合法建筑面积(㎡)"]
LOST = (
    "Excel stored this ID number as a number and dropped its last digits, which cannot be "
    "recovered: enter the ID number again as text."
)


def valid_id(n: int) -> str:
    """A valid resident ID number, different for each n (< 10,000)."""
    body = f"110105{1950 + n % 50}{n % 12 + 1:02d}{n % 28 + 1:02d}{n % 1000:03d}"
    assert len(body) == 17
    return body + ric.calc_check_digit(body + "0")


def xlsx(rows: list[list[Any]], setup: Any = None) -> io.BytesIO:
    """A workbook with these rows from A1 (None: an empty cell); `setup(ws)` may merge cells."""
    workbook = openpyxl.Workbook()
    ws = workbook.active
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            if value is not None:
                ws.cell(r, c, value)
    if setup:
        setup(ws)
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return buffer


def simple_ledger(rows: list[list[Any]], headers: list[str] = HEADERS) -> io.BytesIO:
    return xlsx([headers, *rows])


def households_of(project) -> list[Household]:
    return list(
        db.session.scalars(
            sa.select(Household)
            .where(Household.project_id == project.id)
            .order_by(Household.case_number)
        )
    )


def audit_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))


def problems(report) -> set[tuple[int, str, str]]:
    """(row, column, reason) of every problem of the report."""
    return {(e.row, p.column, p.reason) for e in report.errors for p in e.problems}


def run_import(project, source, **kwargs: Any):
    report = import_households(db.session, project, source, operator=None, **kwargs)
    db.session.expire_all()
    return report


# ---------------------------------------------------------------------------------------------
# A messy ledger


def messy_ledger(ids: list[str]) -> io.BytesIO:
    """Title rows, a two-row header with merged cells, other names, other order, odd values."""
    rows = [
        ["东城区解放路片区被征收房屋调查登记表"],
        ["填报单位：东城区征收办", None, None, None, None, "填报日期：2024年3月"],
        [
            "序号",
            "公民身份号码",
            "被征收人",
            "手机",
            "房屋情况",
            None,
            None,
            "评估",
            None,
            "补偿方式",
            "登记日期",
            "案卷号",
            "选房顺序号",
            "备注",
        ],
        [None, None, None, None, "地址", "建筑面积(㎡)", "未登记面积", "单价", "价值", None],
        # 5: lower-case x, stray spaces, name padded with spaces, area as text with full width
        [
            1,
            f"  {ids[0][:-1]}{ids[0][-1].lower()} ",
            "张  三",
            "138 0013 8000",
            " 东城区解放路１号 ",
            "８５.３２",
            0,
            12000,
            1023840,
            "货币补偿",
            datetime(2024, 3, 5),
            None,
            None,
            "  老住户  ",
        ],
        [],  # 6: blank row
        # 7: full-width ID, dotted date, mixed mode written another way
        [
            2,
            "".join(chr(ord(ch) + 0xFEE0) for ch in ids[1]),
            "欧阳娜娜",
            13900139000,
            "东城区解放路2号",
            90.5,
            "12.5",
            None,
            None,
            "货币 + 产权调换",
            "2024.3.5",
            "DC-0100",
            3,
            None,
        ],
        # 8: slash date, swap mode, an area with a unit
        [
            3,
            ids[2],
            "李四",
            None,
            "东城区解放路3号",
            "100.255㎡",
            None,
            "11000.5",
            None,
            "产权调换",
            "2024/03/05",
            None,
            "２",
            None,
        ],
        # 9: Chinese date, no mode
        [4, ids[3], "王五", None, "东城区解放路4号", 60, None, None, None, None, "2024年3月5日"],
        # 10: dashed date; 11: no date at all (today)
        [5, ids[4], "赵六", None, "东城区解放路5号", 70, None, None, None, "货币", "2024-3-5"],
        [6, ids[5], "钱七", None, "东城区解放路6号", 75.1],
        [None, None, "合计", None, None, 481.175],  # 12: a total row
    ]

    def merge(ws: Any) -> None:
        ws.merge_cells("A1:N1")
        for column in "ABCDJKLMN":
            ws.merge_cells(f"{column}3:{column}4")
        ws.merge_cells("E3:G3")
        ws.merge_cells("H3:I3")

    return xlsx(rows, merge)


def test_messy_ledger_imports_with_normalised_values(make_project):
    project = make_project(code="DC")
    ids = [next(valid_id(n) for n in range(100, 400) if valid_id(n).endswith("X"))]
    ids += [valid_id(n) for n in range(1, 6)]
    before = audit_count()

    report = run_import(project, messy_ledger(ids))

    assert report.errors == []
    assert (report.created, report.updated, report.unchanged) == (6, 0, 0)
    assert report.header_row == 4
    assert report.ignored_columns == []  # 序号 is read: a members sheet may refer to it
    by_name = {h.head_name: h for h in households_of(project)}
    assert sorted(by_name) == sorted(["张三", "欧阳娜娜", "李四", "王五", "赵六", "钱七"])

    zhang = by_name["张三"]
    assert zhang.head_id_number == ids[0] and zhang.head_id_number.endswith("X")
    assert zhang.phone == "13800138000"
    assert zhang.house_address == "东城区解放路1号"
    assert zhang.legal_area == Decimal("85.32")
    assert zhang.unregistered_area == Decimal("0.00")
    assert zhang.appraisal_unit_price == Decimal("12000.00")
    assert zhang.appraisal_value == Decimal("1023840.00")
    assert zhang.compensation_mode == CompensationMode.MONEY
    assert zhang.note == "老住户"
    assert zhang.house_use == "住宅"

    ouyang = by_name["欧阳娜娜"]
    assert ouyang.head_id_number == ids[1]
    assert ouyang.case_number == "DC-0100"
    assert ouyang.phone == "13900139000"
    assert ouyang.legal_area == Decimal("90.50")
    assert ouyang.unregistered_area == Decimal("12.50")
    assert ouyang.compensation_mode == CompensationMode.MIXED
    assert ouyang.selection_order == 3

    li = by_name["李四"]
    assert li.legal_area == Decimal("100.26")  # rounded half up to two places
    assert li.appraisal_unit_price == Decimal("11000.50")
    assert li.appraisal_value is None  # only what is given: no computed value
    assert li.compensation_mode == CompensationMode.SWAP
    assert li.selection_order == 2
    assert by_name["王五"].compensation_mode is None
    assert by_name["赵六"].compensation_mode == CompensationMode.MONEY

    # Generated case numbers follow the highest number in the file, in row order.
    assert [by_name[n].case_number for n in ("张三", "李四", "王五", "赵六", "钱七")] == [
        "DC-0101",
        "DC-0102",
        "DC-0103",
        "DC-0104",
        "DC-0105",
    ]
    for household in by_name.values():
        assert household.stage == Stage.SURVEYED
        assert household.version_id == 1
        assert [(s.stage, s.deadline) for s in household.steps] == [(Stage.SURVEYED, None)]
    dates = {name: h.steps[0].actual_date for name, h in by_name.items()}
    assert dates == {
        "张三": date(2024, 3, 5),
        "欧阳娜娜": date(2024, 3, 5),
        "李四": date(2024, 3, 5),
        "王五": date(2024, 3, 5),
        "赵六": date(2024, 3, 5),
        "钱七": clock.today(),
    }
    # One audit row per household and per step, with the values, as the ORM would write them.
    assert audit_count() - before == 12
    event = db.session.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.entity_type == "Household", AuditEvent.entity_id == zhang.id
        )
    )
    assert event.action == "insert"
    # The ID number is stored masked, with the keyed hash of the full one (resettle.privacy).
    assert event.changes["head_id_number"] == [None, audit_pii_value("head_id_number", ids[0])]
    assert ids[0] not in str(event.changes)
    assert event.changes["legal_area"] == [None, "85.32"]
    assert event.changes["stage"] == [None, "surveyed"]
    assert "version_id" not in event.changes
    step_event = db.session.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.entity_type == "CaseStep", AuditEvent.entity_id == zhang.steps[0].id
        )
    )
    assert step_event.changes["actual_date"] == [None, "2024-03-05"]
    assert step_event.changes["household_id"] == [None, zhang.id]


def test_dates_as_excel_serials_and_compact_numbers(make_project):
    project = make_project()
    headers = [*HEADERS, "调查日期"]
    rows = [
        ["甲", valid_id(1), "一号", 50, 45356],  # an Excel date without its date format
        ["乙", valid_id(2), "二号", 50, 20240305],  # typed as a number
        ["丙", valid_id(3), "三号", 50, "20240305"],
    ]
    report = run_import(project, simple_ledger(rows, headers))
    assert report.errors == []
    steps = db.session.scalars(
        sa.select(CaseStep.actual_date).join(Household).where(Household.project_id == project.id)
    )
    assert set(steps) == {date(2024, 3, 5)}


def test_amounts_in_ten_thousand_yuan_are_converted(make_project):
    project = make_project()
    report = run_import(
        project,
        simple_ledger(
            [["甲", valid_id(1), "一号", 50, "102.3841"]], [*HEADERS, "评估价值（万元）"]
        ),
    )
    assert report.errors == []
    assert households_of(project)[0].appraisal_value == Decimal("1023841.00")


# ---------------------------------------------------------------------------------------------
# Bad rows


def test_bad_rows_import_nothing_and_each_is_named(make_project, make_household):
    project = make_project()
    make_household(project=project, case_number="TAKEN-1", head_id_number=valid_id(40))
    today = clock.today()
    future = date(today.year + 1, 1, 1)
    wrong_check = valid_id(2)[:-1] + ("0" if valid_id(2)[-1] != "0" else "1")
    headers = [*HEADERS, "调查日期", "补偿方式", "案卷号", "选房顺序号"]
    rows = [
        ["甲", valid_id(1), "一号", 50, "2024-03-05", "货币补偿", None, None],  # 2: fine
        ["乙", 110105194912310021, "二号", 50, None, None, None, None],  # 3: ID as a number
        ["丙", wrong_check, "三号", 50, None, None, None, None],  # 4: check digit
        ["", valid_id(4), "四号", 50, None, None, None, None],  # 5: no name
        ["戊", valid_id(5), "五号", -3, None, None, None, None],  # 6: negative area
        ["己", valid_id(6), "六号", 50, "2024-02-30", None, None, None],  # 7: no such date
        ["庚", valid_id(7), "七号", 50, "明天", "待定", None, None],  # 8: date, mode
        ["辛", valid_id(8), "八号", 50, future, None, None, None],  # 9: future
        ["壬", valid_id(1), "九号", 50, None, None, None, None],  # 10: same ID as row 2
        ["癸", valid_id(10), "十号", "八十", None, None, "TAKEN-1", "1.5"],  # 11
        ["子", valid_id(11), "", None, None, None, None, None],  # 12: no address, no area
    ]
    before = audit_count()
    report = run_import(project, simple_ledger(rows, headers))

    assert report.created == 1  # what would have been created; nothing was
    assert not report.saved
    assert households_of(project) == [
        db.session.scalar(sa.select(Household).where(Household.case_number == "TAKEN-1"))
    ]
    assert audit_count() == before
    found = problems(report)
    lost = gettext(LOST)
    expected = {
        (3, "身份证号码", lost),
        (4, "身份证号码", "身份证号校验位不符，可能有数字输错。"),
        (5, "户主姓名", "请填写户主姓名。"),
        (6, "合法建筑面积(㎡)", "该数值不能为负数。"),
        (7, "调查日期", gettext("There is no such date.")),
        (8, "调查日期", gettext("Not a date: write it as 2024-03-05.")),
        (
            8,
            "补偿方式",
            gettext(
                "Unknown compensation mode: write %(modes)s.",
                modes="货币补偿、产权调换、货币+产权调换",
            ),
        ),
        (9, "调查日期", "日期不能晚于今天。"),
        (10, "身份证号码", gettext("Same ID number as row %(row)d.", row=2)),
        (11, "合法建筑面积(㎡)", "请输入数字。"),
        (11, "案卷号", "案卷号 TAKEN-1 已被使用。"),
        (11, "选房顺序号", gettext("Enter a whole number.")),
        (12, "房屋坐落", "请填写房屋坐落。"),
        (12, "合法建筑面积(㎡)", gettext("The legal floor area is required.")),
    }
    assert found == expected
    assert [e.row for e in report.errors] == sorted(e.row for e in report.errors)
    assert str(report.errors[0]) == (
        gettext("Sheet %(sheet)s, row %(row)d", sheet="Sheet", row=3) + f"：身份证号码：{lost}"
    )
    # every problem of a row on the row's one error: row 8 has two, row 11 three
    assert [len(e.problems) for e in report.errors if e.row in (8, 11)] == [2, 3]


def test_long_values_and_duplicate_case_numbers_in_the_file(make_project):
    project = make_project()
    rows = [
        ["甲", valid_id(1), "一" * 301, 50, "A-1"],
        ["乙", valid_id(2), "二号", 50, "A-1"],
    ]
    report = run_import(project, simple_ledger(rows, [*HEADERS, "案卷号"]))
    found = problems(report)
    assert found == {
        (2, "房屋坐落", gettext("At most %(n)d characters.", n=300)),
        (3, "案卷号", gettext("Same case number as row %(row)d.", row=2)),
    }
    assert households_of(project) == []


def test_missing_required_column_is_refused(make_project):
    project = make_project()
    source = xlsx([["户主", "身份证号", "联系电话"], ["甲", valid_id(1), "1380000"]])
    with pytest.raises(RuleViolation) as caught:
        run_import(project, source)
    assert "房屋坐落" in caught.value.message and "合法建筑面积(㎡)" in caught.value.message
    assert caught.value.field == "file"


def test_a_file_that_is_not_a_workbook_is_refused(make_project):
    with pytest.raises(RuleViolation) as caught:
        run_import(make_project(), io.BytesIO(b"name,id\nA,1\n"))
    assert caught.value.field == "file"


def test_two_columns_for_the_same_field_are_refused(make_project):
    source = xlsx([["户主", "身份证号", "公民身份号码", "地址", "证载面积"]])
    with pytest.raises(RuleViolation) as caught:
        run_import(make_project(), source)
    assert "身份证号" in caught.value.message and "公民身份号码" in caught.value.message


# ---------------------------------------------------------------------------------------------
# Importing again


def test_importing_the_same_file_twice_changes_nothing(make_project):
    project = make_project(code="RE")
    ids = [next(valid_id(n) for n in range(100, 400) if valid_id(n).endswith("X"))]
    ids += [valid_id(n) for n in range(1, 6)]
    first = run_import(project, messy_ledger(ids))
    assert first.created == 6 and first.saved
    snapshot = [(h.case_number, h.version_id, h.legal_area) for h in households_of(project)]
    events = audit_count()

    second = run_import(project, messy_ledger(ids))

    assert second.errors == []
    assert (second.created, second.updated, second.unchanged) == (0, 0, 6)
    assert [(h.case_number, h.version_id, h.legal_area) for h in households_of(project)] == (
        snapshot
    )
    assert audit_count() == events


def test_a_changed_row_updates_the_household_through_the_service(make_project, make_household):
    project = make_project()
    household = make_household(
        project=project,
        head_id_number=valid_id(1),
        phone="13800000000",
        appraisal_value=Decimal("500000.00"),
        note="原备注",
    )
    headers = [*HEADERS, "联系电话", "评估价值", "备注"]
    rows = [
        [
            "张三",
            valid_id(1),
            household.house_address,
            household.legal_area,
            "13911112222",
            None,
            "新备注",
        ],
        ["李四", valid_id(2), "二号", 60, None, None, None],
    ]
    report = run_import(project, simple_ledger(rows, headers))

    assert (report.created, report.updated, report.unchanged) == (1, 1, 0)
    assert household.phone == "13911112222"
    assert household.note == "新备注"
    assert household.appraisal_value == Decimal("500000.00")  # a blank cell changes nothing
    assert household.version_id == 2
    event = db.session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.entity_type == "Household", AuditEvent.entity_id == household.id)
        .order_by(AuditEvent.id.desc())
    ).first()
    assert event.action == "update"
    assert event.changes["phone"] == [
        audit_pii_value("phone", "13800000000"),
        audit_pii_value("phone", "13911112222"),
    ]


def test_a_different_case_number_for_a_known_household_is_an_error(make_project, make_household):
    project = make_project()
    household = make_household(project=project, head_id_number=valid_id(1))
    rows = [["张三", valid_id(1), "一号", 50, "OTHER-9"]]
    report = run_import(project, simple_ledger(rows, [*HEADERS, "案卷号"]))
    assert [(row, column) for row, column, _reason in problems(report)] == [(2, "案卷号")]
    assert household.case_number in report.errors[0].problems[0].reason


def test_selection_order_numbers_stay_unique(make_project, make_household):
    project = make_project()
    make_household(
        project=project, case_number="SO-1", head_id_number=valid_id(1), selection_order=1
    )
    headers = [*HEADERS, "选房顺序号"]
    rows = [
        ["乙", valid_id(2), "二号", 50, 1],  # held by SO-1
        ["丙", valid_id(3), "三号", 50, 2],
        ["丁", valid_id(4), "四号", 50, 2],  # same as row 3
    ]
    report = run_import(project, simple_ledger(rows, headers))
    assert {(row, reason) for row, _column, reason in problems(report)} == {
        (2, "案卷 SO-1 已使用该选房顺序号。"),
        (4, gettext("Same selection order number as row %(row)d.", row=3)),
    }


def test_dry_run_counts_and_saves_nothing(make_project):
    project = make_project()
    report = run_import(project, simple_ledger([["甲", valid_id(1), "一号", 50]]), dry_run=True)
    assert report.created == 1 and report.dry_run and not report.saved
    assert households_of(project) == []


# ---------------------------------------------------------------------------------------------
# The template


def test_template_has_the_headers_an_example_and_a_text_id_column(make_project):
    content = import_template()
    ws = openpyxl.load_workbook(io.BytesIO(content)).active
    headers = [c.value for c in ws[1]]
    assert headers[:6] == [
        "案卷号",
        "户主姓名",
        "身份证号码",
        "联系电话",
        "房屋坐落",
        "合法建筑面积(㎡)",
    ]
    id_column = headers.index("身份证号码") + 1
    example = ws.cell(2, id_column)
    assert example.value == EXAMPLE_ROW["head_id_number"] and example.data_type == "s"
    assert example.number_format == "@"
    assert ws.column_dimensions[example.column_letter].number_format == "@"
    assert ws.max_row == 2
    # The example row left in a filled template is skipped; the rows below it are imported.
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    workbook.active.append([None, "周八", valid_id(8), None, "八号", 80])
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    project = make_project()
    report = run_import(project, buffer)
    assert report.skipped_example and report.errors == []
    assert [h.head_name for h in households_of(project)] == ["周八"]


def test_read_ledger_reports_rows_as_excel_numbers_them():
    ledger = read_ledger(xlsx([["标题"], [], HEADERS, ["甲", valid_id(1), "一号", 1]]))
    assert ledger.header_row == 3
    assert [r.number for r in ledger.rows] == [4]
    assert ledger.headers["legal_area"] == "合法建筑面积(㎡)"


# ---------------------------------------------------------------------------------------------
# The upload page


@pytest.fixture
def uploads():
    """How many uploads wait for their confirmation (kept in the database)."""
    from resettle.spreadsheets.models import PendingUpload

    return lambda: db.session.scalar(sa.select(sa.func.count()).select_from(PendingUpload))


def _upload(client, project, source: io.BytesIO, name: str = "台账.xlsx"):
    return client.post(
        "/households/import",
        data={"project_id": str(project.id), "ledger": (source, name)},
        content_type="multipart/form-data",
    )


def test_upload_preview_then_confirm_imports(client, login_as, make_project, uploads):
    project = make_project()
    user = login_as(Role.CASEWORKER)
    assert client.get(f"/households/import?project={project.id}").status_code == 200
    rows = [["甲", valid_id(1), "一号", 50], ["乙", valid_id(2), "二号", 60]]

    response = _upload(client, project, simple_ledger(rows))

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-testid="count-created">2<' in page
    assert "甲" in page and valid_id(2) in page and "台账.xlsx" in page
    assert households_of(project) == []  # only a preview so far
    assert uploads() == 1
    token = page.split('name="token" type="hidden" value="')[1].split('"')[0]

    response = client.post("/households/import/confirm", data={"token": token})

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/households/?project={project.id}")
    households = households_of(project)
    assert [h.head_name for h in households] == ["甲", "乙"]
    assert [s.operator_id for h in households for s in h.steps] == [user.id, user.id]
    actors = db.session.scalars(
        sa.select(AuditEvent.actor).where(
            AuditEvent.entity_type == "Household", AuditEvent.entity_id == households[0].id
        )
    )
    assert list(actors) == [user.username]
    assert uploads() == 0
    # The file is gone: confirming again imports nothing and says so.
    again = client.post("/households/import/confirm", data={"token": token})
    assert again.status_code == 302 and again.headers["Location"].endswith("/households/import")
    assert len(households_of(project)) == 2


def test_upload_with_bad_rows_lists_them_and_offers_no_confirm(
    client, login_as, make_project, uploads
):
    project = make_project()
    login_as(Role.ADMIN)
    rows = [["甲", 110105194912310021, "一号", 50], ["", valid_id(2), "二号", 60]]
    page = _upload(client, project, simple_ledger(rows)).get_data(as_text=True)
    assert 'data-testid="import-errors"' in page
    assert "请填写户主姓名。" in page and "身份证号码" in page
    assert "/households/import/confirm" not in page
    assert households_of(project) == []


def test_upload_of_a_broken_file_shows_the_problem(client, login_as, make_project, uploads):
    project = make_project()
    login_as(Role.CASEWORKER)
    page = _upload(client, project, io.BytesIO(b"not a workbook"), "x.xlsx").get_data(as_text=True)
    assert 'data-testid="import-problem"' in page
    assert uploads() == 0


def test_confirm_needs_this_sessions_upload(client, login_as, make_project, uploads):
    login_as(Role.CASEWORKER)
    response = client.post("/households/import/confirm", data={"token": "0" * 32})
    assert response.status_code == 302 and response.headers["Location"].endswith(
        "/households/import"
    )


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.LEADER])
def test_only_admins_and_caseworkers_import(client, login_as, make_project, role, uploads):
    project = make_project()
    login_as(role)
    assert client.get("/households/import").status_code == 403
    assert client.get("/households/import/template").status_code == 403
    assert (
        _upload(client, project, simple_ledger([["甲", valid_id(1), "一号", 5]])).status_code == 403
    )
    assert households_of(project) == []


def test_template_download(client, login_as):
    login_as(Role.CASEWORKER)
    response = client.get("/households/import/template")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    ws = openpyxl.load_workbook(io.BytesIO(response.data)).active
    assert ws["B1"].value == "户主姓名"


def test_action_of_each_row_is_in_the_report(make_project, make_household):
    project = make_project()
    make_household(
        project=project, head_id_number=valid_id(1), head_name="甲", legal_area=Decimal("50")
    )
    make_household(
        project=project, head_id_number=valid_id(2), head_name="乙", legal_area=Decimal("60")
    )
    rows = [
        ["甲", valid_id(1), "东城区解放路1号", 50],
        ["乙", valid_id(2), "东城区解放路1号", 61],
        ["丙", valid_id(3), "三号", 70],
    ]
    report = run_import(project, simple_ledger(rows), dry_run=True)
    assert [r.action for r in report.rows] == [Action.UNCHANGED, Action.UPDATE, Action.CREATE]
