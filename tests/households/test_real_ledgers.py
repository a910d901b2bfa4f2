"""Offices' own ledgers: older residents' ID numbers, totals rows, .xls from WPS, members on a
second sheet, the error report, importing the good rows, and files built to exhaust the server."""

from __future__ import annotations

import io
import time
import zipfile
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa
import xlwt
from flask_babel import gettext

from resettle.audit.models import AuditEvent
from resettle.auth.models import Role
from resettle.errors import RuleViolation
from resettle.extensions import db
from resettle.households.ledger import Action, import_error_report, import_households
from resettle.households.models import HouseholdMember
from resettle.spreadsheets.models import PendingUpload
from resettle.spreadsheets.reading import ReadLimits, open_workbook
from tests.core.test_idnumbers import with_check_digit
from tests.households.test_ledger_import import (
    HEADERS,
    households_of,
    problems,
    simple_ledger,
    valid_id,
    xlsx,
)
from tests.workbooks import zip_bomb

# Born 1940-1982 under codes python-stdnum dates from later years (西湖区 1983, 玄武区 1983,
# 越秀区 1983, 清浦区 1983-2016): each used to be refused.
OLD_RESIDENTS = [
    ("周老汉", "330106194801010013"),
    ("吴奶奶", "320102196001010017"),
    ("郑大爷", "440104196201010011"),
    ("王阿婆", "320811195006151230"),
]
UNKNOWN_REGION = with_check_digit("99010119520101001")


def run(project, source, **kwargs: Any):
    report = import_households(db.session, project, source, operator=None, **kwargs)
    db.session.expire_all()
    return report


def xls(sheets: dict[str, list[list[Any]]], merges: dict[str, list[tuple]] | None = None) -> bytes:
    """An Excel 97-2003 workbook (what WPS saves by default) with these sheets and rows;
    `merges` gives (first row, last row, first col, last col, value) per sheet, 0-based."""
    book = xlwt.Workbook(encoding="utf-8")
    dates = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    for name, rows in sheets.items():
        ws = book.add_sheet(name)
        merged = {(r1, c1) for r1, _r2, c1, _c2, _v in (merges or {}).get(name, [])}
        for r1, r2, c1, c2, value in (merges or {}).get(name, []):
            ws.write_merge(r1, r2, c1, c2, value)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None or (r, c) in merged:
                    continue
                if isinstance(value, date):
                    ws.write(r, c, value, dates)
                else:
                    ws.write(r, c, value)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def workbook(sheets: dict[str, list[list[Any]]]) -> bytes:
    """An .xlsx with these sheets and rows."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        ws = book.create_sheet(name)
        for row in rows:
            ws.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# 1. ID numbers of older residents


def test_older_residents_ids_import_without_a_word(make_project):
    project = make_project()
    rows = [[name, number, f"{name}家", 60] for name, number in OLD_RESIDENTS]
    report = run(project, simple_ledger(rows))
    assert report.errors == [] and report.warnings == [] and report.saved
    assert sorted(h.head_id_number for h in households_of(project)) == sorted(
        n for _name, n in OLD_RESIDENTS
    )


def test_an_unknown_region_code_is_reported_per_row_and_imported_after_confirmation(make_project):
    project = make_project()
    rows = [["甲", valid_id(1), "一号", 50], ["乙", UNKNOWN_REGION, "二号", 60]]

    report = run(project, simple_ledger(rows))

    assert report.errors == [] and not report.saved and report.needs_confirmation
    assert [(row, "990101" in warning) for row, warning in report.warnings] == [(3, True)]
    assert households_of(project) == []

    report = run(project, simple_ledger(rows), confirm_warnings=True)
    assert report.saved
    assert [h.head_id_number for h in households_of(project)] == [valid_id(1), UNKNOWN_REGION]


def test_wrong_check_digit_and_excel_truncated_ids_keep_their_messages(make_project):
    project = make_project()
    wrong = valid_id(2)[:-1] + ("0" if valid_id(2)[-1] != "0" else "1")
    rows = [["甲", wrong, "一号", 50], ["乙", 110105194912310021, "二号", 60]]
    found = problems(run(project, simple_ledger(rows)))
    assert (2, "身份证号码", "身份证号校验位不符，可能有数字输错。") in found
    assert any(r == 3 and "末尾几位已丢失" in reason for r, _c, reason in found)


def test_a_truncated_id_in_an_xls_previews_as_the_office_typed_it(make_project):
    """An .xls keeps numbers as binary floats: the preview shows Excel's 15 digits, not the
    float's invented ones."""
    rows = [HEADERS, ["乙", 330106194801010013, "二号", 60]]
    report = run(make_project(), xls({"台账": rows}))
    (row,) = report.rows
    assert "末尾几位已丢失" in str(row.errors[0])
    assert row.display("head_id_number") == "330106194801010000"


