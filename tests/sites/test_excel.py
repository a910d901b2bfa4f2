"""Importing an estate's flats from Excel: messy files are read, bad rows named, re-import no-op."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from resettle.audit.models import AuditEvent
from resettle.errors import RuleViolation
from resettle.extensions import db
from resettle.sites.excel import read_units_workbook, units_template
from resettle.sites.models import Building, Unit, UnitStatus
from resettle.sites.services import (
    SiteData,
    allocate_unit,
    create_site,
    import_units,
    plan_unit_import,
)
from tests.sites import (
    CLEAN,
    MESSY,
    SELECTED_ON,
    TODAY,
    add_household,
    add_project,
    msg,
    workbook_bytes,
)


def test_a_messy_file_names_each_bad_row_and_column_and_nothing_is_imported():
    site = create_site(db.session, SiteData("导入测试小区"))
    sheet = read_units_workbook(workbook_bytes(MESSY))

    assert [(r.row, r.building, r.entrance, r.floor, r.number, r.area) for r in sheet.rows] == [
        (4, "3#楼", "1", 15, "1501", Decimal("89.50")),
        (5, "3#楼", "1", 15, "1502", Decimal("120.00")),
    ]
    assert [(e.row, p.column, p.reason) for e in sheet.errors for p in e.problems] == [
        (7, "建筑面积（㎡）", msg("Enter an area in square metres, such as 89.50.")),
        (8, "层", msg("Enter the floor as a whole number, such as 15.")),
        (9, "楼 号", msg("This cell is empty.")),
        (10, "房号", msg("The same flat as row %(row)d.", row=4)),
    ]
    with pytest.raises(RuleViolation) as refused:
        import_units(db.session, site, sheet)
    assert str(refused.value) == msg("%(n)d rows have errors; nothing was imported.", n=4)
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Building).where(Building.site_id == site.id)
        )
        == 0
    )


def test_rows_that_clash_with_the_estate_refuse_the_whole_import():
    site = create_site(db.session, SiteData("冲突测试小区"))
    import_units(db.session, site, read_units_workbook(workbook_bytes(CLEAN)))
    units_before = db.session.scalar(sa.select(sa.func.count()).select_from(Unit))
    clash = workbook_bytes(
        [
            CLEAN[0],
            ["3#楼", "1", 3, "301", 89.5],  # new flat on a floor 3#楼 (2 floors) does not have
            ["7#楼", "1", 1, "101", 80],  # would be fine on its own
        ]
    )
    sheet = read_units_workbook(clash)
    assert not sheet.errors

    plan = plan_unit_import(db.session, site, sheet)
    assert [(e.row, p.column, p.reason) for e in plan.errors for p in e.problems] == [
        (2, "楼层", msg("%(building)s has floors 1 to %(floors)d.", building="3#楼", floors=2))
    ]
    with pytest.raises(RuleViolation) as refused:
        import_units(db.session, site, sheet)
    assert str(refused.value) == msg("%(n)d rows have errors; nothing was imported.", n=1)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Unit)) == units_before
    assert db.session.scalar(sa.select(Building.id).where(Building.name == "7#楼")) is None


def test_a_clean_file_imports_and_importing_it_again_changes_nothing():
    site = create_site(db.session, SiteData("重复导入小区"))
    data = workbook_bytes(CLEAN)

    plan = import_units(db.session, site, read_units_workbook(data))

    assert (len(plan.to_create), len(plan.to_update), plan.unchanged) == (5, 0, 0)
    assert plan.new_buildings == {"3#楼": 2, "5号楼": 6}
    units = db.session.execute(
        sa.select(Building.name, Unit.entrance, Unit.floor, Unit.number, Unit.area, Unit.status)
        .join(Unit.building)
        .where(Building.site_id == site.id)
        .order_by(Building.name, Unit.entrance, Unit.number)
    ).all()
    assert units == [
        ("3#楼", "1", 1, "101", Decimal("89.50"), UnitStatus.AVAILABLE),
        ("3#楼", "1", 1, "102", Decimal("120.00"), UnitStatus.AVAILABLE),
        ("3#楼", "1", 2, "201", Decimal("89.50"), UnitStatus.AVAILABLE),
        ("3#楼", "2", 2, "201", Decimal("75.38"), UnitStatus.AVAILABLE),
        ("5号楼", "1", 6, "601", Decimal("60.12"), UnitStatus.AVAILABLE),
    ]
    events = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))

    again = import_units(db.session, site, read_units_workbook(data))

    assert (again.changes, again.unchanged, again.new_buildings) == (0, 5, {})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == events


def test_a_corrected_area_updates_a_free_flat_but_not_an_allocated_one():
    site = create_site(db.session, SiteData("更正测试小区"))
    import_units(db.session, site, read_units_workbook(workbook_bytes(CLEAN)))
    taken = db.session.scalar(
        sa.select(Unit)
        .where(Unit.number == "102")
        .join(Unit.building)
        .where(Building.site_id == site.id)
    )
    allocate_unit(
        db.session,
        taken.id,
        add_household(db.session, add_project(db.session), order=1),
        selection_date=SELECTED_ON,
        operator=None,
        today=TODAY,
    )
    corrected = [list(r) for r in CLEAN]
    corrected[1][4] = 90.1  # 101 is free
    corrected[2][4] = 119  # 102 is allocated

    sheet = read_units_workbook(workbook_bytes(corrected))
    plan = plan_unit_import(db.session, site, sheet)
    assert [(e.row, p.column) for e in plan.errors for p in e.problems] == [(3, "建筑面积(㎡)")]
    assert "3#楼1单元102室" in next(iter(plan.errors)).problems[0].reason

    del corrected[2]
    plan = import_units(db.session, site, read_units_workbook(workbook_bytes(corrected)))
    assert [(u.number, row.area) for u, row in plan.to_update] == [("101", Decimal("90.10"))]
    db.session.expire_all()
    assert db.session.scalar(
        sa.select(Unit.area)
        .where(Unit.number == "101")
        .join(Unit.building)
        .where(Building.site_id == site.id)
    ) == Decimal("90.10")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            b"not a spreadsheet",
            "This is not an Excel workbook (.xlsx or .xls), or it is damaged. Open it in Excel or WPS, save it as .xlsx and try again.",
        ),
        (workbook_bytes([["姓名", "电话"], ["张三", "1380000"]]), None),
        (workbook_bytes([CLEAN[0]]), "The file lists no flats under its header row."),
    ],
    ids=["not xlsx", "no header", "header only"],
)
def test_a_file_that_is_not_a_flat_list_is_refused_as_a_whole(content, expected):
    with pytest.raises(RuleViolation) as refused:
        read_units_workbook(content)
    assert refused.value.field == "file"
    if expected:
        assert str(refused.value) == msg(expected)
    else:
        assert "楼栋、楼层、室号、建筑面积(㎡)" in str(refused.value)


def test_the_template_has_the_columns_and_reads_back_once_filled():
    template = units_template()
    workbook = load_workbook(BytesIO(template))
    sheet = workbook.worksheets[0]
    assert [c.value for c in sheet[1]] == ["楼栋", "单元", "楼层", "室号", "建筑面积(㎡)"]
    sheet.append(["1#楼", "1", 15, "1502", 89.5])
    out = BytesIO()
    workbook.save(out)
    rows = read_units_workbook(out.getvalue()).rows
    assert [(r.building, r.floor, r.number, r.area) for r in rows] == [
        ("1#楼", 15, "1502", Decimal("89.50"))
    ]
