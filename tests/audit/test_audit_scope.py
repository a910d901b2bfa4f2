"""The audit list of an account bounded by projects (片区) holds only its projects' events and
its own (issue 14: a supervisor of project A does not read project B's household edits)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from resettle.auth.models import Role
from resettle.extensions import db
from resettle.households.models import HouseholdMember
from tests.supervision import add_household, add_project


def _project_with_a_household(tag: str) -> dict[str, Any]:
    project = add_project(db.session)
    household = add_household(db.session, project, house_address=f"{tag}路1号")
    household.members.append(HouseholdMember(name=f"{tag}成员", relation="配偶"))
    db.session.flush()
    household.house_address = f"{tag}路2号"  # an edit
    db.session.flush()
    return {"project": project, "household": household, "member_id": household.members[0].id}


@pytest.fixture
def projects() -> tuple[dict[str, Any], dict[str, Any]]:
    worlds = _project_with_a_household("甲"), _project_with_a_household("乙")
    for world in worlds:  # a member removed: its record is gone, its events stay
        world["household"].members.clear()
    db.session.flush()
    return worlds


def _records(page: str) -> set[str]:
    return set(re.findall(r'/audit/(\w+/\d+)"', page))


def test_a_supervisor_of_one_project_sees_only_its_events(client, login_as, make_user, projects):
    a, b = projects
    other = make_user(Role.CASEWORKER)  # someone else's account: not the supervisor's business
    supervisor = login_as(Role.SUPERVISOR, projects=[a["project"]])

    page = client.get("/audit/?page=1").get_data(as_text=True)
    seen = _records(page)
    assert f"Household/{a['household'].id}" in seen
    assert f"HouseholdMember/{a['member_id']}" in seen  # deleted, judged by its household
    assert f"ExpropriationProject/{a['project'].id}" in seen
    assert f"User/{supervisor.id}" in seen  # the own login
    for record in (
        f"Household/{b['household'].id}",
        f"HouseholdMember/{b['member_id']}",
        f"ExpropriationProject/{b['project'].id}",
        f"User/{other.id}",
    ):
        assert record not in seen, record
    assert "乙路" not in page and "乙成员" not in page
    assert "甲路2号" in page and "甲成员" in page

    assert client.get(f"/audit/Household/{a['household'].id}").status_code == 200
    assert client.get(f"/audit/HouseholdMember/{a['member_id']}").status_code == 200
    assert client.get(f"/audit/Household/{b['household'].id}").status_code == 404
    assert client.get(f"/audit/HouseholdMember/{b['member_id']}").status_code == 404
    assert client.get(f"/audit/User/{other.id}").status_code == 404
    filtered = client.get("/audit/?entity_type=Household").get_data(as_text=True)
    assert f"Household/{b['household'].id}" not in _records(filtered)


def test_accounts_given_every_project_see_every_event(client, login_as, projects):
    a, b = projects
    login_as(Role.SUPERVISOR, all_projects=True)
    seen = _records(client.get("/audit/").get_data(as_text=True))
    assert {f"Household/{a['household'].id}", f"Household/{b['household'].id}"} <= seen
    assert client.get(f"/audit/HouseholdMember/{b['member_id']}").status_code == 200