# ---------------------------------------------------------------------------------------------
# 2. Totals, .xls, members, units


def test_total_rows_and_rows_of_sums_are_skipped_and_reported(make_project):
    project = make_project()
    headers = ["序号", *HEADERS, "评估价值"]
    rows = [
        [1, "甲", valid_id(1), "一号", 50, 100000],
        [2, "乙", valid_id(2), "二号", 60, 200000],
        ["小计", None, None, None, 110, 300000],  # 4: a section subtotal, word in 序号
        [3, "丙", valid_id(3), "三号", 70, 150000],
        [None, None, None, None, 180, 450000],  # 6: sums without a word
        [4],  # 7: a numbered empty row
        ["合 计", "", "", "", 180, 450000],  # 8: spaced, as WPS pads it
        [None, "总计：", None, None, 180],  # 9
    ]
    report = run(project, xlsx([headers, *rows]))
    assert report.errors == [] and report.saved
    assert [(s.number, "合计" in s.reason or "汇总" in s.reason) for s in report.skipped] == [
        (4, True),
        (6, True),
        (8, True),
        (9, True),
    ]
    assert [h.head_name for h in households_of(project)] == ["甲", "乙", "丙"]


def test_an_xls_from_wps_imports_as_the_xlsx_does(make_project):
    project = make_project(code="XLS")
    title = "东城区解放路片区被征收户台账"
    rows = [
        [title, None, None, None, None, None, None],
        [
            "序号",
            "户主姓名",
            "身份证号码",
            "房屋坐落",
            "合法建筑面积(㎡)",
            "评估价值(万元)",
            "调查日期",
        ],
        [1, "周老汉", OLD_RESIDENTS[0][1], "解放路1号", 85.32, 102.384, date(2024, 3, 5)],
        [2, "吴奶奶", OLD_RESIDENTS[1][1], "解放路2号", 60, 70.5, "2024年3月6日"],
        [None, "合计", None, None, 145.32, 172.884, None],
    ]
    data = xls({"台账": rows}, {"台账": [(0, 0, 0, 6, title)]})

    report = run(project, data)

    assert report.errors == [] and report.saved, report.errors
    assert report.header_row == 2 and [s.number for s in report.skipped] == [5]
    by_name = {h.head_name: h for h in households_of(project)}
    assert by_name["周老汉"].appraisal_value == Decimal("1023840.00")
    assert by_name["周老汉"].legal_area == Decimal("85.32")
    assert by_name["吴奶奶"].steps[0].actual_date == date(2024, 3, 6)
    assert by_name["周老汉"].steps[0].actual_date == date(2024, 3, 5)
    # the 万元 column is labelled as what the preview shows: yuan, converted
    assert report.label("appraisal_value") == gettext(
        "%(header)s (converted from %(written)s)", header="评估价值(元)", written="评估价值(万元)"
    )


def test_an_xls_and_an_xlsx_of_the_same_ledger_give_the_same_households(make_project):
    rows = [
        ["户主姓名", "身份证号码", "房屋坐落", "合法建筑面积(㎡)", "补偿方式", "选房顺序号"],
        ["甲", valid_id(1), "一号", 50.5, "货币补偿", 1],
        ["乙", valid_id(2), "二号", 61, "产权调换", 2],
    ]
    first, second = make_project(), make_project()
    run(first, workbook({"台账": rows}))
    run(second, xls({"台账": rows}))
    fields = ("head_name", "head_id_number", "legal_area", "compensation_mode", "selection_order")

    def facts(project):
        return [tuple(getattr(h, f) for f in fields) for h in households_of(project)]

    assert facts(first) == facts(second) and len(facts(first)) == 2


