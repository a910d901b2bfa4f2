"""Accounts in the admin screens (/admin/users): state, creation with projects, role and
projects, reset, unlock, disable and enable, each audited in Chinese and ending sessions where
it changes what the account may do."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from resettle.audit.models import AuditEvent
from resettle.auth.models import Role, User, UserProject
from resettle.auth.services import verify_password
from resettle.db import utcnow
from resettle.extensions import db
from tests.conftest import TEST_PASSWORD

NEW_PASSWORD = "Lantern-Orchard-57"


def _user(username: str) -> User:
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.username == username))


def _other_client(app, user: User):
    other = app.test_client()
    assert (
        other.post(
            "/login", data={"username": user.username, "password": TEST_PASSWORD}
        ).status_code
        == 302
    )
    assert other.get("/").status_code == 200
    return other


def test_the_list_shows_each_accounts_state_and_last_login(
    client, login_as, make_user, make_project
):
    login_as(Role.ADMIN)
    project = make_project(code="DC01")
    make_user(username="zhang.off", active=False)
    make_user(username="li.locked", locked_until=utcnow() + timedelta(minutes=10), failed_logins=0)
    make_user(username="wu.new", must_change_password=True)
    user = make_user(username="he.proj", last_login_at=utcnow())
    user.project_links.append(UserProject(user_id=user.id, project_id=project.id))
    db.session.flush()

    page = client.get("/admin/users").get_data(as_text=True)
    assert "账号" in page
    row = lambda name: page.split(f'data-username="{name}"')[1].split("</tr>")[0]  # noqa: E731
    assert "已停用" in row("zhang.off")
    assert "已锁定" in row("li.locked") and "至" in row("li.locked")
    assert "须修改密码" in row("wu.new")
    assert "DC01" in row("he.proj") and "从未登录" not in row("he.proj")
    assert "从未登录" in row("wu.new")


def test_the_nav_shows_accounts_to_admins_only(client, login_as):
    login_as(Role.SUPERVISOR)
    assert 'href="/admin/users"' not in client.get("/").get_data(as_text=True)
    assert client.get("/admin/users").status_code == 403


def test_admin_creates_a_caseworker_for_one_project(client, login_as, make_project):
    login_as(Role.ADMIN)
    project = make_project(code="BJ02")
    make_project(code="XX03")
    response = client.post(
        "/admin/users/new",
        data={
            "username": "chen.jingban",
            "full_name": "陈经办",
            "unit_name": "东城街道",
            "password": NEW_PASSWORD,
            "role": "caseworker",
            "projects": [str(project.id)],
        },
    )
    assert response.status_code == 302
    user = _user("chen.jingban")
    assert user.role == Role.CASEWORKER
    assert user.project_ids == {project.id} and not user.all_projects
    assert user.must_change_password
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "chen.jingban" in page and "须修改密码" in page


def test_a_taken_username_whatever_its_case_is_shown_on_the_field(client, login_as, make_user):
    login_as(Role.ADMIN)
    make_user(username="Zhou.Li")
    before = db.session.scalar(sa.select(sa.func.count()).select_from(User))
    page = client.post(
        "/admin/users/new",
        data={
            "username": "zhou.li",
            "full_name": "周力",
            "password": NEW_PASSWORD,
            "role": "leader",
            "all_projects": "y",
        },
    ).get_data(as_text=True)
    assert "用户名 zhou.li 已被使用" in page.split('id="username"')[1].split("</div>")[0]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == before


def test_a_caseworker_without_projects_is_refused(client, login_as):
    login_as(Role.ADMIN)
    page = client.post(
        "/admin/users/new",
        data={
            "username": "noproj",
            "full_name": "无项目",
            "password": NEW_PASSWORD,
            "role": "caseworker",
        },
    ).get_data(as_text=True)
    assert "请选择该账号负责的项目" in page
    assert _user("noproj") is None


def test_a_weak_password_is_refused_on_the_field(client, login_as):
    login_as(Role.ADMIN)
    page = client.post(
        "/admin/users/new",
        data={
            "username": "weakling",
            "full_name": "弱",
            "password": "short",
            "role": "leader",
            "all_projects": "y",
        },
    ).get_data(as_text=True)
    assert "密码至少需要 12 位" in page
    assert _user("weakling") is None


def test_a_role_or_project_change_ends_every_session_of_the_account(
    app, client, login_as, make_user, make_project
):
    login_as(Role.ADMIN)
    first, second = make_project(), make_project()
    target = make_user(all_projects=True)
    other = _other_client(app, target)

    response = client.post(
        f"/admin/users/{target.id}",
        data={"role": "supervisor", "projects": [str(first.id), str(second.id)]},
    )
    assert response.status_code == 302
    user = _user(target.username)
    assert user.role == Role.SUPERVISOR and user.project_ids == {first.id, second.id}
    assert not user.all_projects
    assert other.get("/").status_code == 302  # logged out at once

    other = _other_client(app, user)
    client.post(
        f"/admin/users/{target.id}", data={"role": "supervisor", "projects": [str(first.id)]}
    )
    assert _user(target.username).project_ids == {first.id}
    assert other.get("/").status_code == 302

    events = client.get(f"/audit/User/{target.id}").get_data(as_text=True)
    assert "项目变更" in events and "督查室" in events and first.code in events


def test_saving_the_same_role_and_projects_keeps_the_sessions(
    app, client, login_as, make_user, make_project
):
    login_as(Role.ADMIN)
    project = make_project()
    target = make_user()
    client.post(
        f"/admin/users/{target.id}", data={"role": "caseworker", "projects": [str(project.id)]}
    )
    other = _other_client(app, _user(target.username))
    client.post(
        f"/admin/users/{target.id}", data={"role": "caseworker", "projects": [str(project.id)]}
    )
    assert other.get("/").status_code == 200


def test_an_admin_cannot_change_the_own_role_or_disable_the_own_account(client, login_as):
    admin = login_as(Role.ADMIN)
    page = client.post(
        f"/admin/users/{admin.id}", data={"role": "leader", "all_projects": "y"}
    ).get_data(as_text=True)
    assert "不能修改自己的角色" in page
    assert _user(admin.username).role == Role.ADMIN
    response = client.post(f"/admin/users/{admin.id}/disable", follow_redirects=True)
    assert "不能停用自己的账号" in response.get_data(as_text=True)
    assert _user(admin.username).active
    assert client.get("/admin/users").status_code == 200  # still logged in


def test_reset_shows_a_one_time_password_once_and_the_account_must_change_it(
    app, client, login_as, make_user
):
    login_as(Role.ADMIN)
    target = make_user()
    other = _other_client(app, target)
    response = client.post(f"/admin/users/{target.id}/reset-password")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    password = page.split('data-testid="one-time-password">')[1].split("<")[0]
    user = _user(target.username)
    assert verify_password(user.password_hash, password)
    assert user.must_change_password
    assert other.get("/").status_code == 302
    assert password not in client.get(f"/admin/users/{target.id}").get_data(as_text=True)
    assert password not in client.get(f"/audit/User/{target.id}").get_data(as_text=True)
    assert "重置密码" in client.get(f"/audit/User/{target.id}").get_data(as_text=True)

    fresh = app.test_client()
    response = fresh.post("/login", data={"username": target.username, "password": password})
    assert fresh.get("/", follow_redirects=False).headers["Location"].endswith("/account/password")


def test_unlock_lets_a_locked_account_log_in_again(app, client, login_as, make_user):
    login_as(Role.ADMIN)
    target = make_user(locked_until=utcnow() + timedelta(minutes=15))
    refused = app.test_client().post(
        "/login", data={"username": target.username, "password": TEST_PASSWORD}
    )
    assert refused.status_code == 200
    client.post(f"/admin/users/{target.id}/unlock")
    user = _user(target.username)
    assert user.locked_until is None and user.failed_logins == 0
    _other_client(app, user)
    assert "已解锁" in client.get(f"/audit/User/{target.id}").get_data(as_text=True)


def test_disable_logs_the_account_out_everywhere_and_enable_lets_it_back(
    app, client, login_as, make_user
):
    login_as(Role.ADMIN)
    target = make_user()
    other = _other_client(app, target)
    response = client.post(f"/admin/users/{target.id}/disable", follow_redirects=True)
    assert "已停用" in response.get_data(as_text=True)
    assert other.get("/").status_code == 302
    refused = app.test_client().post(
        "/login", data={"username": target.username, "password": TEST_PASSWORD}
    )
    assert refused.status_code == 200
    # a second click changes nothing and does not fail
    assert client.post(f"/admin/users/{target.id}/disable").status_code == 302

    client.post(f"/admin/users/{target.id}/enable")
    assert _user(target.username).active
    _other_client(app, _user(target.username))
    history = client.get(f"/audit/User/{target.id}").get_data(as_text=True)
    assert "停用账号" in history and "启用账号" in history
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.entity_id == target.id, AuditEvent.action == "account_disabled")
        )
        == 1
    )


def test_unknown_account_and_unknown_project_are_refused_cleanly(client, login_as, make_user):
    login_as(Role.ADMIN)
    assert client.get("/admin/users/999999").status_code == 404
    assert client.post("/admin/users/999999/reset-password").status_code == 404
    target = make_user()
    page = client.post(
        f"/admin/users/{target.id}", data={"role": "caseworker", "projects": ["999999"]}
    )
    assert page.status_code == 200
    assert _user(target.username).project_ids == frozenset()
