"""Personal data by role (issue 14, part 6): full ID numbers and phones never reach a role that
sees them masked, on any page, history panel, audit page, export or PDF; audit rows hold them
masked; opening a household's full data and every export are audited."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa

from resettle.audit.models import AuditEvent
from resettle.auth.models import Role
from resettle.extensions import db
from resettle.households.models import HouseholdMember, Stage
from resettle.idnumbers import mask_id_number
from resettle.notices.models import NoticeType
from resettle.notices.services import NoticeInput, issue_notice
from resettle.privacy import pii_matches
from tests.jobs import job_file
from tests.pdf import pdf_text
from tests.supervision import TODAY, add_household, add_plan, add_project

HEAD_ID = "11010519491231002X"
HEAD_ID_MASKED = "110105********002X"
OLD_PHONE = "13800001111"
PHONE = "13912345678"
PHONE_MASKED = "139****5678"
MEMBER_ID = "110101199003074477"
MEMBER_ID_MASKED = "110101********4477"
LEGACY_ID = "44030419850612321X"  # in an audit row written before masking at write time
FULL = (HEAD_ID, PHONE, OLD_PHONE, MEMBER_ID, LEGACY_ID)


@pytest.fixture
def world() -> dict[str, Any]:
    """A household with a full ID number, a phone changed once, a member with an ID number, a
    signing notice, and an audit row of the old kind that held the numbers in full."""
    project = add_project(db.session)
    add_plan(
        db.session,
        project=project,
        nodes=[{"name": "签约", "stage": Stage.SIGNED, "deadline": date(2025, 7, 15)}],
    )
    household = add_household(
        db.session, project, stage=Stage.APPRAISED, head_id_number=HEAD_ID, phone=OLD_PHONE
    )
    household.members.append(HouseholdMember(name="李四", relation="配偶", id_number=MEMBER_ID))
    db.session.flush()
    household.phone = PHONE
    db.session.flush()
    notice = issue_notice(
        db.session, household, NoticeType.SIGNING, NoticeInput(), user=None, today=TODAY
    )
    db.session.add(
        AuditEvent(
            actor="before-masking",
            action="update",
            entity_type="Household",
            entity_id=household.id,
            changes={"head_id_number": [LEGACY_ID, HEAD_ID], "phone": [None, OLD_PHONE]},
        )
    )
    db.session.flush()
    return {
        "project": project,
        "household": household,
        "member": household.members[0],
        "notice": notice,
    }


def _open(client: Any, url: str) -> Any:
    """GET a page, or POST to it for "POST /path" (a print button); a 303 to a job is
    followed to the job's file."""
    method, _space, path = url.rpartition(" ")
    response = client.post(path) if method == "POST" else client.get(path)
    if response.status_code == 303 and "/jobs/" in response.headers.get("Location", ""):
        return job_file(client, response)
    return response


def _text(response: Any) -> str:
    """What a person (or a program) reads from a response: page text, cells, PDF text."""
    assert response.status_code == 200, response.status_code
    if response.mimetype == "application/pdf":
        return pdf_text(response.data)
    if response.mimetype.endswith("spreadsheetml.sheet"):
        book = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True)
        return "\n".join(
            "\t".join("" if v is None else str(v) for v in row)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
        )
    return response.get_data(as_text=True)


def _pages(world: dict[str, Any]) -> dict[str, str]:
    h, p = world["household"], world["project"]
    return {
        "list": f"/households/?project={p.id}",
        "search": f"/households/?q={h.head_name}",
        "page": f"/households/{h.id}",
        "export": f"/households/export?project={p.id}",
        "notice PDF": f"/notices/{world['notice'].id}/pdf",
        "notices": f"/notices/?project={p.id}",
        "overdue list": f"/supervision/overdue?project={p.id}",
        "overdue PDF": f"POST /supervision/overdue.pdf?project={p.id}",
        "overdue Excel": f"POST /supervision/overdue.xlsx?project={p.id}",
        "funds": f"/funds/projects/{p.id}",
        "fund plan Excel": f"/funds/projects/{p.id}/plan.xlsx",
        "dashboard": "/",
    }


