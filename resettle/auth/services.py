"""Accounts: password policy, hashing, login with lockout, and the audit of each attempt."""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy.orm import Session
from zxcvbn import zxcvbn

from resettle.audit.models import AuditEvent
from resettle.audit.services import record_event
from resettle.auth.models import PasswordHistory, Role, User, UserProject
from resettle.db import utcnow
from resettle.errors import RuleViolation
from resettle.projects.models import ExpropriationProject
from resettle.translate import gettext as _

# Words no password may contain, however decorated: the common ones, and those of this work
# (征收, 拆迁, 安置... in pinyin) that an office would try first. Project codes and the username
# are added per check.
BLOCKED_WORDS = (
    "password", "passw0rd", "admin", "root", "qwerty", "asdf", "iloveyou", "woaini",
    "zhengshou", "zhengqian", "chaiqian", "anzhi", "buchang", "banqian", "gaizao", "penghu",
    "resettle", "123456", "654321", "111111", "888888", "666666", "abc123",
    "征收", "拆迁", "征迁", "安置", "补偿", "密码",
)  # fmt: skip
_LEET = str.maketrans(
    {"@": "a", "4": "a", "0": "o", "1": "i", "!": "i", "3": "e", "$": "s", "5": "s", "7": "t"}
)
PASSWORD_HISTORY = 5  # the last passwords not chosen again
# What an account whose password must change can still open.
PASSWORD_CHANGE_ENDPOINTS = frozenset(
    {"auth.password", "auth.logout", "static", "dashboard.language"}
)
MIN_PASSWORD_SCORE = 3  # zxcvbn: 10^8 guesses or more

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


def check_password_policy(session: Session, password: str, username: str) -> None:
    """Refuse passwords shorter than 12, with fewer than three character classes, holding
    the username, a project code or a blocked word (also as P@ssw0rd), or easy to guess."""
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
    codes = [c.lower() for c in session.scalars(sa.select(ExpropriationProject.code)) if c]
    plain = password.lower()
    unleet = plain.translate(_LEET)
    letters = re.sub(r"[^a-z]", "", unleet)
    for word in (*BLOCKED_WORDS, *codes):
        if word in plain or word in unleet or (word.isalpha() and word in letters):
            raise RuleViolation(
                _(
                    "The password contains a word everyone tries first (%(word)s): choose another.",
                    word=word,
                ),
                "password",
            )
    if zxcvbn(password[:100], user_inputs=[username, *codes])["score"] < MIN_PASSWORD_SCORE:
        raise RuleViolation(
            _(
                "This password is easy to guess (common words, names, dates or keyboard "
                "patterns): choose a longer one, e.g. three unrelated words with digits."
            ),
            "password",
        )


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
    must_change: bool = True,
    project_ids: Iterable[int] = (),
    all_projects: bool = False,
) -> User:
    """Create an account after checking the username is free (whatever its case) and the
    password meets policy; the person changes the password set for them at the first login
    unless `must_change` is off. The account works in `project_ids` (片区), or in every
    project with `all_projects`."""
    username = username.strip()
    if not username:
        raise RuleViolation(_("A username is required."), "username")
    if session.scalar(
        sa.select(User.id).where(sa.func.lower(User.username) == sa.func.lower(username))
    ):
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
    check_password_policy(session, password, username)
    user = User(
        username=username,
        full_name=full_name,
        role=Role(role),
        unit_name=unit_name,
        password_hash=hash_password(password),
        is_demo=is_demo,
        must_change_password=must_change and not is_demo,
        all_projects=all_projects,
    )
    user.project_links = [UserProject(project_id=pid) for pid in sorted(set(project_ids))]
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


def set_password(session: Session, user: User, password: str, *, must_change: bool = False) -> None:
    """Replace a user's password after checking the policy and the last ones; every session
    of the account ends (a stolen one with it). `must_change`: set by someone else (a reset),
    to be changed by the account at its next login."""
    check_password_policy(session, password, user.username)
    earlier = session.scalars(
        sa.select(PasswordHistory.password_hash)
        .where(PasswordHistory.user_id == user.id)
        .order_by(PasswordHistory.created_at.desc(), PasswordHistory.id.desc())
        .limit(PASSWORD_HISTORY - 1)
    ).all()
    if any(verify_password(old, password) for old in [user.password_hash, *earlier]):
        raise RuleViolation(
            _("Choose a password you have not used for your last %(n)d.", n=PASSWORD_HISTORY),
            "password",
        )
    session.add(PasswordHistory(user_id=user.id, password_hash=user.password_hash))
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    user.must_change_password = must_change
    user.failed_logins = 0
    user.locked_until = None
    user.end_sessions()
    session.flush()
    _forget_old_passwords(session, user)


