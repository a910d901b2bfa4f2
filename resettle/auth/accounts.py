"""Accounts as an admin manages them: their state, role and projects, a password reset, unlock,
disable and enable. The web screens and `flask users` both call these, so a rule exists once.

Each change locks the account's row first (SELECT ... FOR UPDATE on PostgreSQL, the write lock
on SQLite through `begin_write`), so two admins at once, or a double click, take turns instead
of failing; the second one sees what the first did.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from resettle.audit.services import record_event
from resettle.auth.mfa import has_second_factor, reset_second_factor
from resettle.auth.models import Role, User, UserProject
from resettle.auth.services import create_user, reset_password
from resettle.db import begin_write, utcnow
from resettle.errors import RuleViolation
from resettle.projects.models import ExpropriationProject
from resettle.translate import gettext as _
from resettle.translate import lazy_gettext as _l


class AccountState(enum.StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"
    LOCKED = "locked"
    MUST_CHANGE = "must_change"

    @property
    def label(self) -> str:
        return str(ACCOUNT_STATE_LABELS[self])


ACCOUNT_STATE_LABELS = {
    AccountState.ACTIVE: _l("Active"),
    AccountState.DISABLED: _l("Disabled"),
    AccountState.LOCKED: _l("Locked"),
    AccountState.MUST_CHANGE: _l("Must change the password"),
}


@dataclass(frozen=True)
class AccountRow:
    """One account as the list shows it."""

    user: User
    states: tuple[AccountState, ...]
    locked_until: datetime | None
    project_codes: tuple[str, ...]


def account_states(user: User, now: datetime | None = None) -> tuple[AccountState, ...]:
    """What an admin needs to know of an account at a glance: disabled or active, locked until
    a time, the password to be changed at the next login."""
    now = now or utcnow()
    states = [AccountState.ACTIVE if user.active else AccountState.DISABLED]
    if user.locked_until is not None and user.locked_until > now:
        states.append(AccountState.LOCKED)
    if user.must_change_password:
        states.append(AccountState.MUST_CHANGE)
    return tuple(states)


def list_accounts(session: Session) -> list[AccountRow]:
    """Every account by username, with its state and projects."""
    now = utcnow()
    codes = {
        project_id: code
        for project_id, code in session.execute(
            sa.select(ExpropriationProject.id, ExpropriationProject.code)
        )
    }
    rows = []
    for user in session.scalars(sa.select(User).order_by(sa.func.lower(User.username))):
        states = account_states(user, now)
        rows.append(
            AccountRow(
                user=user,
                states=states,
                locked_until=user.locked_until if AccountState.LOCKED in states else None,
                project_codes=tuple(sorted(codes[i] for i in user.project_ids if i in codes)),
            )
        )
    return rows


def _locked(session: Session, user_id: int) -> User:
    """The account, its row locked for this transaction (and reloaded: what another admin
    committed a moment ago counts)."""
    begin_write(session)
    user = session.scalar(
        sa.select(User)
        .where(User.id == user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if user is None:
        raise RuleViolation(_("This account does not exist (any more)."))
    return user


def _project_ids(session: Session, project_ids: Iterable[int]) -> set[int]:
    wanted = {int(i) for i in project_ids}
    found = set(
        session.scalars(
            sa.select(ExpropriationProject.id).where(ExpropriationProject.id.in_(wanted))
        )
    )
    if wanted - found:
        raise RuleViolation(_("One of the chosen projects does not exist."), "projects")
    return wanted


def _codes(session: Session, project_ids: Iterable[int]) -> list[str]:
    ids = list(project_ids)
    if not ids:
        return []
    return sorted(
        session.scalars(
            sa.select(ExpropriationProject.code).where(ExpropriationProject.id.in_(ids))
        )
    )


def project_ids_for_codes(session: Session, codes: Iterable[str]) -> set[int]:
    """The ids of projects named by their codes (whatever the case); an unknown code refused."""
    ids = set()
    for code in codes:
        found = session.scalar(
            sa.select(ExpropriationProject.id).where(
                sa.func.lower(ExpropriationProject.code) == code.strip().lower()
            )
        )
        if found is None:
            raise RuleViolation(_("There is no project %(code)s.", code=code), "projects")
        ids.add(found)
    return ids


def _check_scope(role: Role, all_projects: bool, project_ids: set[int]) -> None:
    if Role(role) != Role.ADMIN and not all_projects and not project_ids:
        raise RuleViolation(
            _("Choose the projects this account works in, or every project."), "projects"
        )


def _write_projects(
    session: Session, user: User, all_projects: bool, project_ids: set[int]
) -> bool:
    """Give the account these projects (or every one); True when something changed, audited
    on the account as one event with the project codes before and after."""
    before_ids = set(user.project_ids)
    before_all = user.all_projects
    if all_projects:
        project_ids = set()
    if before_ids == project_ids and before_all == all_projects:
        return False
    user.all_projects = all_projects
    for link in list(user.project_links):
        if link.project_id not in project_ids:
            user.project_links.remove(link)
    for project_id in sorted(project_ids - before_ids):
        user.project_links.append(UserProject(user_id=user.id, project_id=project_id))
    session.flush()
    if before_ids != project_ids:
        record_event(
            session,
            "projects_changed",
            "User",
            user.id,
            {"projects": [_codes(session, before_ids), _codes(session, project_ids)]},
        )
    return True


def create_account(
    session: Session,
    username: str,
    full_name: str,
    role: Role,
    password: str,
    *,
    unit_name: str | None = None,
    all_projects: bool = False,
    project_ids: Iterable[int] = (),
) -> User:
    """A new account with its role and projects (or every project); its password, set by the
    admin, is changed by the person at the first login."""
    ids = _project_ids(session, project_ids)
    _check_scope(role, all_projects, ids)
    try:
        with session.begin_nested():
            user = create_user(session, username, full_name, role, password, unit_name=unit_name)
    except IntegrityError:  # another admin took the name a moment ago
        raise RuleViolation(
            _("The username %(name)s is taken.", name=username.strip()), "username"
        ) from None
    _write_projects(session, user, all_projects, ids)
    return user


def _not_self(user: User, actor_id: int | None, message: str) -> None:
    if actor_id is not None and user.id == actor_id:
        raise RuleViolation(message)


def change_access(
    session: Session,
    user_id: int,
    role: Role,
    all_projects: bool,
    project_ids: Iterable[int],
    *,
    actor_id: int | None,
) -> User:
    """Give the account a role and projects; when either changes, every session of the account
    ends at once (it logs in again under what it may now do). An admin cannot change the own
    role."""
    role = Role(role)
    ids = _project_ids(session, project_ids)
    _check_scope(role, all_projects, ids)
    user = _locked(session, user_id)
    if role != user.role:
        _not_self(user, actor_id, _("You cannot change your own role."))
    changed = role != user.role
    user.role = role
    changed = _write_projects(session, user, all_projects, ids) or changed
    if changed:
        user.end_sessions()
    session.flush()
    return user


def reset_account_password(session: Session, user_id: int) -> tuple[User, str]:
    """A one-time password for the account (shown once); the person chooses an own one at the
    next login, and every session of the account ends."""
    user = _locked(session, user_id)
    password = reset_password(session, user)
    record_event(session, "password_reset", "User", user.id)
    return user, password


def unlock_account(session: Session, user_id: int) -> User:
    """Let a locked-out account try again now (it was locked after too many failed logins)."""
    user = _locked(session, user_id)
    if user.locked_until is None and not user.failed_logins:
        return user
    user.locked_until = None
    user.failed_logins = 0
    record_event(session, "unlock", "User", user.id)
    session.flush()
    return user


def reset_account_second_factor(session: Session, user_id: int) -> User:
    """Forget the account's authenticator app and recovery codes (a lost phone): it sets up a
    new one at its next login, and its open sessions end. Nothing to forget changes nothing."""
    user = _locked(session, user_id)
    if has_second_factor(user):
        reset_second_factor(session, user)
    return user


def set_account_active(
    session: Session, user_id: int, active: bool, *, actor_id: int | None
) -> User:
    """Disable an account (it cannot log in, and every session of it ends at once) or enable
    it again. An admin cannot disable the own account. Doing it twice changes nothing."""
    user = _locked(session, user_id)
    if not active:
        _not_self(user, actor_id, _("You cannot disable your own account."))
    if user.active == active:
        return user
    user.active = active
    if not active:
        user.end_sessions()
    record_event(session, "account_enabled" if active else "account_disabled", "User", user.id)
    session.flush()
    return user