def members_ledger(member_rows: list[list[Any]], member_headers: list[str] | None = None) -> bytes:
    return workbook(
        {
            "调查登记表": [
                ["序号", "案卷号", *HEADERS],
                [1, "M-1", "甲", valid_id(1), "一号", 50],
                [2, None, "乙", valid_id(2), "二号", 60],
                [3, None, "丙", valid_id(3), "三号", 70],
            ],
            "家庭成员": [
                member_headers
                or ["户主身份证号", "案卷号", "序号", "姓名", "与户主关系", "身份证号码"],
                *member_rows,
            ],
        }
    )


def test_members_on_a_second_sheet_are_imported_with_their_households(make_project):
    project = make_project()
    before = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    data = members_ledger(
        [
            [valid_id(1), None, None, "甲", "户主", valid_id(1)],  # the head: not a member
            [valid_id(1), None, None, "甲妻", "妻子", valid_id(11)],
            [None, "M-1", None, "甲子", "儿子", None],  # by case number
            [None, None, 2, "乙母", "母亲", OLD_RESIDENTS[3][1]],  # by 序号
            [None, None, 3, "丙孙", "外孙女", None],
        ]
    )

    report = run(project, data)

    assert report.errors == [] and report.saved and report.member_count == 4
    members = {
        h.head_name: [(m.name, m.relation, m.id_number) for m in h.members]
        for h in households_of(project)
    }
    assert members == {
        "甲": [("甲妻", "配偶", valid_id(11)), ("甲子", "子女", None)],
        "乙": [("乙母", "父母", OLD_RESIDENTS[3][1])],
        "丙": [("丙孙", "孙子女", None)],
    }
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.entity_type == "HouseholdMember", AuditEvent.id > 0)
    ).all()
    member_ids = {m.id for h in households_of(project) for m in h.members}
    assert {e.entity_id for e in events if e.entity_id in member_ids} == member_ids
    audited = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) - before
    assert audited == 3 + 3 + 4  # households, survey steps, members

    # the same file again changes nothing; a changed member list replaces the old one
    assert run(project, data).unchanged == 3
    changed = members_ledger([[valid_id(1), None, None, "甲妻", "配偶", valid_id(11)]])
    report = run(project, changed)
    assert [(r.number, r.action) for r in report.rows] == [
        (2, Action.UPDATE),
        (3, Action.UNCHANGED),
        (4, Action.UNCHANGED),
    ]
    jia = next(h for h in households_of(project) if h.head_name == "甲")
    assert [m.name for m in jia.members] == ["甲妻"]


def test_a_bad_member_row_holds_back_its_household_and_is_named(make_project):
    project = make_project()
    data = members_ledger(
        [
            [valid_id(1), None, None, "甲妻", "妻子", "110105194912310021"],  # check digit
            [valid_id(9), None, None, "无主", "子女", None],  # no such household
            [valid_id(2), None, None, "", "子女", None],  # no name
        ]
    )
    report = run(project, data)
    found = {(e.sheet, e.row, p.column) for e in report.errors for p in e.problems}
    assert ("家庭成员", 2, "身份证号码") in found
    assert ("家庭成员", 3, "户主身份证号") in found
    assert ("家庭成员", 4, "姓名") in found
    # the households of rows 2 and 3 (甲, 乙) are held back, 丙 is fine
    assert [r.action for r in report.rows] == [Action.INVALID, Action.INVALID, Action.CREATE]
    assert households_of(project) == []

    report = run(project, data, skip_bad=True)
    assert report.saved and [h.head_name for h in households_of(project)] == ["丙"]


# ---------------------------------------------------------------------------------------------
# 3. The error report and importing the good rows


