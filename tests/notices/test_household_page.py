"""The household page lists the household's notices: number, type, issue date, void state with
its reason, a reprint link, and a link to issue another."""

from __future__ import annotations

from datetime import date

from resettle.auth.models import Role
from resettle.extensions import db
from resettle.households.models import Stage
from resettle.notices.models import NoticeType
from resettle.notices.services import NoticeInput, issue_notice, void_notice
from tests.supervision import TODAY, add_household, add_plan, add_project


def test_the_household_page_lists_its_notices_and_shows_a_voided_one_as_void(
    client, login_as, make_user
):
    project = add_project(db.session)
    add_plan(
        db.session,
        project=project,
        nodes=[{"name": "签约", "stage": Stage.SIGNED, "deadline": date(2025, 7, 15)}],
    )
    household = add_household(db.session, project, stage=Stage.APPRAISED)
    login_as(Role.CASEWORKER)
    page = client.get(f"/households/{household.id}").get_data(as_text=True)
    assert "尚未发出通知书" in page
    assert f"/notices/issue/{household.id}" in page

    notice = issue_notice(
        db.session, household, NoticeType.SIGNING, NoticeInput(), user=None, today=TODAY
    )
    page = client.get(f"/households/{household.id}").get_data(as_text=True)
    assert notice.number in page
    assert f"/notices/{notice.id}/pdf" in page  # the reprint
    assert TODAY.isoformat() in page
    assert f'data-testid="void-{notice.id}"' not in page

    void_notice(db.session, notice, "户主姓名有误", user=make_user(Role.SUPERVISOR))
    page = client.get(f"/households/{household.id}").get_data(as_text=True)
    assert notice.number in page
    assert f'data-testid="void-{notice.id}"' in page
    assert "已作废" in page and "户主姓名有误" in page
