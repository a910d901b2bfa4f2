"""The login with a second factor, as a person meets it: the password, then the app's code;
an account that needs the factor sets it up before any other page; recovery codes shown once
and made again only after the password; double clicks, replays and guessing."""

from __future__ import annotations

import re

import pyotp
import sqlalchemy as sa
from flask import current_app

from resettle.audit.models import AuditEvent
from resettle.auth.mfa import has_second_factor, recovery_codes_left
from resettle.auth.models import Role
from resettle.extensions import db
from tests.conftest import TEST_PASSWORD, enrol_second_factor


def _password_step(client, user, password=TEST_PASSWORD):
    return client.post("/login", data={"username": user.username, "password": password})


def _logged_in(client) -> bool:
    return client.get("/").status_code == 200


def _actions(user):
    return db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.entity_id == user.id).order_by(AuditEvent.id)
    ).all()


def test_a_right_password_alone_does_not_log_in_an_account_with_an_app(client, make_user):
    user = make_user(Role.CASEWORKER)
    app_ = enrol_second_factor(user)
    response = _password_step(client, user)
    assert response.location.endswith("/login/code")
    assert client.get("/").status_code == 302  # not in yet
    page = client.get("/login/code").get_data(as_text=True)
    assert "身份验证器" in page and "恢复码" in page
    response = client.post("/login/code", data={"code": app_.code()})
    assert response.status_code == 302 and "/login" not in response.location
    assert _logged_in(client)
    assert _actions(user)[-1] == "login"


def test_a_wrong_code_is_refused_and_the_code_page_expires(client, make_user, monkeypatch):
    user = make_user(Role.CASEWORKER)
    enrol_second_factor(user)
    _password_step(client, user)
    page = client.post("/login/code", data={"code": "000000"}).get_data(as_text=True)
    assert "验证码不正确" in page and not _logged_in(client)
    assert "mfa_failed" in _actions(user)
    # five minutes later the password step has to be done again
    monkeypatch.setattr("resettle.auth.views.SECOND_STEP_SECONDS", -1)
    response = client.post("/login/code", data={"code": user.test_app.code()})
    assert response.location == "/login"
    assert not _logged_in(client)


def test_a_code_used_by_one_login_is_refused_to_another(client, app, make_user):
    user = make_user(Role.CASEWORKER)
    enrol_second_factor(user)
    code = user.test_app.code()
    _password_step(client, user)
    assert client.post("/login/code", data={"code": code}).status_code == 302
    other = app.test_client()
    _password_step(other, user)
    page = other.post("/login/code", data={"code": code}).get_data(as_text=True)
    assert "已用过" in page  # someone who watched the code being typed gets nothing
    assert other.get("/").status_code == 302


def test_a_known_password_does_not_reset_the_count_of_wrong_codes(client, make_user):
    """Guessing codes with the password known: each new password step must not start the
    count again, or the lock would never come."""
    user = make_user(Role.CASEWORKER)
    enrol_second_factor(user)
    for _ in range(current_app.config["LOGIN_MAX_FAILURES"]):
        _password_step(client, user)
        client.post("/login/code", data={"code": "000000"})
    db.session.refresh(user)
    assert user.locked_until is not None
    # locked: even the right password and code do not get in now
    assert "/login/code" not in (_password_step(client, user).location or "")
    assert not _logged_in(client)


def test_a_double_click_on_the_code_logs_in_once(client, make_user):
    user = make_user(Role.CASEWORKER)
    enrol_second_factor(user)
    _password_step(client, user)
    with client.session_transaction() as kept:
        saved = dict(kept)  # the cookie both clicks carry
    code = user.test_app.code()
    first = client.post("/login/code", data={"code": code})
    with client.session_transaction() as kept:
        kept.clear()
        kept.update(saved)
    second = client.post("/login/code", data={"code": code})  # same cookie, same code
    assert first.status_code == second.status_code == 302
    assert "/login" not in second.location and _logged_in(client)
    assert "mfa_failed" not in _actions(user)  # the twin is not counted as a replay


def test_an_admin_sets_up_the_app_before_any_other_page(client, make_user):
    admin = make_user(Role.ADMIN)
    assert _password_step(client, admin).status_code == 302
    for path in ("/", "/households/", "/admin/users"):
        response = client.get(path)
        assert response.status_code == 302 and response.location == "/account/two-factor"
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert "<svg" in page and 'data-testid="totp-secret"' in page
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    wrong = client.post("/account/two-factor", data={"code": "000000"}).get_data(as_text=True)
    assert "不符" in wrong and not has_second_factor(admin)
    shown = client.post("/account/two-factor", data={"code": pyotp.TOTP(secret).now()})
    assert shown.headers["Cache-Control"] == "no-store"
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", shown.get_data(as_text=True))
    assert len(codes) == 10
    assert client.get("/admin/users").status_code == 200  # in now
    # and the next login asks for the app's code, or takes a recovery code once
    client.post("/logout")
    _password_step(client, admin)
    assert client.post("/login/code", data={"code": codes[0]}).status_code == 302
    assert _logged_in(client)
    assert recovery_codes_left(db.session, admin) == 9


def test_a_double_click_on_enrolment_shows_codes_that_work(client, make_user):
    admin = make_user(Role.ADMIN)
    _password_step(client, admin)
    page = client.get("/account/two-factor").get_data(as_text=True)
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    with client.session_transaction() as kept:
        saved = dict(kept)
    code = pyotp.TOTP(secret).now()
    client.post("/account/two-factor", data={"code": code})
    with client.session_transaction() as kept:
        kept.clear()
        kept.update(saved)
    second = client.post("/account/two-factor", data={"code": code}).get_data(as_text=True)
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", second)
    assert len(codes) == 10 and "提交了两次" in second  # the page the person sees last
    client.post("/logout")
    _password_step(client, admin)
    assert client.post("/login/code", data={"code": codes[3]}).status_code == 302
    assert _logged_in(client)


def test_new_recovery_codes_need_the_password(client, login_as):
    admin = login_as(Role.ADMIN)
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert "剩余恢复码" in page
    wrong = client.post("/account/two-factor/codes", data={"password": "not-it"})
    assert wrong.status_code == 302
    assert "reauth_failed" in _actions(admin)
    before = recovery_codes_left(db.session, admin)
    shown = client.post("/account/two-factor/codes", data={"password": TEST_PASSWORD})
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", shown.get_data(as_text=True))
    assert len(codes) == 10 and before <= 10
    assert "mfa_new_codes" in _actions(admin)


def test_the_admin_resets_a_lost_phone_from_the_accounts_screen(client, login_as, make_user):
    login_as(Role.ADMIN)
    user = make_user(Role.CASEWORKER)
    enrol_second_factor(user)
    token = user.session_token
    page = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "重置双因素" in page or "重置第二" in page
    assert client.post(f"/admin/users/{user.id}/reset-mfa").status_code == 302
    db.session.refresh(user)
    assert not has_second_factor(user) and user.session_token != token
    assert "mfa_reset" in _actions(user)


def test_with_mfa_required_every_staff_account_sets_up_the_app(client, app, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "MFA_REQUIRED", True)
    leader = make_user(Role.LEADER)
    _password_step(client, leader)
    assert client.get("/").location == "/account/two-factor"
