"""Voiding a notice (作废, issue 16): a supervisor or an admin voids it with a reason; it stays
archived and verifies as voided; caseworkers and leaders cannot; twice is once; a notice in a
batch is voided alone; the audit trail has who, when and why."""

from __future__ import annotations

import threading
from datetime import date

import pytest
import sqlalchemy as sa

from resettle.audit.models import AuditEvent
from resettle.auth.models import Role
from resettle.errors import RuleViolation
from resettle.extensions import db
from resettle.households.models import CompensationMode, Stage
from resettle.notices.models import Notice, NoticeType
from resettle.notices.services import (
    BatchInput,
    NoticeInput,
    issue_batch,
    issue_notice,
    notice_pdf,
    void_notice,
)
from tests.conftest import TEST_PASSWORD_HASH, migrated_app_for_threads
from tests.supervision import TODAY, add_household, add_plan, add_project


@pytest.fixture
def project():
    project = add_project(db.session)
    add_plan(
        db.session,
        project=project,
        nodes=[{"name": "签约", "stage": Stage.SIGNED, "deadline": date(2025, 7, 15)}],
    )
    return project


def _notice(project):
    household = add_household(db.session, project, stage=Stage.APPRAISED)
    return issue_notice(
        db.session, household, NoticeType.SIGNING, NoticeInput(), user=None, today=TODAY
    )


def _verify(client, notice):
    return client.get(
        "/public/verify", query_string={"number": notice.number, "code": notice.check_code}
    ).get_data(as_text=True)


def test_a_voided_notice_verifies_as_voided_and_reprints_as_issued(client, project, login_as):
    notice = _notice(project)
    archived = notice_pdf(notice)
    assert "真实有效" in _verify(client, notice)
    login_as(Role.SUPERVISOR)
    refused = client.post(f"/notices/{notice.id}/void", data={"reason": "  "})
    assert refused.status_code == 302
    db.session.refresh(notice)
    assert not notice.is_void
    answer = client.post(f"/notices/{notice.id}/void", data={"reason": "户主姓名有误，已重新发出"})
    assert answer.status_code == 302
    db.session.refresh(notice)
    assert notice.is_void and notice.void_reason == "户主姓名有误，已重新发出"
    page = client.get(f"/notices/{notice.id}").get_data(as_text=True)
    assert "户主姓名有误" in page and "作废" in page
    assert notice_pdf(notice) == archived  # the record of what was issued
    client.post("/logout")
    public = _verify(client, notice)
    assert "已作废" in public and "真实有效" not in public
    wrong = client.get(
        "/public/verify", query_string={"number": notice.number, "code": "ABCDEFGH"}
    ).get_data(as_text=True)
    assert "已作废" not in wrong  # a wrong code learns nothing
    audit = db.session.scalars(
        sa.select(AuditEvent).where(
            AuditEvent.entity_type == "Notice", AuditEvent.entity_id == notice.id
        )
    ).all()
    voided = [e for e in audit if "void_reason" in e.changes]
    assert voided and voided[-1].changes["void_reason"] == [None, "户主姓名有误，已重新发出"]


@pytest.mark.parametrize("role", [Role.CASEWORKER, Role.LEADER])
def test_caseworkers_and_leaders_cannot_void(client, project, login_as, role):
    notice = _notice(project)
    login_as(role)
    assert client.post(f"/notices/{notice.id}/void", data={"reason": "x"}).status_code == 403
    db.session.refresh(notice)
    assert not notice.is_void


def test_another_projects_notice_is_not_found(client, project, login_as):
    notice = _notice(project)
    other = add_project(db.session)
    login_as(Role.SUPERVISOR, projects=[other])
    assert client.post(f"/notices/{notice.id}/void", data={"reason": "x"}).status_code == 404


def test_voiding_twice_voids_once_and_a_batch_notice_alone(project, make_user):
    supervisor = make_user(Role.SUPERVISOR)
    households = [
        add_household(db.session, project, stage=Stage.APPRAISED, mode=CompensationMode.MONEY)
        for _ in range(3)
    ]
    document = issue_batch(
        db.session, households, NoticeType.SIGNING, BatchInput(), user=None, today=TODAY
    )
    first, *others = document.notices
    void_notice(db.session, first, "错发", user=supervisor)
    with pytest.raises(RuleViolation, match="已作废"):
        void_notice(db.session, first, "再点一次", user=supervisor)
    db.session.refresh(first)
    assert first.void_reason == "错发"
    assert not any(n.is_void for n in others)
    with pytest.raises(RuleViolation):
        void_notice(db.session, others[0], "x", user=make_user(Role.CASEWORKER))