AUDIT_PAGES = ("audit list", "audit of the household", "audit of the member")


def _audit_pages(world: dict[str, Any]) -> dict[str, str]:
    return {
        "audit list": "/audit/",
        "audit of the household": f"/audit/Household/{world['household'].id}",
        "audit of the member": f"/audit/HouseholdMember/{world['member'].id}",
    }


@pytest.mark.parametrize("role", [Role.LEADER, Role.SUPERVISOR])
def test_masked_roles_never_receive_full_ids_or_phones(client, login_as, world, role):
    login_as(role)
    pages = _pages(world)
    if role == Role.SUPERVISOR:
        pages.update(_audit_pages(world))
    leaks = []
    for name, url in pages.items():
        text = _text(_open(client, url))
        leaks += [(name, number) for number in FULL if number in text]
    assert leaks == []
    page = _text(_open(client, pages["page"]))
    assert HEAD_ID_MASKED in page and PHONE_MASKED in page and MEMBER_ID_MASKED in page
    assert HEAD_ID_MASKED in _text(_open(client, pages["list"]))
    # Searching by a full ID number finds the household, shown masked (the search box keeps
    # what the user typed, which is all the page repeats of it).
    found = _text(_open(client, f"/households/?q={HEAD_ID}"))
    assert HEAD_ID_MASKED in found
    assert PHONE not in found and MEMBER_ID not in found
    export = _text(_open(client, pages["export"]))
    assert HEAD_ID_MASKED in export and PHONE_MASKED in export
    assert HEAD_ID_MASKED in _text(_open(client, pages["notice PDF"]))
    # The history panel shows the change of phone, masked.
    assert "138****1111" in page


def test_leaders_do_not_reach_the_audit_pages_or_the_import(client, login_as, world):
    login_as(Role.LEADER)
    for url in [*_audit_pages(world).values(), "/households/import"]:
        assert client.get(url).status_code == 403, url
    client.post("/logout")
    login_as(Role.SUPERVISOR)
    assert client.get("/households/import").status_code == 403


@pytest.mark.parametrize("role", [Role.CASEWORKER, Role.ADMIN])
def test_editors_see_full_data_on_the_household_page_and_in_the_export(
    client, login_as, world, role
):
    login_as(role)
    pages = _pages(world)
    page = _text(_open(client, pages["page"]))
    assert HEAD_ID in page and PHONE in page and MEMBER_ID in page
    # the list tells people apart masked, for editors too: a page of 50 full numbers would be
    # an unaudited bulk view; the household page (audited) and the export (audited) are full
    listed = _text(_open(client, pages["list"]))
    assert HEAD_ID not in listed and mask_id_number(HEAD_ID) in listed
    export = _text(_open(client, pages["export"]))
    assert HEAD_ID in export and PHONE in export


def test_audit_pages_show_numbers_masked_to_editors_too(client, login_as, world):
    """The audit answers who changed what and when; the household page is where the full
    current number is read. So audit pages are masked for everybody."""
    login_as(Role.ADMIN)
    for name, url in _audit_pages(world).items():
        text = _text(_open(client, url))
        assert [n for n in FULL if n in text] == [], name
    household_audit = _text(_open(client, _audit_pages(world)["audit of the household"]))
    assert "440304********321X" in household_audit  # the old kind of row, masked when shown
    assert "138****1111" in household_audit and PHONE_MASKED in household_audit


def test_audit_rows_hold_no_full_number_but_tell_whether_it_changed(world):
    household, member = world["household"], world["member"]
    rows = db.session.scalars(
        sa.select(AuditEvent).where(
            AuditEvent.entity_type.in_(("Household", "HouseholdMember")),
            AuditEvent.entity_id.in_((household.id, member.id)),
            AuditEvent.action.in_(("insert", "update")),
            AuditEvent.actor != "before-masking",  # not the old-kind row of the fixture
        )
    ).all()
    assert rows
    stored = " ".join(str(r.changes) for r in rows)
    assert [n for n in (HEAD_ID, PHONE, OLD_PHONE, MEMBER_ID) if n in stored] == []
    [change] = [r for r in rows if r.action == "update" and "phone" in r.changes]
    old, new = change.changes["phone"]
    assert old["masked"] == "138****1111" and new["masked"] == PHONE_MASKED
    assert old["hmac"] != new["hmac"]
    assert pii_matches(OLD_PHONE, old) and pii_matches(PHONE, new)
    [member_row] = [r for r in rows if r.entity_type == "HouseholdMember"]
    assert member_row.changes["id_number"][1]["masked"] == MEMBER_ID_MASKED


