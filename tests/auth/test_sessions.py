"""Sessions the server can end: a copy of a session cookie stops working at logout, at a
password change or reset, and a session ends 12 hours after its login however active."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from resettle.auth.models import Role
from resettle.auth.services import set_password
from resettle.extensions import db
from tests.conftest import TEST_PASSWORD

NEW_PASSWORD = "Lantern-Quay-8127"


def _copy_of_session(app, client):
    """Another browser holding a copy of this client's session cookie (a stolen one)."""
    other = app.test_client()
    cookie = client.get_cookie("session")
    other.set_cookie(cookie.key, cookie.value)
    return other


def test_a_cookie_saved_before_logout_is_refused_from_another_client(app, client, login_as):
    login_as(Role.CASEWORKER)
    saved = _copy_of_session(app, client)
    assert saved.get("/households/").status_code == 200
    client.post("/logout")
    again = saved.get("/households/")
    assert again.status_code == 302 and "/login" in again.headers["Location"]
    replayed_logout = saved.post("/logout")
    assert replayed_logout.status_code == 302 and "/login" in replayed_logout.headers["Location"]


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(app, client, login_as):
    login_as(Role.CASEWORKER)
    elsewhere = _copy_of_session(app, client)
    response = client.post(
        "/account/password",
        data={
            "current_password": TEST_PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert client.get("/households/").status_code == 200
    assert "/login" in elsewhere.get("/households/").headers["Location"]


def test_a_password_reset_ends_every_session(app, client, login_as):
    user = login_as(Role.CASEWORKER)
    assert client.get("/households/").status_code == 200
    set_password(db.session, user, NEW_PASSWORD)
    assert "/login" in client.get("/households/").headers["Location"]


def test_a_session_ends_twelve_hours_after_login_however_active(app, client, login_as):
    login_as(Role.CASEWORKER)
    assert app.config["SESSION_ABSOLUTE_LIFETIME"] == timedelta(hours=12)
    now = datetime.now(UTC).timestamp()
    with client.session_transaction() as session:
        session["login_at"] = now - 12 * 3600 + 60  # a minute before the end, active just now
        session["last_seen"] = now
    assert client.get("/households/").status_code == 200
    with client.session_transaction() as session:
        session["login_at"] = now - 12 * 3600 - 1
    ended = client.get("/households/")
    assert ended.status_code == 302 and "/login" in ended.headers["Location"]
    page = client.get(ended.headers["Location"]).get_data(as_text=True)
    assert "本次登录已满 12 小时" in page
    assert client.get("/households/").status_code == 302


def test_logging_in_again_gives_a_session_that_works(client, login_as, make_user):
    user = login_as(Role.CASEWORKER)
    client.post("/logout")
    response = client.post("/login", data={"username": user.username, "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert client.get("/households/").status_code == 200
