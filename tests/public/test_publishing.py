"""A project is on the public pages only once a supervisor or an administrator publishes it,
and leaves them when it is withdrawn: its page, the list, its cases and its disclosures."""

from __future__ import annotations

import sqlalchemy as sa

from resettle.audit.models import AuditEvent
from resettle.auth.models import Role
from resettle.disclosure.services import approve_disclosure
from resettle.extensions import db
from resettle.households.models import Stage
from resettle.projects.models import ExpropriationProject
from resettle.projects.services import ProjectData, create_project

# the `today` fixture of test_public fixes the clock for the disclosure period
from tests.public.test_public import (
    ID_NUMBER,
    NEUTRAL,
    TODAY,
    _disclosure,
    _lookup,
    today,  # noqa: F401
)


def _public_everywhere(client, project, household, disclosure) -> dict[str, bool]:
    return {
        "page": client.get(f"/public/projects/{project.code}").status_code == 200,
        "list": project.name in client.get("/public/").get_data(as_text=True),
        "case": NEUTRAL
        not in _lookup(client, household.case_number, ID_NUMBER[-6:]).get_data(as_text=True),
        "disclosure": client.get(f"/public/disclosures/{disclosure.id}").status_code == 200,
    }


def test_an_unpublished_project_is_nowhere_on_the_public_pages_until_published(
    client, make_project, make_household, make_user, login_as
):
    project = make_project(published=False)
    household = make_household(project=project, head_id_number=ID_NUMBER, stage=Stage.SIGNED)
    disclosure = _disclosure(project, make_user)
    approve_disclosure(db.session, disclosure, user=make_user(Role.SUPERVISOR), today=TODAY)
    db.session.flush()
    assert _public_everywhere(client, project, household, disclosure) == dict.fromkeys(
        ("page", "list", "case", "disclosure"), False
    )
    assert client.get(f"/public/disclosures/{disclosure.id}.pdf").status_code == 404

    supervisor = login_as(Role.SUPERVISOR)
    listing = client.get("/projects/").get_data(as_text=True)
    assert "未公开" in listing
    answer = client.post(f"/projects/{project.id}/publish", follow_redirects=True)
    assert "已在公众页面公开" in answer.get_data(as_text=True)
    client.post("/logout")
    assert _public_everywhere(client, project, household, disclosure) == dict.fromkeys(
        ("page", "list", "case", "disclosure"), True
    )
    event = db.session.scalars(
        sa.select(AuditEvent).where(
            AuditEvent.entity_type == "ExpropriationProject",
            AuditEvent.entity_id == project.id,
            AuditEvent.action == "update",
        )
    ).one()
    assert event.user_id == supervisor.id and event.changes["published"] == [False, True]


def test_withdrawing_takes_the_project_off_and_a_double_click_changes_nothing(
    client, make_project, make_household, make_user, login_as
):
    project = make_project()
    household = make_household(project=project, head_id_number=ID_NUMBER, stage=Stage.SIGNED)
    disclosure = _disclosure(project, make_user)
    approve_disclosure(db.session, disclosure, user=make_user(Role.SUPERVISOR), today=TODAY)
    login_as(Role.ADMIN)
    first = client.post(f"/projects/{project.id}/withdraw", follow_redirects=True)
    second = client.post(f"/projects/{project.id}/withdraw", follow_redirects=True)
    assert first.status_code == second.status_code == 200
    assert "已不在公众页面" in first.get_data(as_text=True)
    assert "本来就不在公众页面" in second.get_data(as_text=True)
    client.post("/logout")
    assert _public_everywhere(client, project, household, disclosure) == dict.fromkeys(
        ("page", "list", "case", "disclosure"), False
    )
    events = db.session.scalars(
        sa.select(AuditEvent).where(
            AuditEvent.entity_type == "ExpropriationProject",
            AuditEvent.entity_id == project.id,
            AuditEvent.action == "update",
        )
    ).all()
    assert len(events) == 1  # the second click recorded nothing


def test_only_supervisors_and_administrators_publish(client, make_project, login_as):
    project = make_project(published=False)
    for role in (Role.CASEWORKER, Role.LEADER):
        login_as(role)
        assert client.post(f"/projects/{project.id}/publish").status_code == 403
        assert "发布到公众页面" not in client.get("/projects/").get_data(as_text=True)
        client.post("/logout")
    db.session.refresh(project)
    assert project.published is False


def test_a_new_project_starts_unpublished(app):
    project = create_project(db.session, ProjectData(code="NEW1", name="新建项目"))
    assert project.published is False
    assert db.session.get(ExpropriationProject, project.id).published is False
