"""Passwords an office can trust (等保 8.1.4.1a): guessable ones refused, the last five not
chosen again, a password set by someone else or older than 90 days changed before anything
else, and usernames that differ only in case refused."""

from __future__ import annotations

from datetime import timedelta

import pytest

from resettle.auth.models import Role
from resettle.auth.services import (
    check_password_policy,
    create_user,
    password_change_due,
    reset_password,
    set_password,
)
from resettle.db import utcnow
from resettle.errors import RuleViolation
from resettle.extensions import db
from tests.conftest import TEST_PASSWORD


@pytest.mark.parametrize(
    "password, reason",
    [
        ("Password123!", "常被猜测的词（password）"),
        ("P@ssw0rd-Lantern", "常被猜测的词（password）"),
        ("Zhengshou@2025", "常被猜测的词（zhengshou）"),
        ("Admin@123456", "常被猜测的词（admin）"),
        ("Woaini1314!!", "常被猜测的词（woaini）"),
        ("Chai-Qian#2024", "常被猜测的词（chaiqian）"),
        ("Qwertyuiop12!", "常被猜测的词（qwerty）"),
        ("Michael1980!", "容易被猜中"),
        ("Aa1!Aa1!Aa1!", "容易被猜中"),
    ],
)
def test_guessable_passwords_are_refused_with_the_reason(app, password, reason):
    with app.test_request_context(), pytest.raises(RuleViolation) as refused:
        check_password_policy(db.session, password, "wang")
    assert reason in refused.value.message


def test_a_project_code_in_the_password_is_refused(app, make_project):
    make_project(code="DCPQ2026")
    with app.test_request_context(), pytest.raises(RuleViolation) as refused:
        check_password_policy(db.session, "Dcpq2026-Lantern!", "wang")
    assert "dcpq2026" in refused.value.message


def test_strong_passwords_pass(app):
    for password in ("Lantern-Quay-8127", "Correct-Horse-42", "Tide-Marble-Oak-51"):
        check_password_policy(db.session, password, "wang")


def test_the_last_five_passwords_are_not_chosen_again(app, make_user):
    user = make_user()
    chosen = [TEST_PASSWORD] + [f"Lantern-Quay-{n}81{n}" for n in range(1, 6)]
    for password in chosen[1:]:
        set_password(db.session, user, password)
    # now on the fifth new one; it and the four before it are refused, the sixth back is not
    for recent in chosen[-5:]:
        with pytest.raises(RuleViolation, match="5"):
            set_password(db.session, user, recent)
    set_password(db.session, user, chosen[0])


def test_a_new_account_changes_its_password_at_first_login(client):
    create_user(db.session, "zhou.jingban", "周经办", Role.CASEWORKER, "Lantern-Quay-8127")
    login = client.post(
        "/login", data={"username": "zhou.jingban", "password": "Lantern-Quay-8127"}
    )
    assert login.status_code == 302
    page = client.get("/households/")
    assert page.status_code == 302 and page.headers["Location"].endswith("/account/password")
    assert "请先设置您自己的密码" in client.get("/account/password").get_data(as_text=True)
    changed = client.post(
        "/account/password",
        data={
            "current_password": "Lantern-Quay-8127",
            "new_password": "Tide-Marble-Oak-51",
            "confirm": "Tide-Marble-Oak-51",
        },
    )
    assert changed.status_code == 302
    assert client.get("/households/").status_code == 200


def test_a_reset_gives_a_one_time_password_to_change_at_login(client, make_user):
    user = make_user()
    one_time = reset_password(db.session, user)
    assert user.must_change_password
    client.post("/login", data={"username": user.username, "password": one_time})
    assert client.get("/households/").headers["Location"].endswith("/account/password")


def test_a_password_older_than_90_days_is_changed_first(app, client, login_as):
    user = login_as(Role.CASEWORKER)
    assert client.get("/households/").status_code == 200
    user.password_changed_at = utcnow() - timedelta(days=91)
    db.session.flush()
    page = client.get("/households/")
    assert page.status_code == 302 and page.headers["Location"].endswith("/account/password")
    assert "超过 90 天" in client.get("/account/password").get_data(as_text=True)
    # a logout and the language switch still work
    assert client.post("/logout").status_code == 302


def test_demo_accounts_are_not_held_at_the_password_form(app, make_user):
    user = make_user(is_demo=True, must_change_password=True)
    user.password_changed_at = utcnow() - timedelta(days=400)
    assert password_change_due(user) is None


def test_usernames_are_one_whatever_their_case(client, make_user):
    make_user(username="demo-admin")
    with pytest.raises(RuleViolation, match="已被使用"):
        create_user(db.session, "DEMO-ADMIN", "某某", Role.ADMIN, "Lantern-Quay-8127")
    login = client.post("/login", data={"username": "Demo-Admin", "password": TEST_PASSWORD})
    assert login.status_code == 302 and "/login" not in login.headers["Location"]