@pytest.mark.no_transaction
def test_two_supervisors_voiding_at_once_void_once_without_an_error_page(tmp_path):
    from resettle.auth.models import User

    app = migrated_app_for_threads("void_race", tmp_path, 3)
    with app.app_context():
        project = add_project(db.session)
        add_plan(
            db.session,
            project=project,
            nodes=[{"name": "签约", "stage": Stage.SIGNED, "deadline": date(2025, 7, 15)}],
        )
        notice = _notice(project)
        for n in range(2):
            db.session.add(
                User(
                    username=f"duban{n}",
                    full_name=f"督查{n}",
                    role=Role.SUPERVISOR,
                    password_hash=TEST_PASSWORD_HASH,
                    all_projects=True,
                )
            )
        db.session.commit()
        notice_id = notice.id
        db.session.remove()
    from tests.conftest import TEST_PASSWORD

    clients = []
    for n in range(2):
        c = app.test_client()
        c.post("/login", data={"username": f"duban{n}", "password": TEST_PASSWORD})
        clients.append(c)
    barrier = threading.Barrier(2)
    codes: list[int] = []

    def press(c):
        barrier.wait(timeout=30)
        codes.append(c.post(f"/notices/{notice_id}/void", data={"reason": "重复"}).status_code)

    threads = [threading.Thread(target=press, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert codes == [302, 302]
    with app.app_context():
        voids = db.session.scalars(
            sa.select(AuditEvent).where(
                AuditEvent.entity_type == "Notice", AuditEvent.entity_id == notice_id
            )
        ).all()
        assert sum(1 for e in voids if "void_reason" in e.changes) == 1
        assert db.session.get(Notice, notice_id).is_void
        db.session.remove()
        db.engine.dispose()


def test_a_second_notice_of_a_type_in_force_needs_confirmation(
    client, project, login_as, monkeypatch
):
    from resettle import clock

    monkeypatch.setattr(clock, "today", lambda: TODAY)
    notice = _notice(project)
    household_id = notice.household_id
    login_as(Role.CASEWORKER)
    asked = client.post(f"/notices/issue/{household_id}", data={"type": "signing"})
    assert asked.status_code == 200
    page = asked.get_data(as_text=True)
    assert notice.number in page and "确认再发一份" in page
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Notice)
            .where(Notice.household_id == household_id)
        )
        == 1
    )
    issued = client.post(f"/notices/issue/{household_id}", data={"type": "signing", "again": "y"})
    assert issued.status_code == 302
    # once the first is void, no confirmation is asked
    other = _notice(project)
    void_notice(db.session, other, "错发", user=_supervisor())
    assert (
        client.post(f"/notices/issue/{other.household_id}", data={"type": "signing"}).status_code
        == 302
    )


def _supervisor():
    from resettle.auth.models import User

    user = User(
        username="duban-x",
        full_name="督查",
        role=Role.SUPERVISOR,
        password_hash=TEST_PASSWORD_HASH,
        all_projects=True,
    )
    db.session.add(user)
    db.session.flush()
    return user


def test_the_cli_and_batches_refuse_a_second_notice_unless_told(app, project):
    notice = _notice(project)
    household = notice.household
    with pytest.raises(RuleViolation, match=household.case_number):
        issue_batch(
            db.session, [household], NoticeType.SIGNING, BatchInput(), user=None, today=TODAY
        )
    document = issue_batch(
        db.session, [household], NoticeType.SIGNING, BatchInput(again=True), user=None, today=TODAY
    )
    assert document.notice_count == 1
    refused = app.test_cli_runner().invoke(
        args=["notices", "issue", "signing", household.case_number, "/tmp/resettle-again.pdf"]
    )
    assert refused.exit_code != 0 and "在效" in refused.output


@pytest.mark.parametrize(
    "values",
    [
        {"void_reason": "   "},  # voided with a blank reason
        {"void_reason": ""},
        {"void_reason": None},  # voided without a reason
    ],
    ids=["blank", "empty", "none"],
)
def test_the_database_refuses_a_void_without_a_real_reason(project, values):
    notice = _notice(project)
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        db.session.execute(
            sa.update(Notice)
            .where(Notice.id == notice.id)
            .values(voided_at=sa.func.current_timestamp(), **values)
        )
    db.session.refresh(notice)
    assert not notice.is_void


def test_the_database_refuses_void_fields_on_a_notice_in_force(project, make_user):
    notice = _notice(project)
    supervisor = make_user(Role.SUPERVISOR)
    for values in ({"void_reason": "错发"}, {"voided_by_id": supervisor.id}):
        with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
            db.session.execute(sa.update(Notice).where(Notice.id == notice.id).values(**values))
    db.session.execute(
        sa.update(Notice)
        .where(Notice.id == notice.id)
        .values(
            voided_at=sa.func.current_timestamp(), voided_by_id=supervisor.id, void_reason="错发"
        )
    )
    db.session.refresh(notice)
    assert notice.is_void  # a void with its reason is accepted
