"""Accounts: password policy, hashing, login with lockout, and the audit of each attempt."""

from __future__ import annotations

import secrets
import string
from datetime import timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy.orm import Session

from resettle.audit.services import record_event
from resettle.auth.models import Role, User
from resettle.db import utcnow
from resettle.errors import RuleViolation
from resettle.translate import gettext as _

_hasher = PasswordHasher()
# Verified against when the username is unknown, so both failures take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))
MIN_PASSWORD_LENGTH = 12


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when the password matches the hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_password_policy(password: str, username: str) -> None:
    """Refuse passwords shorter than 12, with fewer than three character classes, or the username."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise RuleViolation(
            _("The password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
            "password",
        )
    classes = sum(
        [
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        ]
    )
    if classes < 3:
        raise RuleViolation(
            _(
                "The password must mix at least three of: lower-case letters, upper-case "
                "letters, digits, symbols."
            ),
            "password",
        )
    if username and username.lower() in password.lower():
        raise RuleViolation(_("The password must not contain the username."), "password")


def generate_password() -> str:
    """A random password that meets the policy (for demo accounts and first set-up)."""
    alphabet = string.ascii_letters + string.digits
    while True:
        body = "".join(secrets.choice(alphabet) for _ in range(14))
        candidate = f"{body[:7]}-{body[7:]}"
        if (
            any(c.islower() for c in body)
            and any(c.isupper() for c in body)
            and any(c.isdigit() for c in body)
        ):
            return candidate


def create_user(
    session: Session,
    username: str,
    full_name: str,
    role: Role,
    password: str,
    *,
    unit_name: str | None = None,
    is_demo: bool = False,
) -> User:
    """Create an account after checking the username is free and the password meets policy."""
    username = username.strip()
    if not username:
        raise RuleViolation(_("A username is required."), "username")
    if session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        raise RuleViolation(_("The username %(name)s is taken.", name=username), "username")
    full_name = full_name.strip() or username
    unit_name = (unit_name or "").strip() or None
    for field, value in (
        ("username", username),
        ("full_name", full_name),
        ("unit_name", unit_name),
    ):
        limit = User.__table__.c[field].type.length
        if value is not None and len(value) > limit:
            raise RuleViolation(_("At most %(n)d characters.", n=limit), field)
    check_password_policy(password, username)
    user = User(
        username=username,
        full_name=full_name,
        role=Role(role),
        unit_name=unit_name,
        password_hash=hash_password(password),
        is_demo=is_demo,
    )
    session.add(user)
    session.flush()
    return user


def end_sessions(session: Session, user_id: int) -> None:
    """End every session of the account, on every browser and machine (logout, a new
    password): the sessions carry its old session token."""
    user = session.get(User, user_id)
    if user is not None:
        user.end_sessions()
        session.flush()


def set_password(session: Session, user: User, password: str) -> None:
    """Replace a user's password after checking the policy; every session of the account
    ends (a stolen one with it)."""
    check_password_policy(password, user.username)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.end_sessions()
    session.flush()


def change_password(session: Session, user: User, current: str, new: str) -> None:
    """A user changes the own password, proving the current one first."""
    if not verify_password(user.password_hash, current):
        raise RuleViolation(_("The current password is not correct."), "current_password")
    set_password(session, user, new)


def authenticate(session: Session, username: str, password: str) -> User | None:
    """Return the user when the login succeeds; count failures and lock after too many.

    Every attempt is audited. Callers show one message for every failure, so a stranger
    cannot tell an unknown user from a wrong password or a locked account.
    """
    max_failures = current_app.config["LOGIN_MAX_FAILURES"]
    lock_minutes = current_app.config["LOGIN_LOCK_MINUTES"]
    username = (username or "").strip()
    user = session.scalar(sa.select(User).where(User.username == username)) if username else None
    now = utcnow()
    if user is None:
        verify_password(_DUMMY_HASH, password)
        record_event(
            session,
            "login_failed",
            "User",
            None,
            {"username": username[:64]},
            actor=username[:80] or "anonymous",
        )
        return None
    if user.locked_until is not None and user.locked_until > now:
        verify_password(_DUMMY_HASH, password)
        record_event(
            session, "login_refused_locked", "User", user.id, actor=user.username, user_id=user.id
        )
        return None
    if not user.active or not verify_password(user.password_hash, password):
        user.failed_logins += 1
        record_event(
            session,
            "login_failed",
            "User",
            user.id,
            {"failed_logins": user.failed_logins},
            actor=user.username,
            user_id=user.id,
        )
        if user.failed_logins >= max_failures:
            user.locked_until = now + timedelta(minutes=lock_minutes)
            user.failed_logins = 0
            record_event(
                session,
                "lockout",
                "User",
                user.id,
                {"locked_until": user.locked_until.isoformat()},
                actor=user.username,
                user_id=user.id,
            )
        session.flush()
        return None
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    record_event(session, "login", "User", user.id, actor=user.username, user_id=user.id)
    session.flush()
    return user
