"""Helpers for the estate tests: estates with flats, and households waiting to select a flat."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal
from io import BytesIO
from typing import Any

from flask_babel import gettext
from openpyxl import Workbook
from sqlalchemy.orm import Session

from resettle.households.models import CaseStep, CompensationMode, Household, Stage
from resettle.projects.models import ExpropriationProject
from resettle.sites.models import Building, ResettlementSite, Unit
from resettle.sites.services import BuildingData, SiteData, add_building, create_site

TODAY = date(2026, 5, 20)
DEMOLISHED_ON = date(2026, 4, 10)
SELECTED_ON = date(2026, 5, 18)
STEP_DATES = {
    Stage.SURVEYED: date(2025, 4, 1),
    Stage.APPRAISED: date(2025, 5, 6),
    Stage.SIGNED: date(2025, 6, 2),
    Stage.VACATED: date(2025, 8, 15),
    Stage.DEMOLISHED: DEMOLISHED_ON,
}
_serial = itertools.count(1)


def msg(msgid: str, **values: Any) -> str:
    """A message as the application shows it now (Chinese once the catalog holds it)."""
    return gettext(msgid, **values)


def id_number(n: int) -> str:
    """A resident ID number with a correct check digit, different for each n."""
    born = date(1960, 1, 1) + timedelta(days=97 * n)
    body = f"110101{born:%Y%m%d}{n % 1000:03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]
    return body + check


def add_project(session: Session, **overrides: Any) -> ExpropriationProject:
    n = next(_serial)
    # published: the public lookups of these households are tested too
    values: dict[str, Any] = {"code": f"S{n:04d}", "name": f"选房测试项目{n}", "published": True}
    values.update(overrides)
    project = ExpropriationProject(**values)
    session.add(project)
    session.flush()
    return project


def add_household(
    session: Session,
    project: ExpropriationProject,
    *,
    stage: Stage = Stage.DEMOLISHED,
    order: int | None = None,
    mode: CompensationMode | None = CompensationMode.SWAP,
    **overrides: Any,
) -> Household:
    """A household of `project` with every step up to `stage` recorded (default: demolished,
    so it waits to select a flat)."""
    n = next(_serial)
    values: dict[str, Any] = {
        "project": project,
        "case_number": f"{project.code}-{n:04d}",
        "head_name": f"住户{n}",
        "head_id_number": id_number(n),
        "house_address": f"东城区解放路{n}号",
        "legal_area": Decimal("85.32"),
        "compensation_mode": mode,
        "entitled_area": Decimal("90.00"),
        "selection_order": order,
        "stage": stage,
    }
    values.update(overrides)
    household = Household(**values)
    order_of_stages = list(Stage)
    for step_stage, day in STEP_DATES.items():
        if order_of_stages.index(step_stage) <= order_of_stages.index(stage):
            household.steps.append(CaseStep(stage=step_stage, actual_date=day))
    session.add(household)
    session.flush()
    return household


def add_site(
    session: Session,
    name: str | None = None,
    *,
    floors: int = 3,
    entrances: int = 1,
    areas: tuple[str, ...] = ("89.50", "120.00"),
    building: str = "1#楼",
) -> tuple[ResettlementSite, Building]:
    """An estate with one building of generated flats (numbers 101, 102, … 301, 302)."""
    site = create_site(
        session, SiteData(name or f"测试安置小区{next(_serial)}", "纬三路", date(2027, 6, 30))
    )
    built = add_building(
        session,
        site,
        BuildingData(building, floors, entrances, len(areas), [Decimal(a) for a in areas]),
    )
    return site, built


def flat(building: Building, number: str, entrance: str = "1") -> Unit:
    return next(u for u in building.units if u.number == number and u.entrance == entrance)


# --- unit import files -----------------------------------------------------------------------


def workbook_bytes(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    out = BytesIO()
    workbook.save(out)
    return out.getvalue()


CLEAN = [
    ["楼栋", "单元", "楼层", "室号", "建筑面积(㎡)"],
    ["3#楼", "1", 1, "101", 89.5],
    ["3#楼", "1", 1, "102", 120],
    ["3#楼", "1", 2, "201", "89.50"],
    ["3#楼", "2", 2, "201", 75.38],
    ["5号楼", None, 6, 601, 60.12],
]

MESSY = [
    ["东城臻雅苑安置房源表（第一批）", None, None, None, None],
    ["制表：征收办  2026年5月", None, None, None, None],
    [" 楼 号 ", "单元号", "层", "房号", "建筑面积（㎡）"],
    ["３#楼", "１单元", "１５", "１５０１", "８９．５０"],  # full-width digits and point
    [" 3#楼 ", " 1 ", " 15层 ", "1502室 ", " 120 ㎡"],  # stray spaces and units
    [None, None, None, None, None],  # blank line in the middle
    ["3#楼", "1", 16, "1601", "八十九"],  # area in words: bad
    ["3#楼", "1", "十六", "1602", 75],  # floor in words: bad
    ["", "1", 16, "1603", 75],  # no building: bad
    ["3#楼", "1", 15, "1501", 89.5],  # the same flat as row 4: bad
]
