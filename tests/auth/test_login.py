"""Logging in and out, lockout, password policy, sessions."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from resettle.audit.models import AuditEvent
from resettle.auth.models import Role, User
from resettle.auth.services import check_password_policy, create_user, verify_password
from resettle.auth.views import safe_next
from resettle.db import utcnow
from resettle.errors import RuleViolation
from resettle.extensions import db
from tests.conftest import TEST_PASSWORD

GENERIC = "用户名或密码错误，或账户暂时被锁定。"


def _login(client, username, password, **extra):
    return client.post("/login", data={"username": username, "password": password, **extra})


def _events(action, user_id=None):
    query = sa.select(AuditEvent).where(AuditEvent.action == action)
    if user_id is not None:
        query = query.where(AuditEvent.entity_id == user_id)
    return list(db.session.scalars(query))


def test_login_page_is_chinese(client):
    page = client.get("/login").get_data(as_text=True)
    assert "登录" in page and "用户名" in page and "密码" in page


def test_successful_login_reaches_dashboard_and_is_audited(client, make_user):
    user = make_user(Role.CASEWORKER)
    response = _login(client, user.username, TEST_PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "工作台" in client.get("/").get_data(as_text=True)
    [event] = _events("login", user.id)
    assert event.actor == user.username and event.ip == "127.0.0.1"


def test_unknown_user_and_wrong_password_get_the_same_message(client, make_user):
    user = make_user()
    wrong_password = _login(client, user.username, "not-the-password").get_data(as_text=True)
    unknown_user = _login(client, "nobody-here", TEST_PASSWORD).get_data(as_text=True)
    assert GENERIC in wrong_password and GENERIC in unknown_user
    assert _events("login_failed")


def test_five_failures_lock_the_account_for_thirty_minutes(client, make_user):
    user = make_user()
    for _ in range(5):
        assert GENERIC in _login(client, user.username, "wrong").get_data(as_text=True)
    db.session.refresh(user)
    assert user.locked_until is not None
    remaining = user.locked_until - utcnow()
    assert timedelta(minutes=29) < remaining <= timedelta(minutes=30)
    assert len(_events("lockout", user.id)) == 1
    # the right password is refused while locked, with the same message
    page = _login(client, user.username, TEST_PASSWORD).get_data(as_text=True)
    assert GENERIC in page
    assert client.get("/").status_code == 302
    assert _events("login_refused_locked", user.id)


def test_lock_expires(client, make_user):
    user = make_user(locked_until=utcnow() - timedelta(seconds=1))
    assert _login(client, user.username, TEST_PASSWORD).status_code == 302


def test_four_failures_then_success_resets_the_count(client, make_user):
    user = make_user()
    for _ in range(4):
        _login(client, user.username, "wrong")
    assert _login(client, user.username, TEST_PASSWORD).status_code == 302
    db.session.refresh(user)
    assert user.failed_logins == 0 and user.locked_until is None


def test_inactive_account_cannot_log_in(client, make_user):
    user = make_user(active=False)
    assert GENERIC in _login(client, user.username, TEST_PASSWORD).get_data(as_text=True)


def test_logout_ends_the_session(client, login_as):
    user = login_as(Role.LEADER)
    assert client.get("/").status_code == 200
    response = client.post("/logout")
    assert response.status_code == 302
    assert client.get("/").status_code == 302
    assert _events("logout", user.id)


def test_logout_needs_post(client, login_as):
    login_as()
    assert client.get("/logout").status_code == 405
    assert client.get("/").status_code == 200


def test_idle_session_ends_after_thirty_minutes(client, login_as):
    login_as()
    with client.session_transaction() as session:
        session["last_seen"] = (utcnow() - timedelta(minutes=31)).timestamp()
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert client.get("/").status_code == 302


def test_active_session_stays(client, login_as):
    login_as()
    with client.session_transaction() as session:
        session["last_seen"] = (utcnow() - timedelta(minutes=29)).timestamp()
    assert client.get("/").status_code == 200


def test_session_cookie_is_httponly_and_lax(client, make_user):
    user = make_user()
    response = _login(client, user.username, TEST_PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/audit/", "/audit/"),
        ("/?page=2", "/?page=2"),
        ("https://evil.example/", None),
        ("//evil.example/", None),
        ("/\\evil.example", None),
        ("javascript:alert(1)", None),
        ("", None),
    ],
)
def test_next_only_leads_inside_the_site(target, expected):
    assert safe_next(target) == expected


def test_login_redirects_to_next_inside_site_only(client, make_user):
    user = make_user(Role.ADMIN)
    ok = _login(client, user.username, TEST_PASSWORD, next="/audit/")
    assert ok.headers["Location"] == "/audit/"
    client.post("/logout")
    evil = _login(client, user.username, TEST_PASSWORD, next="https://evil.example/x")
    assert evil.headers["Location"] == "/"


@pytest.mark.parametrize(
    "password, username",
    [
        ("Short-1a", "wang"),  # too short
        ("alllowercaseletters", "wang"),  # one class
        ("lowercase-and-symbols", "wang"),  # two classes
        ("Wang-Password-123", "wang"),  # contains the username
    ],
)
def test_password_policy_refuses(app, password, username):
    with pytest.raises(RuleViolation):
        check_password_policy(db.session, password, username)


def test_password_policy_accepts_three_classes(app):
    check_password_policy(db.session, "horse-battery-42", "wang")
    check_password_policy(db.session, "HorseBattery42", "wang")


def test_passwords_are_stored_as_argon2(make_user):
    user = create_user(db.session, "li.si", "李四", Role.CASEWORKER, "Strong-Lantern-7")
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password(user.password_hash, "Strong-Lantern-7")
    stored = db.session.scalar(sa.select(User.password_hash).where(User.id == user.id))
    assert "Strong-Lantern-7" not in stored


def test_change_own_password(client, login_as):
    user = login_as()
    response = client.post(
        "/account/password",
        data={"current_password": TEST_PASSWORD, "new_password": "short", "confirm": "short"},
    )
    assert "密码至少需要 12 位" in response.get_data(as_text=True)
    response = client.post(
        "/account/password",
        data={
            "current_password": TEST_PASSWORD,
            "new_password": "New-Secret-Phrase-9",
            "confirm": "New-Secret-Phrase-9",
        },
    )
    assert response.status_code == 302
    db.session.refresh(user)
    assert verify_password(user.password_hash, "New-Secret-Phrase-9")