def _events(action: str, user_id: int) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.action == action, AuditEvent.user_id == user_id)
            .order_by(AuditEvent.id)
        )
    )


def test_an_editor_opening_a_household_is_audited_once_a_session(client, login_as, world):
    household = world["household"]
    user = login_as(Role.CASEWORKER)
    for _reload in range(3):
        assert client.get(f"/households/{household.id}").status_code == 200
    assert client.get(f"/households/{household.id}/edit").status_code == 200
    [viewed] = _events("pii_viewed", user.id)
    assert (viewed.entity_type, viewed.entity_id) == ("Household", household.id)
    # A new login session audits the next view again.
    client.post("/logout")
    client.post("/login", data={"username": user.username, "password": "Correct-Horse-42"})
    client.get(f"/households/{household.id}")
    assert len(_events("pii_viewed", user.id)) == 2


def test_a_masked_view_is_not_audited_as_personal_data(client, login_as, world):
    user = login_as(Role.LEADER)
    client.get(f"/households/{world['household'].id}")
    assert _events("pii_viewed", user.id) == []


def test_every_export_is_audited_with_who_and_which_filter(client, login_as, world):
    user = login_as(Role.CASEWORKER)
    pages = _pages(world)
    downloads = [
        pages["export"] + f"&stage=appraised&q={HEAD_ID}",
        pages["notice PDF"],
        pages["overdue PDF"],
        pages["overdue Excel"],
        pages["fund plan Excel"],
    ]
    for url in downloads:
        assert _open(client, url).status_code == 200, url
    # One export event per file a person took: a file a job made is audited when it is
    # downloaded from the job, as what it holds, with the filters the job was made with.
    events = _events("export", user.id)
    assert [e.entity_type for e in events] == [
        "Household",
        "Notice",
        "SupervisionItem",
        "SupervisionItem",
        "ExpropriationProject",
    ]
    paths = [e.changes["download"][1] for e in events]
    assert paths[1] == pages["notice PDF"]
    assert all(
        p.startswith("/jobs/") and p.endswith("/file") for i, p in enumerate(paths) if i != 1
    )
    first = events[0]
    assert first.actor == user.username and first.occurred_at is not None
    assert "stage=appraised" in first.changes["filter"][1]
    assert f"q={HEAD_ID_MASKED}" in first.changes["filter"][1]
    assert f"project={world['project'].id}" in first.changes["filter"][1]
    assert HEAD_ID not in str(first.changes)
    assert events[1].entity_id == world["notice"].id
    assert f"project_id={world['project'].id}" in events[2].changes["filter"][1]
    # The audit list says so, in Chinese.
    client.post("/logout")
    login_as(Role.ADMIN)
    listing = _text(_open(client, "/audit/?entity_type=Household"))
    assert "导出" in listing and "project=" in listing


def test_every_download_route_is_audited(app):
    """A route that answers with a file (PDF, Excel) is declared with `audited_download`,
    except the empty templates, which hold nobody's data, and the public pages' published
    disclosures (masked names only, read by anyone without an account)."""
    templates = {"households.import_template", "sites.import_template"}
    unaudited = []
    for rule in app.url_map.iter_rules():
        path = rule.rule
        if not (path.endswith(("pdf", ".xlsx", "/export")) or "report" in path):
            continue
        view = app.view_functions[rule.endpoint]
        if rule.endpoint.startswith("public."):
            continue
        if getattr(view, "starts_job", False):
            continue  # answers 303 to a job; the job's download (jobs.download) is audited
        if rule.endpoint not in templates and not getattr(view, "audited_download", False):
            unaudited.append(rule.endpoint)
    assert unaudited == []
