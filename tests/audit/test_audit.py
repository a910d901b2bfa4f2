"""Every change is audited, in the same transaction, and audit rows cannot be altered."""

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_login import login_user

from resettle.audit.models import AuditEvent
from resettle.audit.services import acting_as, history
from resettle.auth.models import Role
from resettle.extensions import db


def _history(obj):
    return history(db.session, type(obj).__name__, obj.id)


def test_insert_update_delete_are_audited_with_old_and_new_values(make_household):
    with acting_as("王经办", user_id=None):
        household = make_household(head_name="张三", legal_area=Decimal("85.32"))
        household.legal_area = Decimal("90.10")
        household.head_name = "张三丰"
        db.session.flush()
    events = _history(household)
    assert [e.action for e in events] == ["update", "insert"]
    update, insert = events
    assert insert.changes["head_name"] == [None, "张三"]
    assert insert.changes["legal_area"] == [None, "85.32"]
    assert update.changes == {"legal_area": ["85.32", "90.10"], "head_name": ["张三", "张三丰"]}
    assert update.actor == "王经办"
    assert update.occurred_at.tzinfo is not None

    household_id = household.id
    db.session.delete(household)
    db.session.flush()
    deleted = history(db.session, "Household", household_id)[0]
    assert deleted.action == "delete"
    assert deleted.changes["head_name"] == ["张三丰", None]


def test_no_event_for_a_flush_without_changes(make_household):
    household = make_household()
    before = len(_history(household))
    household.head_name = household.head_name
    db.session.flush()
    assert len(_history(household)) == before


def test_password_hash_is_never_written_to_the_audit_trail(make_user):
    user = make_user(Role.ADMIN)
    [insert] = _history(user)
    assert insert.changes["password_hash"] == [None, "***"]
    assert "argon2" not in str(insert.changes)


def test_request_changes_record_user_and_ip(client, login_as, make_household):
    user = login_as(Role.CASEWORKER)
    household = make_household()
    with client.application.test_request_context("/", environ_base={"REMOTE_ADDR": "10.1.2.3"}):
        login_user(user)
        household.phone = "13900000000"
        db.session.flush()
    update = _history(household)[0]
    assert update.user_id == user.id and update.actor == user.username
    assert update.ip == "10.1.2.3"


def test_audit_rows_are_rolled_back_with_the_change(app, make_project):
    project = make_project()
    project_id = project.id
    db.session.rollback()
    assert history(db.session, "ExpropriationProject", project_id) == []


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM audit_events",
        "UPDATE audit_events SET actor = 'someone else'",
    ],
)
def test_raw_sql_cannot_change_or_delete_audit_rows(make_project, statement):
    make_project()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) > 0
    with pytest.raises(sa.exc.DBAPIError) as excinfo:
        db.session.execute(sa.text(statement))
    assert "append-only" in str(excinfo.value)


def test_household_history_page_for_supervisor(client, login_as, make_household):
    household = make_household(head_name="李四")
    household.selection_order = 7
    db.session.flush()
    login_as(Role.SUPERVISOR)
    page = client.get(f"/audit/Household/{household.id}").get_data(as_text=True)
    assert "被征收户" in page and "李四" in page and "选房顺序号" in page
    assert "新增" in page and "修改" in page


def test_history_page_refuses_caseworker(client, login_as, make_household):
    household = make_household()
    login_as(Role.CASEWORKER)
    assert client.get(f"/audit/Household/{household.id}").status_code == 403


def test_history_of_unknown_record_is_404(client, login_as):
    login_as(Role.ADMIN)
    assert client.get("/audit/Household/999999").status_code == 404


def test_audit_index_filters_by_type(client, login_as, make_household):
    make_household(head_name="王五", case_number="AUD-1")
    login_as(Role.ADMIN)
    page = client.get("/audit/?entity_type=Household").get_data(as_text=True)
    assert "王五" in page
    assert "Household" in page


def test_project_dates_are_audited_as_iso_strings(make_project):
    project = make_project(decision_date=date(2025, 3, 10))
    project.decision_date = date(2025, 3, 12)
    db.session.flush()
    update = _history(project)[0]
    assert update.changes["decision_date"] == ["2025-03-10", "2025-03-12"]
