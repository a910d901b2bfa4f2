"""The second factor's rules (resettle.auth.mfa): enrolment, single use, recovery codes,
lockout, the administrator's reset, and a secret that a database dump alone does not reveal."""

from __future__ import annotations

import pyotp
import pytest
import sqlalchemy as sa
from flask import current_app

from resettle.audit.models import AuditEvent
from resettle.auth.cli import users_cli
from resettle.auth.mfa import (
    RECOVERY_CODES,
    confirm_enrolment,
    decrypt_secret,
    must_enrol,
    new_recovery_codes,
    new_secret,
    qr_svg,
    recovery_codes_left,
    reset_second_factor,
    verify_second_factor,
)
from resettle.auth.models import Role
from resettle.errors import RuleViolation
from resettle.extensions import db

NOW = 1_790_000_000.0  # a fixed instant, so the codes below are the app's codes of its step


def _enrolled(make_user, role=Role.CASEWORKER):
    user = make_user(role)
    secret = new_secret()
    codes = confirm_enrolment(db.session, user, secret, pyotp.TOTP(secret).at(NOW), now=NOW)
    return user, secret, codes


def _actions(user):
    return db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.entity_id == user.id).order_by(AuditEvent.id)
    ).all()


def test_enrolment_needs_a_right_code_and_gives_ten_codes(make_user):
    user = make_user()
    secret = new_secret()
    assert qr_svg(user, secret).startswith("<svg")  # inline: nothing fetched from elsewhere
    with pytest.raises(RuleViolation, match="验证码"):
        confirm_enrolment(db.session, user, secret, "000000", now=NOW)
    assert user.totp_secret is None
    codes = confirm_enrolment(db.session, user, secret, pyotp.TOTP(secret).at(NOW), now=NOW)
    assert len(set(codes)) == RECOVERY_CODES == recovery_codes_left(db.session, user)
    assert "mfa_enrolled" in _actions(user)


def test_the_secret_is_stored_encrypted_and_needs_the_secret_key(make_user, app):
    user, secret, _codes = _enrolled(make_user)
    stored = db.session.scalar(
        sa.text("SELECT totp_secret FROM users WHERE id = :i"), {"i": user.id}
    )
    assert secret not in stored and decrypt_secret(stored) == secret
    original = current_app.config["SECRET_KEY"]
    current_app.config["SECRET_KEY"] = "another-key"
    try:
        assert decrypt_secret(stored) is None  # a dump without the key gives nothing away
    finally:
        current_app.config["SECRET_KEY"] = original


def test_a_code_is_accepted_once_and_an_older_one_never(make_user):
    user, secret, _codes = _enrolled(make_user)
    totp = pyotp.TOTP(secret)
    later = NOW + 60
    assert verify_second_factor(db.session, user, totp.at(later), now=later) is True
    assert verify_second_factor(db.session, user, totp.at(later), now=later) is False  # replay
    assert verify_second_factor(db.session, user, totp.at(NOW + 30), now=later) is False  # older
    assert verify_second_factor(db.session, user, totp.at(later + 30), now=later + 30) is True
    assert _actions(user).count("mfa_failed") == 2


def test_a_recovery_code_works_once(make_user):
    user, _secret, codes = _enrolled(make_user)
    assert verify_second_factor(db.session, user, codes[0].upper(), now=NOW) is True
    assert recovery_codes_left(db.session, user) == RECOVERY_CODES - 1
    assert verify_second_factor(db.session, user, codes[0], now=NOW) is False
    fresh = new_recovery_codes(db.session, user)
    assert verify_second_factor(db.session, user, codes[1], now=NOW) is False  # replaced
    assert verify_second_factor(db.session, user, fresh[0], now=NOW) is True


def test_wrong_codes_lock_the_account_like_wrong_passwords(make_user):
    user, _secret, _codes = _enrolled(make_user)
    for _ in range(current_app.config["LOGIN_MAX_FAILURES"]):
        assert verify_second_factor(db.session, user, "123456", now=NOW) is False
    assert user.locked_until is not None and "lockout" in _actions(user)


def test_admins_must_enrol_and_staff_only_where_required(make_user, app, monkeypatch):
    admin, caseworker = make_user(Role.ADMIN), make_user(Role.CASEWORKER)
    assert must_enrol(admin) is True and must_enrol(caseworker) is False
    monkeypatch.setitem(app.config, "MFA_REQUIRED", True)
    assert must_enrol(caseworker) is True
    enrolled, _secret, _codes = _enrolled(make_user, Role.ADMIN)
    assert must_enrol(enrolled) is False


def test_the_admin_resets_a_lost_factor_from_the_command_line(make_user, app):
    user, _secret, _codes = _enrolled(make_user)
    token = user.session_token
    result = app.test_cli_runner().invoke(users_cli, ["reset-mfa", user.username.upper()])
    assert result.exit_code == 0, result.output
    db.session.refresh(user)
    assert user.totp_secret is None and recovery_codes_left(db.session, user) == 0
    assert user.session_token != token  # its sessions ended
    assert "mfa_reset" in _actions(user)
    missing = app.test_cli_runner().invoke(users_cli, ["reset-mfa", "nobody-here"])
    assert missing.exit_code != 0 and "no account" in missing.output


def test_reset_then_enrol_again(make_user):
    user, _secret, _codes = _enrolled(make_user, Role.ADMIN)
    reset_second_factor(db.session, user)
    assert must_enrol(user) is True


def test_the_demo_admin_needs_no_app_unless_the_office_requires_it(make_user, app, monkeypatch):
    demo_admin = make_user(Role.ADMIN, is_demo=True)
    assert must_enrol(demo_admin) is False  # `make run` prints its password; two commands stay
    monkeypatch.setitem(app.config, "MFA_REQUIRED", True)  # production
    assert must_enrol(demo_admin) is True
