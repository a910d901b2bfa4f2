"""Exporting the filtered household list to Excel: columns, masking by role, no formulas."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
import sqlalchemy as sa

from resettle import clock
from resettle.auth.models import Role
from resettle.extensions import db
from resettle.households.ledger import export_households, import_households
from resettle.households.models import CaseStep, CompensationMode, Household, Stage
from resettle.households.queries import HouseholdFilter, filtered_households
from tests.households.test_ledger_import import valid_id
from tests.jobs import job_file

EXPECTED_HEADERS = [
    "案卷号",
    "环节",
    "户主姓名",
    "身份证号码",
    "联系电话",
    "房屋坐落",
    "合法建筑面积(㎡)",
    "未登记面积(㎡)",
    "房屋用途",
    "补偿方式",
    "评估单价(元/㎡)",
    "评估价值(元)",
    "调查日期",
    "选房顺序号",
    "备注",
]


def read(content: bytes) -> list[dict[str, object]]:
    ws = openpyxl.load_workbook(io.BytesIO(content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == EXPECTED_HEADERS
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_export_writes_the_template_columns_with_stage_and_mode_in_chinese(
    make_project, make_household
):
    project = make_project()
    household = make_household(
        project=project,
        case_number="EX-0001",
        head_id_number=valid_id(1),
        legal_area=Decimal("85.32"),
        appraisal_value=Decimal("1023840.00"),
        compensation_mode=CompensationMode.MIXED,
        stage=Stage.APPRAISED,
        selection_order=4,
    )
    db.session.add(
        CaseStep(household=household, stage=Stage.SURVEYED, actual_date=date(2024, 3, 5))
    )
    db.session.flush()

    [row] = read(
        export_households(db.session, HouseholdFilter(project_id=project.id), full_ids=True)
    )

    assert row["案卷号"] == "EX-0001"
    assert row["环节"] == "评估"
    assert row["补偿方式"] == "货币补偿与产权调换"
    assert row["身份证号码"] == valid_id(1)
    assert row["合法建筑面积(㎡)"] == 85.32
    assert row["评估价值(元)"] == 1023840
    assert row["调查日期"].date() == date(2024, 3, 5)
    assert row["选房顺序号"] == 4


def test_exported_file_imports_back_unchanged(make_project, make_household):
    project = make_project()
    for n in range(3):
        household = make_household(
            project=project,
            head_id_number=valid_id(n),
            head_name=f"户主{n}",
            compensation_mode=[None, CompensationMode.MONEY, CompensationMode.SWAP][n],
            appraisal_unit_price=Decimal("12000.50"),
            note="-1 号楼" if n == 2 else None,
        )
        db.session.add(
            CaseStep(household=household, stage=Stage.SURVEYED, actual_date=date(2024, 3, 5))
        )
    db.session.flush()
    content = export_households(db.session, HouseholdFilter(project_id=project.id), full_ids=True)

    report = import_households(db.session, project, io.BytesIO(content), operator=None)

    assert report.errors == []
    assert (report.created, report.updated, report.unchanged) == (0, 0, 3)


@pytest.mark.parametrize(
    ("role", "masked"),
    [(Role.ADMIN, False), (Role.CASEWORKER, False), (Role.SUPERVISOR, True), (Role.LEADER, True)],
)
def test_export_masks_id_numbers_by_role(client, login_as, make_household, role, masked):
    household = make_household(head_id_number=valid_id(7))
    login_as(role)

    response = job_file(client, client.get(f"/households/export?project={household.project_id}"))

    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert "attachment" in response.headers["Content-Disposition"]
    [row] = read(response.data)
    expected = valid_id(7)[:6] + "********" + valid_id(7)[-4:] if masked else valid_id(7)
    assert row["身份证号码"] == expected


def test_export_neutralises_formulas(client, login_as, make_household):
    household = make_household(
        head_name='=HYPERLINK("http://evil.example","点我")',
        house_address="+1+1",
        phone="-2+3",
        note="@SUM(A1:A9)",
        head_id_number=valid_id(3),
    )
    login_as(Role.CASEWORKER)

    content = job_file(
        client, client.get(f"/households/export?project={household.project_id}")
    ).data

    ws = openpyxl.load_workbook(io.BytesIO(content)).active
    cells = {ws.cell(1, c).value: ws.cell(2, c) for c in range(1, ws.max_column + 1)}
    for header, value in [
        ("户主姓名", household.head_name),
        ("房屋坐落", "+1+1"),
        ("联系电话", "-2+3"),
        ("备注", "@SUM(A1:A9)"),
    ]:
        cell = cells[header]
        assert cell.value == value  # the text as it was entered …
        assert cell.data_type == "s"  # … stored as text, not a formula
        assert cell.quotePrefix  # and Excel keeps it text when the cell is edited
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "<f " not in sheet


def test_export_matches_the_list_filter(client, login_as, make_project, make_household):
    project, other = make_project(), make_project()
    wanted = [
        make_household(
            project=project, stage=Stage.SIGNED, head_name="李雷", head_id_number=valid_id(1)
        ),
        make_household(
            project=project, stage=Stage.SIGNED, head_name="李雷雷", head_id_number=valid_id(2)
        ),
    ]
    make_household(
        project=project, stage=Stage.SURVEYED, head_name="李雷", head_id_number=valid_id(3)
    )
    make_household(
        project=project, stage=Stage.SIGNED, head_name="韩梅梅", head_id_number=valid_id(4)
    )
    make_household(project=other, stage=Stage.SIGNED, head_name="李雷", head_id_number=valid_id(5))
    login_as(Role.LEADER)

    response = job_file(
        client, client.get(f"/households/export?project={project.id}&stage=signed&q=李雷")
    )

    exported = [row["案卷号"] for row in read(response.data)]
    assert exported == sorted(h.case_number for h in wanted)
    listed = db.session.scalars(
        filtered_households(
            HouseholdFilter(project_id=project.id, stage=Stage.SIGNED, search="李雷"), clock.today()
        )
    )
    assert exported == [h.case_number for h in listed]


def test_export_of_overdue_households(client, login_as, make_household):
    late = make_household(head_id_number=valid_id(1))
    on_time = make_household(project=late.project, head_id_number=valid_id(2))
    db.session.add_all(
        [
            CaseStep(household=late, stage=Stage.APPRAISED, deadline=date(2020, 1, 1)),
            CaseStep(household=on_time, stage=Stage.APPRAISED, deadline=date(2999, 1, 1)),
        ]
    )
    db.session.flush()
    login_as(Role.SUPERVISOR)

    response = job_file(
        client, client.get(f"/households/export?project={late.project_id}&overdue=1")
    )

    assert [row["案卷号"] for row in read(response.data)] == [late.case_number]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Household)) == 2