def test_the_error_report_is_the_office_file_with_an_explanation_column(make_project):
    project = make_project()
    rows = [
        ["东城区征收台账"],
        HEADERS,
        ["甲", valid_id(1), "一号", 50],
        ["", "110105194912310021", "二号", "八十"],  # name, check digit, area
        ["丙", valid_id(3), "三号", 70],
    ]
    data = xlsx(rows).getvalue()
    report = run(project, data)

    book = openpyxl.load_workbook(io.BytesIO(import_error_report(data, report)))
    ws = book.active
    assert ws.title == "Sheet"
    assert [c.value for c in ws[1]][:1] == ["东城区征收台账"]
    assert [c.value for c in ws[2]] == [*HEADERS, "错误说明"]
    assert [c.value for c in ws[3]][:4] == ["甲", valid_id(1), "一号", 50]
    note = ws.cell(4, 5).value
    assert "户主姓名" in note and "校验位" in note and "合法建筑面积(㎡)" in note
    red = {c.column for c in ws[4] if c.fill.fgColor.rgb.endswith("F8CBAD")}
    assert red == {1, 2, 4}
    assert ws.cell(3, 5).value is None and ws.cell(5, 5).value is None
    assert ws.cell(4, 2).number_format == "@"  # the ID stays text


def test_importing_the_good_rows_leaves_the_bad_ones_in_the_report(make_project):
    project = make_project()
    rows = [
        ["甲", valid_id(1), "一号", 50],
        ["", valid_id(2), "二号", 60],
        ["丙", valid_id(3), "三号", 70],
    ]
    report = run(project, simple_ledger(rows), skip_bad=True)
    assert report.saved and report.invalid == 1
    assert [h.head_name for h in households_of(project)] == ["甲", "丙"]
    assert [e.row for e in report.errors] == [3]
    # correcting the bad row and importing the whole file again adds only that one
    rows[1][0] = "乙"
    report = run(project, simple_ledger(rows))
    assert (report.created, report.unchanged) == (1, 2)


# ---------------------------------------------------------------------------------------------
# 4. Limits


def test_a_zip_bomb_is_refused_before_it_is_read(make_project):
    data = zip_bomb(HEADERS, 2_000_000)
    assert len(data) < 1_000_000  # 2,000,000 rows in well under a megabyte
    started = time.perf_counter()
    with pytest.raises(RuleViolation) as refused:
        run(make_project(), data)
    assert time.perf_counter() - started < 2
    assert "MB" in refused.value.message and refused.value.field == "file"


def _claim_size(data: bytes, name: bytes, size: int) -> bytes:
    """The zip with `name`'s uncompressed size claimed as `size` in both of its headers."""
    patched = bytearray(data)
    position = 0
    while (position := patched.find(b"PK\x03\x04", position)) >= 0:  # local headers
        length = int.from_bytes(patched[position + 26 : position + 28], "little")
        if patched[position + 30 : position + 30 + length] == name:
            patched[position + 22 : position + 26] = size.to_bytes(4, "little")
        position += 4
    position = 0
    while (position := patched.find(b"PK\x01\x02", position)) >= 0:  # central directory
        length = int.from_bytes(patched[position + 28 : position + 30], "little")
        if patched[position + 46 : position + 46 + length] == name:
            patched[position + 24 : position + 28] = size.to_bytes(4, "little")
        position += 4
    return bytes(patched)


def test_a_zip_lying_about_its_size_is_damaged_not_read(make_project):
    data = _claim_size(zip_bomb(HEADERS, 2_000_000), b"xl/worksheets/sheet1.xml", 1000)
    started = time.perf_counter()
    with pytest.raises(RuleViolation) as refused:
        run(make_project(), data)
    assert time.perf_counter() - started < 2
    assert refused.value.field == "file" and "损坏" in refused.value.message


