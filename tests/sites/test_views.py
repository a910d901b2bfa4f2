"""Estate screens as their users see them: Chinese pages, read-only leaders, messages in place."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from resettle import clock
from resettle.extensions import db
from resettle.households.models import Household, Stage
from resettle.sites.models import Building, ResettlementSite, Unit, UnitStatus
from resettle.sites.services import allocate_unit
from tests.sites import (
    CLEAN,
    MESSY,
    SELECTED_ON,
    TODAY,
    add_household,
    add_project,
    add_site,
    flat,
    msg,
    workbook_bytes,
)


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setattr(clock, "today", lambda: TODAY)


@pytest.fixture(autouse=True)
def _import_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UNIT_IMPORT_DIR", str(tmp_path / "imports"))


def page(response) -> str:
    return response.get_data(as_text=True)


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


# --- reading -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "caseworker", "supervisor", "leader"])
def test_every_role_reads_the_estates_and_the_flats_in_chinese(client, login_as, role):
    site, building = add_site(db.session, "东城臻雅苑", floors=2)
    project = add_project(db.session)
    household = add_household(db.session, project, order=1)
    allocate_unit(
        db.session,
        flat(building, "201").id,
        household,
        selection_date=SELECTED_ON,
        operator=None,
        today=TODAY,
    )
    login_as(role)

    listing = page(client.get("/sites/"))
    assert "安置房项目" in listing and "东城臻雅苑" in listing
    assert 'data-status="available">3<' in listing and 'data-status="allocated">1<' in listing

    response = client.get(f"/sites/{site.id}")
    assert response.status_code == 200
    text = page(response)
    assert "1#楼" in text and "201" in text and "89.50㎡" in text
    assert "可选" in text and "已分配" in text  # status labels in Chinese
    assert household.case_number in text  # who has flat 201
    staff_links = ("Add a building", "Import flats from Excel", "Mark as complete")
    shown = all(msg(label) in text for label in staff_links)
    assert shown == (role in ("admin", "caseworker"))


def test_an_unknown_estate_is_not_found(client, login_as):
    login_as("leader")
    assert client.get("/sites/987654").status_code == 404


# --- leaders and supervisors change nothing ------------------------------------------------


@pytest.mark.parametrize("role", ["leader", "supervisor"])
def test_read_only_roles_are_refused_every_change(client, login_as, role):
    site, building = add_site(db.session, floors=1)
    household = add_household(db.session, add_project(db.session), order=1)
    login_as(role)
    posts = [
        ("/sites/new", {"name": "不该出现的小区"}),
        (f"/sites/{site.id}/edit", {"name": "改名"}),
        (
            f"/sites/{site.id}/buildings/new",
            {"name": "9#楼", "floors": 3, "entrances": 1, "flats_per_floor": 1, "flat_areas": "90"},
        ),
        (
            f"/sites/buildings/{building.id}/units/new",
            {"entrance": "1", "floor": 1, "number": "199", "area": "90"},
        ),
        (f"/sites/buildings/{building.id}/complete", {}),
        (f"/sites/{site.id}/import", {"file": (BytesIO(workbook_bytes(CLEAN)), "f.xlsx")}),
        (f"/sites/{site.id}/import/confirm", {"token": "x" * 24}),
        (
            f"/sites/allocate/{household.id}",
            {"unit_id": flat(building, "101").id, "selection_date": "2026-05-18"},
        ),
    ]
    for path, data in posts:
        response = client.post(path, data=data)
        assert response.status_code == 403, path
        assert "无权访问" in page(response)
    for path in (
        "/sites/new",
        f"/sites/{site.id}/edit",
        f"/sites/{site.id}/import",
        f"/sites/allocate/{household.id}",
        "/sites/import-template.xlsx",
    ):
        assert client.get(path).status_code == 403, path
    db.session.expire_all()
    assert site.name != "改名" and not building.complete
    assert count(ResettlementSite) == 1 and count(Building) == 1 and count(Unit) == 2
    assert flat(building, "101").status == UnitStatus.AVAILABLE
    assert household.stage == Stage.DEMOLISHED


# --- estates and buildings -----------------------------------------------------------------


def test_a_caseworker_creates_an_estate_and_a_duplicate_name_is_shown_on_the_form(client, login_as):
    login_as("caseworker")
    response = client.post(
        "/sites/new",
        data={"name": "滨江花园", "location": "滨江路", "promised_handover_date": "2027-12-31"},
    )
    site = db.session.scalar(sa.select(ResettlementSite).where(ResettlementSite.name == "滨江花园"))
    assert response.status_code == 302 and response.headers["Location"] == f"/sites/{site.id}"
    assert "滨江花园" in page(client.get(f"/sites/{site.id}"))

    again = client.post("/sites/new", data={"name": " 滨江花园 "})
    assert again.status_code == 200
    assert msg("An estate named %(name)s exists already.", name="滨江花园") in page(again)
    assert count(ResettlementSite) == 1


def test_a_building_is_added_with_its_flats_and_marked_complete(client, login_as):
    site, _ = add_site(db.session, floors=1)
    login_as("caseworker")

    response = client.post(
        f"/sites/{site.id}/buildings/new",
        data={
            "name": "2号楼",
            "floors": 3,
            "entrances": 2,
            "flats_per_floor": 2,
            "flat_areas": "89.5，120",
        },
    )
    assert response.status_code == 302
    building = db.session.scalar(sa.select(Building).where(Building.name == "2号楼"))
    assert len(building.units) == 12
    text = page(client.get(f"/sites/{site.id}"))
    assert "2号楼" in text and "301" in text and "120.00㎡" in text

    refused = client.post(
        f"/sites/{site.id}/buildings/new",
        data={
            "name": "3号楼",
            "floors": 3,
            "entrances": 1,
            "flats_per_floor": 3,
            "flat_areas": "89.5, 120",
        },
    )
    assert refused.status_code == 200
    assert msg(
        "Enter one area for each flat on a floor (%(n)d), in the order of their numbers, "
        "or one area for all of them.",
        n=3,
    ) in page(refused)
    assert db.session.scalar(sa.select(Building.id).where(Building.name == "3号楼")) is None

    done = client.post(f"/sites/buildings/{building.id}/complete")
    assert done.status_code == 302
    db.session.expire_all()
    assert building.complete
    twice = client.post(f"/sites/buildings/{building.id}/complete", follow_redirects=True)
    assert msg("%(building)s is marked complete already.", building="2号楼") in page(twice)


def test_a_single_flat_beyond_the_top_floor_is_refused_on_the_form(client, login_as):
    site, building = add_site(db.session, floors=3)
    login_as("admin")
    response = client.post(
        f"/sites/buildings/{building.id}/units/new",
        data={"entrance": "1", "floor": 4, "number": "401", "area": "90"},
    )
    assert response.status_code == 200
    assert msg("%(building)s has floors 1 to %(floors)d.", building="1#楼", floors=3) in page(
        response
    )
    assert len(building.units) == 6
    ok = client.post(
        f"/sites/buildings/{building.id}/units/new",
        data={"entrance": "1", "floor": 3, "number": "303", "area": "66.6"},
    )
    assert ok.status_code == 302
    assert db.session.scalar(sa.select(Unit.area).where(Unit.number == "303")) == Decimal("66.60")


# --- the import ----------------------------------------------------------------------------


def test_the_template_downloads_as_an_excel_file(client, login_as):
    login_as("caseworker")
    response = client.get("/sites/import-template.xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    headers = [c.value for c in load_workbook(BytesIO(response.data)).worksheets[0][1]]
    assert headers == ["楼栋", "单元", "楼层", "室号", "建筑面积(㎡)"]


def test_an_import_is_previewed_then_confirmed_and_a_second_time_changes_nothing(client, login_as):
    site = add_site(db.session, floors=1)[0]
    login_as("caseworker")
    upload = {"file": (BytesIO(workbook_bytes(CLEAN)), "房源.xlsx")}

    preview = client.post(
        f"/sites/{site.id}/import", data=upload, content_type="multipart/form-data"
    )
    assert preview.status_code == 200
    text = page(preview)
    assert 'data-count="new">5<' in text and "5号楼" in text
    assert msg("Import %(n)d flats", n=5) in text
    assert count(Unit) == 2  # nothing saved before the confirmation

    token = text.split('name="token" type="hidden" value="')[1].split('"')[0]
    done = client.post(f"/sites/{site.id}/import/confirm", data={"token": token})
    assert done.status_code == 302 and done.headers["Location"] == f"/sites/{site.id}"
    assert count(Unit) == 7
    assert msg(
        "Import done: %(new)d flats added, %(updated)d corrected, %(same)d unchanged.",
        new=5,
        updated=0,
        same=0,
    ) in page(client.get(f"/sites/{site.id}"))

    replay = client.post(f"/sites/{site.id}/import/confirm", data={"token": token})
    assert replay.status_code == 302 and count(Unit) == 7

    again = client.post(
        f"/sites/{site.id}/import",
        data={"file": (BytesIO(workbook_bytes(CLEAN)), "房源.xlsx")},
        content_type="multipart/form-data",
    )
    text = page(again)
    assert (
        msg(
            "Nothing to import: every flat in the file is there already, with the same "
            "floor and area."
        )
        in text
    )
    assert 'name="token"' not in text and count(Unit) == 7


def test_an_import_with_bad_rows_lists_them_and_offers_no_confirmation(client, login_as):
    site = add_site(db.session, floors=1)[0]
    login_as("caseworker")
    response = client.post(
        f"/sites/{site.id}/import",
        data={"file": (BytesIO(workbook_bytes(MESSY)), "messy.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    text = page(response)
    table = text.split('id="import-errors"')[1].split("</table>")[0]
    assert '<td class="num">7</td><td>建筑面积（㎡）</td>' in table
    assert '<td class="num">8</td><td>层</td>' in table
    assert '<td class="num">10</td><td>房号</td>' in table
    assert 'name="token"' not in text
    assert count(Unit) == 2

    not_excel = client.post(
        f"/sites/{site.id}/import",
        data={"file": (BytesIO(b"hello"), "units.xlsx")},
        content_type="multipart/form-data",
    )
    assert not_excel.status_code == 200
    assert msg(
        "This is not an Excel workbook (.xlsx or .xls), or it is damaged. Open it in Excel or WPS, save it as .xlsx and try again."
    ) in page(not_excel)


# --- selection -----------------------------------------------------------------------------


def test_the_selection_page_shows_the_order_the_queue_and_the_free_flats(client, login_as):
    site, building = add_site(db.session, floors=2, areas=("60.00", "120.00"))
    project = add_project(db.session)
    first = add_household(db.session, project, order=1)
    second = add_household(db.session, project, order=2)
    login_as("caseworker")

    text = page(client.get(f"/sites/allocate/{second.id}"))
    assert 'data-testid="selection-order">2<' in text
    queue = text.split('id="queue"')[1].split("</table>")[0]
    assert queue.index(first.case_number) < queue.index(second.case_number)
    assert msg("%(n)d households ahead in the queue have not selected yet.", n=1) in text
    flats = text.split('id="available-flats"')[1].split("</table>")[0]
    assert flats.count('type="radio"') == 4

    large = page(client.get(f"/sites/allocate/{second.id}?min_area=100"))
    flats = large.split('id="available-flats"')[1].split("</table>")[0]
    assert flats.count('type="radio"') == 2 and "1#楼1单元102室" in flats
    assert "1#楼1单元101室" not in flats


def test_allocating_a_flat_records_the_selection_and_goes_to_the_household(client, login_as):
    site, building = add_site(db.session)
    household = add_household(db.session, add_project(db.session), order=1)
    unit = flat(building, "302")
    user = login_as("caseworker")

    response = client.post(
        f"/sites/allocate/{household.id}", data={"unit_id": unit.id, "selection_date": "2026-05-18"}
    )

    assert response.status_code == 302
    assert response.headers["Location"] == f"/households/{household.id}"
    db.session.expire_all()
    assert (unit.status, unit.household_id) == (UnitStatus.ALLOCATED, household.id)
    assert household.stage == Stage.SELECTED
    assert household.steps[-1].operator_id == user.id


def test_a_flat_taken_meanwhile_is_reported_on_the_page_and_nothing_changes(client, login_as):
    site, building = add_site(db.session)
    project = add_project(db.session)
    first = add_household(db.session, project, order=1)
    second = add_household(db.session, project, order=2)
    unit = flat(building, "101")
    allocate_unit(
        db.session, unit.id, first, selection_date=SELECTED_ON, operator=None, today=TODAY
    )
    login_as("caseworker")

    response = client.post(
        f"/sites/allocate/{second.id}", data={"unit_id": unit.id, "selection_date": "2026-05-18"}
    )

    assert response.status_code == 200
    assert msg(
        "%(flat)s is allocated to another household already; choose another flat.",
        flat="1#楼1单元101室",
    ) in page(response)
    db.session.expire_all()
    assert unit.household_id == first.id
    assert second.stage == Stage.DEMOLISHED and second.units == []


def test_a_household_that_has_not_vacated_is_told_on_the_page(client, login_as):
    site, building = add_site(db.session)
    household = add_household(db.session, add_project(db.session), order=1, stage=Stage.SIGNED)
    login_as("admin")
    expected = msg(
        "A flat is selected only after the house has been vacated and demolished: "
        "household %(case)s is at “%(stage)s”.",
        case=household.case_number,
        stage=msg("Signed"),
    )

    assert expected in page(client.get(f"/sites/allocate/{household.id}"))
    response = client.post(
        f"/sites/allocate/{household.id}",
        data={"unit_id": flat(building, "101").id, "selection_date": "2026-05-18"},
    )
    assert response.status_code == 200 and expected in page(response)
    db.session.expire_all()
    assert flat(building, "101").status == UnitStatus.AVAILABLE
    assert db.session.get(Household, household.id).stage == Stage.SIGNED


def test_choosing_no_flat_or_a_future_date_is_shown_on_the_form(client, login_as):
    site, building = add_site(db.session)
    household = add_household(db.session, add_project(db.session), order=1)
    login_as("caseworker")
    none_chosen = client.post(
        f"/sites/allocate/{household.id}", data={"selection_date": "2026-05-18"}
    )
    assert none_chosen.status_code == 200 and msg("Choose a flat.") in page(none_chosen)
    future = client.post(
        f"/sites/allocate/{household.id}",
        data={"unit_id": flat(building, "101").id, "selection_date": "2026-05-21"},
    )
    assert future.status_code == 200
    assert msg("The date cannot be in the future.") in page(future)
    assert "日期不能晚于今天" in page(future)
    db.session.expire_all()
    assert household.stage == Stage.DEMOLISHED and household.units == []