def _forget_old_passwords(session: Session, user: User) -> None:
    kept = (
        sa.select(PasswordHistory.id)
        .where(PasswordHistory.user_id == user.id)
        .order_by(PasswordHistory.created_at.desc(), PasswordHistory.id.desc())
        .limit(PASSWORD_HISTORY - 1)
    )
    for old in session.scalars(
        sa.select(PasswordHistory).where(
            PasswordHistory.user_id == user.id, PasswordHistory.id.not_in(kept)
        )
    ):
        session.delete(old)
    session.flush()


def change_password(session: Session, user: User, current: str, new: str) -> None:
    """A user changes the own password, proving the current one first."""
    if not verify_password(user.password_hash, current):
        raise RuleViolation(_("The current password is not correct."), "current_password")
    set_password(session, user, new)


def reset_password(session: Session, user: User) -> str:
    """A one-time password for an account that forgot its own (shown once to the admin); the
    account must choose its own at the next login, and its sessions end."""
    password = generate_password()
    set_password(session, user, password, must_change=True)
    return password


def password_change_due(user: User, now: datetime | None = None) -> str | None:
    """Why this account must change its password before anything else, or None: a password
    someone else set (a new account, a reset), or one older than PASSWORD_MAX_AGE_DAYS.
    Demo accounts are exempt (their passwords are new at every `make run`)."""
    if user.is_demo:
        return None
    if user.must_change_password:
        return _("Choose your own password before you go on: this one was set for you.")
    max_age = current_app.config["PASSWORD_MAX_AGE_DAYS"]
    if max_age and (now or utcnow()) - user.password_changed_at > timedelta(days=max_age):
        return _(
            "Your password is older than %(days)d days: choose a new one before you go on.",
            days=max_age,
        )
    return None


def count_failed_login(
    session: Session, user: User, action: str, changes: dict[str, Any] | None = None
) -> None:
    """One failed try (a password or a second-factor code), audited as `action`; after
    LOGIN_MAX_FAILURES of them the account is locked for LOGIN_LOCK_MINUTES."""
    user.failed_logins += 1
    record_event(
        session,
        action,
        "User",
        user.id,
        {"failed_logins": user.failed_logins, **(changes or {})},
        actor=user.username,
        user_id=user.id,
    )
    if user.failed_logins >= current_app.config["LOGIN_MAX_FAILURES"]:
        user.locked_until = utcnow() + timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
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


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The account when its password is right (the first step of a login); count failures
    and lock after too many. The login is not complete yet: `complete_login` does that, after
    the second factor where the account has one, so a known password does not reset the count
    of wrong codes.

    Every attempt is audited. Callers show one message for every failure, so a stranger
    cannot tell an unknown user from a wrong password or a locked account.
    """
    username = (username or "").strip()
    user = (
        session.scalar(
            sa.select(User).where(sa.func.lower(User.username) == sa.func.lower(username))
        )
        if username
        else None
    )
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
        count_failed_login(session, user, "login_failed")
        return None
    return user


def login_locked(user: User) -> bool:
    return user.locked_until is not None and user.locked_until > utcnow()


def complete_login(
    session: Session, user: User, *, second_factor: bool = False, attempt: str | None = None
) -> None:
    """The login succeeded (the password, and the second factor where the account has one):
    the failure count starts again, and the login is audited with the attempt it ended."""
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = utcnow()
    changes: dict[str, Any] = {"second_factor": second_factor}
    if attempt:
        changes["attempt"] = attempt
    record_event(session, "login", "User", user.id, changes, actor=user.username, user_id=user.id)
    session.flush()


def last_attempt(session: Session, user: User, action: str) -> str | None:
    """The attempt (a nonce the session kept) that the account's latest `action` event ended:
    a repeated form (a double click, sent with the same session) is then known as a twin of
    the one that succeeded rather than as a replay."""
    changes = session.scalar(
        sa.select(AuditEvent.changes)
        .where(
            AuditEvent.action == action,
            AuditEvent.entity_type == "User",
            AuditEvent.entity_id == user.id,
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    return changes.get("attempt") if isinstance(changes, dict) else None