def test_a_sheet_past_the_row_limit_is_refused_with_the_limit(make_project, app, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_ROWS", 50)
    rows = [[f"户{n}", valid_id(n), f"{n}号", 50] for n in range(1, 90)]
    with pytest.raises(RuleViolation) as refused:
        run(make_project(), simple_ledger(rows))
    assert "50" in refused.value.message
    fine = [[f"户{n}", valid_id(n), f"{n}号", 50] for n in range(1, 40)]
    assert run(make_project(), simple_ledger(fine)).saved


def test_rows_are_cut_at_the_column_limit():
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(HEADERS)
    ws.cell(2, 16_000, "far away")
    buffer = io.BytesIO()
    book.save(buffer)
    with open_workbook(buffer.getvalue(), ReadLimits()) as opened:
        rows = list(opened.sheets[0].rows())
    assert max(len(r.values) for r in rows) <= ReadLimits().max_columns


def test_a_file_by_another_name_is_read_by_its_bytes(make_project):
    with pytest.raises(RuleViolation):
        run(make_project(), b"%PDF-1.7 not a workbook")
    report = run(make_project(), xls({"台账": [HEADERS, ["甲", valid_id(1), "一号", 50]]}))
    assert report.saved


def test_a_csv_or_an_ods_is_told_how_to_save_it(make_project):
    project = make_project()
    with pytest.raises(RuleViolation) as csv_file:
        run(project, "户主姓名,身份证号\n甲,110105195001010004\n".encode("gbk"))
    assert "不是 Excel 工作簿" in csv_file.value.message
    ods = io.BytesIO()
    with zipfile.ZipFile(ods, "w") as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet"
        )
        archive.writestr("content.xml", "<office:document-content/>")
    with pytest.raises(RuleViolation) as ods_file:
        run(project, ods.getvalue())
    assert ".ods" in ods_file.value.message and "另存为 .xlsx" in ods_file.value.message
    assert households_of(project) == []


# ---------------------------------------------------------------------------------------------
# 5. On the pages


def _upload(client, project, data: bytes, name: str):
    return client.post(
        "/households/import",
        data={"project_id": str(project.id), "ledger": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def _token(page: str) -> str:
    return page.split('name="token" type="hidden" value="')[1].split('"')[0]


def test_an_xls_with_a_bad_row_previews_offers_the_report_and_the_good_rows(
    client, login_as, make_project
):
    project = make_project()
    login_as(Role.CASEWORKER)
    rows = [HEADERS, ["甲", valid_id(1), "一号", 50], ["乙", "12345", "二号", 60]]
    response = _upload(client, project, xls({"台账": rows}), "台账.xls")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "台账.xls" in page
    assert 'data-testid="import-errors"' in page and "18 位" in page
    token = _token(page)

    report = client.get(f"/households/import/{token}/report.xlsx")
    assert report.status_code == 200 and report.mimetype.endswith("spreadsheetml.sheet")
    assert "filename*=UTF-8''" in report.headers["Content-Disposition"]
    ws = openpyxl.load_workbook(io.BytesIO(report.data)).active
    assert ws.cell(1, 5).value == "错误说明" and "18 位" in ws.cell(3, 5).value

    assert 'data-testid="import-good-rows"' in page
    done = client.post("/households/import/confirm", data={"token": token, "skip_bad": "1"})
    assert done.status_code == 302
    assert [h.head_name for h in households_of(project)] == ["甲"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PendingUpload)) == 0


def test_a_warning_must_be_ticked_on_the_preview(client, login_as, make_project):
    project = make_project()
    login_as(Role.CASEWORKER)
    rows = [["乙", UNKNOWN_REGION, "二号", 60]]
    page = _upload(client, project, simple_ledger(rows).getvalue(), "t.xlsx").get_data(as_text=True)
    assert 'data-testid="import-warnings"' in page and "990101" in page
    token = _token(page)
    unticked = client.post("/households/import/confirm", data={"token": token})
    assert unticked.status_code == 200 and "请勾选确认" in unticked.get_data(as_text=True)
    assert households_of(project) == []
    ticked = client.post(
        "/households/import/confirm", data={"token": token, "warnings_confirmed": "y"}
    )
    assert ticked.status_code == 302
    assert [h.head_id_number for h in households_of(project)] == [UNKNOWN_REGION]


def test_another_persons_upload_cannot_be_confirmed_or_downloaded(
    app, client, login_as, make_user, make_project
):
    from tests.conftest import TEST_PASSWORD

    project = make_project()
    login_as(Role.CASEWORKER)
    data = simple_ledger([["甲", valid_id(1), "一号", 5]]).getvalue()
    token = _token(_upload(client, project, data, "a.xlsx").get_data(as_text=True))
    intruder = make_user(Role.CASEWORKER)
    other = app.test_client()
    login = other.post("/login", data={"username": intruder.username, "password": TEST_PASSWORD})
    assert login.status_code == 302
    assert other.get(f"/households/import/{token}/report.xlsx").status_code == 404
    refused = other.post("/households/import/confirm", data={"token": token})
    assert refused.status_code == 302 and households_of(project) == []
    # the one who uploaded it confirms it from another browser (or machine): the file waits in
    # the database, not in one session or on one disk
    again = app.test_client()
    owner = db.session.scalar(sa.select(PendingUpload.user_id))
    from resettle.auth.models import User

    username = db.session.get(User, owner).username
    again.post("/login", data={"username": username, "password": TEST_PASSWORD})
    assert again.post("/households/import/confirm", data={"token": token}).status_code == 302
    assert [h.head_name for h in households_of(project)] == ["甲"]


def test_the_preview_shows_members_and_converted_units(client, login_as, make_project):
    project = make_project()
    login_as(Role.CASEWORKER)
    data = workbook(
        {
            "台账": [[*HEADERS, "评估价值(万元)"], ["甲", valid_id(1), "一号", 50, 12.5]],
            "家庭成员": [["户主身份证号", "成员姓名", "关系"], [valid_id(1), "甲妻", "妻"]],
        }
    )
    page = _upload(client, project, data, "m.xlsx").get_data(as_text=True)
    assert "甲妻(配偶)" in page and 'data-testid="members-sheet"' in page
    assert "评估价值(元)（由“评估价值(万元)”换算）" in page and "125000" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(HouseholdMember)) == 0


