"""Two admins changing the same account at the same moment, or a double click on a button,
take turns: every request gets its page (no error page), and the account ends in the state
one of them chose, its project rows matching it."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from resettle.audit.models import AuditEvent
from resettle.auth.models import Role, User, UserProject
from resettle.auth.services import verify_password
from resettle.extensions import db
from resettle.projects.models import ExpropriationProject
from tests.conftest import (
    TEST_PASSWORD,
    TEST_PASSWORD_HASH,
    enrol_second_factor,
    migrated_app_for_threads,
)

ADMINS = 4
APPS: dict = {}  # each admin's authenticator app


def _setup(app):
    with app.app_context():
        for n in range(ADMINS):
            db.session.add(
                User(
                    username=f"admin{n}",
                    full_name=f"管理员{n}",
                    role=Role.ADMIN,
                    password_hash=TEST_PASSWORD_HASH,
                )
            )
        db.session.add(
            User(
                username="target",
                full_name="对象",
                role=Role.CASEWORKER,
                password_hash=TEST_PASSWORD_HASH,
                all_projects=True,
            )
        )
        for n in range(ADMINS):
            db.session.add(ExpropriationProject(code=f"CC{n}", name=f"并发项目{n}"))
        db.session.flush()
        for n in range(ADMINS):  # an admin's login asks for the app's code
            admin = db.session.scalar(sa.select(User).where(User.username == f"admin{n}"))
            APPS[admin.username] = enrol_second_factor(admin)
        db.session.commit()
        target = db.session.scalar(sa.select(User.id).where(User.username == "target"))
        projects = list(db.session.scalars(sa.select(ExpropriationProject.id)))
        db.session.remove()
    return target, projects


def _at_once(app, request):
    """Each admin logs in, then all send `request(client, n)` at the same moment."""
    clients = []
    for n in range(ADMINS):
        client = app.test_client()
        answer = client.post("/login", data={"username": f"admin{n}", "password": TEST_PASSWORD})
        assert answer.location.endswith("/login/code")
        answer = client.post("/login/code", data={"code": APPS[f"admin{n}"].code()})
        assert answer.status_code == 302 and "/login" not in answer.location
        clients.append(client)
    barrier = threading.Barrier(ADMINS)
    answers: list = [None] * ADMINS

    def admin(n: int) -> None:
        barrier.wait(timeout=30)
        answers[n] = request(clients[n], n)

    threads = [threading.Thread(target=admin, args=(n,)) for n in range(ADMINS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


@pytest.mark.no_transaction
def test_admins_resetting_changing_and_disabling_one_account_at_once(tmp_path):
    app = migrated_app_for_threads("accounts", tmp_path, ADMINS)
    target, projects = _setup(app)

    # a double click (or four) on "reset": each gets a one-time password, the last one works
    answers = _at_once(app, lambda c, n: c.post(f"/admin/users/{target}/reset-password"))
    assert [r.status_code for r in answers] == [200] * ADMINS
    shown = [
        r.get_data(as_text=True).split('data-testid="one-time-password">')[1].split("<")[0]
        for r in answers
    ]
    with app.app_context():
        user = db.session.get(User, target)
        assert sum(verify_password(user.password_hash, p) for p in shown) == 1
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "password_reset")
            )
            == ADMINS
        )
        db.session.remove()

    # each admin gives another project: the account ends with exactly one admin's choice
    answers = _at_once(
        app,
        lambda c, n: c.post(
            f"/admin/users/{target}", data={"role": "caseworker", "projects": [str(projects[n])]}
        ),
    )
    assert [r.status_code for r in answers] == [302] * ADMINS
    with app.app_context():
        rows = list(
            db.session.scalars(
                sa.select(UserProject.project_id).where(UserProject.user_id == target)
            )
        )
        assert len(rows) == 1 and rows[0] in projects
        assert not db.session.get(User, target).all_projects
        db.session.remove()

    # and all disable it at once: disabled, audited once
    answers = _at_once(app, lambda c, n: c.post(f"/admin/users/{target}/disable"))
    assert [r.status_code for r in answers] == [302] * ADMINS
    with app.app_context():
        assert not db.session.get(User, target).active
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "account_disabled")
            )
            == 1
        )
        db.session.remove()

    # two admins creating the same username: one account, the others told on the field
    answers = _at_once(
        app,
        lambda c, n: c.post(
            "/admin/users/new",
            data={
                "username": "Same.Name" if n % 2 else "same.name",
                "full_name": "同名",
                "password": "Lantern-Orchard-57",
                "role": "leader",
                "all_projects": "y",
            },
        ),
    )
    assert sorted(r.status_code for r in answers) == [200] * (ADMINS - 1) + [302]
    assert all("已被使用" in r.get_data(as_text=True) for r in answers if r.status_code == 200)
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(User)
                .where(sa.func.lower(User.username) == "same.name")
            )
            == 1
        )
        db.session.remove()