def test_the_template_has_a_members_sheet_that_imports(make_project):
    from resettle.households.ledger import import_template

    book = openpyxl.load_workbook(io.BytesIO(import_template()))
    assert book.sheetnames == ["调查登记表", "家庭成员", "填写说明"]
    assert [c.value for c in book["家庭成员"][1]] == [
        "户主身份证号",
        "户主姓名",
        "成员姓名",
        "与户主关系",
        "身份证号码",
    ]
    ws = book["调查登记表"]
    ws.append(["", "钱八", valid_id(8), "", "八号", 80])
    book["家庭成员"].append([valid_id(8), "钱八", "钱八妻", "配偶", None])
    buffer = io.BytesIO()
    book.save(buffer)
    report = run(make_project(), buffer.getvalue())
    assert report.saved and report.skipped_example and report.member_count == 1


def test_cli_writes_the_report_and_imports_the_good_rows(make_project, tmp_path, app):
    project = make_project(code="SKIP")
    path = tmp_path / "台账.xls"
    path.write_bytes(
        xls({"台账": [HEADERS, ["甲", valid_id(1), "一号", 50], ["", valid_id(2), "二号", 6]]})
    )
    runner = app.test_cli_runner()
    out = tmp_path / "错误说明.xlsx"
    done = runner.invoke(
        args=["households", "import", str(path), "--project", "SKIP", "--skip-bad"]
        + ["--report", str(out)]
    )
    assert done.exit_code == 0, done.output
    assert [h.head_name for h in households_of(project)] == ["甲"]
    ws = openpyxl.load_workbook(out).active
    assert ws.cell(1, 5).value == "错误说明" and "户主姓名" in ws.cell(3, 5).value
    warned = tmp_path / "w.xlsx"
    warned.write_bytes(simple_ledger([["乙", UNKNOWN_REGION, "二号", 60]]).getvalue())
    first = runner.invoke(args=["households", "import", str(warned), "--project", "SKIP"])
    assert first.exit_code == 1 and "--accept-warnings" in first.output
    second = runner.invoke(
        args=["households", "import", str(warned), "--project", "SKIP", "--accept-warnings"]
    )
    assert second.exit_code == 0, second.output
    assert len(households_of(project)) == 2


def test_dates_from_wps_date_cells_keep_their_day():
    data = xls(
        {"台账": [HEADERS + ["调查日期"], ["甲", valid_id(1), "一号", 50, datetime(2024, 3, 5)]]}
    )
    with open_workbook(data) as opened:
        rows = list(opened.sheets[0].rows())
    assert rows[1].values[4] in (date(2024, 3, 5), datetime(2024, 3, 5))
